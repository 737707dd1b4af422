"""Sorting and selection along one dim: sort, argsort, msort, topk, kthvalue,
median, nanmedian, mode. The pairs come back as ``tensorgrad.return_types``
named tuples; the values differentiate by scattering the upstream gradient
to the returned indices (``_select.SelectBackward``).

Order is NumPy's stable sort with NaN as the largest value, as PyTorch.
Ties keep their original order (also for ``stable=False``, where PyTorch
leaves the order of ties unspecified)."""
import operator

import numpy as np

from .. import backend, return_types
from .._tensor import Tensor
from ._select import global_pick, reduced_shape, require_nonempty, selected, work_axis


def _stable_argsort(a, axis):
    try:
        return a.argsort(axis=axis, kind='stable')
    except TypeError:  # CuPy takes no ``kind``: its sort is always stable
        return a.argsort(axis=axis)


def stable_argsort(a, axis, descending=False):
    """Indices that sort ``a`` along ``axis``, equal elements in their original
    order (also when ``descending``); NaN sorts as the largest value."""
    if not descending:
        return _stable_argsort(a, axis)
    xp = backend.array_module(a)
    p = _stable_argsort(xp.flip(a, axis), axis)
    return (a.shape[axis] - 1) - xp.flip(p, axis)


def kth_index(a, axis, kth):
    """Index (keepdim-shaped) of the element at 0-based position ``kth`` of ``a``'s
    stable ascending sort along ``axis``, in O(n): a partition finds the value,
    the count of smaller elements says which of its equal copies is at ``kth``."""
    xp = backend.array_module(a)
    v = xp.take(xp.partition(a, kth, axis=axis), [kth], axis=axis)
    if a.dtype.kind == 'f':  # NaN sorts last and equals the other NaNs
        v_nan = v != v
        eq = xp.where(v_nan, a != a, a == v)
        lt = xp.where(v_nan, a == a, a < v)
    else:
        eq, lt = a == v, a < v
    skip = kth - lt.sum(axis=axis, keepdims=True)  # copies of v before position kth
    return (xp.cumsum(eq, axis=axis) > skip).argmax(axis=axis, keepdims=True)


def _first(a, axis, k):
    """The first ``k`` entries of ``a`` along ``axis``."""
    return a[(slice(None),) * axis + (slice(0, k),)]


def _as_int(op, name, value):
    """``value`` as an int (an int, NumPy int or integer 0-d tensor; not a bool or float)."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")


def _no_bool(op, xd):
    if xd.dtype == np.bool_:
        raise NotImplementedError(f"{op}(): not implemented for bool tensors")


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002 - PyTorch's name
    """Sort along ``dim`` (ascending unless ``descending``): the named tuple
    ``(values, indices)``. NaN sorts as the largest value; equal elements keep
    their original order (``stable`` is accepted; the sort is always stable)."""
    xd = input._data
    wd, axis = work_axis('sort', xd, dim)
    return selected(return_types.sort, input, wd, stable_argsort(wd, axis, descending), axis, xd.shape)


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002 - PyTorch's name
    """Indices (int64) that sort ``input`` along ``dim``: ``sort(...).indices``."""
    xd = input._data
    wd, axis = work_axis('argsort', xd, dim)
    return Tensor._wrap(stable_argsort(wd, axis, descending).astype(np.int64).reshape(xd.shape))


def msort(input):  # noqa: A002 - PyTorch's name
    """``input`` sorted ascending along its first dim (``sort(input, 0).values``)."""
    return sort(input, 0).values


_PARTITION_MIN = 256  # topk selects by partition (O(n)) when k is small next to a dim this long


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's names
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim``:
    the named tuple ``(values, indices)``, in sorted order (also when
    ``sorted=False``). NaN counts as the largest value."""
    k = _as_int('topk', 'k', k)
    xd = input._data
    wd, axis = work_axis('topk', xd, dim)
    if xd.dtype == np.bool_:
        raise RuntimeError("topk(): not supported for bool tensors")
    n = wd.shape[axis]
    if xd.ndim == 0 and k == 0:
        k = 1  # as PyTorch: a 0-d input gives its element back for k=0 too
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k} out of range for dim {dim} of size {n} "
                           f"(input of shape {tuple(xd.shape)})")
    xp = backend.array_module(wd)
    if 0 < k and k * 8 <= n and n >= _PARTITION_MIN:
        part = xp.argpartition(wd, n - k if largest else k - 1, axis=axis)
        sel = part[(slice(None),) * axis + ((slice(n - k, n) if largest else slice(0, k)),)]
        sel = xp.sort(sel, axis=axis)  # ties among the chosen then keep their original order
        order = stable_argsort(xp.take_along_axis(wd, sel, axis=axis), axis, largest)
        idx = xp.take_along_axis(sel, order, axis=axis)
    else:
        idx = _first(stable_argsort(wd, axis, largest), axis, k)
    shape = () if xd.ndim == 0 else tuple(k if i == axis else s for i, s in enumerate(xd.shape))
    return selected(return_types.topk, input, wd, idx, axis, shape)


