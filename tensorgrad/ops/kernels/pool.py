"""Compiled 2-D max and average pooling over (B, C, H, W), float32 / float64,
any strides of the input.

Max pooling scans each window once (no padded copy: windows are clipped to
the input) and records the kernel offset of its maximum as PyTorch picks it:
the first maximum, the last NaN, the first element inside the input when the
maximum is -inf. Its backward adds each output gradient onto that element (in
output order, so overlapping windows accumulate) or, where the windows tile
the input exactly, writes every input gradient element once into an
uninitialised array. Average pooling sums the windows (zero padding adds
nothing) and its backward spreads ``g / divisor`` over each window the same
two ways. Work splits over the B * C planes.

Window width and stride are compile-time constants of the common kernels
(one build per (kw, sw), up to ``_SPECIALISE``): the window loop then unrolls
and the loop over a row's outputs vectorises. Measured (float32, 16x64x64x64,
2x2 windows stride 2, one thread, CPU time on a loaded machine): max forward
1.1-1.9 ms specialised vs 7-11 ms with run-time sizes (NumPy path 9-13 ms,
PyTorch 19-22 ms); backward 2.1 ms (NumPy 10 ms, PyTorch 6 ms); average pool
forward / backward 1.2 / 1.6 ms (NumPy 3.7 / 6.5 ms, PyTorch 8.6 / 10 ms)."""
import functools

import numpy as np
from numba import prange

from ._jit import helper, is_float, kernel

_SPECIALISE = 6  # window widths and strides 1.._SPECIALISE get their own build (more: the run-time one)
# (each factory below is memoised: one kernel per fixed (width, stride))
# Input elements from which the prange builds run. Measured without torch, 2 threads, float32 2x2
# windows stride 2 (forward us, serial vs parallel): 131072: 42 vs 130, 2^21: 499 vs 550, 2^22: 1230
# vs 1058 (tiling backward 2^22: 794 vs 825). These kernels are memory bound, and the prange body
# runs ~3x slower per thread than the serial loop (it no longer vectorises, also with 1 thread).
_PARALLEL_MIN = 1 << 22


@helper
def _plane(p, C):
    """(b, c) of plane ``p`` of a (B, C, ...) array, as unsigned indices: with signed
    ones (p // C, whose sign LLVM cannot see) the 2x2 forward ran 3x slower at
    8x16x32x32 (78 vs 25 us)."""
    b = np.uint64(p) // np.uint64(C)
    return b, np.uint64(p) - b * np.uint64(C)


