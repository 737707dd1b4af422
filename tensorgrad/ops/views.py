"""Strided views of a base tensor as graph ops, for in-place ops on views.

A recorded in-place op on a view ``v`` of ``base`` is rewritten as PyTorch
does (its "CopySlices"): ``new_base = scatter(old_base, op(gather(old_base)))``
over the memory region of ``v``, and every view of the base is then re-derived
from ``new_base``. The region is found from the arrays' memory layout (offset
and strides within the base), so any NumPy/CuPy view qualifies: basic
indexing, reshape, transpose, diagonals.
"""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from ._transposed import TransposedNode, record
from .elementwise import cast


def _address(a):
    return a.__array_interface__['data'][0] if isinstance(a, np.ndarray) else a.data.ptr


def _dense_order(base):
    """``perm`` such that ``base.transpose(perm)`` is C-contiguous (None when
    ``base`` is), or False when ``base``'s memory is not one dense block."""
    if base.flags.c_contiguous:
        return None
    perm = tuple(sorted(range(base.ndim), key=lambda i: -base.strides[i]))
    return perm if base.transpose(perm).flags.c_contiguous else False


def view_geometry(view, base):
    """(offset, shape, strides, perm) of array ``view`` inside array ``base``:
    offset and strides in elements of ``base``'s memory, which is C-contiguous
    after ``base.transpose(perm)`` (perm None: ``base`` is C-contiguous). None
    when it cannot be mapped (other dtype, a base that is not one dense block,
    or a view that reads an element twice, e.g. an expanded one)."""
    if view.dtype != base.dtype:
        return None
    perm = _dense_order(base)
    if view.size == 0:  # holds nothing (NumPy may give it any strides): trivially mapped
        return 0, view.shape, (0,) * view.ndim, perm or None
    if perm is False:
        return None
    size = base.itemsize
    offset = _address(view) - _address(base if perm is None else base.transpose(perm))
    if offset % size or any(s % size for s in view.strides):
        return None
    strides = tuple(s // size for s in view.strides)
    if any(s == 0 and n > 1 for s, n in zip(strides, view.shape)):
        return None
    return offset // size, view.shape, strides, perm


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def in_base_layout(arr, geom):
    """``arr`` (shaped like the base) with the base's memory layout, copied when needed."""
    perm = geom[3]
    xp = backend.array_module(arr)
    if perm is None:
        return xp.ascontiguousarray(arr)
    if arr.transpose(perm).flags.c_contiguous:
        return arr
    return xp.ascontiguousarray(arr.transpose(perm)).transpose(_inverse(perm))


def base_layout_full(xp, shape, value, dtype, geom):
    """An array shaped like the base, filled with ``value``, in the base's memory layout."""
    perm = geom[3]
    if perm is None:
        return xp.full(shape, value, dtype=dtype)
    return xp.full(tuple(shape[p] for p in perm), value, dtype=dtype).transpose(_inverse(perm))


def region(arr, geom):
    """The strided view ``geom`` of an array shaped and laid out like the base."""
    offset, shape, strides, perm = geom
    xp = backend.array_module(arr)
    dense = arr if perm is None else arr.transpose(perm)
    flat = dense.reshape(-1)[offset:]
    return xp.lib.stride_tricks.as_strided(flat, shape, tuple(s * arr.itemsize for s in strides))


class StridedViewBackward(Node):
    __slots__ = ()

    def backward(self, g):
        base_shape, geom = self.saved
        out = base_layout_full(backend.array_module(g), base_shape, 0, g.dtype, geom)
        region(out, geom)[...] = g
        return (out,)

    def backward_graph(self, g):  # linear in g: a write into zeros whose gradient is the view again
        return (record(self.backward(g._data)[0], StridedViewGradBackward, g, self.saved),)


class StridedViewGradBackward(TransposedNode):
    """The gradient of a strided view's gradient: the strided view again (of a
    C-contiguous copy when needed, and copied out, so no gradient aliases another)."""
    __slots__ = ()

    def apply(self, gg):
        return _read_region(gg, self.saved[1])


def _read_region(t, geom):
    """A copy of the view ``geom`` of the tensor ``t`` (shaped like the base), recorded."""
    return track(region(in_base_layout(t._data, geom), geom).copy(), StridedViewBackward, (t,),
                 (t._data.shape, geom))


def strided_view(base, geom):
    """The view ``geom`` of tensor ``base`` (sharing its memory), recorded as an op."""
    return track(region(base._data, geom), StridedViewBackward, (base,), (base._data.shape, geom))


class StridedScatterBackward(Node):
    __slots__ = ()

    def backward(self, g):
        geom, src_dtype = self.saved
        g = in_base_layout(g, geom)
        g_src = region(g, geom).astype(src_dtype, copy=True) if self.next[1] is not None else None
        g_base = None
        if self.next[0] is not None:
            g_base = g.copy(order='K')  # keeps the base's layout, which region() reads
            region(g_base, geom)[...] = 0
        return g_base, g_src

    def backward_graph(self, g):
        geom, src_dtype = self.saved
        g_base = g_src = None
        if self.next[1] is not None:
            g_src = _read_region(g, geom)
            if g_src._data.dtype != src_dtype:
                g_src = cast(g_src, src_dtype)
        if self.next[0] is not None:
            keep = base_layout_full(backend.array_module(g._data), g._data.shape, 1, g._data.dtype, geom)
            region(keep, geom)[...] = 0
            g_base = g * Tensor._wrap(keep)
        return g_base, g_src


def rederive(view, base):
    """A grad_fn that reads ``view`` out of ``base``'s current graph, or None."""
    geom = view_geometry(view._data, base._data)
    if geom is None:
        return None
    return strided_view(base, geom).grad_fn


def inplace_on_view(view, name, compute, args, write):
    """Record ``compute(view, *args)`` written into ``view`` (a view of a base),
    rewriting the base's graph; returns the view's geometry in the base, or
    None when its memory cannot be mapped (the caller then raises; nothing
    has changed)."""
    base = view._base
    geom = view_geometry(view._data, base._data)
    if geom is None:
        return None
    # the old base is only a graph position (its data is never read in backward); the
    # old view values are copied, as the op's backward may save them
    old_base = Tensor._wrap(base._data, base.requires_grad)
    old_base.grad_fn = base.grad_fn
    old_view = strided_view(old_base, geom)
    old_view._data = old_view._data.copy()
    res = compute(old_view, *args)
    write(view, name, res._data)
    # the base now holds the old base with ``res`` in the view's region: one scatter node
    new_base = track(base._data, StridedScatterBackward, (old_base, res), (geom, res._data.dtype))
    base.grad_fn, base._rg = new_base.grad_fn, new_base._rg
    return geom
