"""Indexing: ``__getitem__`` (basic indexing gives views; bool masks and
integer arrays copy), ``where``, ``masked_fill``, ``gather``, ``lookup``,
``index_select`` and the out-of-place half of ``__setitem__``."""
import numpy as np

from .. import backend
from .._tensor import Tensor, as_view, track
from ..autograd.engine import SliceGrad, unbroadcast, unbroadcast_tensor
from ..autograd.node import Node
from ..dtypes import promote
from ._transposed import TransposedNode, record
from .elementwise import _constant, promote_to


def _is_basic(item):
    return item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))


def normalize_index(index, device):
    """Index with Tensors replaced by arrays on ``device`` and lists by arrays.
    Returns (index, basic) where ``basic`` means NumPy returns a view."""
    items = index if isinstance(index, tuple) else (index,)
    basic = True
    out = []
    for it in items:
        if isinstance(it, Tensor):
            it = it._data
            basic = False
            if backend.device_of(it) is not device:
                it = backend.move(it, device)
        elif isinstance(it, (list, np.ndarray)) or (backend._cupy is not None and isinstance(it, backend._cupy.ndarray)):
            if isinstance(it, list):
                it = np.asarray(it)
                if it.size == 0:  # ``x[[]]``: an empty index list selects nothing, as torch
                    it = it.astype(np.int64)
            it = backend.move(it, device)
            basic = False
        elif isinstance(it, bool):
            basic = False
        elif not _is_basic(it):
            raise TypeError(f"getitem: unsupported index {it!r} of type {type(it).__name__}")
        out.append(it)
    if not basic and len(out) > 1:
        split = _split_integers_first(out)
        if split is not None:
            return split, basic
    return (tuple(out) if isinstance(index, tuple) else out[0]), basic


class TwoStep(tuple):
    """An index ``(first, second)`` applied as ``a[first][second]``: PyTorch applies
    integer indices (as ``select``) before advanced ones, so for ``x`` of shape
    (2, 3, 4) ``x[0, :, [0, 1]]`` has shape (3, 2), where NumPy would put the
    advanced dimension first, (2, 3)."""
    __slots__ = ()


def _is_int(it):
    return isinstance(it, (int, np.integer)) and not isinstance(it, bool)


def _split_integers_first(items):
    """``TwoStep`` for a tuple index mixing integers with integer/bool arrays, else None."""
    if not any(_is_int(it) for it in items) or not any(hasattr(it, 'ndim') and it.ndim for it in items):
        return None
    if any(isinstance(it, bool) or (hasattr(it, 'ndim') and it.ndim == 0) for it in items):
        return None  # 0-d array and bool indices keep NumPy's placement
    first, second = [], []
    for it in items:
        if _is_int(it):
            first.append(it)
        elif hasattr(it, 'ndim'):
            n = it.ndim if it.dtype == np.bool_ else 1  # a bool mask spans its own number of dims
            first.extend([slice(None)] * n)
            second.append(it)
        elif it is Ellipsis:
            first.append(it)
            second.append(it)
        else:  # a slice or None: applied in the first step, the axis kept whole in the second
            first.append(it)
            second.append(slice(None))
    return TwoStep((tuple(first), tuple(second)))


def take(arr, index):
    """``arr[index]`` for a normalised index (a ``TwoStep`` included)."""
    if index.__class__ is TwoStep:
        return arr[index[0]][index[1]]
    return arr[index]


def put(arr, index, value):
    """``arr[index] = value`` for a normalised index (a ``TwoStep`` included)."""
    if index.__class__ is TwoStep:
        arr[index[0]][index[1]] = value
    else:
        arr[index] = value


