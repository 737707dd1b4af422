"""NumPy interoperability: ``__array_ufunc__``, ``__array_function__`` and
``__array__`` on Tensor, so that NumPy code can be "dropped in" and
differentiated (MyGrad's idea, with PyTorch's names underneath).

- ``np.exp(t)``, ``np.sum(t * t)``, ``np.einsum('ij,jk->ik', a, b)``,
  ``np.concatenate([a, b])``, ``np.linalg.norm(t)``, ``arr + t`` ... return
  Tensors recorded in the graph: every supported ufunc or function maps onto
  the differentiable tensorgrad op (``axis`` -> ``dim``, ``keepdims`` ->
  ``keepdim``). NumPy arrays, lists and numbers mixed in are constants.
- An unsupported NumPy function raises ``TypeError`` naming it; a Tensor is
  never silently converted to an array by a NumPy function, since that would
  drop the graph.
- ``out=`` must be a Tensor: the result is written into it in place (a
  recorded in-place op, so gradients flow through it). ``where=`` selects
  which elements of ``out`` are written (MyGrad's documented behaviour);
  without ``out`` the unselected elements are zero.
- ``np.asarray(t)`` (the ``__array__`` protocol) returns the data; it
  accepts ``dtype`` and ``copy``.

Memory guarding (what keeps the graph's saved arrays from silent corruption):

1. In-place ops on Tensors bump the version counter (``t._vc``) shared with
   their views; a node that saved the old value raises at backward.
2. ``np.asarray(t)`` / ``np.array(t, copy=False)`` of a tensor that requires
   grad returns a READ-ONLY view: a write through it raises ``ValueError``
   instead of changing an array that backward may still need (copy it, or
   use ``t._data``/``no_grad`` + in-place Tensor ops to update parameters).
   PyTorch is stricter still: it refuses ``numpy()`` on such tensors.
3. A writeable NumPy array that a NumPy-protocol call (``arr * t``,
   ``np.multiply(arr, t)``) uses as a constant in a recorded op is made
   read-only while the graph may still need it, as MyGrad does; it becomes
   writeable again once backward has passed the op (or its graph is freed;
   after a ``retain_graph=True`` backward a second one is no longer guarded).
   ``mem_guard_off`` / ``mem_guard_on`` (context managers) and
   ``turn_memory_guarding_off()`` / ``..._on()`` control this locking.
   Limits: ``t * arr`` (Tensor on the left) goes through ``Tensor.__mul__``,
   not NumPy, and does not lock ``arr``; writes through ``t._data`` or
   ``t.numpy()`` are not guarded (``t._data`` is the escape hatch).
"""
import contextlib
import weakref

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..autograd.grad_mode import GRAD_MODE
from . import api as ops
from . import math as tmath
from .einsum import einsum

# ---------------------------------------------------------------------- memory guard
_GUARD = {'on': True}
_LOCKS = {}  # id(array) -> [array, count]


@contextlib.contextmanager
def _guarding(on):
    prev = _GUARD['on']
    _GUARD['on'] = on
    try:
        yield
    finally:
        _GUARD['on'] = prev


def mem_guard_off():
    """Within this context NumPy arrays used as constants are not locked read-only."""
    return _guarding(False)


def mem_guard_on():
    """Within this context memory guarding is on (also where it was turned off globally)."""
    return _guarding(True)


def turn_memory_guarding_off():
    """Globally stop locking NumPy arrays used as constants (faster, at your own risk)."""
    _GUARD['on'] = False


def turn_memory_guarding_on():
    """Globally lock NumPy arrays used as constants while a graph needs them (the default)."""
    _GUARD['on'] = True


def _lock(arr):
    entry = _LOCKS.get(id(arr))
    if entry is None:
        if not arr.flags.writeable:
            return None
        arr.flags.writeable = False
        _LOCKS[id(arr)] = [arr, 1]
    else:
        entry[1] += 1
    return arr


def _unlock(key, state):
    if state[0]:
        return
    state[0] = True
    entry = _LOCKS.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _LOCKS[key]
        try:
            entry[0].flags.writeable = True
        except ValueError:  # its base was made read-only meanwhile
            pass


