"""What the value-selecting ops (max/min over a dim, sort, topk, kthvalue,
median, mode) share: the dim of work, and the backward that scatters the
upstream gradient to the selected indices (ties go to the returned index,
as in PyTorch)."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node


def work_axis(op, xd, dim):
    """``(array, axis)`` to compute on: ``dim`` normalized (negative allowed); a
    0-d array is viewed as shape (1,) with axis 0 (dim 0 and -1 allowed, as torch)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    n = xd.ndim or 1
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {xd.ndim} dimensions")
    if xd.ndim == 0:
        return xd.reshape(1), 0
    return xd, int(dim) % n


def require_nonempty(op, wd, axis):
    """Reductions that pick one element need a non-empty dim (IndexError, as torch)."""
    if wd.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size "
                         f"(input of shape {tuple(wd.shape)}).")


def along(xp, idx, axis):
    """Advanced index that addresses ``idx`` (positions along ``axis``) in an
    array of ``idx``'s shape elsewhere: ``a[along(...)]`` is ``take_along_axis``."""
    index = []
    for d, n in enumerate(idx.shape):
        if d == axis:
            index.append(idx)
        else:
            shp = [1] * idx.ndim
            shp[d] = n
            index.append(xp.arange(n).reshape(shp))
    return tuple(index)


class SelectBackward(Node):
    """Gradient of a value-selecting op: the upstream gradient is scattered to the
    positions (distinct within each slice) it selected; everything else gets 0."""
    __slots__ = ()

    def backward(self, g):
        in_shape, work_shape, idx, axis = self.saved
        xp = backend.array_module(g)
        gx = xp.zeros(work_shape, dtype=g.dtype)
        gx[along(xp, idx, axis)] = g.reshape(idx.shape)
        return (gx.reshape(in_shape),)

    def backward_graph(self, g):  # the same scatter, recorded: its gradient gathers back
        return (track(self.backward(g._data)[0], SelectScatterBackward, (g,), self.saved + (g._data.shape,)),)


class SelectScatterBackward(Node):
    """Gradient of ``SelectBackward``'s scatter (recorded under create_graph): the
    gradient gathered back from the selected positions."""
    __slots__ = ()

    def backward(self, h):
        in_shape, work_shape, idx, axis, g_shape = self.saved
        xp = backend.array_module(h)
        return (h.reshape(work_shape)[along(xp, idx, axis)].reshape(g_shape),)

    def backward_graph(self, h):  # the same gather, recorded: its gradient is the scatter again
        return (track(self.backward(h._data)[0], SelectBackward, (h,), self.saved[:4]),)


# one subclass per op, so ``grad_fn`` names the op (``<SortBackward>``, ``<MaxBackward>``)
_NODES = {name: type(f'{name.capitalize()}Backward', (SelectBackward,),
                     {'__slots__': (), '__module__': __name__, '__doc__': f"Gradient of ``{name}``'s values."})
          for name in ('max', 'min', 'sort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode')}


def selected(result_cls, x, wd, idx, axis, out_shape):
    """``result_cls(values, indices)`` of the elements of ``wd`` (``x``'s array, or
    its 1-element view when 0-d) at positions ``idx`` along ``axis``, both
    reshaped to ``out_shape``; the values differentiate back to ``x``."""
    xp = backend.array_module(wd)
    if idx.dtype != np.int64:
        idx = idx.astype(np.int64)
    vals = xp.take_along_axis(wd, idx, axis=axis).reshape(out_shape)
    values = track(vals, _NODES.get(result_cls.__name__, SelectBackward), (x,), (x._data.shape, wd.shape, idx, axis))
    return result_cls(values, Tensor._wrap(idx.reshape(out_shape)))


def reduced_shape(xd, axis, keepdim):
    """Shape of a one-dim reduction of ``xd`` (0-d stays 0-d)."""
    if xd.ndim == 0:
        return ()
    return tuple(1 if i == axis else n for i, n in enumerate(xd.shape) if keepdim or i != axis)


class EvenlyDistributeBackward(Node):
    """Gradient of a full reduction that picks one value (``max()``, ``min()``,
    ``median()``): shared evenly by the elements equal to it (by the NaNs when
    it is NaN), as PyTorch's ``evenly_distribute_backward``."""
    __slots__ = ()

    def backward(self, g):
        xd, out = self.saved
        xp = backend.array_module(g)
        mask = xd == out
        if xd.dtype.kind in 'fc':
            mask |= (xd != xd) & (out != out)
        with np.errstate(divide='ignore', invalid='ignore'):  # an empty input: nothing to share
            share = g / mask.sum(dtype=g.dtype)
        return (xp.where(mask, share, xp.zeros((), dtype=g.dtype)),)

    def backward_graph(self, g):  # the split is piecewise constant in x: the same weights times g
        one = backend.array_module(g._data).ones((), dtype=g._data.dtype)
        return (g * Tensor._wrap(self.backward(one)[0]),)


def global_pick(x, out):
    """The 0-d tensor ``out`` (one element of ``x`` picked by a full reduction),
    differentiable by ``EvenlyDistributeBackward``."""
    out = backend.array_module(x._data).asarray(out)
    return track(out, EvenlyDistributeBackward, (x,), (x._data, out), check=(x,), check_out=True)