@helper
def _window_max(xp, h0, ilo, ihi, dh, w0, kw, dw, kh):
    """Max of one window and its kernel offset, PyTorch's scan, clipped to the input
    (rows ilo:ihi of the kernel are inside it; columns are checked here)."""
    W = xp.shape[1]
    m = xp.dtype.type(-np.inf)
    jlo = max(0, -(w0 // dw))
    k = min(ilo, kh - 1) * kw + min(jlo, kw - 1)
    for i in range(ilo, ihi):
        row = xp[h0 + i * dh]
        for j in range(jlo, kw):
            s = w0 + j * dw
            if s >= W:
                break
            v = row[s]
            if v > m or v != v:
                m = v
                k = i * kw + j
    return m, k


@functools.lru_cache(maxsize=None)
def _forward_kernel(KW, SW, DW):
    """The forward with window width ``KW``, stride ``SW`` and dilation ``DW`` along W
    fixed (0: taken from the arguments)."""
    def max_pool_forward(x, kh, kw, sh, sw, dh, dw, ph, pw, owa, owb, out, idx):
        kw = KW if KW else kw
        sw = SW if SW else sw
        dw = DW if DW else dw
        B, C, H, W = x.shape
        Ho, Wo = out.shape[2], out.shape[3]
        ninf = x.dtype.type(-np.inf)
        rows = np.empty((Ho, 2), np.int64)  # kernel rows lo:hi of each output row lie inside the input
        for oh in range(Ho):
            h0 = oh * sh - ph
            rows[oh, 0] = max(0, -(h0 // dh))
            rows[oh, 1] = min(kh, (H - h0 + dh - 1) // dh)
        n, base = owb - owa, owa * sw - pw  # outputs owa:owb: windows inside the input along W
        for p in prange(B * C):
            b, c = _plane(p, C)
            xp, op, ip = x[b, c], out[b, c], idx[b, c]
            for oh in range(Ho):
                h0 = oh * sh - ph
                ilo, ihi = rows[oh, 0], rows[oh, 1]
                orw, irw = op[oh][owa:owb], ip[oh][owa:owb]
                k0 = min(ilo, kh - 1) * kw
                for q in range(n):
                    orw[q] = ninf
                    irw[q] = k0
                for i in range(ilo, ihi):  # one pass per kernel row
                    row = xp[h0 + i * dh]
                    ki = i * kw
                    for q in range(n):
                        m = orw[q]
                        k = irw[q]
                        for j in range(kw):
                            # an unsigned index skips the negative-index wraparound, which stopped
                            # the vectorisation (16x64x64x64: 9.1 ms vs 1.5 ms); so does a slice
                            # of the row, but that cost 23 ns per row (+250% at 8x16x32x32)
                            v = row[np.uint64(base + q * sw + j * dw)]
                            t = (v > m) | (v != v)  # PyTorch's scan: a NaN always takes over
                            m = v if t else m
                            k = ki + j if t else k
                        orw[q] = m
                        irw[q] = k
        if owa > 0 or owb < Wo:  # windows overlapping the padding or running past the input along W
            for p in prange(B * C):
                b, c = _plane(p, C)
                xp, op, ip = x[b, c], out[b, c], idx[b, c]
                for oh in range(Ho):
                    h0 = oh * sh - ph
                    ilo, ihi = rows[oh, 0], rows[oh, 1]
                    orow, irow = op[oh], ip[oh]
                    for ow in range(owa):
                        orow[ow], irow[ow] = _window_max(xp, h0, ilo, ihi, dh, ow * sw - pw, kw, dw, kh)
                    for ow in range(owb, Wo):
                        orow[ow], irow[ow] = _window_max(xp, h0, ilo, ihi, dh, ow * sw - pw, kw, dw, kh)
    return kernel(max_pool_forward, parallel_min=_PARALLEL_MIN)


@functools.lru_cache(maxsize=None)
def _tile_kernel(KW):
    """The backward where the windows tile the input, window width ``KW`` fixed (0: run time)."""
    def max_pool_tile_backward(g, idx, kh, kw, gx):
        kw = KW if KW else kw
        B, C, Ho, Wo = g.shape
        zero = gx.dtype.type(0.0)
        for p in prange(B * C):
            b, c = _plane(p, C)
            gp, ip, xp = g[b, c], idx[b, c], gx[b, c]
            for oh in range(Ho):
                grow, irow = gp[oh], ip[oh]
                for i in range(kh):
                    row = xp[oh * kh + i]
                    ki = i * kw
                    for ow in range(Wo):
                        k = np.int64(irow[ow]) - ki
                        v = grow[ow]
                        for j in range(kw):
                            row[ow * kw + j] = v if k == j else zero
    return kernel(max_pool_tile_backward, parallel_min=_PARALLEL_MIN)


@kernel(parallel_min=_PARALLEL_MIN)
def _scatter_backward(g, idx, ri, cj, sh, sw, ph, pw, gx):
    B, C, Ho, Wo = g.shape
    H, W = gx.shape[2], gx.shape[3]
    for p in prange(B * C):
        b, c = _plane(p, C)
        gp, ip, xp = g[b, c], idx[b, c], gx[b, c]
        for oh in range(Ho):
            h0 = oh * sh - ph
            for ow in range(Wo):
                k = ip[oh, ow]
                r = h0 + ri[k]
                s = ow * sw - pw + cj[k]
                if 0 <= r < H and 0 <= s < W:  # a window without input elements points outside
                    xp[np.uint64(r), np.uint64(s)] += gp[oh, ow]  # unsigned: no wraparound code


def _const(v):
    """``v`` as a compile-time constant of a specialised kernel, or 0 (run time)."""
    return v if v <= _SPECIALISE else 0


def _forward_for(kw, sw, dw):
    """The forward kernel for window width ``kw``, stride ``sw`` and dilation ``dw`` along W."""
    return _forward_kernel(_const(kw), _const(sw), 1) if dw == 1 else _forward_kernel(0, 0, 0)


def _interior(W, Wo, kw, sw, dw, pw):
    """(owa, owb): the outputs owa:owb have their windows inside the input along W."""
    owa = min(Wo, -(-pw // sw))
    return owa, max(owa, min(Wo, (W - 1 - (kw - 1) * dw + pw) // sw + 1))


def max_pool_arrays(numpy_fn):
    """``_max_pool_arrays(xd, geom, need_idx) -> (out, idx)`` compiled."""
    def max_pool_arrays(xd, geom, need_idx):
        if not is_float(xd):
            return numpy_fn(xd, geom, need_idx)
        kh, kw, sh, sw, dh, dw, ph, pw, _, _, Ho, Wo = geom
        B, C, _, W = xd.shape
        out = np.empty((B, C, Ho, Wo), dtype=xd.dtype)
        # the offsets are the kernel's running state: kept even when not needed (1 byte per output)
        idx = np.empty((B * C, 1, Ho, Wo), dtype=np.uint8 if kh * kw < 256 else np.int32)
        owa, owb = _interior(W, Wo, kw, sw, dw, pw)
        _forward_for(kw, sw, dw).pick(xd.size)(xd, kh, kw, sh, sw, dh, dw, ph, pw, owa, owb, out,
                                               idx.reshape(B, C, Ho, Wo))
        return out, (idx if need_idx else None)
    return max_pool_arrays


def max_backward(node, g, numpy_backward):
    """``MaxPool2dBackward.backward`` compiled (float32 / float64 NumPy arrays)."""
    idx, shape, geom = node.saved
    if not is_float(g) or idx.__class__ is not np.ndarray:
        return numpy_backward(node, g)
    kh, kw, sh, sw, dh, dw, ph, pw, _, _, Ho, Wo = geom
    B, C, H, W = shape
    g = np.ascontiguousarray(g)
    ids = idx.reshape(B, C, Ho, Wo)
    if (sh, sw, dh, dw, ph, pw) == (kh, kw, 1, 1, 0, 0) and Ho * kh == H and Wo * kw == W:
        gx = np.empty(shape, dtype=g.dtype)  # every element is written
        _tile_kernel(_const(kw)).pick(gx.size)(g, ids, kh, kw, gx)
        return (gx,)
    gx = np.zeros(shape, dtype=g.dtype)
    k = np.arange(kh * kw)
    _scatter_backward.pick(gx.size)(g, ids, (k // kw) * dh, (k % kw) * dw, sh, sw, ph, pw, gx)
    return (gx,)


# ---------------------------------------------------------------------- average pooling
def _avg_rows(H, Ho, kh, sh, ph):
    """(Ho, 2) table: kernel rows lo:hi of each output row lie inside the input."""
    rows = np.empty((Ho, 2), np.int64)
    h0 = np.arange(Ho) * sh - ph
    rows[:, 0] = np.maximum(0, -h0)
    rows[:, 1] = np.minimum(kh, H - h0)
    return rows


@helper
def _window_sum(xp, h0, ilo, ihi, w0, kw):
    """Sum of one window clipped to the input (kernel rows ilo:ihi are inside it)."""
    W = xp.shape[1]
    a = xp.dtype.type(0.0)
    for i in range(ilo, ihi):
        row = xp[h0 + i]
        for j in range(max(0, -w0), min(kw, W - w0)):
            a += row[w0 + j]
    return a


@functools.lru_cache(maxsize=None)
def _avg_forward_kernel(KW, SW):
    """The window sums with window width ``KW`` and stride ``SW`` along W fixed (0: run time)."""
    def avg_pool_forward(x, rows, kw, sh, sw, ph, pw, owa, owb, out):
        kw = KW if KW else kw
        sw = SW if SW else sw
        B, C, H, W = x.shape
        Ho, Wo = out.shape[2], out.shape[3]
        zero = x.dtype.type(0.0)
        n, base = owb - owa, owa * sw - pw
        for p in prange(B * C):
            b, c = _plane(p, C)
            xp, op = x[b, c], out[b, c]
            for oh in range(Ho):
                h0 = oh * sh - ph
                orw = op[oh][owa:owb]
                for q in range(n):
                    orw[q] = zero
                for i in range(rows[oh, 0], rows[oh, 1]):
                    row = xp[h0 + i]
                    for q in range(n):
                        a = orw[q]
                        for j in range(kw):
                            a += row[np.uint64(base + q * sw + j)]  # unsigned: see max_pool_forward
                        orw[q] = a
                orow = op[oh]
                for ow in range(owa):
                    orow[ow] = _window_sum(xp, h0, rows[oh, 0], rows[oh, 1], ow * sw - pw, kw)
                for ow in range(owb, Wo):
                    orow[ow] = _window_sum(xp, h0, rows[oh, 0], rows[oh, 1], ow * sw - pw, kw)
    return kernel(avg_pool_forward, parallel_min=_PARALLEL_MIN)


@functools.lru_cache(maxsize=None)
def _avg_tile_kernel(KW):
    """The backward where the windows tile the input, window width ``KW`` fixed (0: run time)."""
    def avg_pool_tile_backward(gs, kh, kw, gx):
        kw = KW if KW else kw
        B, C, Ho, Wo = gs.shape
        for p in prange(B * C):
            b, c = _plane(p, C)
            gp, xp = gs[b, c], gx[b, c]
            for oh in range(Ho):
                grow = gp[oh]
                for i in range(kh):
                    row = xp[oh * kh + i]
                    for ow in range(Wo):
                        v = grow[ow]
                        for j in range(kw):
                            row[ow * kw + j] = v
    return kernel(avg_pool_tile_backward, parallel_min=_PARALLEL_MIN)


@functools.lru_cache(maxsize=None)
def _avg_scatter_kernel(KW, SW):
    """The backward adding ``gs`` onto every window, width ``KW`` and stride ``SW`` fixed (0: run time)."""
    def avg_pool_scatter_backward(gs, rows, kw, sh, sw, ph, pw, owa, owb, gx):
        kw = KW if KW else kw
        sw = SW if SW else sw
        B, C, Ho, Wo = gs.shape
        W = gx.shape[3]
        n, base = owb - owa, owa * sw - pw
        for p in prange(B * C):
            b, c = _plane(p, C)
            gp, xp = gs[b, c], gx[b, c]
            for oh in range(Ho):
                h0 = oh * sh - ph
                grow = gp[oh]
                gin = grow[owa:owb]
                for i in range(rows[oh, 0], rows[oh, 1]):
                    row = xp[h0 + i]
                    for j in range(kw):  # window offset outer: no store feeds a load of the inner loop
                        for q in range(n):
                            row[np.uint64(base + j + q * sw)] += gin[q]
                    for ow in range(owa):
                        w0 = ow * sw - pw
                        for j in range(max(0, -w0), min(kw, W - w0)):
                            row[w0 + j] += grow[ow]
                    for ow in range(owb, Wo):
                        w0 = ow * sw - pw
                        for j in range(max(0, -w0), min(kw, W - w0)):
                            row[w0 + j] += grow[ow]
    return kernel(avg_pool_scatter_backward, parallel_min=_PARALLEL_MIN)


def avg_pool_sums(numpy_fn):
    """``_avg_pool_sums(xd, geom) -> (B, C, Ho, Wo)`` compiled."""
    def avg_pool_sums(xd, geom):
        if not is_float(xd):
            return numpy_fn(xd, geom)
        kh, kw, sh, sw, _, _, ph, pw, _, _, Ho, Wo = geom
        B, C, H, W = xd.shape
        out = np.empty((B, C, Ho, Wo), dtype=xd.dtype)
        owa, owb = _interior(W, Wo, kw, sw, 1, pw)
        _avg_forward_kernel(_const(kw), _const(sw)).pick(xd.size)(
            xd, _avg_rows(H, Ho, kh, sh, ph), kw, sh, sw, ph, pw, owa, owb, out)
        return out
    return avg_pool_sums


def avg_backward(node, g, numpy_backward):
    """``AvgPool2dBackward.backward`` compiled (float32 / float64 NumPy arrays)."""
    div, shape, geom = node.saved
    if not is_float(g) or not isinstance(div, (np.ndarray, np.generic)):
        return numpy_backward(node, g)
    gs = np.ascontiguousarray(g / div)
    if gs.dtype != g.dtype:
        return numpy_backward(node, g)
    kh, kw, sh, sw, _, _, ph, pw, _, _, Ho, Wo = geom
    B, C, H, W = shape
    if (sh, sw, ph, pw) == (kh, kw, 0, 0) and Ho * kh == H and Wo * kw == W:
        gx = np.empty(shape, dtype=g.dtype)  # every element is written
        _avg_tile_kernel(_const(kw)).pick(gx.size)(gs, kh, kw, gx)
        return (gx,)
    gx = np.zeros(shape, dtype=g.dtype)
    owa, owb = _interior(W, Wo, kw, sw, 1, pw)
    _avg_scatter_kernel(_const(kw), _const(sw)).pick(gx.size)(gs, _avg_rows(H, Ho, kh, sh, ph), kw, sh, sw, ph, pw,
                                                              owa, owb, gx)
    return (gx,)