def _guard(raw_arrays, out):
    """Lock ``raw_arrays`` read-only while the node of ``out`` may still use them."""
    if not _GUARD['on'] or not isinstance(out, Tensor) or out.grad_fn is None:
        return
    node = out.grad_fn
    for arr in raw_arrays:
        if _lock(arr) is None:
            continue
        key, state = id(arr), [False]
        release = weakref.finalize(node, _unlock, key, state)

        def hook(g, release=release):
            release()  # backward reached the node: its saved arrays are consumed now
        if node.hooks is None:
            node.hooks = []
        node.hooks.append(hook)


# ---------------------------------------------------------------------- __array__
def __array__(self, dtype=None, copy=None):
    """The tensor's data as a NumPy array (read-only when the tensor requires grad,
    unless a copy is made)."""
    arr = self.numpy()
    if dtype is not None and np.dtype(dtype) != arr.dtype:
        if copy is False:
            raise ValueError(f"__array__: casting {arr.dtype} to {np.dtype(dtype)} needs a copy (copy=False given)")
        return arr.astype(dtype)
    if copy:
        return arr.copy()
    if self.requires_grad and arr.flags.writeable:
        arr = arr.view()
        arr.flags.writeable = False
    return arr


# ---------------------------------------------------------------------- ufuncs
def _nondiff(fn):
    """A ufunc whose derivative is zero almost everywhere: computed on the data, a constant tensor."""
    def op(*args):
        datas = [a._data if isinstance(a, Tensor) else a for a in args]
        return Tensor._wrap(backend.array_module(next(d for d in datas if isinstance(d, backend.array_types())))
                            .asarray(fn(*datas)))
    return op


_UFUNCS = {
    np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.divide: ops.div,
    np.power: ops.pow, np.float_power: ops.pow, np.matmul: ops.matmul,
    np.maximum: ops.maximum, np.minimum: ops.minimum, np.fmax: ops.maximum, np.fmin: ops.minimum,
    np.negative: ops.neg, np.positive: tmath.positive, np.absolute: ops.abs, np.fabs: ops.abs,
    np.exp: ops.exp, np.exp2: tmath.exp2, np.expm1: tmath.expm1, np.log: ops.log, np.log2: tmath.log2,
    np.log10: tmath.log10, np.log1p: tmath.log1p, np.sqrt: ops.sqrt, np.cbrt: tmath.cbrt,
    np.square: tmath.square, np.reciprocal: tmath.reciprocal, np.sin: ops.sin, np.cos: ops.cos,
    np.tan: tmath.tan, np.arcsin: tmath.arcsin, np.arccos: tmath.arccos, np.arctan: tmath.arctan,
    np.sinh: tmath.sinh, np.cosh: tmath.cosh, np.tanh: ops.tanh, np.arcsinh: tmath.arcsinh,
    np.arccosh: tmath.arccosh, np.arctanh: tmath.arctanh, np.arctan2: tmath.arctan2,
    np.logaddexp: tmath.logaddexp, np.logaddexp2: tmath.logaddexp2, np.sign: ops.sign,
    np.equal: ops.eq, np.not_equal: ops.ne, np.less: ops.lt, np.less_equal: ops.le, np.greater: ops.gt,
    np.greater_equal: ops.ge, np.logical_and: ops.logical_and, np.logical_or: ops.logical_or,
    np.logical_xor: ops.logical_xor, np.logical_not: ops.logical_not,
}
for _uf in (np.floor, np.ceil, np.trunc, np.rint, np.isnan, np.isinf, np.isfinite, np.signbit,
            np.floor_divide, np.remainder, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert):
    _UFUNCS[_uf] = _nondiff(_uf)
from . import counting as _counting, rounding as _rounding  # noqa: E402 - op families registered below
_UFUNCS[np.fmod] = lambda a, b: _rounding.fmod(*_pair(a, b))
_UFUNCS[np.divmod] = lambda a, b: (_nondiff(np.floor_divide)(a, b), ops.remainder(*_pair(a, b)))
_REDUCE = {np.add: ops.sum, np.multiply: ops.prod, np.maximum: ops.amax, np.minimum: ops.amin}


def _unsupported(name):
    return TypeError(f"tensorgrad does not differentiate numpy.{name}; convert with t.numpy() first")