def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002 - PyTorch's name
    """The ``k``-th smallest element (1-based) along ``dim``: the named tuple
    ``(values, indices)``. NaN counts as the largest value."""
    k = _as_int('kthvalue', 'k', k)
    xd = input._data
    wd, axis = work_axis('kthvalue', xd, dim)
    _no_bool('kthvalue', xd)
    require_nonempty('kthvalue', wd, axis)
    n = wd.shape[axis]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dim {dim} of size {n} "
                           f"(input of shape {tuple(xd.shape)})")
    idx = kth_index(wd, axis, k - 1)
    return selected(return_types.kthvalue, input, wd, idx, axis, reduced_shape(xd, axis, keepdim))


def _global_median(input, op, ignore_nan):
    xd = input._data
    _no_bool(op, xd)
    xp = backend.array_module(xd)
    flat = xd.reshape(-1)
    if flat.size == 0:
        empty = np.nan if xd.dtype.kind == 'f' else np.iinfo(xd.dtype).min  # PyTorch's values
        return global_pick(input, xp.asarray(empty, dtype=xd.dtype))
    if ignore_nan and xd.dtype.kind == 'f':
        srt = xp.sort(flat)
        m = (flat == flat).sum()
        return global_pick(input, srt[xp.maximum(m - 1, 0) // 2])
    mid = (flat.size - 1) // 2
    part = xp.partition(flat, (mid, flat.size - 1))
    top = part[-1]  # the largest value: NaN when any is NaN
    return global_pick(input, xp.where(top != top, top, part[mid]))


def _median_dim(input, dim, keepdim, op, result_cls, ignore_nan):
    xd = input._data
    wd, axis = work_axis(op, xd, dim)
    _no_bool(op, xd)
    require_nonempty(op, wd, axis)
    xp = backend.array_module(wd)
    n = wd.shape[axis]
    if wd.dtype.kind == 'f' and ignore_nan:
        count = (wd == wd).sum(axis=axis, keepdims=True)  # NaNs sort last: the median of the others
        idx = xp.take_along_axis(stable_argsort(wd, axis), xp.maximum(count - 1, 0) // 2, axis=axis)
    else:
        idx = kth_index(wd, axis, (n - 1) // 2)
        if wd.dtype.kind == 'f':
            nan = wd != wd  # with a NaN in the slice: NaN, at the first NaN's index (as PyTorch)
            idx = xp.where(nan.any(axis=axis, keepdims=True), nan.argmax(axis=axis, keepdims=True), idx)
    return selected(result_cls, input, wd, idx, axis, reduced_shape(xd, axis, keepdim))


def median(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's name
    """The lower median: of all elements (a 0-d tensor; NaN if any is NaN; ties
    share the gradient evenly) or, given ``dim``, the named tuple
    ``(values, indices)`` along it (NaN, at the first NaN, where a slice has one)."""
    if dim is None:
        return _global_median(input, 'median', False)
    return _median_dim(input, dim, keepdim, 'median', return_types.median, False)


def nanmedian(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's name
    """``median`` ignoring NaNs (NaN only where every element is NaN)."""
    if dim is None:
        return _global_median(input, 'nanmedian', True)
    return _median_dim(input, dim, keepdim, 'nanmedian', return_types.nanmedian, True)


def mode(input, dim=-1, keepdim=False):  # noqa: A002 - PyTorch's name
    """The most frequent value along ``dim`` (the smallest of the most frequent):
    the named tuple ``(values, indices)``; the index is that value's last
    occurrence (PyTorch's choice for slices of up to 16 elements; longer ones
    it leaves unspecified). NaNs count as equal to each other."""
    xd = input._data
    wd, axis = work_axis('mode', xd, dim)
    require_nonempty('mode', wd, axis)
    xp = backend.array_module(wd)
    rows_shape = wd.shape[:axis] + wd.shape[axis + 1:]
    n = wd.shape[axis]
    flat = xp.moveaxis(wd, axis, -1).reshape(-1, n)
    r = flat.shape[0]
    order = stable_argsort(flat, 1)
    s = xp.take_along_axis(flat, order, axis=1)
    new_run = xp.ones((r, n), dtype=bool)
    same = s[:, 1:] == s[:, :-1]
    if s.dtype.kind == 'f':
        same |= (s[:, 1:] != s[:, 1:]) & (s[:, :-1] != s[:, :-1])
    new_run[:, 1:] = ~same
    # count so far within each run of equal values: position - start of its run + 1
    pos = xp.broadcast_to(xp.arange(n), (r, n))
    rows = xp.broadcast_to(xp.arange(r)[:, None], (r, n))
    run_id = xp.cumsum(new_run, axis=1) - 1
    start = xp.zeros((r, n), dtype=pos.dtype)
    start[rows[new_run], run_id[new_run]] = pos[new_run]
    count = pos - start[rows, run_id] + 1
    # the first position reaching the largest count ends the smallest most frequent run;
    # the stable sort puts that value's last occurrence there
    best = count.argmax(axis=1)
    idx = order[xp.arange(r), best].reshape(rows_shape)
    idx = xp.expand_dims(idx, axis)
    return selected(return_types.mode, input, wd, idx, axis, reduced_shape(xd, axis, keepdim))


EXPORTS = ('sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode')
TENSOR_METHODS = {'sort': sort, 'argsort': argsort, 'msort': msort, 'topk': topk, 'kthvalue': kthvalue,
                  'median': median, 'nanmedian': nanmedian, 'mode': mode}
