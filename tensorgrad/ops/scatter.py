"""Scatter and index-write ops, with PyTorch's semantics: ``scatter``,
``scatter_add``, ``scatter_reduce``, ``index_add``, ``index_copy``,
``index_fill``, ``masked_scatter`` and their in-place forms (``scatter_`` …).

Each op is split in three: a *plan* that validates the arguments and turns
the index into NumPy/CuPy coordinates, an *apply* that writes into an array
in place, and a backward Node. The out-of-place op applies to a copy; the
in-place method applies straight into the tensor's memory when nothing is
recorded, and otherwise goes through ``apply_inplace`` (version counters,
views, autograd).
"""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.grad_mode import GRAD_MODE
from ..autograd.node import Node
from ._transposed import not_twice_differentiable
from .elementwise import cast
from .indexing import setitem_op, take_tensor, where
from .inplace import apply_inplace
from .shape import cat


# ---------------------------------------------------------------- shared helpers
def _arr(op, t, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    return t._data


def _same_device(op, a, b, name):
    if a.__class__ is not b.__class__:
        raise RuntimeError(f"{op}: expected {name} on the same device as self, got "
                           f"{backend.device_of(b).value} and {backend.device_of(a).value}")


def _axis(op, dim, ndim):
    n = max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
                         f"(expected to be in range of [{-n}, {n - 1}])")
    return int(dim) % n


def _index(op, index, xd, kinds='int64/int32', err=RuntimeError):
    """The raw integer array of ``index`` (checked: a Tensor, an allowed dtype, self's device)."""
    idx = _arr(op, index, 'index')
    ok = idx.dtype == np.int64 or (kinds == 'int64/int32' and idx.dtype == np.int32)
    if not ok:
        raise err(f"{op}: expected dtype {kinds} for index, got {idx.dtype}")
    _same_device(op, xd, idx, 'index')
    return idx


def _bounds(op, idx, n, axis, low=0, err=RuntimeError):
    """Raise unless every value of ``idx`` lies in ``[low, n)``."""
    lo, hi = int(idx.min()), int(idx.max())
    if lo < low or hi >= n:
        raise err(f"{op}: index {lo if lo < low else hi} is out of bounds for dimension {axis} with size {n}")


def _at1(a):
    """``a`` as an array with at least one dimension (a view for a 0-d array)."""
    return a if a.ndim else a.reshape(1)


def _coords(xp, idx, axis):
    """Full coordinates of scatter/gather: ``idx`` at ``axis``, broadcast aranges elsewhere."""
    nd = idx.ndim
    return tuple(idx if d == axis else xp.arange(n).reshape((n,) + (1,) * (nd - d - 1))
                 for d, n in enumerate(idx.shape))


def _reduce_at(xp, ufunc, target, key, values):
    """``target[key] = ufunc(target[key], values)`` with repeated indices all applied."""
    if xp is np:
        getattr(np, ufunc).at(target, key, values)
    elif ufunc == 'add':
        import cupyx  # noqa: PLC0415 - cuda only
        cupyx.scatter_add(target, key, values)
    else:
        _reduce_at_by_rank(xp, ufunc, target, key, values)


def _reduce_at_by_rank(xp, ufunc, target, key, values):
    """``_reduce_at`` without ``ufunc.at`` (CuPy has none for multiply/max/min):
    the k-th occurrences of all target positions are combined in step k, so no
    position appears twice in one fancy-indexed write."""
    fn = getattr(xp, ufunc)
    pos = xp.arange(target.size).reshape(target.shape)[key]
    vals = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), pos.shape).ravel()
    pos = pos.ravel()
    if pos.size == 0:
        return
    order = xp.argsort(pos)
    pos, vals = pos[order], vals[order]
    first = xp.concatenate([xp.ones(1, dtype=bool), pos[1:] != pos[:-1]])
    starts = xp.flatnonzero(first)
    rank = xp.arange(pos.size) - starts[xp.cumsum(first) - 1]
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        at = xp.unravel_index(pos[sel], target.shape)
        target[at] = fn(target[at], vals[sel])


def _pad_to(xp, vals, shape):
    """``vals`` (the gradient at the index's positions) in a zero array of ``shape``."""
    if vals.shape == shape:
        return vals
    if shape == ():
        return vals.reshape(())
    out = xp.zeros(shape, dtype=vals.dtype)
    out[tuple(slice(0, n) for n in vals.shape)] = vals
    return out


