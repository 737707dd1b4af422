"""Counting and selecting by value: ``bincount``, ``histc``, ``nonzero``,
``argwhere``, ``count_nonzero``, ``unique`` (not differentiable, as in
PyTorch) and ``masked_select`` (differentiable).

Their output sizes depend on the values, so each reads its input's values
(on cuda: one device-to-host sync)."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from .elementwise import _broadcast_error, _device_error
from .reduction import normalize_dims
from .shape import _dim


def _arg(op, x, name='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x._data


def bincount(input, weights=None, minlength=0):  # noqa: A002 - PyTorch's name
    """Count of each value in a 1-D tensor of non-negative integers (int64), or the sum
    of ``weights`` per value (float64 for integer weights, the weights' dtype otherwise);
    at least ``minlength`` bins."""
    xd = _arg('bincount', input)
    if xd.dtype.kind not in 'iub':
        raise TypeError(f"bincount: input must be an integer tensor, got dtype {xd.dtype}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength should be >= 0, got {minlength}")
    xp = backend.array_module(xd)
    if xd.ndim != 1 or (xd.size and int(xd.min()) < 0):
        raise ValueError(f"bincount: only 1-d non-negative integral inputs are supported, got shape "
                         f"{tuple(xd.shape)}" + (" with negative values" if xd.ndim == 1 else ""))
    wd = None
    if weights is not None:
        wd = _arg('bincount', weights, 'weights')
        if wd.__class__ is not xd.__class__:
            _device_error('bincount', xd, wd)
        if wd.shape != xd.shape:
            raise ValueError(f"bincount: weights of shape {tuple(wd.shape)} must have the input's shape "
                             f"{tuple(xd.shape)}")
    out = xp.bincount(xd.astype(np.int64, copy=False), weights=wd, minlength=int(minlength))
    if wd is not None:
        out = out.astype(wd.dtype if wd.dtype.kind == 'f' else np.float64, copy=False)
    return Tensor._wrap(out)


def histc(input, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """Histogram of the elements in ``bins`` equal-width bins over ``[min, max]`` (both 0:
    the data's range); elements outside are ignored. A tensor of the input's dtype."""
    xd = _arg('histc', input)
    if xd.dtype.kind != 'f':
        raise TypeError(f"histc: input must be a floating point tensor, got dtype {xd.dtype}")
    if bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins}")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must be larger than min ({lo})")
    xp = backend.array_module(xd)
    flat = xd.reshape(-1)
    if lo == hi and flat.size:
        lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"histc: range of [{lo}, {hi}] is not finite")
    inside = flat[(flat >= lo) & (flat <= hi)]
    idx = ((inside.astype(np.float64) - lo) * (bins / (hi - lo))).astype(np.int64)
    idx = xp.minimum(idx, bins - 1)
    return Tensor._wrap(xp.bincount(idx, minlength=bins).astype(xd.dtype))


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """Indices of the non-zero elements: an int64 tensor of shape (N, ndim), or with
    ``as_tuple`` one 1-D index tensor per dimension."""
    xd = _arg('nonzero', input)
    xp = backend.array_module(xd)
    if xd.ndim == 0:
        idx = (xp.nonzero(xd.reshape(1))[0],)
        if as_tuple:
            return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
        return Tensor._wrap(xp.zeros((idx[0].size, 0), dtype=np.int64))
    idx = xp.nonzero(xd)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64, copy=False)) for i in idx)
    return Tensor._wrap(xp.stack(idx, axis=1).astype(np.int64, copy=False))


def argwhere(input):  # noqa: A002
    """Indices of the non-zero elements, an int64 tensor of shape (N, ndim)."""
    return nonzero(input)


def count_nonzero(input, dim=None):  # noqa: A002
    """Number of non-zero elements over ``dim`` (an int or tuple; None: all), int64."""
    xd = _arg('count_nonzero', input)
    xp = backend.array_module(xd)
    axes = None if dim is None else normalize_dims('count_nonzero', dim, xd.ndim)
    if xd.ndim == 0:
        return Tensor._wrap(xp.asarray(xd != 0, dtype=np.int64))
    return Tensor._wrap(xp.asarray(xp.count_nonzero(xd, axis=axes), dtype=np.int64))


class MaskedSelectBackward(Node):
    __slots__ = ()

    def backward(self, g):
        mask, dtype = self.saved
        xp = backend.array_module(g)
        gx = xp.zeros(mask.shape, dtype=dtype)
        gx[mask] = g
        return (gx,)

    def backward_graph(self, g):  # the same scatter, recorded: its gradient selects again
        return (track(self.backward(g._data)[0], MaskedScatterGradBackward, (g,), self.saved),)


class MaskedScatterGradBackward(Node):
    """Gradient of ``MaskedSelectBackward``'s scatter (recorded under create_graph):
    the elements at the mask again."""
    __slots__ = ()

    def backward(self, h):
        return (h[self.saved[0]],)

    def backward_graph(self, h):  # the same selection, recorded
        return (track(self.backward(h._data)[0], MaskedSelectBackward, (h,), self.saved),)


def masked_select(input, mask):  # noqa: A002
    """The elements of ``input`` where the bool ``mask`` is True (broadcast together), a 1-D tensor."""
    xd = _arg('masked_select', input)
    md = _arg('masked_select', mask, 'mask')
    if md.__class__ is not xd.__class__:
        _device_error('masked_select', xd, md)
    if md.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {md.dtype}")
    xp = backend.array_module(xd)
    try:
        shape = np.broadcast_shapes(xd.shape, md.shape)
    except ValueError:
        _broadcast_error('masked_select', xd, md)
    mb = xp.broadcast_to(md, shape)
    out = xp.broadcast_to(xd, shape)[mb]
    return track(out, MaskedSelectBackward, (input,), (mb, xd.dtype))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (sorted; with ``dim``, the distinct slices along it), and
    optionally the inverse indices (input's shape; with ``dim``, its size) and the counts.
    Not differentiable. NaNs are all distinct, as PyTorch."""
    xd = _arg('unique', input)
    xp = backend.array_module(xd)
    if dim is None:
        flat = xd.reshape(-1)
        kw = {'equal_nan': False} if xp is np else {}
        vals, inv, cnt = xp.unique(flat, return_inverse=True, return_counts=True, **kw)
        inv = inv.reshape(xd.shape)
    else:
        d = _dim('unique', dim, xd.ndim)
        moved = xp.moveaxis(xd, d, 0)
        n = moved.shape[0]
        if n == 0 or moved[0].size == 0:
            vals, inv, cnt = moved, xp.arange(n), xp.ones(n, dtype=np.int64)
            if n:  # slices of size 0 are all equal
                vals, inv, cnt = moved[:1], xp.zeros(n, dtype=np.int64), xp.asarray([n])
        else:
            vals, inv, cnt = xp.unique(moved.reshape(n, -1), axis=0, return_inverse=True, return_counts=True)
            vals = vals.reshape((-1,) + moved.shape[1:])
            inv = inv.reshape(-1)
        vals = xp.moveaxis(vals, 0, d)
    out = [Tensor._wrap(xp.ascontiguousarray(vals))]
    if return_inverse:
        out.append(Tensor._wrap(inv.astype(np.int64, copy=False)))
    if return_counts:
        out.append(Tensor._wrap(cnt.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


EXPORTS = ('bincount', 'histc', 'nonzero', 'argwhere', 'count_nonzero', 'masked_select', 'unique')
TENSOR_METHODS = {name: globals()[name] for name in EXPORTS}