def _has_grad(args):
    return GRAD_MODE.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _write_out(op_name, res, out, where):
    if not isinstance(out, Tensor):
        raise TypeError(f"numpy.{op_name}: out= must be a Tensor when an operand is a Tensor, "
                        f"got {type(out).__name__}")
    if where is not True:
        xp = backend.array_module(out._data)
        res = ops.where(where._data if isinstance(where, Tensor) else xp.asarray(where), res, out)
    out.copy_(res)
    return out


def __array_ufunc__(self, ufunc, method, *inputs, out=None, where=True, **kwargs):
    """Route a NumPy ufunc call onto the differentiable tensorgrad op."""
    name = ufunc.__name__
    kwargs.pop('casting', None)
    dtype = kwargs.pop('dtype', None)
    if method == 'reduce' and ufunc in _REDUCE and where is True and out is None:
        axis = kwargs.pop('axis', 0)
        keepdims = kwargs.pop('keepdims', False)
        if kwargs:
            raise TypeError(f"numpy.{name}.reduce: unsupported arguments {sorted(kwargs)} for tensors")
        return _REDUCE[ufunc](_as_tensor(inputs[0]), axis, keepdims)
    fn = _UFUNCS.get(ufunc)
    if method != '__call__' or fn is None:
        raise _unsupported(name if method == '__call__' else f'{name}.{method}')
    if kwargs.pop('order', 'K') not in ('K', 'C', 'A') or kwargs.pop('subok', True) is not True or kwargs:
        raise TypeError(f"numpy.{name}: unsupported arguments {sorted(kwargs)} for tensors")
    if out is not None:
        out = out[0] if isinstance(out, tuple) else out
        if not isinstance(out, Tensor):
            if _has_grad(inputs):
                raise TypeError(f"numpy.{name}: out= is a NumPy array but an input requires grad; "
                                f"the result would drop the graph (pass a Tensor as out)")
            datas = [a._data if isinstance(a, Tensor) else a for a in inputs]
            return ufunc(*datas, out=(out,), where=where, **({'dtype': dtype} if dtype is not None else {}))
    raw = [a for a in inputs if type(a) is np.ndarray]
    res = fn(*inputs)
    if dtype is not None:
        res = res.astype(dtype)
    if raw:
        _guard(raw, res)
    if out is not None:
        return _write_out(name, res, out, where)
    if where is not True:
        xp = backend.array_module(res._data)
        res = ops.where(where._data if isinstance(where, Tensor) else xp.asarray(where), res,
                        xp.zeros((), dtype=res._data.dtype))
    return res


def _as_tensor(x, like=None):
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return like.from_data(x)
    return Tensor(x, requires_grad=False)


# ---------------------------------------------------------------------- functions
def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(fn):
    def h(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
        _no_out(fn.__name__, out)
        if initial is not None:
            _unsupported_kw(fn.__name__, 'initial')
        if where is not True:
            _unsupported_kw(fn.__name__, 'where')
        res = fn(_as_tensor(a), _axis(axis), keepdims)
        return res.astype(dtype) if dtype is not None else res
    return h


def _unsupported_kw(op, name):
    raise TypeError(f"numpy.{op}: the argument {name}= is not supported for tensors")


def _no_out(name, out):
    if out is not None:
        raise TypeError(f"numpy.{name}: out= is not supported for tensors (assign the result instead)")


def _var(fn):
    def h(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None, correction=None):
        _no_out(fn.__name__, out)
        if where is not True:
            _unsupported_kw(fn.__name__, 'where')
        if mean is not None:
            _unsupported_kw(fn.__name__, 'mean')
        res = fn(_as_tensor(a), _axis(axis), keepdim=keepdims, ddof=ddof if correction is None else correction)
        return res.astype(dtype) if dtype is not None else res
    return h


def _arg(fn):
    def h(a, axis=None, out=None, keepdims=False):
        _no_out(fn.__name__, out)
        return fn(_as_tensor(a), axis, keepdims)
    return h


def _reshape(a, *args, **kw):
    shape = kw.pop('shape', kw.pop('newshape', args[0] if args else None))
    if kw.pop('order', 'C') != 'C':
        _unsupported_kw('reshape', 'order')
    return ops.reshape(_as_tensor(a), shape if isinstance(shape, (tuple, list)) else (shape,))


def _transpose(a, axes=None):
    a = _as_tensor(a)
    return ops.permute(a, *(reversed(range(a.ndim)) if axes is None else axes))


def _squeeze(a, axis=None):
    a = _as_tensor(a)
    if axis is None or isinstance(axis, (int, np.integer)):
        return ops.squeeze(a, axis)
    axes = sorted(int(x) % a.ndim for x in axis)
    return ops.reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in axes))