# ------------------------------------------- second-order rules' helpers (Tensor ``g``)
def _at1_t(t):
    return t if t._data.ndim else t.reshape(1)


def _zero_at(g, key):
    """``g`` with zeros at ``key`` (of its at-least-1-d view): times a constant mask."""
    keep = backend.array_module(g._data).ones(g._data.shape, dtype=g._data.dtype)
    _at1(keep)[key] = 0
    return g * Tensor._wrap(keep)


def _pad_t(v, shape):
    """``_pad_to`` for a Tensor: ``v`` in the leading corner of zeros of ``shape``."""
    vs = v._data.shape
    if vs == shape:
        return v
    if shape == ():
        return v.reshape(())
    zeros = Tensor._wrap(backend.array_module(v._data).zeros(shape, dtype=v._data.dtype))
    return setitem_op(zeros, tuple(slice(0, n) for n in vs), v)


def _g_at(g, coords, src_shape):
    """The Tensor ``g`` at the scatter positions ``coords``, zero-padded to ``src_shape``."""
    if coords is None:
        return Tensor._wrap(backend.array_module(g._data).zeros(src_shape, dtype=g._data.dtype))
    return _pad_t(take_tensor(_at1_t(g), coords), src_shape)


def _src_or_value(op, src, value):
    if src is not None and value is not None:
        raise TypeError(f"{op}: give either src or value, not both")
    if src is None and value is None:
        raise TypeError(f"{op}: missing src (a Tensor) or value (a number)")
    if value is None and not isinstance(src, Tensor):
        src, value = None, src  # a number given positionally: the value overload
    if value is not None and (isinstance(value, Tensor) or not isinstance(value, (int, float, bool, np.generic))):
        raise TypeError(f"{op}: value must be a number, got {type(value).__name__}")
    return src, value


def _records(self, *others):
    return GRAD_MODE.enabled and (self.requires_grad or any(
        isinstance(t, Tensor) and t.requires_grad for t in others))


# ---------------------------------------------------------------- scatter family
def _scatter_plan(op, xd, dim, index, sd):
    """Validated (coords, src_region) of a scatter into ``xd``; coords None for an empty index."""
    idx = _index(op, index, xd)
    axis = _axis(op, dim, xd.ndim)
    if idx.ndim != xd.ndim:
        raise RuntimeError(f"{op}: index of shape {tuple(idx.shape)} must have the same number of dimensions "
                           f"as self of shape {xd.shape}")
    if sd is not None:
        _same_device(op, xd, sd, 'src')
        if sd.ndim != idx.ndim:
            raise RuntimeError(f"{op}: index of shape {tuple(idx.shape)} must have the same number of "
                               f"dimensions as src of shape {sd.shape}")
        if sd.dtype != xd.dtype:
            raise RuntimeError(f"{op}: expected self.dtype to be equal to src.dtype, got {xd.dtype} and {sd.dtype}")
    if idx.size == 0:
        return None, None
    ish, xsh = _at1(idx).shape, _at1(xd).shape
    if any(a > b for d, (a, b) in enumerate(zip(ish, xsh)) if d != axis) or (
            sd is not None and any(a > b for a, b in zip(ish, _at1(sd).shape))):
        raise RuntimeError(f"{op}: expected index {tuple(idx.shape)} to be no larger than self {xd.shape} apart "
                           f"from dimension {axis}" + (f" and no larger than src {sd.shape}" if sd is not None else ''))
    _bounds(op, idx, xsh[axis], axis)
    coords = _coords(backend.array_module(xd), _at1(idx), axis)
    region = None if sd is None else tuple(slice(0, n) for n in ish)
    return coords, region


def _src_vals(sd, region):
    return _at1(sd)[region]


class ScatterBackward(Node):
    __slots__ = ()

    def backward(self, g):
        coords, src_shape = self.saved
        xp = backend.array_module(g)
        gx = gs = None
        if self.next[0] is not None:
            gx = g
            if coords is not None:
                gx = g.copy()
                _at1(gx)[coords] = 0
        if self.next[1] is not None:
            gs = xp.zeros(src_shape, dtype=g.dtype) if coords is None else _pad_to(xp, _at1(g)[coords], src_shape)
        return gx, gs

    def backward_graph(self, g):
        coords, src_shape = self.saved
        gx = gs = None
        if self.next[0] is not None:
            gx = g if coords is None else _zero_at(g, coords)
        if self.next[1] is not None:
            gs = _g_at(g, coords, src_shape)
        return gx, gs


