"""Distances: ``cdist`` (all pairs of rows) and ``pairwise_distance`` (row by
row), both built on one p-norm over the last dimension whose gradient is
zero where the distance is zero (as PyTorch; ``sqrt`` composed would give NaN)."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from .elementwise import _broadcast_error, _device_error, add, sub
from .shape import unsqueeze


class PNormBackward(Node):
    __slots__ = ()

    def backward(self, g):
        d, out, p = self.saved
        xp = backend.array_module(g)
        o = out[..., None]
        g = g[..., None]
        if p == 0:
            return (xp.zeros_like(d),)
        if p == 1:
            return (g * xp.sign(d),)
        with np.errstate(divide='ignore', invalid='ignore'):
            if p == np.inf:
                a = xp.abs(d)
                hit = (a == o)
                share = hit / xp.maximum(hit.sum(-1, keepdims=True), 1)
                gd = g * xp.sign(d) * share
            elif p == 2:
                gd = g * d / o
            else:
                a = xp.abs(d)
                gd = g * xp.sign(d) * (a / o) ** (p - 1)
        return (xp.where(o == 0, d.dtype.type(0), gd).astype(d.dtype, copy=False),)

    def backward_graph(self, g):
        from .indexing import where  # noqa: PLC0415 - indexing imports elementwise
        d, out, p = self.saved
        xp = backend.array_module(d)
        g = g.unsqueeze(-1)
        if p == 0:
            return (Tensor._wrap(xp.zeros_like(d)),)
        if p == 1 or p == np.inf:  # piecewise constant in d: the same weights times g
            with np.errstate(divide='ignore', invalid='ignore'):
                w = self.backward(xp.ones(out.shape, dtype=d.dtype))[0]
            return (g * Tensor._wrap(w),)
        zero = Tensor._wrap(out[..., None] == 0)
        o = where(zero, 1.0, self.output(out).unsqueeze(-1))
        dt = self.input(0, d)
        if p == 2:
            gd = g * dt / o
        else:
            gd = g * Tensor._wrap(xp.sign(d)) * (dt.abs() / o) ** (p - 1)
        return (where(zero, 0.0, gd),)


def _pnorm(diff, p):
    """``||diff||_p`` over the last dimension (a differentiable op on a Tensor)."""
    d = diff._data
    xp = backend.array_module(d)
    a = xp.abs(d)
    if p == 0:
        out = (a != 0).sum(-1).astype(d.dtype)
    elif p == 1:
        out = a.sum(-1)
    elif p == 2:
        out = xp.sqrt((d * d).sum(-1))
    elif p == np.inf:
        out = a.max(-1) if d.shape[-1] else xp.zeros(d.shape[:-1], dtype=d.dtype)
    else:
        out = (a ** d.dtype.type(p)).sum(-1) ** d.dtype.type(1.0 / p)
    return track(out.astype(d.dtype, copy=False), PNormBackward, (diff,), (d, out, float(p)),
                 check=(diff,), check_out=True)


def _check(op, x1, x2, p):
    for name, x in (('x1', x1), ('x2', x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
        if x._data.dtype.kind != 'f':
            raise TypeError(f"{op}: expected floating point tensors, got {name} of dtype {x._data.dtype}")
    if x1._data.__class__ is not x2._data.__class__:
        _device_error(op, x1._data, x2._data)
    if p < 0:
        raise ValueError(f"{op}: p must be non-negative, got {p}")


def cdist(x1, x2, p=2.0, compute_mode=None):
    """p-norm distances between every row of ``x1`` (..., P, M) and of ``x2`` (..., R, M):
    shape (..., P, R); batch dims broadcast."""
    _check('cdist', x1, x2, p)
    a, b = x1._data, x2._data
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"cdist: x1 {tuple(a.shape)} and x2 {tuple(b.shape)} must be at least 2-D with the same "
                         f"last dimension")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        _broadcast_error('cdist', a, b)
    return _pnorm(sub(unsqueeze(x1, -2), unsqueeze(x2, -3)), p)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of ``x1 - x2 + eps`` over the last dimension (inputs broadcast)."""
    _check('pairwise_distance', x1, x2, p)
    try:
        np.broadcast_shapes(x1._data.shape, x2._data.shape)
    except ValueError:
        _broadcast_error('pairwise_distance', x1._data, x2._data)
    diff = add(sub(x1, x2), eps)
    if diff._data.ndim == 0:
        diff = unsqueeze(diff, 0)
    out = _pnorm(diff, p)
    return unsqueeze(out, -1) if keepdim else out


EXPORTS = ('cdist', 'pairwise_distance')