def _expand_dims(a, axis):
    a = _as_tensor(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    nd = a.ndim + len(axes)
    axes = sorted(int(x) % nd for x in axes)
    shape = list(a.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return ops.reshape(a, tuple(shape))


def _concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    _no_out('concatenate', out)
    if axis is None:
        return ops.cat([ops.reshape(_as_tensor(t), (-1,)) for t in arrays], 0)
    return ops.cat(list(arrays), axis)


def _stack(arrays, axis=0, out=None, dtype=None, casting=None):
    _no_out('stack', out)
    return ops.stack(list(arrays), axis)


def _where(condition, x=None, y=None):
    return ops.where(condition, x, y)


def _einsum(*operands, out=None, optimize=False, **kw):
    _no_out('einsum', out)
    return einsum(operands[0], *operands[1:])


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kw):  # noqa: A002
    _no_out('clip', out)
    if kw:
        raise TypeError(f"numpy.clip: unsupported arguments {sorted(kw)} for tensors")
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    return ops.clamp(_as_tensor(a), lo, hi)


def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    from .. import linalg  # noqa: PLC0415 - the namespace module imports ops
    return linalg.norm(_as_tensor(x), ord, _axis(axis), keepdims)


def _repeat(a, repeats, axis=None):
    """NumPy's repeat (each element repeated), as an index gather."""
    a = _as_tensor(a)
    if axis is None:
        a, axis = ops.reshape(a, (-1,)), 0
    axis = int(axis) % a.ndim
    idx = np.repeat(np.arange(a.shape[axis]), repeats)
    return ops.getitem(a, (slice(None),) * axis + (Tensor._wrap(backend.move(idx, a.device)),))


def _tile(a, reps):
    a = _as_tensor(a)
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    if len(reps) > a.ndim:
        a = ops.reshape(a, (1,) * (len(reps) - a.ndim) + a.shape)
    return ops.tile(a, *reps)


def _moveaxis(a, source, destination):
    return ops.movedim(_as_tensor(a), source, destination)


def _swapaxes(a, axis1, axis2):
    return ops.swapaxes(_as_tensor(a), axis1, axis2)


def _flip(m, axis=None):
    m = _as_tensor(m)
    return ops.flip(m, tuple(range(m.ndim)) if axis is None else axis)


def _roll(a, shift, axis=None):
    return tmath.roll(_as_tensor(a), shift, axis)


def _cum(fn):
    def h(a, axis=None, dtype=None, out=None):
        _no_out(fn.__name__, out)
        res = fn(_as_tensor(a), axis)
        return res.astype(dtype) if dtype is not None else res
    return h


def _dot(a, b, out=None):
    _no_out('dot', out)
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    if b.ndim > 2:  # NumPy's dot contracts a's last axis with b's second-to-last
        return _tensordot(a, b, ([a.ndim - 1], [b.ndim - 2]))
    return ops.matmul(a, b)


def _pair(a, b):
    like = a if isinstance(a, Tensor) else b
    return _as_tensor(a, None if a is like else like), _as_tensor(b, None if b is like else like)


def _tensordot(a, b, axes=2):
    a, b = _pair(a, b)
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    letters = iter('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ')
    la = [next(letters) for _ in range(a.ndim)]
    lb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(ax_a, ax_b):
        lb[j % b.ndim] = la[i % a.ndim]
    contracted = {la[i % a.ndim] for i in ax_a}
    out = [c for c in la if c not in contracted] + [c for c in lb if c not in contracted]
    return einsum(''.join(la) + ',' + ''.join(lb) + '->' + ''.join(out), a, b)


def _outer(a, b, out=None):
    _no_out('outer', out)
    a, b = _pair(a, b)
    return ops.mul(ops.reshape(a, (-1, 1)), ops.reshape(b, (1, -1)))


def _inner(a, b):
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    return _tensordot(a, b, ([-1], [-1]))


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no_out('trace', out)
    return ops.sum(_diagonal(a, offset, axis1, axis2), -1)


def _diagonal(a, offset=0, axis1=0, axis2=1):
    a = _as_tensor(a)
    a = ops.movedim(a, (axis1, axis2), (-2, -1))
    if offset >= 0:
        a = ops.getitem(a, (Ellipsis, slice(None), slice(offset, None)))
    else:
        a = ops.getitem(a, (Ellipsis, slice(-offset, None), slice(None)))
    k = min(a.shape[-2:])
    a = ops.getitem(a, (Ellipsis, slice(0, k), slice(0, k)))
    return einsum('...ii->...i', a)


def _like(fill):
    def h(a, dtype=None, order='K', subok=True, shape=None, **kw):
        a = _as_tensor(a)
        shp = a.shape if shape is None else shape
        dt = a._data.dtype if dtype is None else np.dtype(dtype)
        xp = backend.array_module(a._data)
        if fill == 'full':
            arr = xp.full(shp, kw['fill_value'], dtype=dt)
        else:
            arr = (xp.zeros if fill == 0 else xp.ones if fill == 1 else xp.empty)(shp, dtype=dt)
        return Tensor._wrap(arr)
    return h


def _full_like(a, fill_value, dtype=None, order='K', subok=True, shape=None):
    return _like('full')(a, dtype=dtype, shape=shape, fill_value=fill_value)


def _on_data(fn):
    """Functions whose result needs no gradient (shapes, comparisons, memory queries): run on the data."""
    def h(*args, **kwargs):
        def strip(x):
            if isinstance(x, Tensor):
                return x.numpy()
            if isinstance(x, (list, tuple)):
                return type(x)(strip(i) for i in x)
            return x
        return fn(*strip(args), **{k: strip(v) for k, v in kwargs.items()})
    return h


def _pad(array, pad_width, mode='constant', **kwargs):
    from .windows import pad  # noqa: PLC0415
    a = _as_tensor(array)
    if isinstance(pad_width, (int, np.integer)):
        pw = ((int(pad_width), int(pad_width)),) * a.ndim
    else:
        pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width) else
                             np.asarray(pad_width), (a.ndim, 2)).tolist()
        pw = tuple(tuple(p) for p in pw)
    modes = {'constant': 'constant', 'reflect': 'reflect', 'edge': 'replicate', 'wrap': 'circular'}
    if mode not in modes:
        raise TypeError(f"tensorgrad does not differentiate numpy.pad with mode={mode!r}; "
                        f"supported: {sorted(modes)}")
    value = kwargs.get('constant_values', 0)
    return pad(a, pw, mode=modes[mode], value=value)


