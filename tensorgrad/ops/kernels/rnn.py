"""Compiled time steps of the fused recurrent layers, float32 / float64: the
LSTM and GRU forward and backward, the tanh / relu RNN backward. The per-step
GEMM ``h @ W_hh^T`` (and the LSTM projection) stays a NumPy (BLAS) call; all
the elementwise work of one step is one compiled loop over the batch rows: the
gate nonlinearities with the cell and hidden updates (forward), the gate
gradients straight from the saved activations (backward: nothing precomputed
over all steps). The saved buffers are the NumPy path's, in its layouts, so a
forward under one backend and its backward under the other agree. The RNN's
forward stays NumPy's (GEMM, add, tanh): measured 3.30 vs 3.32 ms compiled
(32 x 50 x 128, h256), nothing to gain.

The weights arrive pre-scaled as in ``rnn_kernels`` (-1 for sigmoid gates, -2
for the LSTM's g gate): sigmoid(x) = 1 / (1 + exp(a)) with a = -x, and
tanh(x) = 1 - 2 / (1 + exp(2x)). Anything but float32 / float64 NumPy arrays
of one dtype goes to the NumPy functions."""
import math

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic, overload

from ..rnn_kernels import _input_gates
from ._jit import exp32, fdiv, helper, is_float, kernel

# Elements per step (B * gates * H) from which the row-parallel builds run. Measured on this
# (shared) 2-core machine, 2 threads, serial / parallel us per step, float32: LSTM forward
# 2^17: 80 / 92, 2^18: 159 / 183, 2^19: 363 / 287, 2^20: 755 / 516; LSTM backward 2^18:
# 97 / 123, 2^19: 207 / 154; GRU alike. The RNN's backward step (B * H elements, a few us)
# never gained: 2^18: 34 / 102.
_STEP_PARALLEL_MIN = 1 << 19
_RNN_PARALLEL_MIN = 1 << 22


