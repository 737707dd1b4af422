"""Compiled layer norm over the rows of (N, M), float32 / float64. The forward
makes three passes over each (cache-resident) row: the mean, the centred sum
of squares, then ``y = (x - mean) * rstd * w + b``; it writes only ``y`` and
the per-row mean and rstd, as PyTorch does: the backward recomputes
``xhat = (x - mean) * rstd`` from the saved input. The backward makes two
passes per row (the two row means and the weight / bias column sums; then the
input gradient); the column sums are per-chunk partials added in chunk order
(deterministic whatever the thread count).

All arithmetic stays in the input's dtype: a float32 sum divided by the int
``M`` would be float64 in numba, and the mixed float32 / float64 loops that
follow ran 2-3x slower (measured, (2048, 128) float32 forward: 200 us with
that promotion, 70 us without; a plain copy is 33 us)."""
import numpy as np
from numba import prange

from ._jit import is_float, kernel

_CHUNKS = 16  # row chunks of the backward's column sums (fixed: results do not depend on threads)


# parallel_min: measured on 2 idle cores, serial vs parallel (us), float32: 2^18 elements 57 vs 67-106,
# 2^19: 150 vs 175, 2^20: 365 vs 250-300, 2^21: 580 vs 435 (the wake of the sleeping threads costs ~50 us).
# The backward: 2^18 105 vs 142, 2^19 210 vs 225-295, 2^20 450-470 vs 365, 2^21 910-950 vs 555-650.
@kernel(parallel_min=1 << 20)
def _forward(x, w, b, has_w, has_b, eps, y, mean, rstd):
    N, M = x.shape
    one, zero, inf = x.dtype.type(1.0), x.dtype.type(0.0), x.dtype.type(np.inf)
    inv_m = one / x.dtype.type(M) if M > 0 else zero
    for i in prange(N):
        xi, yi = x[i], y[i]
        s = zero
        for j in range(M):
            s += xi[j]
        mu = s * inv_m
        q = zero
        for j in range(M):
            d = xi[j] - mu
            q += d * d
        var = q * inv_m + eps
        # 1 / sqrt, exact at var = 0 (inf) and var = inf (0): fast-math may use an approximate rsqrt
        # refined by a Newton step, NaN at both (seen in the parallel build); numba raises on 1 / 0
        if var == inf:
            r = zero
        elif var == zero:
            r = inf
        else:
            r = one / np.sqrt(var)
        mean[i, 0] = mu
        rstd[i, 0] = r
        if has_w and has_b:
            for j in range(M):
                yi[j] = (xi[j] - mu) * (r * w[j]) + b[j]
        elif has_w:
            for j in range(M):
                yi[j] = (xi[j] - mu) * (r * w[j])
        elif has_b:
            for j in range(M):
                yi[j] = (xi[j] - mu) * r + b[j]
        else:
            for j in range(M):
                yi[j] = (xi[j] - mu) * r


@kernel(parallel_min=1 << 20)  # (measured: see _forward)
def _backward(g, x, mean, rstd, w, has_w, need_x, need_wb, gx, pw, pb):
    # gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w,  xhat = (x - mean) * rstd.
    # The first pass does the column sums and the two row sums together (measured, (2048, 128)
    # float32 with weight and bias: 215 us as separate loops, 184 us fused)
    N, M = g.shape
    zero = g.dtype.type(0.0)
    inv_m = g.dtype.type(1.0) / g.dtype.type(M) if M > 0 else zero
    for c in prange(_CHUNKS):
        for i in range(N * c // _CHUNKS, N * (c + 1) // _CHUNKS):
            gi, xi = g[i], x[i]
            mu, r = mean[i, 0], rstd[i, 0]
            a = zero  # sum(gh)
            d = zero  # sum(gh * (x - mean))
            if need_wb:
                pwc, pbc = pw[c], pb[c]
                if not need_x:
                    for j in range(M):
                        pwc[j] += gi[j] * ((xi[j] - mu) * r)
                        pbc[j] += gi[j]
                elif has_w:
                    for j in range(M):
                        gj, xc = gi[j], xi[j] - mu
                        pwc[j] += gj * (xc * r)
                        pbc[j] += gj
                        gh = gj * w[j]
                        a += gh
                        d += gh * xc
                else:
                    for j in range(M):
                        gj, xc = gi[j], xi[j] - mu
                        pwc[j] += gj * (xc * r)
                        pbc[j] += gj
                        a += gj
                        d += gj * xc
            elif has_w:
                for j in range(M):
                    gh = gi[j] * w[j]
                    a += gh
                    d += gh * (xi[j] - mu)
            else:
                for j in range(M):
                    a += gi[j]
                    d += gi[j] * (xi[j] - mu)
            if need_x:
                a *= inv_m
                k = d * inv_m * r * r * r  # rstd * mean(gh * xhat) * rstd, per unit of (x - mean)
                oi = gx[i]
                if has_w:
                    for j in range(M):
                        oi[j] = r * (gi[j] * w[j] - a) - (xi[j] - mu) * k
                else:
                    for j in range(M):
                        oi[j] = r * (gi[j] - a) - (xi[j] - mu) * k


def layer_norm_rows(numpy_fn):
    """``_layer_norm_rows(x2, wd, bd, eps) -> (y, mean, rstd)`` compiled."""
    def layer_norm_rows(x2, wd, bd, eps):
        if not is_float(x2, *(p for p in (wd, bd) if p is not None)):
            return numpy_fn(x2, wd, bd, eps)
        N = x2.shape[0]
        dt = x2.dtype
        y = np.empty(x2.shape, dtype=dt)
        mean, rstd = np.empty((N, 1), dtype=dt), np.empty((N, 1), dtype=dt)
        dummy = np.empty(0, dtype=dt)
        _forward.pick(x2.size)(x2, dummy if wd is None else wd, dummy if bd is None else bd,
                               wd is not None, bd is not None, dt.type(eps), y, mean, rstd)
        return y, mean, rstd
    return layer_norm_rows


def backward(node, g, numpy_backward):
    """``LayerNormBackward.backward`` compiled (float32 / float64 NumPy arrays)."""
    x2, mean, rstd, w, M, shape, _ = node.saved
    if not is_float(g, x2, mean, rstd, *(() if w is None else (w,))):
        return numpy_backward(node, g)
    need_x, need_w, need_b = (n is not None for n in node.next)
    dt = x2.dtype
    g2 = g.reshape(x2.shape)
    out = np.empty(g.shape, dtype=dt) if need_x else np.empty((0, M), dtype=dt)
    need_wb = need_w or need_b
    pw = np.zeros((_CHUNKS, M) if need_wb else (0, M), dtype=dt)
    pb = np.zeros_like(pw)
    _backward.pick(x2.size)(g2, x2, mean, rstd, np.empty(0, dtype=dt) if w is None else w, w is not None,
                            need_x, need_wb, out.reshape(x2.shape) if need_x else out, pw, pb)
    gw = pw.sum(axis=0).reshape(shape) if need_w else None
    gb = pb.sum(axis=0).reshape(shape) if need_b else None
    return (out if need_x else None), gw, gb