def _split(fn):
    def h(ary, indices_or_sections, axis=0):
        a = _as_tensor(ary)
        n = a.shape[axis]
        if isinstance(indices_or_sections, (int, np.integer)):
            k = int(indices_or_sections)
            if fn == 'split' and n % k:
                raise ValueError("numpy.split: array split does not result in an equal division")
            sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        else:
            bounds = [0] + [min(int(i), n) for i in indices_or_sections] + [n]
            sizes = [max(hi - lo, 0) for lo, hi in zip(bounds[:-1], bounds[1:])]
        return list(ops.split(a, sizes, axis))
    return h


def _ravel(a, order='C'):
    return ops.reshape(_as_tensor(a), (-1,))


def _copy(a, order='K', subok=False):
    return ops.clone(_as_tensor(a))


def _broadcast_to(array, shape, subok=False):
    return ops.broadcast_to(_as_tensor(array), (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))


def _matmul_fn(a, b):
    return ops.matmul(*_pair(a, b))


def _tril(m, k=0):
    return tmath.tril(_as_tensor(m), k)


def _triu(m, k=0):
    return tmath.triu(_as_tensor(m), k)


def _multi_dot(arrays, out=None):
    _no_out('linalg.multi_dot', out)
    from .. import linalg  # noqa: PLC0415
    return linalg.multi_dot(arrays)


