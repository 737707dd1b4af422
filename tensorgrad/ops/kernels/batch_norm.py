"""Compiled batch norm of (B, C, R) arrays per channel C, float32 / float64.

Forward: the channel's mean, then its centred sum of squares (training; eval
takes the running statistics), then ``(x - mean) * rstd * w + b``. Backward:
the channel's sums of g and g * (x - mean), then the input gradient. Two loop
orders, chosen by R (the length of one (b, c) row):

- rows (R >= ``_ROW_MIN``): a channel at a time, its B rows in order, so the
  passes over one channel run from cache and the threads split the channels;
- columns (short rows, e.g. (N, C) inputs): x as (B, C * R), per-column sums
  over at most ``_CHUNKS`` row chunks (their number set by B), added in chunk order.

Either way a channel's sums are added in one fixed order: a build's results do
not depend on its thread count. (The serial and the parallel build may differ
in the last bits: LLVM vectorises a row's sums, and fuses multiply-adds, in
each its own way.) Sums run in float64 across rows (chunks), in the input
dtype within a block of ``_BLOCK`` elements (vectorised)."""
import math

import numpy as np
from numba import prange

from ._jit import helper, is_float, kernel

_BLOCK = 1024  # elements summed in the input dtype before adding to the float64 total
_CHUNKS = 16  # most row chunks of the column kernels (set by B alone: results do not depend on threads)
# rows at least this long use the per-channel (row) kernels. Measured, 2^20 float32 elements, C = 64,
# training forward / backward (ms): R = 32: rows 0.91 / 1.24, columns 0.66 / 0.85; R = 64: rows
# 0.78 / 0.85, columns 0.74 / 0.91; R = 128: rows 0.67 / 0.89, columns 0.86 / 1.03; R = 1: rows 24 / 30
_ROW_MIN = 64
# elements from which the parallel builds run: light, memory-bound passes. Measured on this 2-core
# machine (shared, load ~5), float32 training forward / backward, serial vs 2 threads, best of 60 (ms):
# 2^19: 0.146 / 0.227 vs 0.152 / 0.236; 2^20: 0.328 / 0.486 vs 0.357 / 0.503 (no gain up to 2^20)
_PARALLEL_MIN = 1 << 21


# The blocks are slices handed to a plain loop: the same loop bounded by min(lo + _BLOCK, n)
# did not vectorise (measured, (16, 64, 4096) float32: 1.44 ms against 0.58 ms).
@helper
def _blocksum(a):
    s = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        s += a[j]
    return s


@helper
def _blocksqdev(a, m):
    s = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        d = a[j] - m
        s += d * d
    return s


@helper
def _blockgsums(g, x, m):
    s = d = g.dtype.type(0.0)
    for j in range(g.shape[0]):
        s += g[j]
        d += g[j] * (x[j] - m)
    return s, d


@helper
def _sum(a):
    t = 0.0
    for lo in range(0, a.shape[0], _BLOCK):
        t += _blocksum(a[lo:lo + _BLOCK])
    return t


@helper
def _sqdev(a, m):
    t = 0.0
    for lo in range(0, a.shape[0], _BLOCK):
        t += _blocksqdev(a[lo:lo + _BLOCK], m)
    return t


@helper
def _gsums(g, x, m):
    """(sum g, sum g * (x - m)) of one row."""
    t = u = 0.0
    for lo in range(0, g.shape[0], _BLOCK):
        s, d = _blockgsums(g[lo:lo + _BLOCK], x[lo:lo + _BLOCK], m)
        t += s
        u += d
    return t, u


@helper
def _rstd(var, eps):
    """1 / sqrt(var + eps), inf at 0 (numba would raise on the division)."""
    v = math.sqrt(np.float64(var) + eps)
    return 1.0 / v if v != 0.0 else np.inf


@helper
def _affine(c, rstd, w, b, has_w, has_b):
    """(scale, shift) of channel c: rstd * w, b."""
    dt = w.dtype.type
    sc = dt(rstd[c] * w[c]) if has_w else rstd[c]
    return sc, (b[c] if has_b else dt(0.0))


@kernel(parallel_min=_PARALLEL_MIN)
def _forward_rows(x, mean, var, w, b, has_w, has_b, training, eps, y, rstd):
    B, C, R = x.shape
    n = B * R
    for c in prange(C):
        if training:
            s = 0.0
            for i in range(B):
                s += _sum(x[i, c])
            mean[c] = s / n
            m0 = mean[c]
            q = 0.0
            for i in range(B):
                q += _sqdev(x[i, c], m0)
            var[c] = q / n
        rstd[c] = _rstd(var[c], eps)
        sc, sh = _affine(c, rstd, w, b, has_w, has_b)
        m = mean[c]
        for i in range(B):
            xi, yi = x[i, c], y[i, c]
            for j in range(R):
                yi[j] = (xi[j] - m) * sc + sh