class GetItemBackward(Node):
    __slots__ = ()

    def backward(self, g):
        shape, index, basic = self.saved
        if basic:  # the engine adds the slices of one tensor into one buffer
            return (SliceGrad(shape, index, g),)
        return (self._dense(g),)

    def _dense(self, g):
        shape, index, basic = self.saved
        xp = backend.array_module(g)
        gx = xp.zeros(shape, dtype=g.dtype)
        if basic:
            gx[index] = g
            return gx
        dst = gx
        if index.__class__ is TwoStep:
            dst, index = gx[index[0]], index[1]  # a view of gx
        if xp is np:
            np.add.at(dst, index, g)  # repeated indices accumulate
        else:
            _scatter_add_cupy(dst, index, g)
        return gx

    def backward_graph(self, g):  # linear in g: a scatter-add whose gradient is getitem again
        return (record(self._dense(g._data), GetItemGradBackward, g, self.saved),)


class GetItemGradBackward(TransposedNode):
    """The gradient of getitem's gradient (a scatter into zeros): getitem."""
    __slots__ = ()

    def apply(self, gg):
        return take_tensor(gg, self.saved[1])


def _index_is_basic(index):
    if index.__class__ is TwoStep:
        return False
    items = index if isinstance(index, tuple) else (index,)
    return all(_is_basic(it) and not isinstance(it, bool) for it in items)


def take_tensor(t, index):
    """``t[index]`` for a normalised index (``TwoStep`` included), recorded as getitem
    (for second-order rules; the result is not marked as a view)."""
    out = take(t._data, index)
    if not hasattr(out, 'flags'):  # an all-integer index gives a NumPy scalar
        out = backend.array_module(t._data).asarray(out)
    return track(out, GetItemBackward, (t,), (t._data.shape, index, _index_is_basic(index)))


def _scatter_add_cupy(gx, index, g):
    import cupyx  # noqa: PLC0415 - cuda only
    cupyx.scatter_add(gx, index, g)


