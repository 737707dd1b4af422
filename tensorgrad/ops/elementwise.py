"""Elementwise ops: arithmetic with broadcasting, unary math, comparisons,
casts and device moves.

Binary ops accept a Tensor on either side and a Python number, list or array
on the other (treated as a constant). Gradients may come back in the
broadcast shape; the engine sums them down to each input's shape.
"""
import numpy as np

from .. import backend
from .._tensor import Tensor, _from_python, _scalar_dtype, _to_array, track
from ..autograd.grad_mode import GRAD_MODE
from ..autograd.graph_xp import TENSOR_XP
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT, promote
from . import kernels
from ._gradmask import keep_where, zero_where

_ndarray = np.ndarray
_SCALARS = (int, float, bool)


# ---------------------------------------------------------------------- operands
def _device_error(op, a, b):
    raise RuntimeError(f"{op}: expected all tensors on the same device, got "
                       f"{backend.device_of(a).value} and {backend.device_of(b).value}")


def _broadcast_error(op, a, b):
    raise ValueError(f"{op}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} cannot be broadcast together")


def operands(op, a, b):
    """(a, b, a_data, b_data): both tensors (or None for a Python scalar) and
    their arrays with PyTorch's dtype promotion applied."""
    if isinstance(b, Tensor):
        if not isinstance(a, Tensor):
            a = _constant(a, b)
        ad, bd = a._data, b._data
        if ad.__class__ is not bd.__class__:
            _device_error(op, ad, bd)
        if ad.dtype is not bd.dtype and ad.dtype != bd.dtype:
            dt = promote(ad.dtype, bd.dtype, ad.ndim, bd.ndim)
            if ad.dtype != dt:
                a = promote_to(a, dt)
                ad = a._data
            if bd.dtype != dt:
                b = promote_to(b, dt)
                bd = b._data
        return a, b, ad, bd
    if isinstance(b, _SCALARS):
        ad = a._data
        if isinstance(b, float):
            if b.__class__ is not float:  # np.float64 is a float; as PyTorch, it must not widen
                b = float(b)
            if ad.dtype.kind not in 'fV':  # 'V': bfloat16 (ml_dtypes)
                ad = ad.astype(DEFAULT_FLOAT)
        return a, None, ad, b
    if isinstance(b, np.generic):  # NumPy scalars act as Python scalars, as in PyTorch
        return operands(op, a, b.item())
    b = _constant(b, a)
    return operands(op, a, b)


def promote_to(t, dtype):
    """``t`` converted to ``dtype`` for a mixed-dtype op; a tensor that requires grad
    goes through a recorded cast, so its gradient comes back in its own dtype. The
    copy shares ``t``'s version counter: an op that saves it is invalidated by an
    in-place change of ``t``, as PyTorch (which saves ``t`` itself)."""
    w = cast(t, dtype) if t._rg and GRAD_MODE.enabled else Tensor._wrap(t._data.astype(dtype))
    w._vc = t._vc
    return w


def _constant(x, like):
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, _SCALARS):
        return Tensor._wrap(backend.array_module(like._data).asarray(x, dtype=_scalar_dtype(x, like._data.dtype)))
    if isinstance(x, Tensor):
        return x
    if isinstance(x, backend.array_types()):
        arr = x
    else:
        arr = _from_python(x, None)
        if arr.dtype.kind == 'f' and like._data.dtype.kind in 'fV':
            arr = arr.astype(like._data.dtype)
    if backend.device_of(arr) is not like.device:  # an array-like constant follows the tensor
        arr = backend.move(arr, like.device)
    return Tensor._wrap(arr)


def _need(node, i):
    return node.next[i] is not None


# ---------------------------------------------------------------------- binary
class AddBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return g, g

    backward_graph = backward


class SubBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return g, (-g if self.next[1] is not None else None)

    backward_graph = backward


class MulBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved
        return (g * b if self.next[0] is not None else None,
                g * a if self.next[1] is not None else None)

    def backward_graph(self, g):
        a, b = self.saved
        return (g * self.input(1, b) if self.next[0] is not None else None,
                g * self.input(0, a) if self.next[1] is not None else None)


class DivBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved
        ga = g / b if self.next[0] is not None else None
        gb = -g * a / (b * b) if self.next[1] is not None else None
        return ga, gb

    def backward_graph(self, g):
        a, b = self.input(0, self.saved[0]), self.input(1, self.saved[1])
        ga = g / b if self.next[0] is not None else None
        gb = -g * a / (b * b) if self.next[1] is not None else None
        return ga, gb


class PowBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b, out = self.saved
        ga = gb = None
        if self.next[0] is not None:
            if not isinstance(b, _SCALARS):
                ga = g * b * a ** (b - 1)
            elif b == 2:
                ga = g * 2 * a
            elif b == 0:  # constant 1: zero gradient (not 0 * inf at a == 0)
                ga = backend.array_module(g).zeros_like(g)
            else:
                ga = g * b * a ** (b - 1)
        if self.next[1] is not None:
            xp = backend.array_module(out)
            # d(a**b)/db = a**b * log(a); taken as 0 where a == 0 (as PyTorch), nan for a < 0
            with np.errstate(divide='ignore', invalid='ignore'):
                gb = g * out * xp.log(xp.where(a == 0, xp.ones((), dtype=a.dtype), a))
        return ga, gb

    def backward_graph(self, g):
        a_arr, b_arr, _ = self.saved
        a, b = self.input(0, a_arr), self.input(1, b_arr)
        ga = gb = None
        if self.next[0] is not None:
            if isinstance(b, _SCALARS) and b == 0:
                ga = g * 0
            else:
                ga = g * b * a ** (b - 1)
        if self.next[1] is not None:
            from .indexing import where  # noqa: PLC0415 - indexing imports this module
            with np.errstate(divide='ignore', invalid='ignore'):
                safe_a = where(a == 0, 1.0, a)
                gb = g * a ** b * safe_a.log()
        return ga, gb