@intrinsic
def _i64_as_f64(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_LOG2E = 1.4426950408889634
_LN2_HI, _LN2_LO = 6.93145751953125e-1, 1.42860682030941723212e-6
_P0, _P1, _P2 = 1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1
_Q0, _Q1, _Q2, _Q3 = 3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1, 2.0


@helper
def exp64(x):
    """exp of a float64 (Cephes: x = k ln2 + r, exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)),
    2^k built in the exponent bits); measured within 1.3e-15 relative of NumPy's for
    |x| < 30, 2.4e-14 near the ends of the range. A loop of it vectorises; numba's
    ``math.exp`` calls the scalar libm (measured: the LSTM step over 32 x 1024 float64,
    198 us with libm). 0 below -708.3, inf above 709.0 (exp(709) = 8e307: past it only a
    sigmoid's last subnormals differ), NaN stays NaN."""
    c = -708.3 if x < -708.3 else x
    c = 709.0 if c > 709.0 else c
    k = np.floor(c * _LOG2E + 0.5)
    r = c - k * _LN2_HI
    r = r - k * _LN2_LO
    rr = r * r
    p = r * ((_P0 * rr + _P1) * rr + _P2)
    q = ((_Q0 * rr + _Q1) * rr + _Q2) * rr + _Q3
    y = (1.0 + 2.0 * fdiv(p, q - p)) * _i64_as_f64((np.int64(k) + np.int64(1023)) << np.int64(52))
    y = 0.0 if x < -708.3 else y
    return np.inf if x > 709.0 else y


def _exp(x):
    """exp of a float32 (``exp32``) or float64 (``exp64``) scalar."""
    return math.exp(x)


@overload(_exp)
def _exp_impl(x):
    if x == types.float32:
        return lambda x: exp32(x)
    return lambda x: exp64(x)


# ====================================================================== forward steps
# The gate blocks of a row are taken as slices: indexing one row with ``k * H + j``
# (H not a compile-time constant) kept LLVM from vectorising (measured: the LSTM
# step over 32 x 1024 float32, 93 us indexed, ~25 us sliced).
@kernel(parallel_min=_STEP_PARALLEL_MIN)
def _lstm_step(a, gh, bias, c, ct, tct, rt):
    """a (B, 4H): the input side of the gates, becomes the activated gates (o, i, f, g)
    of a + gh + bias; writes c_t, tanh(c_t) and o * tanh(c_t)."""
    B, H = ct.shape
    h3 = 3 * H
    one = a.dtype.type(1.0)
    two = a.dtype.type(2.0)
    bg = bias[h3:]
    for b in prange(B):
        ab, gb = a[b], gh[b]
        for j in range(h3):
            ab[j] = fdiv(one, one + _exp(ab[j] + gb[j] + bias[j]))
        o, i, f, g, gg = ab[:H], ab[H:2 * H], ab[2 * H:h3], ab[h3:], gb[h3:]
        cb, cc, tc, rr = c[b], ct[b], tct[b], rt[b]
        for j in range(H):
            gj = fdiv(two, one + _exp(g[j] + gg[j] + bg[j])) - one
            g[j] = gj
            cn = f[j] * cb[j] + i[j] * gj
            cc[j] = cn
            t = one - fdiv(two, one + _exp(two * cn))
            tc[j] = t
            rr[j] = o[j] * t


@kernel(parallel_min=_STEP_PARALLEL_MIN)
def _gru_step(gi, gh, bhh, h, rz, n, y):
    """gi, gh (B, 3H): input and hidden sides (r, z pre-scaled by -1); adds b_hh to gh
    (saved so) and writes sigmoid(r | z), the new gate n and h' = n + z (h - n)."""
    B, H = n.shape
    h2 = 2 * H
    one = gi.dtype.type(1.0)
    two = gi.dtype.type(2.0)
    bn = bhh[h2:]
    for b in prange(B):
        ib, gb, rb = gi[b], gh[b], rz[b]
        for j in range(h2):
            v = gb[j] + bhh[j]
            gb[j] = v
            rb[j] = fdiv(one, one + _exp(ib[j] + v))
        r, z, gin, ghn = rb[:H], rb[H:], ib[h2:], gb[h2:]
        hb, nb, yb = h[b], n[b], y[b]
        for j in range(H):
            gn = ghn[j] + bn[j]
            ghn[j] = gn
            v = one - fdiv(two, one + _exp(two * (gin[j] + r[j] * gn)))
            nb[j] = v
            yb[j] = v + z[j] * (hb[j] - v)


# ====================================================================== backward steps
@kernel(parallel_min=_STEP_PARALLEL_MIN)
def _lstm_back_step(g1, g2, add, dc, a, tc, cprev, dg, dc_out):
    """dr = g1 (+ g2 when ``add``): the gradient of o * tanh(c_t); dc: of c_t from later
    steps. Writes the gate gradients dg (B, 4H, internal order) and that of c_{t-1}."""
    B, H = tc.shape
    h3 = 3 * H
    one = a.dtype.type(1.0)
    for b in prange(B):
        ab, db = a[b], dg[b]
        o, i, f, g = ab[:H], ab[H:2 * H], ab[2 * H:h3], ab[h3:]
        do, di, df, dgg = db[:H], db[H:2 * H], db[2 * H:h3], db[h3:]
        tb, pb, g1b, g2b, dcb, dob = tc[b], cprev[b], g1[b], g2[b], dc[b], dc_out[b]
        for j in range(H):
            dr = g1b[j] + g2b[j] if add else g1b[j]
            oj, ij, fj, gj, t = o[j], i[j], f[j], g[j], tb[j]
            d = dr * oj * (one - t * t) + dcb[j]
            do[j] = dr * t * oj * (one - oj)
            di[j] = d * gj * ij * (one - ij)
            df[j] = d * pb[j] * fj * (one - fj)
            dgg[j] = d * ij * (one - gj * gj)
            dob[j] = d * fj


@kernel(parallel_min=_STEP_PARALLEL_MIN)
def _gru_back_step(gy, d1, d2, rz, n, gh, hprev, dgh, dgi, dhz):
    """dh_t = gy + d1 + d2; writes the gradients of the hidden-side (dgh) and
    input-side (dgi) pre-activations and dh_t * z (h_{t-1}'s direct share)."""
    B, H = n.shape
    h2 = 2 * H
    one = n.dtype.type(1.0)
    for b in prange(B):
        rb, hb, ib = rz[b], dgh[b], dgi[b]
        r, z, ghn = rb[:H], rb[H:], gh[b][h2:]
        hr, hz, hn, ir, iz, inn = hb[:H], hb[H:h2], hb[h2:], ib[:H], ib[H:h2], ib[h2:]
        nb, pb, zb, gyb, d1b, d2b = n[b], hprev[b], dhz[b], gy[b], d1[b], d2[b]
        for j in range(H):
            d = gyb[j] + d1b[j] + d2b[j]
            rj, zj, v = r[j], z[j], nb[j]
            dn = d * (one - v * v) * (one - zj)      # d / d (the n gate's pre-activation)
            dr = dn * ghn[j] * rj * (one - rj)
            dz = d * (pb[j] - v) * zj * (one - zj)
            hr[j] = dr
            hz[j] = dz
            hn[j] = dn * rj
            ir[j] = dr
            iz[j] = dz
            inn[j] = dn
            zb[j] = d * zj


@kernel(parallel_min=_RNN_PARALLEL_MIN)
def _rnn_back_step(g1, g2, y, relu, dg):
    """dg = (g1 + g2) * act'(pre-activation), from the activated ``y``."""
    one = y.dtype.type(1.0)
    zero = y.dtype.type(0.0)
    for b in prange(y.shape[0]):
        g1b, g2b, yb, db = g1[b], g2[b], y[b], dg[b]
        if relu:
            for j in range(yb.shape[0]):
                db[j] = g1b[j] + g2b[j] if yb[j] > zero else zero
        else:
            for j in range(yb.shape[0]):
                v = yb[j]
                db[j] = (g1b[j] + g2b[j]) * (one - v * v)


# ====================================================================== sequence loops
def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _opt(*arrays):
    return tuple(a for a in arrays if a is not None)


def lstm_fwd(numpy_fn):
    """``_lstm_fwd`` with the compiled step (same arguments, results and buffers)."""
    def lstm_fwd(x, h, c, wih_f, whh_f_t, bias_f, reverse, whr_t=None):
        if not is_float(x, h, c, wih_f, whh_f_t, *_opt(bias_f, whr_t)):
            return numpy_fn(x, h, c, wih_f, whh_f_t, bias_f, reverse, whr_t)
        dt = x.dtype
        T, B = x.shape[:2]
        H = c.shape[-1]
        A = _input_gates(x, wih_f, None)             # the bias is added in the step
        C = np.empty((T, B, H), dtype=dt)
        TC = np.empty_like(C)
        R = np.empty_like(C)
        Y = R if whr_t is None else np.empty((T, B, whr_t.shape[1]), dtype=dt)
        tmp = np.empty((B, 4 * H), dtype=dt)
        bias = np.zeros(4 * H, dtype=dt) if bias_f is None else bias_f
        step = _lstm_step.pick(B * 4 * H)
        for t in _order(T, reverse):
            np.matmul(h, whh_f_t, out=tmp)
            step(A[t], tmp, bias, c, C[t], TC[t], R[t])
            if whr_t is not None:
                np.matmul(R[t], whr_t, out=Y[t])
            h = Y[t]
            c = C[t]
        return Y, ((A, C, TC) if whr_t is None else (A, C, TC, R))
    return lstm_fwd


def gru_fwd(numpy_fn):
    """``_gru_fwd`` with the compiled step."""
    def gru_fwd(x, h, wih_f, whh_f_t, bih_f, bhh_f, reverse):
        if not is_float(x, h, wih_f, whh_f_t, *_opt(bih_f, bhh_f)):
            return numpy_fn(x, h, wih_f, whh_f_t, bih_f, bhh_f, reverse)
        dt = x.dtype
        T, B = x.shape[:2]
        H = h.shape[-1]
        GI = _input_gates(x, wih_f, bih_f)
        GH = np.empty_like(GI)
        RZ = np.empty((T, B, 2 * H), dtype=dt)
        N = np.empty((T, B, H), dtype=dt)
        Y = np.empty_like(N)
        bhh = np.zeros(3 * H, dtype=dt) if bhh_f is None else bhh_f
        step = _gru_step.pick(B * 3 * H)
        for t in _order(T, reverse):
            np.matmul(h, whh_f_t, out=GH[t])
            step(GI[t], GH[t], bhh, h, RZ[t], N[t], Y[t])
            h = Y[t]
        return Y, (RZ, N, GH)
    return gru_fwd


def lstm_bwd(numpy_fn):
    """``_lstm_bwd`` with the compiled step: gate gradients straight from the saved
    activations, one loop per step."""
    def lstm_bwd(gy, dh, dc, w_hh, bufs, c0, reverse, steps, need_h0, w_hr=None, DH=None):
        A, C, TC = bufs[:3]
        if not is_float(gy, dh, dc, w_hh, A, C, TC, c0, *_opt(w_hr, DH)):
            return numpy_fn(gy, dh, dc, w_hh, bufs, c0, reverse, steps, need_h0, w_hr, DH)
        T, B, H = TC.shape
        dt = A.dtype
        gy = np.ascontiguousarray(gy)                # (T, B, .) views of a batch_first gradient
        DG = np.empty((T, B, 4 * H), dtype=dt)
        dcs = (np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt))
        dhb = np.empty((B, w_hh.shape[1]), dtype=dt)
        dr = np.empty((B, H), dtype=dt) if w_hr is not None else None
        step = _lstm_back_step.pick(B * 4 * H)
        last = steps[-1]
        for k, t in enumerate(steps):
            cprev = c0 if t == last else C[t + 1 if reverse else t - 1]
            if w_hr is None:
                g1, g2, add = gy[t], dh, True
            else:
                np.add(gy[t], dh, out=DH[t])
                np.matmul(DH[t], w_hr, out=dr)       # through h = W_hr r
                g1 = g2 = dr
                add = False
            out = dcs[k % 2]
            step(g1, g2, add, dc, A[t], TC[t], cprev, DG[t], out)
            dc = out
            if t != last or need_h0:
                np.matmul(DG[t], w_hh, out=dhb)
                dh = dhb
        DG = DG.reshape(T * B, 4 * H)
        return DG, DG, dh, dc
    return lstm_bwd