def scatter(input, dim, index, src=None, value=None, *, reduce=None):  # noqa: A002 - PyTorch's name
    """PyTorch's ``scatter``: a copy of ``input`` with ``out[index[i][j]][j] = src[i][j]``
    for ``dim=0`` (and so on for other dims); ``value`` (a number) in place of ``src``
    writes that number. ``reduce='add'`` / ``'multiply'`` combines instead of overwriting."""
    src, value = _src_or_value('scatter', src, value)
    xd = _arr('scatter', input, 'input')
    if reduce is not None:
        if reduce not in ('add', 'multiply'):
            raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
        if src is None:
            idx = _arr('scatter', index, 'index')
            src = Tensor._wrap(backend.array_module(xd).full(idx.shape, value, dtype=xd.dtype))
        return _scatter_reduce('scatter', input, dim, index, src, 'sum' if reduce == 'add' else 'prod', True)
    sd = None if src is None else src._data
    coords, region = _scatter_plan('scatter', xd, dim, index, sd)
    out = xd.copy()
    if coords is not None:
        _at1(out)[coords] = value if src is None else _src_vals(sd, region)
    return track(out, ScatterBackward, (input, src), (coords, None if sd is None else sd.shape), check=(index,))


class ScatterAddBackward(Node):
    __slots__ = ()

    def backward(self, g):
        coords, src_shape = self.saved
        xp = backend.array_module(g)
        gs = None
        if self.next[1] is not None:
            gs = xp.zeros(src_shape, dtype=g.dtype) if coords is None else _pad_to(xp, _at1(g)[coords], src_shape)
        return g, gs

    def backward_graph(self, g):
        coords, src_shape = self.saved
        return g, (_g_at(g, coords, src_shape) if self.next[1] is not None else None)


def scatter_add(input, dim, index, src):  # noqa: A002
    """PyTorch's ``scatter_add``: a copy of ``input`` with ``src`` added at ``index``
    along ``dim`` (repeated indices accumulate)."""
    xd = _arr('scatter_add', input, 'input')
    sd = _arr('scatter_add', src, 'src')
    coords, region = _scatter_plan('scatter_add', xd, dim, index, sd)
    out = xd.copy()
    if coords is not None:
        _reduce_at(backend.array_module(xd), 'add', _at1(out), coords, _src_vals(sd, region))
    return track(out, ScatterAddBackward, (input, src), (coords, sd.shape), check=(index,))


_REDUCES = ('sum', 'prod', 'mean', 'amax', 'amin')
_UFUNC = {'sum': 'add', 'mean': 'add', 'prod': 'multiply', 'amax': 'maximum', 'amin': 'minimum'}


def _identity(reduce, dtype):
    """The neutral start of ``reduce`` for ``include_self=False``."""
    if reduce in ('sum', 'mean'):
        return 0
    if reduce == 'prod':
        return 1
    if dtype.kind == 'b':
        return reduce == 'amin'
    if dtype.kind == 'f':
        return -np.inf if reduce == 'amax' else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == 'amax' else info.max


def _reduce_into(target, coords, vals, reduce, include_self):
    """Apply ``scatter_reduce`` to the array ``target`` in place; returns the
    per-position count of the mean (None for other reductions)."""
    xp = backend.array_module(target)
    t1 = _at1(target)
    if not include_self:
        t1[coords] = _identity(reduce, target.dtype)
    _reduce_at(xp, _UFUNC[reduce], t1, coords, vals)
    if reduce != 'mean':
        return None
    count = xp.full(t1.shape, 1 if include_self else 0, dtype=target.dtype if target.dtype.kind == 'f' else np.int64)
    _reduce_at(xp, 'add', count, coords, xp.ones(vals.shape, dtype=count.dtype))
    count[count == 0] = 1
    if target.dtype.kind == 'f':
        xp.true_divide(t1, count, out=t1)
    else:
        xp.floor_divide(t1, count, out=t1, casting='unsafe')
    return count.reshape(target.shape)