def add(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise ``input + other`` with broadcasting."""
    a, b, ad, bd = operands('add', input, other)
    try:
        out = ad + bd
    except ValueError:
        _broadcast_error('add', ad, bd)
    return track(out, AddBackward, (a, b))


def _is_bool(x):
    if x.__class__ is bool or x.__class__ is np.bool_:
        return True
    return isinstance(x, Tensor) and x._data.dtype.kind == 'b'


def check_sub_operands(op, input, other):  # noqa: A002 - PyTorch's names
    """Raise as PyTorch does when either operand of a subtraction is a bool (tensor or number)."""
    a_bool, b_bool = _is_bool(input), _is_bool(other)
    if a_bool and b_bool:
        raise RuntimeError(f"{op}: Subtraction, the `-` operator, with two bool tensors is not supported. "
                           f"Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError(f"{op}: Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                           f"are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise ``input - other`` with broadcasting (bool operands raise, as in PyTorch)."""
    check_sub_operands('sub', input, other)
    a, b, ad, bd = operands('sub', input, other)
    try:
        out = ad - bd
    except ValueError:
        _broadcast_error('sub', ad, bd)
    return track(out, SubBackward, (a, b))


def rsub(a, b):
    """Elementwise ``b - a`` (the reflected subtraction)."""
    check_sub_operands('rsub', b, a)
    return sub(_constant(b, a) if not isinstance(b, Tensor) else b, a)


def mul(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise ``input * other`` with broadcasting."""
    a, b, ad, bd = operands('mul', input, other)
    try:
        out = ad * bd
    except ValueError:
        _broadcast_error('mul', ad, bd)
    if b is None:  # times a number: backward needs only the number
        return track(out, MulBackward, (a, None), (None, bd))
    # each input's array is needed only for the other's gradient (so ``d += d * c`` works)
    return track(out, MulBackward, (a, b), (ad, bd),
                 check=(a, b) if a._rg and b._rg else (b,) if a._rg else (a,))


def div(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise true division ``input / other`` with broadcasting (integers give float32)."""
    a, b, ad, bd = operands('div', input, other)
    if ad.dtype.kind not in 'fV':
        ad = ad.astype(DEFAULT_FLOAT)
        if not isinstance(bd, _SCALARS):
            bd = bd.astype(DEFAULT_FLOAT)
    try:
        out = ad / bd
    except ValueError:
        _broadcast_error('div', ad, bd)
    if b is None:
        return track(out, DivBackward, (a, None), (None, bd))
    return track(out, DivBackward, (a, b), (ad, bd), check=(a, b) if b._rg else (b,))


def rdiv(a, b):
    """Elementwise ``b / a`` (the reflected division); a number divided by a tensor is
    ``reciprocal(a) * b``, as torch's ``__rtruediv__`` (same rounding, and only the
    reciprocal is saved, so ``a`` may change in place afterwards)."""
    if isinstance(b, (_SCALARS, np.generic)):
        from .math import reciprocal  # noqa: PLC0415 - math builds on this module
        return mul(reciprocal(a), b)
    return div(_constant(b, a) if not isinstance(b, Tensor) else b, a)


def pow(input, value):  # noqa: A001,A002 - PyTorch's name, the reference's parameter
    """Elementwise ``input ** value`` with broadcasting; ``value`` may be a tensor or a number."""
    a, b, ad, bd = operands('pow', input, value)
    if isinstance(bd, float) and ad.dtype.kind not in 'fV':
        ad = ad.astype(DEFAULT_FLOAT)
    elif ad.dtype == np.bool_ and isinstance(bd, int) and not isinstance(bd, bool):
        ad = ad.astype(np.int64)  # bool ** int is int64 in torch (NumPy: int8)
    if ad.dtype.kind in 'iu' and (bd < 0 if isinstance(bd, int) else bd.dtype.kind in 'iu' and (bd < 0).any()):
        raise ValueError("pow: integers to negative integer powers are not allowed")
    try:
        out = ad ** bd
    except ValueError:
        _broadcast_error('pow', ad, bd)
    if b is None:
        return track(out, PowBackward, (a, None), (ad, bd, None), check=(a,))
    # the exponent's gradient uses the output too
    return track(out, PowBackward, (a, b), (ad, bd, out), check=(a, b), check_out=True)


def rpow(a, b):
    """Elementwise ``b ** a`` (the reflected power)."""
    return pow(_constant(b, a) if not isinstance(b, Tensor) else b, a)


class MaximumBackward(Node):
    __slots__ = ()

    # PyTorch's rule: ``where(a == b, g / 2, g)``, zeroed where the operand is the smaller one
    # (a where(), so a nan/inf g gives 0 there; a nan operand passes g to both)
    def backward(self, g):
        a, b = self.saved
        xp = backend.array_module(g)
        gh = xp.where(a == b, g * 0.5, g)
        return (zero_where(xp, a < b, gh) if self.next[0] is not None else None,
                zero_where(xp, a > b, gh) if self.next[1] is not None else None)

    def backward_graph(self, g):
        a, b = self.saved  # the split of the gradient is piecewise constant in a and b
        xp = backend.array_module(g._data)

        def mask(m):
            return Tensor._wrap(xp.asarray(m))
        gh = TENSOR_XP.where(mask(a == b), g * 0.5, g)
        return (zero_where(TENSOR_XP, mask(a < b), gh) if self.next[0] is not None else None,
                zero_where(TENSOR_XP, mask(a > b), gh) if self.next[1] is not None else None)


def maximum(a, b):
    """Elementwise maximum of ``a`` and ``b`` (ties share the gradient)."""
    a, b, ad, bd = operands('maximum', a, b)
    xp = backend.array_module(ad)
    try:
        out = xp.maximum(ad, bd)
    except ValueError:
        _broadcast_error('maximum', ad, bd)
    return track(out, MaximumBackward, (a, b), (ad, bd), check=(a,) if b is None else (a, b))


def minimum(a, b):
    """Elementwise minimum of ``a`` and ``b`` (ties share the gradient)."""
    a, b, ad, bd = operands('minimum', a, b)
    xp = backend.array_module(ad)
    try:
        out = xp.minimum(ad, bd)
    except ValueError:
        _broadcast_error('minimum', ad, bd)
    if out.dtype == np.bool_:  # nothing to differentiate (and bools have no negation)
        return track(out, MaximumBackward, (a, b), None)
    # min(a, b) = -max(-a, -b): reuse maximum's tie rule with swapped comparison
    return track(out, MaximumBackward, (a, b), (-ad, -bd if not isinstance(bd, _SCALARS) else -bd),
                 check=(a,) if b is None else (a, b))


# ---------------------------------------------------------------------- unary
def unary_op(name, forward, grad, saves='x', doc=None, float_only=True, kernel=(None, None)):
    """Build a differentiable unary op from ``forward(xp, x)`` and
    ``grad(xp, g, x, y)`` (the vector-Jacobian product); ``saves`` names what
    backward needs: 'x' (input), 'y' (output), 'xy' or '' (nothing). ``kernel``: the
    names of compiled versions of ``forward`` and ``grad`` (or None) in
    ops/kernels/activations.py, used under the numba backend."""
    save_x, save_y = 'x' in saves, 'y' in saves
    fns = {'forward': forward, 'grad': grad}
    for key, spec in zip(('forward', 'grad'), kernel):
        if spec is not None:
            kernels.hook(fns, key, f'activations.{spec}')

    def backward(self, g):
        x, y = self.saved
        return (fns['grad'](backend.array_module(g), g, x, y),)

    def backward_graph(self, g):  # the same formula on tensors (create_graph)
        x, y = self.saved
        return (grad(TENSOR_XP, g, self.input(0, x), None if y is None else self.output(y)),)

    node_cls = type(f'{name.capitalize()}Backward', (Node,),
                    {'__slots__': (), 'backward': backward, 'backward_graph': backward_graph})

    def op(x):
        xd = x._data
        if float_only and xd.dtype.kind not in 'fV':
            xd = xd.astype(DEFAULT_FLOAT)
        xp = np if xd.__class__ is _ndarray else backend.array_module(xd)
        y = fns['forward'](xp, xd)
        return track(y, node_cls, (x,), (xd if save_x else None, y if save_y else None),
                     check=(x,) if save_x else None, check_out=save_y)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise {name}."
    op.node_cls = node_cls
    return op


neg = unary_op('neg', lambda xp, x: -x, lambda xp, g, x, y: -g, saves='', float_only=False,
               doc="Elementwise negation ``-x``.")
exp = unary_op('exp', lambda xp, x: xp.exp(x), lambda xp, g, x, y: g * y, saves='y',
               doc="Elementwise exponential.")
log = unary_op('log', lambda xp, x: xp.log(x), lambda xp, g, x, y: g / x,
               doc="Elementwise natural logarithm.")
sqrt = unary_op('sqrt', lambda xp, x: xp.sqrt(x), lambda xp, g, x, y: g / (2 * y), saves='y',
                doc="Elementwise square root.")
sin = unary_op('sin', lambda xp, x: xp.sin(x), lambda xp, g, x, y: g * xp.cos(x), doc="Elementwise sine.")
cos = unary_op('cos', lambda xp, x: xp.cos(x), lambda xp, g, x, y: -g * xp.sin(x), doc="Elementwise cosine.")
tanh = unary_op('tanh', lambda xp, x: xp.tanh(x), lambda xp, g, x, y: g * (1 - y * y), saves='y',
                doc="Elementwise hyperbolic tangent.", kernel=(None, 'tanh_grad'))
abs = unary_op('abs', lambda xp, x: xp.abs(x), lambda xp, g, x, y: g * xp.sign(x),  # noqa: A001
               float_only=False, doc="Elementwise absolute value (gradient 0 at 0, as PyTorch).")
def _sign(xp, x):
    if x.dtype == np.bool_:  # bool stays bool
        return x.copy()
    if x.dtype.kind in 'fV':  # PyTorch's (x > 0) - (x < 0): nan gives 0 (xp.sign gives nan)
        return xp.subtract(x > 0, x < 0, dtype=x.dtype)
    return xp.sign(x)


sign = unary_op('sign', _sign, lambda xp, g, x, y: xp.zeros_like(g), saves='', float_only=False,
                doc="Elementwise sign (-1, 0 or 1; 0 for nan, as PyTorch); its gradient is zero.")


def _sigmoid(xp, x):
    # numerically stable on both tails
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = unary_op('sigmoid', _sigmoid, lambda xp, g, x, y: g * y * (1 - y), saves='y',
                   doc="Elementwise logistic sigmoid ``1 / (1 + exp(-x))``.",
                   kernel=('sigmoid_forward', 'sigmoid_grad'))
# PyTorch's backward: where(y <= 0, 0, g), so a nan g gives 0 there; y is >= 0 or nan, so y != 0 is not (y <= 0)
relu = unary_op('relu', lambda xp, x: xp.maximum(x, 0),
                lambda xp, g, x, y: keep_where(xp, y != 0, g), saves='y',
                float_only=False, doc="Elementwise ReLU ``max(x, 0)``.", kernel=(None, 'relu_grad'))


class ClampBackward(Node):
    __slots__ = ()

    def backward(self, g):  # where(), as PyTorch: a nan/inf g outside [lo, hi] gives 0 there
        return (keep_where(backend.array_module(g), self._mask(), g),)

    def backward_graph(self, g):  # the mask is piecewise constant in x
        return (keep_where(TENSOR_XP, Tensor._wrap(backend.array_module(g._data).asarray(self._mask())), g),)

    def _mask(self):
        x, lo, hi = self.saved
        if lo is None:
            return x <= hi
        return x >= lo if hi is None else (x >= lo) & (x <= hi)


def clamp_result_dtype(op, x, min, max):  # noqa: A002 - PyTorch's names
    """dtype of ``clamp(x, min, max)``: PyTorch's result type of the tensor and its
    bounds (an integer tensor with a float bound gives float32)."""
    dt, nd = x._data.dtype, x._data.ndim
    for bound in (min, max):
        if isinstance(bound, Tensor):
            dt = promote(dt, bound._data.dtype, nd, bound._data.ndim)
        elif isinstance(bound, (*_SCALARS, np.generic)):
            dt = _scalar_dtype(bound.item() if isinstance(bound, np.generic) else bound, dt)
        elif bound is not None:
            raise TypeError(f"{op}: min and max must be numbers or tensors, got {type(bound).__name__}")
    return np.dtype(dt)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Clamp every element into ``[min, max]`` (either bound may be None); the result
    takes the promoted dtype of the tensor and the bounds, as in PyTorch."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if (isinstance(min, Tensor) and min._rg) or (isinstance(max, Tensor) and max._rg):
        # differentiable bounds: composed of where (x gets the gradient inside [min, max])
        from .indexing import where  # noqa: PLC0415 - indexing imports this module
        out = x
        if min is not None:
            out = where(lt(out, min), min, out)
        if max is not None:
            out = where(gt(out, max), max, out)
        return out
    dt = clamp_result_dtype('clamp', x, min, max)
    if dt != x._data.dtype:
        x = promote_to(x, dt)
    xd = x._data
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    xp = backend.array_module(xd)
    out = xd
    if lo is not None:
        out = xp.maximum(out, lo)
    if hi is not None:
        out = xp.minimum(out, hi)
    if out.dtype != xd.dtype:
        out = out.astype(xd.dtype)
    return track(out, ClampBackward, (x,), (xd, lo, hi), check=(x,))


clip = clamp


class RemainderBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved
        xp = backend.array_module(g)
        return (g if self.next[0] is not None else None,
                -g * xp.floor_divide(a, b) if self.next[1] is not None else None)

    def backward_graph(self, g):  # floor_divide is piecewise constant
        a, b = self.saved
        q = backend.array_module(g._data).floor_divide(a, b)
        return (g if self.next[0] is not None else None,
                -g * Tensor._wrap(q) if self.next[1] is not None else None)


def remainder(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise ``input % other`` with the sign of ``other`` (Python's and PyTorch's ``%``)."""
    a, b, ad, bd = operands('remainder', input, other)
    xp = backend.array_module(ad)
    try:
        out = xp.remainder(ad, bd)
    except ValueError:
        _broadcast_error('remainder', ad, bd)
    if b is None:
        return track(out, RemainderBackward, (a, None), (ad, bd))
    return track(out, RemainderBackward, (a, b), (ad, bd), check=(a, b))


def rremainder(a, b):
    """Elementwise ``b % a`` (the reflected remainder)."""
    return remainder(_constant(b, a) if not isinstance(b, Tensor) else b, a)


def floor_divide(input, other):  # noqa: A002 - PyTorch's names
    """Elementwise ``input // other`` rounded toward minus infinity (not differentiable)."""
    a, b, ad, bd = operands('floor_divide', input, other)
    xp = backend.array_module(ad)
    try:
        return Tensor._wrap(_to_array(xp.floor_divide(ad, bd)))
    except ValueError:
        _broadcast_error('floor_divide', ad, bd)


def rfloor_divide(a, b):
    """Elementwise ``b // a`` (the reflected floor division)."""
    return floor_divide(_constant(b, a) if not isinstance(b, Tensor) else b, a)


# ---------------------------------------------------------------------- comparisons (not differentiable)
def _compare(name, fn):
    def op(a, b):
        if b is None and name in ('eq', 'ne'):  # ``t == None`` is a plain bool, as in PyTorch
            return name == 'ne'
        a, b, ad, bd = operands(name, a, b)
        try:
            return Tensor._wrap(_to_array(fn(ad, bd)))  # 0-d operands: NumPy gives a scalar
        except ValueError:
            _broadcast_error(name, ad, bd)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise comparison ``{name}``, a bool tensor (not differentiable)."
    return op


eq = _compare('eq', lambda a, b: a == b)
ne = _compare('ne', lambda a, b: a != b)
lt = _compare('lt', lambda a, b: a < b)
le = _compare('le', lambda a, b: a <= b)
gt = _compare('gt', lambda a, b: a > b)
ge = _compare('ge', lambda a, b: a >= b)


def _logical(name, ufunc_name):
    def op(input, other):  # noqa: A002 - PyTorch's names
        if not isinstance(input, Tensor):  # the ops are symmetric: the tensor decides the device
            if not isinstance(other, Tensor):
                raise TypeError(f"{name}: expected a Tensor operand, got {type(input).__name__} and "
                                f"{type(other).__name__}")
            input, other = other, input
        ad = input._data
        if isinstance(other, Tensor):
            bd = other._data
            if ad.__class__ is not bd.__class__:
                _device_error(name, ad, bd)
        elif isinstance(other, (*_SCALARS, np.generic)):
            bd = bool(other)
        else:
            bd = _constant(other, input)._data
        try:  # every operand counts as its truth value (nonzero), whatever its dtype
            return Tensor._wrap(_to_array(getattr(backend.array_module(ad), ufunc_name)(ad, bd)))
        except ValueError:
            _broadcast_error(name, ad, bd)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise ``{name}`` of the operands' truth values (nonzero is True), any dtype; "
                  f"a bool tensor (not differentiable).")
    return op


logical_and = _logical('logical_and', 'logical_and')
logical_or = _logical('logical_or', 'logical_or')
logical_xor = _logical('logical_xor', 'logical_xor')


def invert(x):
    """Logical not of a bool tensor (bitwise not of an integer one)."""
    if x._data.dtype.kind == 'f':
        raise TypeError(f"invert: ~ is only defined for bool and integer tensors, got {x._data.dtype}")
    return Tensor._wrap(_to_array(~x._data))


def logical_not(x):
    """Elementwise logical not (a bool tensor)."""
    return Tensor._wrap(backend.array_module(x._data).asarray(x._data == 0))  # asarray: 0-d stays an array


# ---------------------------------------------------------------------- casts and moves
class CastBackward(Node):
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        return (g.astype(self.saved),)

    def backward_graph(self, g):
        return (cast(g, self.saved),)


def cast(x, np_dtype):
    """``x`` converted to ``np_dtype``; differentiable between floating dtypes."""
    xd = x._data
    # the layout is kept (as torch) unless the tensor overlaps itself (expanded): then contiguous, as torch
    out = xd.astype(np_dtype, order='C' if 0 in xd.strides and not xd.flags.c_contiguous else 'K')
    if np_dtype.kind not in 'fV':
        return Tensor._wrap(out)
    return track(out, CastBackward, (x,), x._data.dtype)


class ToDeviceBackward(Node):
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        return (backend.move(g, self.saved),)

    def backward_graph(self, g):
        return (to_device_op(g, self.saved),)


def to_device_op(x, device):
    """A differentiable copy of ``x`` on ``device``."""
    return track(backend.move(x._data, device), ToDeviceBackward, (x,), x.device)


class CloneBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)

    backward_graph = backward


def clone(x):
    """A differentiable copy of ``x`` with its own memory, laid out as ``x`` (torch's
    preserve_format: an expanded tensor's copy is contiguous)."""
    xd = x._data
    return track(xd.copy(order='C' if 0 in xd.strides and not xd.flags.c_contiguous else 'K'), CloneBackward, (x,))
