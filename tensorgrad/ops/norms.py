"""Layer and batch normalisation with fused backward passes."""
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
    __slots__ = ()

    def backward(self, g):
        xhat, rstd, w, M, shape = self.saved
        xp = backend.array_module(xhat)
        g2 = g.reshape(-1, M)
        need_x, need_w, need_b = (n is not None for n in self.next)
        gx = out = None
        if need_x:
            out = xp.empty(g.shape, dtype=xhat.dtype)
            gx = out.reshape(xhat.shape)
        inv_m = _scalar(1.0 / M, xhat.dtype)
        parts_w, parts_b = {}, {}  # column sums of row blocks (each block on one thread)

        def run(lo, hi):
            gb_, xb = g2[lo:hi], xhat[lo:hi]
            if need_w:
                parts_w[lo] = _colsum(gb_ * xb)
            if need_b:
                parts_b[lo] = _colsum(gb_)
            if need_x:
                # gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w
                ob = gx[lo:hi]
                gh = gb_ * w if w is not None else gb_
                a = _rowsum(gh)
                a *= inv_m
                c = _rowdot(gh, xb)
                c *= inv_m
                xp.multiply(xb, c, out=ob)
                xp.subtract(gh, ob, out=ob)
                ob -= a
                ob *= rstd[lo:hi]
        parallel_rows(run, xhat.shape[0], xhat.size, xp, _block_rows(M))
        gw = _as_shape(_ordered_sum(parts_w, xp.zeros(M, dtype=xhat.dtype)), shape) if need_w else None
        gb = _as_shape(_ordered_sum(parts_b, xp.zeros(M, dtype=xhat.dtype)), shape) if need_b else None
        return gx, gw, gb

    def backward_graph(self, g):
        # the statistics recomputed from x with tensor ops (x - mean is enough: the rule is shift
        # invariant per row), eps recovered from the saved rstd
        xhat, rstd, w, M, shape = self.saved
        xp = backend.array_module(xhat)
        axes = tuple(range(g.ndim - len(shape), g.ndim))
        lead = tuple(range(g.ndim - len(shape)))
        gd = g._data
        xc0 = (xhat / rstd).reshape(gd.shape)  # x minus its row mean
        var0 = (xhat * xhat).mean(axis=1, keepdims=True) / (rstd * rstd)
        eps = (1 / (rstd * rstd) - var0).reshape(gd.shape[:len(lead)] + (1,) * len(shape))
        x = self.input(0, xc0)
        xc = x - x.mean(axes, keepdim=True)
        rs = ((xc * xc).mean(axes, keepdim=True) + Tensor._wrap(xp.asarray(eps, dtype=xhat.dtype))) ** -0.5
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
    """(xhat, y, rstd) of layer norm over the rows of ``x2`` (N, M): ``xhat`` the
    normalised rows, ``y = xhat * wd + bd`` (either may be None), ``rstd`` (N, 1)."""
    xp = backend.array_module(x2)
    dt = x2.dtype
    M = x2.shape[1]
    N = x2.shape[0]
    xhat = xp.empty_like(x2)
    y = xp.empty_like(x2)
    rstd = xp.empty((N, 1), dtype=dt)
    inv_m, eps_ = _scalar(1.0 / M, dt), _scalar(eps, dt)

    def run(lo, hi):
        xb, hb, yb, rb = x2[lo:hi], xhat[lo:hi], y[lo:hi], rstd[lo:hi]
        mu = _rowsum(xb)
        mu *= inv_m
        xp.subtract(xb, mu, out=hb)
        var = _rowdot(hb, hb)
        var *= inv_m
        var += eps_
        xp.sqrt(var, out=var)
        xp.reciprocal(var, out=rb)
        hb *= rb
        if wd is not None:
            xp.multiply(hb, wd, out=yb)
            if bd is not None:
                yb += bd
        elif bd is not None:
            xp.add(hb, bd, out=yb)
        else:
            yb[...] = hb
    parallel_rows(run, N, x2.size, xp, _block_rows(M))
    return xhat, y, rstd


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
    M = int(np.prod(shape))
    x2 = xd.reshape(-1, M)
    xhat, y, rstd = _layer_norm_rows(x2, wd, bd, eps)
    return track(y.reshape(xd.shape), LayerNormBackward, (x, weight, bias), (xhat, rstd, wd, M, shape),
                 check=tuple(p for p in (weight,) if p is not None))


def _lastdot(a, b):
    """sum(a * b) over the last axis, without the product's temporary."""
    xp = backend.array_module(a)
    return xp.vecdot(a, b) if hasattr(xp, 'vecdot') else (a * b).sum(axis=-1)


class BatchNormBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xc, rstd, w, training, shape = self.saved  # xc = x - mean, g as (B, C, R); xhat = xc * rstd
        g3 = g.reshape(xc.shape)
        gx = gw = gb = None
        need_w = self.next[1] is not None
        gsum = g3.sum(axis=2).sum(axis=0) if (need_w or self.next[2] is not None or training) else None
        gxs = _lastdot(g3, xc).sum(axis=0) * rstd if (need_w or training) else None  # sum(g * xhat)
        if need_w:
            gw = gxs
        if self.next[2] is not None:
            gb = gsum
        if self.next[0] is not None:
            xp = backend.array_module(g)
            scale = rstd if w is None else rstd * w  # (C,)
            out = xp.empty(shape, dtype=g.dtype)
            gx = out.reshape(g3.shape)
            xp.multiply(g3, scale[:, None], out=gx)
            if training:
                # gx = scale * (g - mean(g) - xhat * mean(g * xhat)), per-channel coefficients folded
                inv_n = _scalar(1.0 / (xc.shape[0] * xc.shape[2]), g3.dtype)
                gx -= xc * (scale * rstd * gxs * inv_n)[:, None]
                gx -= (scale * gsum * inv_n)[:, None]
            gx = out
        return gx, gw, gb

    def backward_graph(self, g):
        # on (B, C, R) views; training: the batch statistics recomputed from x - mean with tensor ops
        # (shift invariant per channel), eps recovered from rstd; eval: x - running_mean is x shifted
        xc0, rstd, w, training, shape = self.saved
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
    x3 = xd.reshape(B, C, int(np.prod(xd.shape[2:], dtype=np.int64)))  # not -1: B may be 0
    n = B * x3.shape[2]
    if training and n <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {xd.shape}")
    xp = backend.array_module(xd)
    dt = xd.dtype
    if training:
        mu = x3.mean(axis=2).mean(axis=0)
        xc = x3 - mu[:, None]
        var = _lastdot(xc, xc).sum(axis=0) * _scalar(1.0 / n, dt)
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
        mu = params['running_mean'].astype(dt, copy=False)
        var = params['running_var'].astype(dt, copy=False)
        xc = x3 - mu[:, None]
    rstd = (1 / xp.sqrt(var + _scalar(eps, dt))).astype(dt, copy=False)
    wd, bd = params.get('weight'), params.get('bias')
    y = xc * (rstd if wd is None else rstd * wd)[:, None]  # xhat * weight in one pass; xc is saved
    if bd is not None:
        y += bd[:, None]
    return track(y.reshape(xd.shape), BatchNormBackward, (x, weight, bias),
                 (xc, rstd, wd, bool(training), xd.shape), check=tuple(p for p in (weight,) if p is not None))


# the compiled (numba) versions, when that backend is on
kernels.hook(globals(), '_layer_norm_rows', 'layer_norm.layer_norm_rows')
kernels.hook_node(globals(), 'LayerNormBackward', 'layer_norm.backward')

EXPORTS = ('layer_norm', 'batch_norm')