class ScatterReduceBackward(Node):
    __slots__ = ()

    def backward(self, g):
        reduce, include_self, coords, x, s, out, count, src_shape = self.saved
        xp = backend.array_module(g)
        if coords is None:
            return g, xp.zeros(src_shape, dtype=g.dtype)
        g1 = _at1(g)
        if reduce == 'sum':
            gx, gs = g1, g1[coords]
        elif reduce == 'mean':
            c1 = _at1(count)
            gx, gs = g1 / c1, g1[coords] / c1[coords]
        elif reduce in ('amax', 'amin'):
            x1, o1 = _at1(x), _at1(out)
            self_is = (x1 == o1).astype(g.dtype)
            src_is = (s == o1[coords]).astype(g.dtype)
            n = self_is.copy()
            _reduce_at(xp, 'add', n, coords, src_is)
            share = g1 / n
            gx, gs = self_is * share, src_is * share[coords]
        else:
            gx, gs = _prod_grads(xp, g1, _at1(x), s, _at1(out), coords, include_self)
        if not include_self:
            gx = gx.copy() if gx is g1 else gx
            gx[coords] = 0
        return gx.reshape(g.shape), (_pad_to(xp, gs, src_shape) if self.next[1] is not None else None)

    def backward_graph(self, g):
        reduce, include_self, coords, x, s, out, count, src_shape = self.saved
        if reduce == 'prod':
            return _prod_grads_graph(self, g)
        xp = backend.array_module(g._data)
        if coords is None:
            return g, Tensor._wrap(xp.zeros(src_shape, dtype=g._data.dtype))
        g1 = _at1_t(g)  # sum, mean, amax, amin: linear in g with piecewise-constant weights
        if reduce == 'sum':
            gx, gs = g1, take_tensor(g1, coords)
        elif reduce == 'mean':
            c1 = _at1(count)
            gx, gs = g1 / Tensor._wrap(c1), take_tensor(g1, coords) / Tensor._wrap(c1[coords])
        else:
            x1, o1 = _at1(x), _at1(out)
            self_is = (x1 == o1).astype(g._data.dtype)
            src_is = (s == o1[coords]).astype(g._data.dtype)
            n = self_is.copy()
            _reduce_at(xp, 'add', n, coords, src_is)
            share = g1 / Tensor._wrap(n)
            gx, gs = share * Tensor._wrap(self_is), take_tensor(share, coords) * Tensor._wrap(src_is)
        if not include_self:
            gx = _zero_at(gx, coords)
        return gx.reshape(g._data.shape), (_pad_t(gs, src_shape) if self.next[1] is not None else None)


def _prod_grads(xp, g1, x1, s, o1, coords, include_self):
    """PyTorch's prod gradients (derivatives.yaml ``scatter_reduce_backward``): the
    product of the others, computed without dividing by a zero."""
    def prod(base, vals):
        out = base.copy()
        _reduce_into(out, coords, vals, 'prod', include_self)
        return out
    masked_x = xp.where(x1 == 0, 1, x1).astype(x1.dtype)
    gx = g1 * prod(masked_x, s) / masked_x
    s_zero = s == 0
    zeros = xp.zeros(x1.shape, dtype=g1.dtype)
    _reduce_at(xp, 'add', zeros, coords, s_zero.astype(g1.dtype))
    single = s_zero & (zeros[coords] == 1)
    masked_result = prod(x1, xp.where(single, 1, s).astype(s.dtype))
    gs = xp.where(single, (g1 * masked_result)[coords], (g1 * o1)[coords] / xp.where(s_zero, 1, s))
    return gx, gs


