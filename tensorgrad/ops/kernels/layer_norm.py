"""Compiled layer norm over the rows of (N, M), float32 / float64: forward in
two passes per row (mean, centred sum of squares; then normalise, scale and
shift), backward in two (the two row means; then the input gradient), the
weight / bias gradients as per-chunk column sums added in chunk order
(deterministic whatever the thread count)."""
import math

import numpy as np
from numba import prange

from ._jit import is_float, kernel

_CHUNKS = 16  # row chunks of the backward's column sums (fixed: results do not depend on threads)


@kernel
def _forward(x, w, b, has_w, has_b, eps, xhat, y, rstd):
    M = x.shape[1]
    for i in prange(x.shape[0]):
        xi, hi, yi = x[i], xhat[i], y[i]
        s = xi.dtype.type(0.0)
        for j in range(M):
            s += xi[j]
        mu = s / M
        q = xi.dtype.type(0.0)
        for j in range(M):
            d = xi[j] - mu
            q += d * d
        r = xi.dtype.type(1.0) / math.sqrt(q / M + eps)
        rstd[i, 0] = r
        for j in range(M):
            h = (xi[j] - mu) * r
            hi[j] = h
            if has_w:
                h = h * w[j]
            if has_b:
                h = h + b[j]
            yi[j] = h


@kernel
def _backward(g, xhat, rstd, w, has_w, need_x, need_wb, gx, pw, pb):
    N, M = g.shape
    for c in prange(_CHUNKS):
        for i in range(N * c // _CHUNKS, N * (c + 1) // _CHUNKS):
            gi, hi = g[i], xhat[i]
            if need_wb:
                for j in range(M):
                    pw[c, j] += gi[j] * hi[j]
                    pb[c, j] += gi[j]
            if need_x:
                a = g.dtype.type(0.0)
                d = g.dtype.type(0.0)
                for j in range(M):
                    gh = gi[j] * w[j] if has_w else gi[j]
                    a += gh
                    d += gh * hi[j]
                a /= M
                d /= M
                r = rstd[i, 0]
                oi = gx[i]
                for j in range(M):
                    gh = gi[j] * w[j] if has_w else gi[j]
                    oi[j] = r * (gh - a - hi[j] * d)


def layer_norm_rows(numpy_fn):
    """``_layer_norm_rows(x2, wd, bd, eps) -> (xhat, y, rstd)`` compiled."""
    def layer_norm_rows(x2, wd, bd, eps):
        if not is_float(x2, *(p for p in (wd, bd) if p is not None)):
            return numpy_fn(x2, wd, bd, eps)
        N, M = x2.shape
        dt = x2.dtype
        xhat, y = np.empty((N, M), dtype=dt), np.empty((N, M), dtype=dt)
        rstd = np.empty((N, 1), dtype=dt)
        dummy = np.empty(0, dtype=dt)
        _forward.pick(x2.size)(x2, dummy if wd is None else wd, dummy if bd is None else bd,
                               wd is not None, bd is not None, dt.type(eps), xhat, y, rstd)
        return xhat, y, rstd
    return layer_norm_rows


def backward(node, g, numpy_backward):
    """``LayerNormBackward.backward`` compiled (float32 / float64 NumPy arrays)."""
    xhat, rstd, w, M, shape = node.saved
    if not is_float(g, xhat, *(() if w is None else (w,))):
        return numpy_backward(node, g)
    need_x, need_w, need_b = (n is not None for n in node.next)
    dt = xhat.dtype
    g2 = g.reshape(-1, M)
    out = np.empty(g.shape, dtype=dt) if need_x else np.empty((0, M), dtype=dt)
    need_wb = need_w or need_b
    pw = np.zeros((_CHUNKS, M) if need_wb else (0, M), dtype=dt)
    pb = np.zeros_like(pw)
    _backward.pick(xhat.size)(g2, xhat, rstd, np.empty(0, dtype=dt) if w is None else w, w is not None,
                              need_x, need_wb, out.reshape(-1, M) if need_x else out, pw, pb)
    gw = pw.sum(axis=0).reshape(shape) if need_w else None
    gb = pb.sum(axis=0).reshape(shape) if need_b else None
    return (out if need_x else None), gw, gb