def getitem(x, slice_):
    """``x[slice_]`` with ints, slices, None, Ellipsis, bool masks and integer arrays."""
    index, basic = normalize_index(slice_, x.device)
    xd = x._data
    try:
        out = take(xd, index)
    except IndexError as e:
        raise IndexError(f"getitem: index {_describe(index)} is invalid for a tensor of shape {xd.shape}: {e}") from None
    if basic and out.__class__ is not np.ndarray and isinstance(out, np.generic):
        # all-integer index: NumPy gives a scalar copy; PyTorch a 0-d view (``b[1, 2].add_(1)`` writes into b)
        out = xd[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
    if basic:
        t = track(out, GetItemBackward, (x,), (xd.shape, index, basic))
        as_view(t, x)
        return t
    if not out.flags.c_contiguous:  # NumPy puts the indexed dims first, then transposes; torch's is contiguous
        out = backend.array_module(out).ascontiguousarray(out)  # (so a later view() works as in torch)
    # index tensors changed in place before backward would route the gradient wrongly
    items = slice_ if isinstance(slice_, tuple) else (slice_,)
    return track(out, GetItemBackward, (x,), (xd.shape, index, basic),
                 check=tuple(i for i in items if isinstance(i, Tensor)))


def _describe(index):
    if index.__class__ is TwoStep:
        index = index[0] + index[1]
    items = index if isinstance(index, tuple) else (index,)
    return '(' + ', '.join(f'array{tuple(i.shape)}' if hasattr(i, 'shape') else repr(i) for i in items) + ')'


def lookup(x, mask):
    """Rows (or elements) of ``x`` selected by ``mask``: an integer index tensor
    (e.g. an embedding lookup, ``weight.lookup(ids)``), a bool mask, or a
    tuple of index tensors, one per leading dimension."""
    return getitem(x, mask)


class SetItemBackward(Node):
    __slots__ = ()

    def backward(self, g):
        index, value_shape = self.saved
        gx = None
        if self.next[0] is not None:
            gx = g.copy()
            put(gx, index, 0)
        gv = None
        if self.next[1] is not None:
            gv = take(g, index)
            if gv.shape != value_shape:
                gv = unbroadcast(gv, value_shape)
        return gx, gv

    def backward_graph(self, g):
        index, value_shape = self.saved
        gx = gv = None
        if self.next[0] is not None:  # zero where the value was written: a constant mask
            keep = backend.array_module(g._data).ones(g._data.shape, dtype=g._data.dtype)
            put(keep, index, 0)
            gx = g * Tensor._wrap(keep)
        if self.next[1] is not None:
            gv = take_tensor(g, index)
            if gv._data.shape != value_shape:
                gv = unbroadcast_tensor(gv, value_shape)
        return gx, gv


def setitem_op(x, index, value):
    """The out-of-place ``x`` with ``x[index] = value`` (differentiable in both)."""
    index, _ = normalize_index(index, x.device)
    if isinstance(value, Tensor):
        vd = value._data
        if vd.__class__ is not x._data.__class__:
            raise RuntimeError(f"setitem: value on {value.device.value}, tensor on {x.device.value}")
    else:
        vd = value
        value = None
    out = x._data.copy()
    try:
        put(out, index, vd)
    except (ValueError, IndexError) as e:
        raise type(e)(f"setitem: cannot assign a value of shape {getattr(vd, 'shape', ())} to index "
                      f"{_describe(index)} of a tensor of shape {x._data.shape}: {e}") from None
    return track(out, SetItemBackward, (x, value), (index, getattr(vd, 'shape', ())))


class WhereBackward(Node):
    __slots__ = ()

    def backward(self, g):
        cond = self.saved
        xp = backend.array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        return (None,
                xp.where(cond, g, zero) if self.next[1] is not None else None,
                xp.where(cond, zero, g) if self.next[2] is not None else None)

    def backward_graph(self, g):
        cond = Tensor._wrap(self.saved)
        zero = Tensor._wrap(backend.array_module(g._data).zeros((), dtype=g._data.dtype))
        return (None,
                where(cond, g, zero) if self.next[1] is not None else None,
                where(cond, zero, g) if self.next[2] is not None else None)


def where(condition, x=None, y=None):
    """Elementwise ``x if condition else y`` with broadcasting; with only a
    condition, the indices of its non-zero elements (as ``nonzero(as_tuple=True)``)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if x is None and y is None:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in cond.nonzero())
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    if like is None:
        like = Tensor(x, requires_grad=False)
    x = _constant(x, like) if not isinstance(x, Tensor) else x
    y = _constant(y, like) if not isinstance(y, Tensor) else y
    xd, yd = x._data, y._data
    if xd.dtype != yd.dtype:
        dt = promote(xd.dtype, yd.dtype, xd.ndim, yd.ndim)
        if xd.dtype != dt:
            x = promote_to(x, dt)
        if yd.dtype != dt:
            y = promote_to(y, dt)
        xd, yd = x._data, y._data
    xp = backend.array_module(xd)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    try:
        out = xp.where(cond, xd, yd)
    except ValueError:
        raise ValueError(f"where: shapes {tuple(cond.shape)}, {xd.shape} and {yd.shape} cannot be "
                         f"broadcast together") from None
    return track(out, WhereBackward, (None, x, y), cond)


def masked_fill(x, mask, value):
    """A copy of ``x`` with ``value`` where ``mask`` is True (mask broadcasts to ``x``)."""
    md = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if md.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {md.dtype}")
    try:
        np.broadcast_shapes(md.shape, x._data.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {md.shape} does not broadcast to "
                         f"tensor of shape {x._data.shape}") from None
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill: value must be a 0-d tensor or a number, got shape "
                               f"{tuple(value._data.shape)}")
        if value._data.dtype != x._data.dtype:  # the value takes the input's dtype, as torch
            value = promote_to(value, x._data.dtype)
        return where(md, value, x)
    xp = backend.array_module(x._data)
    return where(md, xp.asarray(value, dtype=x._data.dtype), x)


class GatherBackward(Node):
    __slots__ = ()

    def backward(self, g):
        shape, idx, axis = self.saved
        xp = backend.array_module(g)
        gx = xp.zeros(shape, dtype=g.dtype)
        full = list(xp.indices(idx.shape, sparse=True))
        full[axis] = idx
        if xp is np:
            np.add.at(gx, tuple(full), g)
        else:
            _scatter_add_cupy(gx, tuple(full), g)
        return (gx,)

    def backward_graph(self, g):  # linear in g: a scatter-add whose gradient is gather again
        return (record(self.backward(g._data)[0], GatherGradBackward, g, self.saved),)


class GatherGradBackward(TransposedNode):
    """The gradient of gather's gradient (a scatter-add into zeros): gather."""
    __slots__ = ()

    def apply(self, gg):
        _, idx, axis = self.saved
        return gather(gg, axis, Tensor._wrap(idx))


def gather(x, dim, index):
    """PyTorch's ``gather``: ``out[i][j] = x[index[i][j]][j]`` for ``dim=0`` etc."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"gather: index must be an integer tensor, got {idx.dtype}")
    xd = x._data
    if max(idx.ndim, 1) != max(xd.ndim, 1):
        raise ValueError(f"gather: index has {idx.ndim} dimensions but the tensor has {xd.ndim}")
    if not -max(xd.ndim, 1) <= dim < max(xd.ndim, 1):
        raise IndexError(f"gather: dim {dim} is out of range for a tensor with {xd.ndim} dimensions")
    if idx.ndim != xd.ndim or xd.ndim == 0:  # torch: a 0-d tensor or index counts as 1-d of size 1
        x1 = x.reshape(1) if xd.ndim == 0 else x
        i1 = Tensor._wrap(idx.reshape(1) if idx.ndim == 0 else idx)
        if isinstance(index, Tensor):
            i1._vc = index._vc
        return gather(x1, dim, i1).reshape(idx.shape)
    axis = dim % max(xd.ndim, 1)
    if any(a > b for i, (a, b) in enumerate(zip(idx.shape, xd.shape)) if i != axis):
        raise ValueError(f"gather: index shape {idx.shape} exceeds tensor shape {xd.shape} outside dim {dim}")
    xp = backend.array_module(xd)
    src = xd
    if any(a != b for i, (a, b) in enumerate(zip(idx.shape, xd.shape)) if i != axis):
        src = xd[tuple(slice(None) if i == axis else slice(0, n) for i, n in enumerate(idx.shape))]
    try:
        out = xp.take_along_axis(src, idx, axis=axis)
    except IndexError as e:
        raise IndexError(f"gather: index out of range for dim {dim} of size {xd.shape[axis]}: {e}") from None
    # x is checked too: torch saves it (its backward reads only the shape), so an in-place change raises there
    return track(out, GatherBackward, (x,), (xd.shape, idx, axis),
                 check=(x, index) if isinstance(index, Tensor) else (x,))


def index_select(x, dim, index):
    """The entries of ``x`` at ``index`` (1-D integer tensor) along ``dim``."""
    nd = x._data.ndim
    if not -max(nd, 1) <= dim < max(nd, 1):
        raise IndexError(f"index_select: dim {dim} is out of range for a tensor with {nd} dimensions")
    if not isinstance(index, Tensor):
        index = Tensor._wrap(np.asarray(index))
    if index._data.ndim > 1 or index._data.dtype.kind not in 'iu':
        raise TypeError(f"index_select: index must be a 0-d or 1-D integer tensor, got shape "
                        f"{tuple(index._data.shape)} and dtype {index._data.dtype}")
    if nd == 0:  # torch: a one-element index into a scalar gives the scalar
        if index._data.size != 1:
            raise RuntimeError(f"index_select: index into a 0-d tensor can have only 1 value, got "
                               f"{index._data.size}")
        return getitem(x.reshape(1), index.reshape(-1)).reshape(())
    axis = dim % nd
    if index._data.ndim == 0:
        index = index.reshape(1)
    try:
        return getitem(x, (slice(None),) * axis + (index,))
    except IndexError as e:
        raise IndexError(f"index_select: index out of range for dim {dim} of size {x._data.shape[axis]}: "
                         f"{e}") from None