def _prod_grads_graph(node, g):
    """``_prod_grads`` with Tensor ops (create_graph), as PyTorch's. Like PyTorch it has no
    higher-order form when two zeros of ``src`` meet at one position: there the gradients
    keep their first-order values and raise if differentiated again."""
    _, include_self, coords, x, s, out, _, src_shape = node.saved
    xp = backend.array_module(g._data)
    if coords is None:
        return g, Tensor._wrap(xp.zeros(src_shape, dtype=g._data.dtype))
    x1 = _at1(x)
    s_zero = s == 0
    zeros = xp.zeros(x1.shape, dtype=g._data.dtype)
    _reduce_at(xp, 'add', zeros, coords, s_zero.astype(g._data.dtype))
    if bool((zeros > 1).any()):
        return not_twice_differentiable(node, node.backward(g._data))
    # axis of the scatter: _coords gives the index the full rank, the aranges after dim 0 fewer dims
    nd = len(coords)
    axis = next((d for d in range(1, nd) if coords[d].ndim == nd), 0)
    index = Tensor._wrap(coords[axis] if x.ndim else coords[axis].reshape(()))
    region = tuple(slice(0, n) for n in s.shape)
    placeholder = xp.zeros(src_shape if src_shape else (1,), dtype=s.dtype)
    placeholder[region] = s
    S = _at1_t(node.input(1, placeholder.reshape(src_shape)))[region]  # src's values, on src's graph
    X1, O1, g1 = _at1_t(node.input(0, x)), _at1_t(node.output(out)), _at1_t(g)
    one = Tensor._wrap(xp.ones((), dtype=g._data.dtype))

    def prod(base1, vals):
        return _at1_t(_scatter_reduce('scatter_reduce', base1.reshape(x.shape), axis, index,
                                      vals if x.ndim else vals.reshape(()), 'prod', include_self))
    masked_x = where(Tensor._wrap(x1 == 0), one, X1)
    gx = g1 * prod(masked_x, S) / masked_x
    single = Tensor._wrap(s_zero & (zeros[coords] == 1))
    masked_result = prod(X1, where(single, one, S))
    gs = where(single, take_tensor(g1 * masked_result, coords),
               take_tensor(g1 * O1, coords) / where(Tensor._wrap(s_zero), one, S))
    if not include_self:
        gx = _zero_at(gx, coords)
    return (gx.reshape(g._data.shape) if node.next[0] is not None else None,
            _pad_t(gs, src_shape) if node.next[1] is not None else None)


def _scatter_reduce(op, input, dim, index, src, reduce, include_self):  # noqa: A002
    xd = _arr(op, input, 'input')
    sd = _arr(op, src, 'src')
    if reduce not in _REDUCES:
        raise RuntimeError(f"{op}: reduce argument must be either sum, prod, mean, amax or amin, got {reduce!r}")
    coords, region = _scatter_plan(op, xd, dim, index, sd)
    out = xd.copy()
    count = vals = None
    if coords is not None:
        vals = _src_vals(sd, region)
        count = _reduce_into(out, coords, vals, reduce, include_self)
    keeps = reduce in ('amax', 'amin', 'prod')
    saved = (reduce, include_self, coords, xd if keeps else None, vals if keeps else None,
             out if keeps else None, count, sd.shape)
    return track(out, ScatterReduceBackward, (input, src), saved,
                 check=(input, src, index) if keeps else (index,), check_out=keeps)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """PyTorch's ``scatter_reduce``: ``src`` reduced into a copy of ``input`` at
    ``index`` along ``dim`` with ``reduce`` ('sum', 'prod', 'mean', 'amax',
    'amin'); ``include_self=False`` leaves the old values out of the reduction
    at the positions written to."""
    return _scatter_reduce('scatter_reduce', input, dim, index, src, reduce, bool(include_self))


# ---------------------------------------------------------------- index_* family
def _index_plan(op, xd, dim, index, sd, kinds='int64/int32', dtype_err=RuntimeError, low_ok=False,
                bound_err=RuntimeError):
    """Validated key ``(:, …, :, index)`` of an index op on ``xd``."""
    idx = _index(op, index, xd, kinds, dtype_err)
    if idx.ndim > 1:
        raise IndexError(f"{op}: index is supposed to be a vector (0-d or 1-D), got shape {tuple(idx.shape)}")
    axis = _axis(op, dim, xd.ndim)
    x1 = _at1(xd)
    n = x1.shape[axis]
    idx = idx.reshape(-1)
    if idx.size:
        _bounds(op, idx, n, axis, -n if low_ok else 0, bound_err)
    if sd is not None:
        _same_device(op, xd, sd, 'source')
        if sd.dtype != xd.dtype:
            raise RuntimeError(f"{op}: self ({xd.dtype}) and source ({sd.dtype}) must have the same dtype")
        ss = sd.shape if sd.ndim or x1.ndim != 1 else (1,)
        if len(ss) != x1.ndim or ss[axis] != idx.size or any(
                a != b for d, (a, b) in enumerate(zip(ss, x1.shape)) if d != axis):
            raise RuntimeError(f"{op}: source of shape {sd.shape} does not fit {idx.size} indices into self of "
                               f"shape {xd.shape} along dim {axis} (it must match self apart from dim {axis}, "
                               f"where its size must be the number of indices)")
    return (slice(None),) * axis + (idx,)