_FUNCTIONS = {
    np.sum: _reduction(ops.sum), np.mean: _reduction(ops.mean), np.prod: _reduction(ops.prod),
    np.amax: _reduction(ops.amax), np.amin: _reduction(ops.amin), np.max: _reduction(ops.amax),
    np.min: _reduction(ops.amin), np.var: _var(ops.var), np.std: _var(ops.std),
    np.argmax: _arg(ops.argmax), np.argmin: _arg(ops.argmin),
    np.cumsum: _cum(tmath.cumsum), np.cumprod: _cum(tmath.cumprod),
    np.reshape: _reshape, np.ravel: _ravel, np.transpose: _transpose, np.squeeze: _squeeze,
    np.expand_dims: _expand_dims, np.moveaxis: _moveaxis, np.swapaxes: _swapaxes,
    np.concatenate: _concatenate, np.stack: _stack, np.where: _where, np.einsum: _einsum,
    np.clip: _clip, np.linalg.norm: _norm, np.repeat: _repeat, np.tile: _tile, np.flip: _flip,
    np.roll: _roll, np.dot: _dot, np.tensordot: _tensordot, np.outer: _outer, np.inner: _inner,
    np.trace: _trace, np.diagonal: _diagonal, np.matmul: _matmul_fn, np.broadcast_to: _broadcast_to,
    np.tril: _tril, np.triu: _triu, np.atleast_1d: tmath.atleast_1d, np.atleast_2d: tmath.atleast_2d,
    np.atleast_3d: tmath.atleast_3d, np.pad: _pad, np.split: _split('split'),
    np.array_split: _split('array_split'), np.copy: _copy, np.linalg.multi_dot: _multi_dot,
    np.zeros_like: _like(0), np.ones_like: _like(1), np.empty_like: _like(None), np.full_like: _full_like,
}
for _f in (np.shape, np.ndim, np.size, np.allclose, np.isclose,
           np.array_equal, np.array_equiv, np.result_type, np.argsort, np.nonzero, np.count_nonzero,
           np.any, np.all, np.argwhere, np.array_repr, np.array_str, np.iscomplexobj,
           np.isrealobj, np.can_cast, np.min_scalar_type):
    _FUNCTIONS[_f] = _on_data(_f)


def _memory_overlap(name):
    """``np.shares_memory`` / ``np.may_share_memory`` on the tensors' arrays (NumPy or CuPy)."""
    def check(a, b, max_work=None):
        da = a._data if isinstance(a, Tensor) else a
        db = b._data if isinstance(b, Tensor) else b
        return bool(getattr(backend.array_module(da), name)(da, db))
    return check


def _sinc(x):
    return tmath.sinc(_as_tensor(x))


def _bincount(x, weights=None, minlength=0):
    return _counting.bincount(_as_tensor(x), None if weights is None else _as_tensor(weights), minlength)


def _copyto(dst, src, casting='same_kind', where=True):
    if not isinstance(dst, Tensor):
        raise TypeError(f"numpy.copyto: the destination must be a Tensor when the source is one, got "
                        f"{type(dst).__name__} (the copy would drop the graph)")
    src = _as_tensor(src, dst)
    if where is not True:
        xp = backend.array_module(dst._data)
        src = ops.where(where._data if isinstance(where, Tensor) else xp.asarray(where), src, dst)
    dst.copy_(src)


_FUNCTIONS[np.sinc] = _sinc
_FUNCTIONS[np.bincount] = _bincount
_FUNCTIONS[np.copyto] = _copyto
_FUNCTIONS[np.shares_memory] = _memory_overlap('shares_memory')
_FUNCTIONS[np.may_share_memory] = _memory_overlap('may_share_memory')


def __array_function__(self, func, types, args, kwargs):
    """Route a NumPy function call onto the differentiable tensorgrad op."""
    handler = _FUNCTIONS.get(func)
    if handler is None:
        mod = getattr(func, '__module__', 'numpy') or 'numpy'
        name = f"{mod}.{func.__name__}" if mod != 'numpy' else f"numpy.{func.__name__}"
        raise TypeError(f"tensorgrad does not differentiate {name}; convert with t.numpy() first")
    res = handler(*args, **kwargs)
    raw = [a for a in args if type(a) is np.ndarray]
    for a in args:
        if isinstance(a, (list, tuple)):
            raw.extend(b for b in a if type(b) is np.ndarray)
    if raw and isinstance(res, Tensor):
        _guard(raw, res)
    return res


TENSOR_METHODS = {'__array__': __array__, '__array_ufunc__': __array_ufunc__,
                  '__array_function__': __array_function__}
EXPORTS = ('mem_guard_off', 'mem_guard_on', 'turn_memory_guarding_off', 'turn_memory_guarding_on')
