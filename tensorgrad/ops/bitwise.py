"""Bitwise ops on integer and bool tensors (not differentiable): ``bitwise_and``,
``bitwise_or``, ``bitwise_xor``, ``bitwise_not``, the operators ``&``, ``|``,
``^``, ``~`` (PyTorch's meaning of them), and the in-place forms
(``bitwise_and_`` …, ``&=`` …, ``logical_and_`` …).

Operands follow PyTorch's dtype promotion (bool & int -> int64); a floating
operand raises, as in PyTorch (``logical_and`` is the op that takes floats)."""
from .. import backend
from .._tensor import Tensor, _to_array
from .elementwise import _broadcast_error, invert, logical_and, logical_not, logical_or, logical_xor, operands
from .inplace import apply_inplace, check_inplace_cast

_INT_KINDS = 'biu'


def _float_operand_error(op, ad, bd):
    bdt = type(bd).__name__ if isinstance(bd, (int, float)) else bd.dtype
    return NotImplementedError(f"{op}: only integer and bool tensors are supported, got {ad.dtype} and {bdt} "
                               f"(use logical_{op.split('_')[-1]} for a truth-value result)")


def _bitwise(name, ufunc_name):
    def op(input, other):  # noqa: A002 - PyTorch's names
        if not isinstance(input, Tensor):
            if not isinstance(other, Tensor):
                raise TypeError(f"{name}: expected a Tensor operand, got {type(input).__name__} and "
                                f"{type(other).__name__}")
            input, other = other, input  # the ops are commutative
        if isinstance(other, float) or input._data.dtype.kind not in _INT_KINDS or (
                isinstance(other, Tensor) and other._data.dtype.kind not in _INT_KINDS):
            raise _float_operand_error(name, input._data, other._data if isinstance(other, Tensor) else other)
        _, _, ad, bd = operands(name, input, other)
        if ad.dtype.kind not in _INT_KINDS:  # e.g. an array-like of floats
            raise _float_operand_error(name, ad, bd)
        xp = backend.array_module(ad)
        try:
            return Tensor._wrap(_to_array(getattr(xp, ufunc_name)(ad, bd)))
        except ValueError:
            _broadcast_error(name, ad, bd)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise ``{name}`` of integer or bool tensors (broadcast; bool with bool stays "
                  f"bool); floating operands raise NotImplementedError, as in PyTorch.")
    return op


bitwise_and = _bitwise('bitwise_and', 'bitwise_and')
bitwise_or = _bitwise('bitwise_or', 'bitwise_or')
bitwise_xor = _bitwise('bitwise_xor', 'bitwise_xor')


def bitwise_not(input):  # noqa: A002 - PyTorch's names
    """Elementwise bitwise not of an integer tensor (logical not of a bool one);
    floating tensors raise NotImplementedError, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bitwise_not: expected a Tensor, got {type(input).__name__}")
    if input._data.dtype.kind not in _INT_KINDS:
        raise NotImplementedError(f"bitwise_not: only integer and bool tensors are supported, got "
                                  f"{input._data.dtype}")
    return invert(input)


# ---------------------------------------------------------------------- in place
def _inplace(name, fn):
    def method(self, *args):
        res = fn(self, *args)  # not differentiable: computed once, checked, then written
        check_inplace_cast(name, res._data.dtype, self._data.dtype)
        return apply_inplace(self, name, lambda s, *a: res, *args)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``; returns the tensor."
    return method


_FUNCS = {'bitwise_and': bitwise_and, 'bitwise_or': bitwise_or, 'bitwise_xor': bitwise_xor,
          'logical_and': logical_and, 'logical_or': logical_or, 'logical_xor': logical_xor}

EXPORTS = ('bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not')
TENSOR_METHODS = {
    'bitwise_and': bitwise_and, 'bitwise_or': bitwise_or, 'bitwise_xor': bitwise_xor, 'bitwise_not': bitwise_not,
    '__and__': bitwise_and, '__or__': bitwise_or, '__xor__': bitwise_xor,
    '__rand__': bitwise_and, '__ror__': bitwise_or, '__rxor__': bitwise_xor,  # commutative
    '__invert__': invert,
}
TENSOR_METHODS.update({name + '_': _inplace(name + '_', fn) for name, fn in _FUNCS.items()})
TENSOR_METHODS['bitwise_not_'] = _inplace('bitwise_not_', bitwise_not)
TENSOR_METHODS['logical_not_'] = _inplace('logical_not_', logical_not)
TENSOR_METHODS['__iand__'] = TENSOR_METHODS['bitwise_and_']
TENSOR_METHODS['__ior__'] = TENSOR_METHODS['bitwise_or_']
TENSOR_METHODS['__ixor__'] = TENSOR_METHODS['bitwise_xor_']