class IndexAddBackward(Node):
    __slots__ = ()

    def backward(self, g):
        key, alpha, src_shape = self.saved
        gs = None
        if self.next[1] is not None:
            gs = _at1(g)[key].reshape(src_shape)
            if alpha != 1:
                gs = gs * alpha
        return g, gs

    def backward_graph(self, g):
        key, alpha, src_shape = self.saved
        gs = None
        if self.next[1] is not None:
            gs = take_tensor(_at1_t(g), key).reshape(src_shape)
            if alpha != 1:
                gs = gs * alpha
        return g, gs


def _alpha(op, alpha, dtype):
    """``alpha`` as PyTorch uses it: truncated to an integer for an integer tensor."""
    if isinstance(alpha, Tensor) or not isinstance(alpha, (int, float, bool, np.generic)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    return int(alpha) if dtype.kind in 'iub' else alpha


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """PyTorch's ``index_add``: a copy of ``input`` with ``alpha * source`` added at
    the positions ``index`` (0-d or 1-D) along ``dim``; repeated indices accumulate."""
    xd = _arr('index_add', input, 'input')
    sd = _arr('index_add', source, 'source')
    key = _index_plan('index_add', xd, dim, index, sd)
    alpha = _alpha('index_add', alpha, xd.dtype)
    out = xd.copy()
    _index_add_into(out, key, sd, alpha)
    return track(out, IndexAddBackward, (input, source), (key, alpha, sd.shape), check=(index,))


def _index_add_into(target, key, sd, alpha):
    t1 = _at1(target)
    vals = sd.reshape(t1[key].shape)
    if alpha != 1:
        vals = (vals * alpha).astype(target.dtype, copy=False)
    _reduce_at(backend.array_module(target), 'add', t1, key, vals)


class IndexCopyBackward(Node):
    __slots__ = ()

    def backward(self, g):
        key, src_shape = self.saved
        gx = gs = None
        if self.next[0] is not None:
            gx = g.copy()
            _at1(gx)[key] = 0
        if self.next[1] is not None:
            gs = _at1(g)[key].reshape(src_shape)
        return gx, gs

    def backward_graph(self, g):
        key, src_shape = self.saved
        return (_zero_at(g, key) if self.next[0] is not None else None,
                take_tensor(_at1_t(g), key).reshape(src_shape) if self.next[1] is not None else None)


def _index_copy_plan(xd, dim, index, sd, op='index_copy'):
    return _index_plan(op, xd, dim, index, sd, 'int64', RuntimeError, False, IndexError)


def index_copy(input, dim, index, source):  # noqa: A002
    """PyTorch's ``index_copy``: a copy of ``input`` with the slices of ``source``
    written at the positions ``index`` (0-d or 1-D, int64) along ``dim``."""
    xd = _arr('index_copy', input, 'input')
    sd = _arr('index_copy', source, 'source')
    key = _index_copy_plan(xd, dim, index, sd)
    out = xd.copy()
    t1 = _at1(out)
    t1[key] = sd.reshape(t1[key].shape)
    return track(out, IndexCopyBackward, (input, source), (key, sd.shape), check=(index,))


class IndexFillBackward(Node):
    __slots__ = ()

    def backward(self, g):
        key, value_dtype = self.saved
        xp = backend.array_module(g)
        gx = gv = None
        if self.next[0] is not None:
            gx = g.copy()
            _at1(gx)[key] = 0
        if self.next[1] is not None:
            g1 = _at1(g)
            axis = len(key) - 1
            rows = xp.unique(key[-1] % g1.shape[axis])  # a position written twice counts once
            gv = g1[key[:-1] + (rows,)].sum().astype(value_dtype).reshape(())
        return gx, gv

    def backward_graph(self, g):
        key, value_dtype = self.saved
        gx = gv = None
        if self.next[0] is not None:
            gx = _zero_at(g, key)
        if self.next[1] is not None:
            g1 = _at1_t(g)
            rows = backend.array_module(g._data).unique(key[-1] % g1._data.shape[len(key) - 1])
            gv = take_tensor(g1, key[:-1] + (rows,)).sum()
            if gv._data.dtype != value_dtype:
                gv = cast(gv, value_dtype)
        return gx, gv


def _index_fill_args(xd, dim, index, value, op='index_fill'):
    key = _index_plan(op, xd, dim, index, None, 'int64', IndexError, True, IndexError)
    if isinstance(value, Tensor):
        vd = value._data
        if vd.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{vd.ndim} dimension(s) (shape {vd.shape})")
        _same_device(op, xd, vd, 'value')
        return key, vd
    if not isinstance(value, (int, float, bool, np.generic)):
        raise TypeError(f"{op}: value must be a number or a 0-d Tensor, got {type(value).__name__}")
    return key, value


def index_fill(input, dim, index, value):  # noqa: A002
    """PyTorch's ``index_fill``: a copy of ``input`` with ``value`` (a number or a
    0-d tensor, differentiable) at the positions ``index`` along ``dim``."""
    xd = _arr('index_fill', input, 'input')
    key, v = _index_fill_args(xd, dim, index, value)
    out = xd.copy()
    _at1(out)[key] = v
    vt = value if isinstance(value, Tensor) else None
    return track(out, IndexFillBackward, (input, vt), (key, None if vt is None else v.dtype), check=(index,))


# ---------------------------------------------------------------- masked_scatter
def _masked_plan(op, xd, mask, sd, inplace):
    md = _arr(op, mask, 'mask')
    if md.dtype != np.bool_:
        raise RuntimeError(f"{op}: only boolean masks are supported, got mask of dtype {md.dtype}")
    _same_device(op, xd, md, 'mask')
    _same_device(op, xd, sd, 'source')
    if sd.dtype != xd.dtype:
        raise RuntimeError(f"{op}: expected self and source to have the same dtype, got {xd.dtype} and {sd.dtype}")
    try:
        shape = np.broadcast_shapes(md.shape, xd.shape)
    except ValueError:
        shape = None
    if shape is None or (inplace and shape != xd.shape):
        raise RuntimeError(f"{op}: mask of shape {md.shape} cannot be broadcast to self of shape {xd.shape}")
    xp = backend.array_module(xd)
    mb = xp.broadcast_to(md, shape)
    n = int(mb.sum())
    if sd.size < n:
        raise RuntimeError(f"{op}: number of elements of source ({sd.size}, shape {sd.shape}) < number of ones "
                           f"in mask ({n})")
    return shape, mb, n


class MaskedScatterBackward(Node):
    __slots__ = ()

    def backward(self, g):
        mb, n, src_shape = self.saved
        xp = backend.array_module(g)
        gx = gs = None
        if self.next[0] is not None:
            gx = xp.where(mb, xp.zeros((), dtype=g.dtype), g)
        if self.next[1] is not None:
            flat = xp.zeros(int(np.prod(src_shape, dtype=np.int64)), dtype=g.dtype)
            flat[:n] = g[mb]
            gs = flat.reshape(src_shape)
        return gx, gs

    def backward_graph(self, g):
        mb, n, src_shape = self.saved
        xp = backend.array_module(g._data)
        gx = gs = None
        if self.next[0] is not None:
            gx = where(Tensor._wrap(mb), Tensor._wrap(xp.zeros((), dtype=g._data.dtype)), g)
        if self.next[1] is not None:
            size = int(np.prod(src_shape, dtype=np.int64))
            gs = take_tensor(g, mb)
            if size > n:
                gs = cat([gs, Tensor._wrap(xp.zeros(size - n, dtype=g._data.dtype))])
            gs = gs.reshape(src_shape)
        return gx, gs


def masked_scatter(input, mask, source):  # noqa: A002
    """PyTorch's ``masked_scatter``: a copy of ``input`` (broadcast with the bool
    ``mask``) whose masked positions take the leading elements of ``source`` in
    row-major order."""
    xd = _arr('masked_scatter', input, 'input')
    sd = _arr('masked_scatter', source, 'source')
    shape, mb, n = _masked_plan('masked_scatter', xd, mask, sd, False)
    xp = backend.array_module(xd)
    out = xp.array(xp.broadcast_to(xd, shape))
    out[mb] = sd.reshape(-1)[:n]
    return track(out, MaskedScatterBackward, (input, source), (mb, n, sd.shape), check=(mask,))


# ---------------------------------------------------------------- in-place methods
def _done(self):
    self._vc[0] += 1
    return self


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place ``scatter``; returns the tensor."""
    src, value = _src_or_value('scatter_', src, value)
    if _records(self, src) or reduce is not None:
        return apply_inplace(self, 'scatter_', lambda s, t: scatter(
            s, dim, index, t if t is not None else value, reduce=reduce), src)
    sd = None if src is None else src._data
    coords, region = _scatter_plan('scatter_', self._data, dim, index, sd)
    if coords is not None:
        _at1(self._data)[coords] = value if src is None else _src_vals(sd, region)
    return _done(self)


def scatter_add_(self, dim, index, src):
    """In-place ``scatter_add``; returns the tensor."""
    if _records(self, src):
        return apply_inplace(self, 'scatter_add_', lambda s, t: scatter_add(s, dim, index, t), src)
    sd = _arr('scatter_add_', src, 'src')
    coords, region = _scatter_plan('scatter_add_', self._data, dim, index, sd)
    if coords is not None:
        _reduce_at(backend.array_module(sd), 'add', _at1(self._data), coords, _src_vals(sd, region))
    return _done(self)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place ``scatter_reduce``; returns the tensor."""
    if _records(self, src):
        return apply_inplace(self, 'scatter_reduce_', lambda s, t: _scatter_reduce(
            'scatter_reduce_', s, dim, index, t, reduce, bool(include_self)), src)
    sd = _arr('scatter_reduce_', src, 'src')
    if reduce not in _REDUCES:
        raise RuntimeError(f"scatter_reduce_: reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce!r}")
    coords, region = _scatter_plan('scatter_reduce_', self._data, dim, index, sd)
    if coords is not None:
        _reduce_into(self._data, coords, _src_vals(sd, region), reduce, bool(include_self))
    return _done(self)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place ``index_add``; returns the tensor."""
    if _records(self, source):
        return apply_inplace(self, 'index_add_', lambda s, t: index_add(s, dim, index, t, alpha=alpha), source)
    sd = _arr('index_add_', source, 'source')
    key = _index_plan('index_add_', self._data, dim, index, sd)
    _index_add_into(self._data, key, sd, _alpha('index_add_', alpha, self._data.dtype))
    return _done(self)


def index_copy_(self, dim, index, source):
    """In-place ``index_copy``; returns the tensor."""
    if _records(self, source):
        return apply_inplace(self, 'index_copy_', lambda s, t: index_copy(s, dim, index, t), source)
    sd = _arr('index_copy_', source, 'source')
    key = _index_copy_plan(self._data, dim, index, sd, 'index_copy_')
    t1 = _at1(self._data)
    t1[key] = sd.reshape(t1[key].shape)
    return _done(self)


def index_fill_(self, dim, index, value):
    """In-place ``index_fill``; returns the tensor."""
    if _records(self, value):
        return apply_inplace(self, 'index_fill_', lambda s, v: index_fill(s, dim, index, v), value)
    key, v = _index_fill_args(self._data, dim, index, value, 'index_fill_')
    _at1(self._data)[key] = v
    return _done(self)


def masked_scatter_(self, mask, source):
    """In-place ``masked_scatter`` (``mask`` must broadcast to this tensor's shape); returns the tensor."""
    sd = _arr('masked_scatter_', source, 'source')
    _, mb, n = _masked_plan('masked_scatter_', self._data, mask, sd, True)
    if _records(self, source):
        return apply_inplace(self, 'masked_scatter_', lambda s, t: masked_scatter(s, mask, t), source)
    self._data[mb] = sd.reshape(-1)[:n]
    return _done(self)


EXPORTS = ('scatter', 'scatter_add', 'scatter_reduce', 'index_add', 'index_copy', 'index_fill', 'masked_scatter')
TENSOR_METHODS = {name: globals()[name] for name in EXPORTS + (
    'scatter_', 'scatter_add_', 'scatter_reduce_', 'index_add_', 'index_copy_', 'index_fill_', 'masked_scatter_')}