def gru_bwd(numpy_fn):
    """``_gru_bwd`` with the compiled step, which also writes the input-side gradients."""
    def gru_bwd(gy, dh, w_hh, bufs, hprev, steps, need_h0):
        RZ, N, GH = bufs
        if not is_float(gy, dh, w_hh, RZ, N, GH, hprev):
            return numpy_fn(gy, dh, w_hh, bufs, hprev, steps, need_h0)
        T, B, H = N.shape
        dt = N.dtype
        gy = np.ascontiguousarray(gy)
        DGH = np.empty((T, B, 3 * H), dtype=dt)
        DGI = np.empty_like(DGH)
        dhz = (np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt))
        dhb = np.empty((B, H), dtype=dt)
        d1, d2 = dh, np.zeros((B, H), dtype=dt)      # dh of the step after: d1 + d2
        step = _gru_back_step.pick(B * 3 * H)
        last = steps[-1]
        for k, t in enumerate(steps):
            step(gy[t], d1, d2, RZ[t], N[t], GH[t], hprev[t], DGH[t], DGI[t], dhz[k % 2])
            if t != last or need_h0:
                np.matmul(DGH[t], w_hh, out=dhb)
                d1, d2 = dhb, dhz[k % 2]
        dh = d1 + d2 if need_h0 else d1
        return DGI.reshape(T * B, 3 * H), DGH.reshape(T * B, 3 * H), dh, None
    return gru_bwd


def rnn_bwd(numpy_fn):
    """``_rnn_bwd`` with the compiled step."""
    def rnn_bwd(gy, dh, w_hh, Y, relu, steps, need_h0):
        if not is_float(gy, dh, w_hh, Y):
            return numpy_fn(gy, dh, w_hh, Y, relu, steps, need_h0)
        T, B, H = Y.shape
        gy = np.ascontiguousarray(gy)
        DG = np.empty_like(Y)
        dhb = np.empty((B, H), dtype=Y.dtype)
        step = _rnn_back_step.pick(B * H)
        last = steps[-1]
        for t in steps:
            step(gy[t], dh, Y[t], relu, DG[t])
            if t != last or need_h0:
                np.matmul(DG[t], w_hh, out=dhb)
                dh = dhb
        DG = DG.reshape(T * B, H)
        return DG, DG, dh, None
    return rnn_bwd
