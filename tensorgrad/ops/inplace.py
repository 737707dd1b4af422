"""In-place ops (``add_``, ``mul_``, ``zero_``, ``masked_fill_``, ``__setitem__`` …).

Without graph recording they write straight into the tensor's memory. When
the graph is being recorded, the op is computed out of place from a copy of
the old value (which its backward may need), the result is written back
into the tensor's memory, and the tensor takes the op's node as its
``grad_fn``. Each in-place write bumps the version counter the tensor shares
with its views, so a node that saved the old value raises at backward
instead of returning a wrong gradient.
"""
import numpy as np

from .. import backend
from .._tensor import Tensor, as_view, retire_views
from ..autograd.grad_mode import GRAD_MODE, no_grad
from . import views
from .elementwise import check_sub_operands, clamp_result_dtype
from .indexing import normalize_index, put


def _any_requires_grad(args):
    for a in args:
        if isinstance(a, Tensor) and a._rg:
            return True
    return False


def apply_inplace(self, name, compute, *args):
    """Run ``compute(src, *args)`` (an out-of-place op) and store its result in ``self``."""
    if GRAD_MODE.enabled and (self._rg or _any_requires_grad(args)):
        if self._data.dtype.kind not in 'fc':  # an int/bool tensor holds no gradient: the cast cuts the graph
            with no_grad():
                res = compute(self, *args)
            _write(self, name, res._data)
            return self
        if self.grad_fn is None and self._rg:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be modified in place "
                               f"(do it under tensorgrad.no_grad(), or on a clone)")
        if self._base is not None:
            return _apply_on_view(self, name, compute, args)
        src = Tensor._wrap(self._data.copy(), self._rg)
        src.grad_fn = self.grad_fn
        res = compute(src, *args)
        _write(self, name, res._data)
        self.grad_fn = res.grad_fn
        self._rg = res._rg
        retire_views(self, name, views.rederive)
        node = res.grad_fn
        if node is not None and node.versions is not None:
            # the node's check of its own output now refers to this tensor
            node.versions = [(self._vc, self._vc[0]) if vc is res._vc else (vc, v) for vc, v in node.versions]
        return self
    res = compute(self, *args)
    _write(self, name, res._data)
    return self


def _apply_on_view(view, name, compute, args):
    """A recorded in-place op on a view: the base's graph is rewritten (PyTorch's
    CopySlices) and its views, this one included, are read out of it anew."""
    base = view._base
    if base._rg and base.grad_fn is None:
        raise RuntimeError(f"{name}: a view of a leaf tensor that requires grad cannot be modified in place "
                           f"(do it under tensorgrad.no_grad(), or on a clone)")
    geom = views.inplace_on_view(view, name, compute, args, _write)
    if geom is None:
        raise RuntimeError(f"{name}: in-place modification of this view (shape {view._data.shape}, strides "
                           f"{view._data.strides}) is not differentiable: its elements cannot be located in "
                           f"its base; use the out-of-place op or modify a clone")
    retire_views(base, name, views.rederive)
    if view.grad_fn is None or view.grad_fn.next[0] is not base.grad_fn:  # not registered as a view before
        view.grad_fn = views.strided_view(base, geom).grad_fn
        as_view(view, base)
    view._rg = True
    return view


def _writable(t):
    """``t``'s array, or for a read-only expanded view (NumPy's broadcast_to) a writable
    alias of the base memory it covers: torch lets fill_/zero_ write such views."""
    arr = t._data
    if arr.flags.writeable or t._base is None:
        return arr
    collapsed = arr[tuple(slice(0, 1) if s == 0 else slice(None) for s in arr.strides)]
    geom = views.view_geometry(collapsed, t._base._data)
    if geom is not None:
        return views.region(t._base._data, geom)  # filling it fills every element of the view
    # a base that is not one dense block (a slice of a larger array): alias the memory the
    # collapsed view covers through the array that owns it
    owner = t._base._data
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if arr.__class__ is not np.ndarray or not (owner.flags.writeable and owner.flags.c_contiguous):
        return arr  # NumPy's read-only error follows
    offset = collapsed.__array_interface__['data'][0] - owner.__array_interface__['data'][0]
    return np.ndarray(collapsed.shape, collapsed.dtype, buffer=owner, offset=offset, strides=collapsed.strides)


def _write(self, name, value):
    xp = backend.array_module(self._data)
    if value.shape != self._data.shape:
        try:
            value = xp.broadcast_to(value, self._data.shape)
        except ValueError:
            raise ValueError(f"{name}: result of shape {value.shape} cannot be written into a tensor of "
                             f"shape {self._data.shape}") from None
    if value.dtype != self._data.dtype and not np.can_cast(value.dtype, self._data.dtype, 'same_kind'):
        raise TypeError(f"{name}: result of dtype {value.dtype} cannot be stored in a tensor of dtype "
                        f"{self._data.dtype}")
    if not getattr(self._data.flags, 'writeable', True):
        raise _overlap_error(name, self._data)
    xp.copyto(self._data, value, casting='unsafe')
    self._vc[0] += 1


def _overlap_error(name, arr):
    """The error for writing into an expanded tensor (NumPy marks broadcasts read-only)."""
    return RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor (shape "
                        f"{arr.shape}, strides {arr.strides}) refers to a single memory location; clone() it "
                        f"before modifying it in place")


