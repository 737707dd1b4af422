"""Embedding lookup with a scatter-add backward."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from ._transposed import TransposedNode, record
from . import kernels
from ._checks import _float_array, _same_device


def _scatter_add(xp, target, index, values):
    """``target[index] += values`` with repeated indices accumulating."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx  # noqa: PLC0415 - cuda only
        cupyx.scatter_add(target, index, values)


def _sorted_row_sums(flat, g2, wshape):
    """``gw[flat[i]] += g2[i]`` for NumPy arrays, with repeated indices summed.

    The rows are sorted by index; when no index repeats more than 16 times the
    k-th occurrences of all indices are added in one fancy-indexed step each
    (no index twice per step), else each run of equal indices is summed with
    ``np.add.reduceat``. Both are several times faster than ``np.add.at``;
    the first ~1.8x faster than ``reduceat`` (slow along axis 0)."""
    order = np.argsort(flat, kind='stable')
    fs = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], fs[1:] != fs[:-1])))
    counts = np.diff(np.append(starts, fs.size))
    gs = g2[order]
    gw = np.zeros(wshape, dtype=g2.dtype)
    if counts.max() <= 16:
        rank = np.arange(fs.size) - np.repeat(starts, counts)  # occurrence number of each row
        for k in range(int(counts.max())):
            sel = rank == k
            gw[fs[sel]] += gs[sel]
    else:
        gw[fs[starts]] = np.add.reduceat(gs, starts, axis=0)
    return gw


kernels.hook(globals(), '_sorted_row_sums', 'embedding.sorted_row_sums')  # compiled under numba


def _gather_rows(wd, idx):
    """The rows of ``wd`` (V, D) at the integer indices ``idx`` (any shape), as
    ``idx.shape + (D,)``; None when an index lies outside [0, V)."""
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= wd.shape[0]):
        return None
    return backend.array_module(wd).take(wd, idx, axis=0)  # ~2x faster than wd[idx]


kernels.hook(globals(), '_gather_rows', 'embedding.gather_rows')


class EmbeddingBackward(Node):
    __slots__ = ()

    def backward(self, g):
        idx, wshape, padding_idx = self.saved
        xp = backend.array_module(g)
        flat = idx.reshape(-1)
        g2 = g.reshape(flat.size, wshape[1])  # (not -1: the dim may be 0)
        if xp is np and flat.size > 64:
            gw = _sorted_row_sums(flat, g2, wshape)
        else:
            gw = xp.zeros(wshape, dtype=g.dtype)
            _scatter_add(xp, gw, flat, g2)
        if padding_idx is not None:
            gw[padding_idx] = 0
        return (gw,)

    def backward_graph(self, g):  # linear in g: a scatter-add whose gradient is the lookup again
        return (record(self.backward(g._data)[0], EmbeddingGradBackward, g, self.saved),)


class EmbeddingGradBackward(TransposedNode):
    """The gradient of the embedding's weight gradient: the lookup of the rows
    again, zero for indices equal to ``padding_idx``."""
    __slots__ = ()

    def apply(self, gg):
        idx, _, padding_idx = self.saved
        out = embedding(Tensor._wrap(idx), gg)
        if padding_idx is not None:
            keep = (idx != padding_idx)[..., None].astype(gg._data.dtype)
            out = out * Tensor._wrap(keep)
        return out


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) at integer ``indices`` (any shape);
    the ``padding_idx`` row receives no gradient."""
    op = 'embedding'
    wd = _float_array(op, weight, 'weight')
    if isinstance(indices, Tensor):
        idx = indices._data
    else:
        idx = backend.array_module(wd).asarray(indices)
    _same_device(op, idx, wd, 'indices', 'weight')
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if wd.ndim != 2:
        raise ValueError(f"embedding: weight of shape {wd.shape} must be 2-D (num_embeddings, embedding_dim)")
    V = wd.shape[0]
    out = _gather_rows(wd, idx)
    if out is None:
        raise IndexError(f"embedding: indices must lie in [0, {V}), got values in "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {V} embeddings")
        padding_idx = int(padding_idx) % V
    return track(out, EmbeddingBackward, (weight,), (idx, wd.shape, padding_idx),
                 check=(indices,) if isinstance(indices, Tensor) else None)


EXPORTS = ('embedding',)