@helper
def _nchunks(B):
    """Row chunks of the column sums of B rows: their float64 partial sums take
    at most a quarter of a float32 input's memory."""
    return min(_CHUNKS, max(1, B // 8))


@helper
def _colsums(x2, k, nk, out, mcol, centred):
    """out += column sums of x2's rows of chunk k of nk (of (x2 - mcol)^2 when centred)."""
    B, M = x2.shape
    for i in range(B * k // nk, B * (k + 1) // nk):
        xi = x2[i]
        if centred:
            for j in range(M):
                d = xi[j] - mcol[j]
                out[j] += d * d
        else:
            for j in range(M):
                out[j] += xi[j]


@helper
def _fold(part, C, R):
    """Per-channel totals of the (chunks, C * R) partial column sums, in chunk order."""
    t = np.zeros(C)
    for k in range(part.shape[0]):
        for c in range(C):
            for r in range(R):
                t[c] += part[k, c * R + r]
    return t


@helper
def _spread(v, C, R, dt):
    """(C,) values as (C * R,) columns of dtype dt."""
    out = np.empty(C * R, dtype=dt)
    for c in range(C):
        for r in range(R):
            out[c * R + r] = v[c]
    return out


@kernel(parallel_min=_PARALLEL_MIN)
def _forward_cols(x2, C, mean, var, w, b, has_w, has_b, training, eps, y2, rstd):
    B, M = x2.shape
    R = M // C if C else 0
    n = B * R
    dt = x2.dtype
    if training:
        nk = _nchunks(B)
        part = np.zeros((nk, M))
        for k in prange(nk):
            _colsums(x2, k, nk, part[k], part[k], False)
        t = _fold(part, C, R)
        for c in range(C):
            mean[c] = t[c] / n
        mcol = _spread(mean, C, R, dt)
        part[:] = 0.0
        for k in prange(nk):
            _colsums(x2, k, nk, part[k], mcol, True)
        t = _fold(part, C, R)
        for c in range(C):
            var[c] = t[c] / n
    sc, sh = np.empty(C, dtype=dt), np.empty(C, dtype=dt)
    for c in range(C):
        rstd[c] = _rstd(var[c], eps)
        sc[c], sh[c] = _affine(c, rstd, w, b, has_w, has_b)
    mcol, scol, bcol = _spread(mean, C, R, dt), _spread(sc, C, R, dt), _spread(sh, C, R, dt)
    for i in prange(B):
        xi, yi = x2[i], y2[i]
        for j in range(M):
            yi[j] = (xi[j] - mcol[j]) * scol[j] + bcol[j]


@kernel(parallel_min=_PARALLEL_MIN)
def _backward_rows(g, x, mean, rstd, w, has_w, training, need_x, need_sums, gx, gsum, gdot):
    B, C, R = g.shape
    n = B * R
    dt = g.dtype.type
    for c in prange(C):
        m = mean[c]
        sg = sd = 0.0
        if need_sums:
            for i in range(B):
                a, d = _gsums(g[i, c], x[i, c], m)
                sg += a
                sd += d
            gsum[c] = sg
            gdot[c] = sd * rstd[c]  # sum(g * xhat)
        if need_x:
            r = np.float64(rstd[c])
            s = r * w[c] if has_w else r
            sc = dt(s)
            if training:
                # gx = s * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - m) * r
                k, a0 = dt(s * r * r * sd / n), dt(s * sg / n)
                for i in range(B):
                    gi, xi, oi = g[i, c], x[i, c], gx[i, c]
                    for j in range(R):
                        oi[j] = sc * gi[j] - (xi[j] - m) * k - a0
            else:
                for i in range(B):
                    gi, oi = g[i, c], gx[i, c]
                    for j in range(R):
                        oi[j] = sc * gi[j]


@kernel(parallel_min=_PARALLEL_MIN)
def _backward_cols(g2, x2, C, mean, rstd, w, has_w, training, need_x, need_sums, gx2, gsum, gdot):
    B, M = g2.shape
    R = M // C if C else 0
    n = B * R
    dt = g2.dtype
    mcol = _spread(mean, C, R, dt)
    sg, sd = np.zeros(C), np.zeros(C)
    if need_sums:
        nk = _nchunks(B)
        pg, pd = np.zeros((nk, M)), np.zeros((nk, M))
        for k in prange(nk):
            og, od = pg[k], pd[k]
            for i in range(B * k // nk, B * (k + 1) // nk):
                gi, xi = g2[i], x2[i]
                for j in range(M):
                    og[j] += gi[j]
                    od[j] += gi[j] * (xi[j] - mcol[j])
        sg, sd = _fold(pg, C, R), _fold(pd, C, R)
        for c in range(C):
            gsum[c] = sg[c]
            gdot[c] = sd[c] * rstd[c]
    if need_x:
        sc, kc, ac = np.empty(C, dtype=dt), np.zeros(C, dtype=dt), np.zeros(C, dtype=dt)
        for c in range(C):
            r = np.float64(rstd[c])
            s = r * w[c] if has_w else r
            sc[c] = s
            if training:
                kc[c], ac[c] = s * r * r * sd[c] / n, s * sg[c] / n
        scol, kcol, acol = _spread(sc, C, R, dt), _spread(kc, C, R, dt), _spread(ac, C, R, dt)
        for i in prange(B):
            gi, xi, oi = g2[i], x2[i], gx2[i]
            if training:
                for j in range(M):
                    oi[j] = scol[j] * gi[j] - (xi[j] - mcol[j]) * kcol[j] - acol[j]
            else:  # x unread: an inf in x does not turn the gradient into NaN
                for j in range(M):
                    oi[j] = scol[j] * gi[j]


def _pick_rows(R):
    """Whether rows of length R go to the per-channel kernels."""
    return R >= _ROW_MIN


def batch_norm_arrays(numpy_fn):
    """``_batch_norm_arrays(x3, mean, var, wd, bd, eps) -> (y3, mean, var, rstd)`` compiled."""
    def batch_norm_arrays(x3, mean, var, wd, bd, eps):
        ps = tuple(p for p in (mean, var, wd, bd) if p is not None)
        if not is_float(x3, *ps):
            return numpy_fn(x3, mean, var, wd, bd, eps)
        B, C, R = x3.shape
        dt = x3.dtype
        x3 = np.ascontiguousarray(x3)
        training = mean is None
        if training:
            mean, var = np.empty(C, dtype=dt), np.empty(C, dtype=dt)
        else:  # a copy: the backward keeps the mean, and the running mean may change before it
            mean, var = np.array(mean, order='C'), np.ascontiguousarray(var)
        dummy = np.empty(0, dtype=dt)
        w = dummy if wd is None else np.ascontiguousarray(wd)
        b = dummy if bd is None else np.ascontiguousarray(bd)
        y3 = np.empty((B, C, R), dtype=dt)
        rstd = np.empty(C, dtype=dt)
        eps = float(eps)
        if _pick_rows(R):
            _forward_rows.pick(x3.size)(x3, mean, var, w, b, wd is not None, bd is not None, training, eps,
                                        y3, rstd)
        else:
            _forward_cols.pick(x3.size)(x3.reshape(B, C * R), C, mean, var, w, b, wd is not None,
                                        bd is not None, training, eps, y3.reshape(B, C * R), rstd)
        return y3, mean, var, rstd
    return batch_norm_arrays


def backward(node, g, numpy_backward):
    """``BatchNormBackward.backward`` compiled (float32 / float64 NumPy arrays)."""
    xs, ms, rstd, w, training, shape = node.saved
    if not is_float(g, xs, ms, rstd, *(() if w is None else (w,))):
        return numpy_backward(node, g)
    xs = np.ascontiguousarray(xs)
    need_x, need_w, need_b = (n is not None for n in node.next)
    B, C, R = xs.shape
    dt = xs.dtype
    g3 = np.ascontiguousarray(g.reshape(xs.shape))
    need_sums = need_w or need_b or (training and need_x)
    gsum, gdot = np.empty(C, dtype=dt), np.empty(C, dtype=dt)
    gx = np.empty(shape if need_x else 0, dtype=dt)  # x's shape: the engine copies a reshaped view for a leaf
    gx3 = gx.reshape((B, C, R) if need_x else (0, 0, 0))
    wk = np.empty(0, dtype=dt) if w is None else np.ascontiguousarray(w)
    flags = (wk, w is not None, training, need_x, need_sums)
    if _pick_rows(R):
        _backward_rows.pick(xs.size)(g3, xs, ms, rstd, *flags, gx3, gsum, gdot)
    else:
        M = C * R
        _backward_cols.pick(xs.size)(g3.reshape(B, M), xs.reshape(B, M), C, ms, rstd, *flags,
                                     gx3.reshape((B, M) if need_x else (0, 0)), gsum, gdot)
    return (gx if need_x else None), (gdot if need_w else None), (gsum if need_b else None)
