"""Layer and batch normalisation with fused backward passes."""
import math

import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from . import kernels
from ._checks import _float_array, _same_device
from ._graph_helpers import shifted_input
from ._parallel import parallel_rows
from ._rowops import _as_shape, _colsum, _rowdot, _rowsum, _scalar


def _block_rows(M):
    """Rows per block of the multi-pass layer_norm kernels: ~1 MiB of float32
    per array, so the passes over a block stay in cache (measured: smaller
    blocks cost more in call overhead than they save)."""
    return max(8, (1 << 18) // M)


def _ordered_sum(parts, empty):
    """Sum of per-block partial results in block order (deterministic whatever
    order the threads finished in); ``empty`` when there were no blocks."""
    keys = sorted(parts)
    if not keys:
        return empty
    total = parts[keys[0]]
    for k in keys[1:]:
        total = total + parts[k]
    return total


class LayerNormBackward(Node):
    """saved: (x2, mean, rstd, w, M, shape, eps): the input as (N, M) rows, their
    means and 1 / std (N, 1), the flat weight (or None); ``xhat`` is recomputed."""
    __slots__ = ()

    def backward(self, g):
        x2, mean, rstd, w, M, shape, _ = self.saved
        xp = backend.array_module(x2)
        dt = x2.dtype
        g2 = g.reshape(x2.shape)
        need_x, need_w, need_b = (n is not None for n in self.next)
        gx = out = None
        if need_x:
            out = xp.empty(g.shape, dtype=dt)
            gx = out.reshape(x2.shape)
        inv_m = _scalar(1.0 / max(M, 1), dt)
        parts_w, parts_b = {}, {}  # column sums of row blocks (each block on one thread)

        def run(lo, hi):
            gb_ = g2[lo:hi]
            rb = rstd[lo:hi]
            xb = xp.subtract(x2[lo:hi], mean[lo:hi], out=gx[lo:hi] if need_x else None)
            xb *= rb  # xhat of the block, in the output block when there is one
            if need_w:
                parts_w[lo] = _colsum(gb_ * xb)
            if need_b:
                parts_b[lo] = _colsum(gb_)
            if need_x:
                # gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w
                gh = gb_ * w if w is not None else gb_
                a = _rowsum(gh)
                a *= inv_m
                c = _rowdot(gh, xb)
                c *= inv_m
                xb *= c
                xp.subtract(gh, xb, out=xb)
                xb -= a
                xb *= rb
        parallel_rows(run, x2.shape[0], x2.size, xp, _block_rows(max(M, 1)))
        gw = _as_shape(_ordered_sum(parts_w, xp.zeros(M, dtype=dt)), shape) if need_w else None
        gb = _as_shape(_ordered_sum(parts_b, xp.zeros(M, dtype=dt)), shape) if need_b else None
        return gx, gw, gb

    def backward_graph(self, g):
        # the statistics recomputed from x with tensor ops, with the saved eps
        x2, _, _, w, M, shape, eps = self.saved
        axes = tuple(range(g.ndim - len(shape), g.ndim))
        lead = tuple(range(g.ndim - len(shape)))
        x = self.input(0, x2.reshape(g.shape))
        xc = x - x.mean(axes, keepdim=True)
        rs = ((xc * xc).mean(axes, keepdim=True) + eps) ** -0.5
        xh = xc * rs
        gx = gw = gb = None
        if self.next[0] is not None:
            gh = g if w is None else g * self.input(1, w.reshape(shape))
            gx = rs * (gh - gh.mean(axes, keepdim=True) - xh * (gh * xh).mean(axes, keepdim=True))
        if self.next[1] is not None:
            gw = (g * xh).sum(lead) if lead else g * xh
        if self.next[2] is not None:
            gb = g.sum(lead) if lead else g
        return gx, gw, gb


def _layer_norm_rows(x2, wd, bd, eps):
    """(y, mean, rstd) of layer norm over the rows of ``x2`` (N, M):
    ``y = (x2 - mean) * rstd * wd + bd`` (either may be None), ``mean`` and
    ``rstd`` (N, 1)."""
    xp = backend.array_module(x2)
    dt = x2.dtype
    N, M = x2.shape
    y = xp.empty_like(x2)
    mean = xp.empty((N, 1), dtype=dt)
    rstd = xp.empty((N, 1), dtype=dt)
    inv_m, eps_ = _scalar(1.0 / max(M, 1), dt), _scalar(eps, dt)

    def run(lo, hi):
        xb, yb, rb = x2[lo:hi], y[lo:hi], rstd[lo:hi]
        mu = _rowsum(xb)
        mu *= inv_m
        mean[lo:hi] = mu
        xp.subtract(xb, mu, out=yb)  # y holds x - mean, then xhat, then the output
        var = _rowdot(yb, yb)
        var *= inv_m
        var += eps_
        xp.sqrt(var, out=var)
        xp.reciprocal(var, out=rb)
        yb *= rb
        if wd is not None:
            yb *= wd
        if bd is not None:
            yb += bd
    parallel_rows(run, N, x2.size, xp, _block_rows(max(M, 1)))
    return y, mean, rstd


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims to zero mean, unit
    (biased) variance, then scale by ``weight`` and shift by ``bias``."""
    op = 'layer_norm'
    xd = _float_array(op, x)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or xd.ndim < k or xd.shape[xd.ndim - k:] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the trailing dimensions "
                         f"of input of shape {xd.shape}")
    wd = bd = None
    for name, p in (('weight', weight), ('bias', bias)):
        if p is not None:
            pd = _float_array(op, p, name)
            _same_device(op, xd, pd, 'input', name)
            if pd.shape != shape:
                raise ValueError(f"layer_norm: {name} of shape {pd.shape} must have normalized_shape {shape}")
            if name == 'weight':
                wd = pd.reshape(-1)
            else:
                bd = pd.reshape(-1)
    M = math.prod(shape)
    x2 = xd.reshape(math.prod(xd.shape[:xd.ndim - k]), M)  # (not -1: M may be 0)
    y, mean, rstd = _layer_norm_rows(x2, wd, bd, eps)
    return track(y.reshape(xd.shape), LayerNormBackward, (x, weight, bias), (x2, mean, rstd, wd, M, shape, float(eps)),
                 check=(x,) if weight is None else (x, weight))


def _lastdot(a, b):
    """sum(a * b) over the last axis, without the product's temporary."""
    xp = backend.array_module(a)
    return xp.vecdot(a, b) if hasattr(xp, 'vecdot') else (a * b).sum(axis=-1)


class BatchNormBackward(Node):
    __slots__ = ()

    def backward(self, g):
        # gx = scale * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mean) * rstd, scale = rstd * w,
        # the per-channel coefficients folded; by blocks of channels, so x - mean (needed twice) stays
        # in cache. Measured, (16, 64, 4096) float32: 14.8 ms; x - mean of the whole input first 23.5 ms
        # (x - mean saved by the forward, as before: 18.1 ms)
        x3, mean, rstd, w, training, shape = self.saved  # g as (B, C, R)
        xp = backend.array_module(x3)
        g3 = g.reshape(x3.shape)
        B, C, R = x3.shape
        need_x, need_w, need_b = (n is not None for n in self.next)
        need_xc = need_w or (training and need_x)
        dt = xp.result_type(g3.dtype, x3.dtype)
        gsum = xp.empty(C, dtype=g3.dtype) if (need_b or (training and need_x)) else None
        gxs = xp.empty(C, dtype=dt) if need_xc else None  # sum(g * xhat)
        out = xp.empty(shape, dtype=g.dtype) if need_x else None
        gx = out.reshape(g3.shape) if need_x else None
        scale = rstd if w is None else rstd * w
        inv_n = _scalar(1.0 / max(B * R, 1), g3.dtype)

        def run(lo, hi):
            gb = g3[:, lo:hi]
            if gsum is not None:
                gsum[lo:hi] = gb.sum(axis=2).sum(axis=0)
            if need_xc:
                xc = x3[:, lo:hi] - mean[lo:hi, None]
                gxs[lo:hi] = _lastdot(gb, xc).sum(axis=0) * rstd[lo:hi]
            if need_x:
                ob, sb = gx[:, lo:hi], scale[lo:hi]
                xp.multiply(gb, sb[:, None], out=ob)
                if training:
                    xc *= (sb * rstd[lo:hi] * gxs[lo:hi] * inv_n)[:, None]
                    ob -= xc
                    ob -= (sb * gsum[lo:hi] * inv_n)[:, None]
        parallel_rows(run, C, x3.size, xp, max(1, (1 << 18) // max(B * R, 1)))
        return out, (gxs if need_w else None), (gsum if need_b else None)

    def backward_graph(self, g):
        # on (B, C, R) views; training: the batch statistics recomputed from x - mean with tensor ops
        # (shift invariant per channel), eps recovered from rstd; eval: x - running_mean is x shifted
        x3, mean, rstd, w, training, shape = self.saved
        xc0 = x3 - mean[:, None]
        xp = backend.array_module(xc0)
        g3 = g.reshape(xc0.shape)
        wt = None if w is None else self.input(1, w).reshape(-1, 1)
        if training:
            x = self.input(0, xc0.reshape(shape)).reshape(xc0.shape)
            xc = x - x.mean((0, 2), keepdim=True)
            var0 = (xc0 * xc0).mean(axis=(0, 2))
            eps = Tensor._wrap(xp.asarray((1 / (rstd * rstd) - var0)[:, None], dtype=xc0.dtype))
            rs = ((xc * xc).mean((0, 2), keepdim=True) + eps) ** -0.5
        else:
            xc = shifted_input(self, 0, xc0.reshape(shape)).reshape(xc0.shape)
            rs = Tensor._wrap(rstd[:, None])
        xh = xc * rs
        gx = gw = gb = None
        if self.next[0] is not None:
            gh = g3 if wt is None else g3 * wt
            if training:
                gh = gh - gh.mean((0, 2), keepdim=True) - xh * (gh * xh).mean((0, 2), keepdim=True)
            gx = (gh * rs).reshape(shape)
        if self.next[1] is not None:
            gw = (g3 * xh).sum((0, 2))
        if self.next[2] is not None:
            gb = g3.sum((0, 2))
        return gx, gw, gb


def _batch_norm_arrays(x3, mean, var, wd, bd, eps):
    """Batch norm of ``x3`` (B, C, R) per channel: with ``mean`` / ``var`` (C,)
    of x3's dtype (eval), or the batch statistics (biased variance) when they
    are None (training). Returns (y3, mean, var, rstd), ``y3 = (x3 - mean) *
    rstd * wd + bd`` (either may be None); ``mean`` is a new array (the backward
    keeps it, the running mean may change before)."""
    xp = backend.array_module(x3)
    dt = x3.dtype
    if mean is None:
        mean = x3.mean(axis=2).mean(axis=0)
        xc = x3 - mean[:, None]
        var = _lastdot(xc, xc).sum(axis=0) * _scalar(1.0 / (x3.shape[0] * x3.shape[2]), dt)
    else:
        mean = mean.copy()
        xc = x3 - mean[:, None]
    rstd = (1 / xp.sqrt(var + _scalar(eps, dt))).astype(dt, copy=False)
    scale = (rstd if wd is None else rstd * wd)[:, None]  # xhat * weight in one pass
    y = xc * scale if scale.dtype != dt else xp.multiply(xc, scale, out=xc)  # (a float64 weight: float64 y)
    if bd is not None:
        y += bd[:, None]
    return y, mean, var, rstd


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Batch normalisation of ``x`` (B, C) or (B, C, *) per channel C. In training
    the batch statistics are used and ``running_mean`` / ``running_var`` (when
    given) are updated in place with ``momentum`` (unbiased variance, as PyTorch);
    otherwise the running statistics are used."""
    op = 'batch_norm'
    xd = _float_array(op, x)
    if xd.ndim < 2:
        raise ValueError(f"batch_norm: input of shape {xd.shape} must be (B, C) or (B, C, *)")
    B, C = xd.shape[:2]
    params = {}
    for name, p in (('running_mean', running_mean), ('running_var', running_var), ('weight', weight),
                    ('bias', bias)):
        if p is not None:
            pd = _float_array(op, p, name)
            _same_device(op, xd, pd, 'input', name)
            if pd.shape != (C,):
                raise ValueError(f"batch_norm: {name} of shape {pd.shape} must have one entry per channel ({C},)")
            params[name] = pd
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    x3 = xd.reshape(B, C, math.prod(xd.shape[2:]))  # not -1: B may be 0
    n = B * x3.shape[2]
    if training and n <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {xd.shape}")
    dt = xd.dtype
    wd, bd = params.get('weight'), params.get('bias')
    if training:
        y3, mu, var, rstd = _batch_norm_arrays(x3, None, None, wd, bd, eps)
        if running_mean is not None:
            m = _scalar(momentum, dt)
            rm = params['running_mean']
            rm *= 1 - m
            rm += m * mu.astype(rm.dtype, copy=False)
            running_mean._vc[0] += 1
        if running_var is not None:
            m = _scalar(momentum, dt)
            rv = params['running_var']
            rv *= 1 - m
            rv += (m * var * _scalar(n / (n - 1), dt)).astype(rv.dtype, copy=False)
            running_var._vc[0] += 1
    else:
        y3, mu, _, rstd = _batch_norm_arrays(x3, params['running_mean'].astype(dt, copy=False),
                                             params['running_var'].astype(dt, copy=False), wd, bd, eps)
    # x itself is saved (as PyTorch), not x - mean: an in-place change of it before backward raises
    return track(y3.reshape(xd.shape), BatchNormBackward, (x, weight, bias),
                 (x3, mu, rstd, wd, bool(training), xd.shape), check=(x,) if weight is None else (x, weight))


# the compiled (numba) versions, when that backend is on
kernels.hook(globals(), '_layer_norm_rows', 'layer_norm.layer_norm_rows')
kernels.hook_node(globals(), 'LayerNormBackward', 'layer_norm.backward')
kernels.hook(globals(), '_batch_norm_arrays', 'batch_norm.batch_norm_arrays')
kernels.hook_node(globals(), 'BatchNormBackward', 'batch_norm.backward')

EXPORTS = ('layer_norm', 'batch_norm')