def can_cast_inplace(src, dst):
    """PyTorch's rule for writing a result of dtype ``src`` into a tensor of dtype
    ``dst``: no complex -> real, no floating -> integer/bool, no integer -> bool."""
    if src == dst:
        return True
    if src.kind == 'c' and dst.kind != 'c':
        return False
    if src.kind in 'fcV' and dst.kind in 'biu':
        return False
    return not (dst.kind == 'b' and src.kind != 'b')


def check_inplace_cast(name, src, dst):
    """Raise (as PyTorch) when an in-place op's result dtype cannot be stored in the tensor."""
    if not can_cast_inplace(np.dtype(src), np.dtype(dst)):
        raise RuntimeError(f"{name}: result type {src} can't be cast to the desired output type {dst}")


def _fast_arith(name, ufunc, op):
    """An in-place arithmetic method with a direct ufunc path when nothing is recorded."""
    def method(self, other):
        if not (GRAD_MODE.enabled and (self._rg or (isinstance(other, Tensor) and other._rg))):
            od = other._data if isinstance(other, Tensor) else other
            try:
                ufunc(self._data, od, out=self._data, casting='same_kind')
            except ValueError:
                if not getattr(self._data.flags, 'writeable', True):
                    raise _overlap_error(name, self._data) from None
                raise ValueError(f"{name}: operand of shape {getattr(od, 'shape', ())} cannot be applied in "
                                 f"place to a tensor of shape {self._data.shape}") from None
            except TypeError as e:
                raise TypeError(f"{name}: {e}") from None
            self._vc[0] += 1
            return self
        return apply_inplace(self, name, op, other)
    method.__name__ = name
    method.__doc__ = f"In-place ``{op.__name__}``; returns the tensor."
    return method


def make_inplace_methods(ops):
    """The in-place methods bound onto Tensor, built from the out-of-place ``ops`` namespace."""
    def overwrite(s, v):
        # ``v`` broadcast to ``s``: zero gradient for the old value (``s * 0 + v`` would turn inf into nan)
        return ops.where(backend.array_module(s._data).zeros(s._data.shape, dtype=bool), s, v)

    def zero_(self):
        """Fill with zeros in place."""
        return fill_(self, 0)

    def fill_(self, value):
        """Fill with ``value`` in place (a number or a one-element tensor)."""
        if GRAD_MODE.enabled and (self._rg or (isinstance(value, Tensor) and value._rg)):
            return apply_inplace(self, 'fill_', overwrite, value)
        _writable(self).fill(value.item() if isinstance(value, Tensor) else value)
        self._vc[0] += 1
        return self

    def masked_fill_(self, mask, value):
        """Fill with ``value`` in place where ``mask`` is True."""
        return apply_inplace(self, 'masked_fill_', ops.masked_fill, mask, value)

    def clamp_(self, min=None, max=None):  # noqa: A002
        """Clamp in place (bounds whose type promotes the tensor's dtype raise, as in PyTorch)."""
        check_inplace_cast('clamp_', clamp_result_dtype('clamp_', self, min, max), self._data.dtype)
        return apply_inplace(self, 'clamp_', lambda s: ops.clamp(s, min, max))

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape) into this tensor in place."""
        if not isinstance(src, Tensor):
            src = Tensor(src, requires_grad=False)
        try:
            fits = np.broadcast_shapes(src._data.shape, self._data.shape) == self._data.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"copy_: source of shape {tuple(src._data.shape)} cannot be broadcast to the "
                               f"destination's shape {tuple(self._data.shape)}")
        return apply_inplace(self, 'copy_', overwrite, src)

    def setitem(self, index, value):
        """``x[index] = value``, in place."""
        if not (GRAD_MODE.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))):
            idx, _ = normalize_index(index, self.device)
            vd = value._data if isinstance(value, Tensor) else value
            try:
                put(self._data, idx, vd)
            except (ValueError, IndexError) as e:
                raise type(e)(f"setitem: cannot assign a value of shape {getattr(vd, 'shape', ())} to a "
                              f"tensor of shape {self._data.shape}: {e}") from None
            self._vc[0] += 1
            return
        apply_inplace(self, 'setitem', ops.setitem_op, index, value)

    def pow_(self, exponent):
        """Raise to ``exponent`` in place; returns the tensor."""
        return apply_inplace(self, 'pow_', ops.pow, exponent)

    fast_sub = _fast_arith('sub_', np.subtract, ops.sub)

    def sub_(self, other):
        """In-place ``sub``; returns the tensor (bool operands raise, as in PyTorch)."""
        check_sub_operands('sub_', self, other)
        return fast_sub(self, other)

    def unary_inplace(name):
        fn = getattr(ops, name)

        def method(self):
            return apply_inplace(self, name + '_', fn)
        method.__name__ = name + '_'
        method.__doc__ = f"In-place ``{name}``; returns the tensor."
        return method

    methods = {
        'add_': _fast_arith('add_', np.add, ops.add),
        'sub_': sub_,
        'mul_': _fast_arith('mul_', np.multiply, ops.mul),
        'div_': _fast_arith('div_', np.true_divide, ops.div),
        'pow_': pow_,
        'zero_': zero_, 'fill_': fill_, 'masked_fill_': masked_fill_, 'clamp_': clamp_,
        'clip_': clamp_, 'copy_': copy_, '__setitem__': setitem,
    }
    for name in ('exp', 'log', 'sqrt', 'sigmoid', 'tanh', 'relu', 'neg', 'abs', 'sin', 'cos'):
        methods[name + '_'] = unary_inplace(name)
    methods['__iadd__'] = methods['add_']
    methods['__isub__'] = methods['sub_']
    methods['__imul__'] = methods['mul_']
    methods['__itruediv__'] = methods['div_']
    return methods
