"""Raw-array kernels of the fused recurrent layers (RNN, LSTM, GRU) and the op
``recurrent_layer`` that records one layer (one direction) as ONE graph node.

The input projection of all time steps is a single GEMM, the time loop runs on
raw arrays (a handful of in-place array calls per step), and backward is
hand-written backpropagation through time that ends with one GEMM per weight:
little Python overhead per step and a tiny graph (one node per layer instead
of ~20 per step).

Two tricks keep the step loop short (both exact up to float rounding):
- every gate nonlinearity is one ``exp`` over all gates at once:
  sigmoid(x) = 1 / (1 + exp(-x)) and tanh(x) = 2 * sigmoid(2x) - 1, with the
  factors -1 / -2 folded into pre-scaled copies of the weights (powers of
  two: the scaled products are exact); NumPy's float32 ``exp`` is about twice
  as fast as its ``tanh``;
- LSTM gates are reordered internally to (o, i, f, g) so the sigmoid gates
  are contiguous; gradients are mapped back to PyTorch's (i, f, g, o).

LSTM with a projection (PyTorch's ``proj_size``): h_t = W_hr (o_t * tanh(c_t)),
one extra (B, H) x (H, P) product per step forward and one per step backward.

Under the numba backend the LSTM and GRU loops and the RNN's backward loop are
``kernels/rnn.py``'s: the same GEMMs, the elementwise work of a step compiled.
"""
import numpy as np

from .. import backend
from ..autograd.multi import track_multi
from ..autograd.node import MultiOutputNode
from ..autograd.recompute import backward_to, stand_ins
from . import kernels

_N_GATES = {'RNN_TANH': 1, 'RNN_RELU': 1, 'LSTM': 4, 'GRU': 3}


# ====================================================================== helpers
def _lstm_perm(a):
    """PyTorch's LSTM gate blocks (i, f, g, o) along axis 0 -> internal (o, i, f, g)."""
    h = a.shape[0] // 4
    return backend.array_module(a).concatenate((a[3 * h:], a[:3 * h]))


def _lstm_unperm(a):
    """Internal (o, i, f, g) gate blocks along axis 0 -> PyTorch's (i, f, g, o)."""
    h = a.shape[0] // 4
    return backend.array_module(a).concatenate((a[h:], a[:h]))


def _scaled_rows(a, n, first, rest):
    """Copy of ``a`` with its first ``n`` rows (entries along axis 0) multiplied by
    ``first`` and the others by ``rest``."""
    out = a * first
    if rest != first:
        out[n:] = a[n:] * rest
    return out


def _sigmoid_of_neg_(a):
    """In place: ``a`` holds -x; becomes sigmoid(x) = 1 / (1 + exp(-x))."""
    xp = backend.array_module(a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _shifted(states, first, reverse):
    """The state before each time step: ``first`` then ``states`` shifted by one step
    (in processing order)."""
    xp = backend.array_module(states)
    if reverse:
        return xp.concatenate((states[1:], first[None]))
    return xp.concatenate((first[None], states[:-1]))


# ====================================================================== forward kernels
def _input_gates(x, w, b):
    """The input's contribution to every gate at every step, as one GEMM:
    ``x @ w.T + b`` for x (T, B, I), shaped (T, B, gates)."""
    T, B, I = x.shape
    out = (x.reshape(T * B, I) @ w.T).reshape(T, B, w.shape[0])
    if b is not None:
        out += b
    return out


def _rnn_fwd(x, h, wih_f, whh_f_t, bias_f, relu, reverse):
    """Elman RNN over a sequence: returns (Y, None) with Y (T, B, H)."""
    xp = backend.array_module(x)
    T = x.shape[0]
    Y = _input_gates(x, wih_f, bias_f)
    tmp = xp.empty_like(Y[0])
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        yt = Y[t]
        xp.matmul(h, whh_f_t, out=tmp)
        yt += tmp
        if relu:
            xp.maximum(yt, 0, out=yt)
        else:
            xp.tanh(yt, out=yt)
        h = yt
    return Y, None


def _lstm_fwd(x, h, c, wih_f, whh_f_t, bias_f, reverse, whr_t=None):
    """LSTM over a sequence with internal gate order (o, i, f, g), weights pre-scaled
    by -1 (o, i, f) and -2 (g); ``whr_t``: the transposed projection W_hr^T (H, P) or None.
    Returns Y and the buffers backward needs (A: activated gates, C: cell states,
    TC: tanh of cell states, and with a projection R: o * tanh(c) before it)."""
    xp = backend.array_module(x)
    T, B = x.shape[:2]
    H = c.shape[-1]
    A = _input_gates(x, wih_f, bias_f)
    C = xp.empty((T, B, H), dtype=x.dtype)
    TC = xp.empty_like(C)
    if whr_t is None:
        Y = R = xp.empty_like(C)
    else:
        Y = xp.empty((T, B, whr_t.shape[1]), dtype=x.dtype)
        R = xp.empty_like(C)
    tmp = xp.empty((B, 4 * H), dtype=x.dtype)
    ig = tmp[:, :H]
    h3 = 3 * H
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        at = A[t]
        xp.matmul(h, whh_f_t, out=tmp)
        at += tmp
        _sigmoid_of_neg_(at)
        g = at[:, h3:]
        g *= 2
        g -= 1                                       # tanh(x) = 2 sigmoid(2x) - 1
        ct = C[t]
        xp.multiply(at[:, 2 * H:h3], c, out=ct)      # f * c_prev
        xp.multiply(at[:, H:2 * H], at[:, h3:], out=ig)  # i * g
        ct += ig
        tct = TC[t]
        xp.tanh(ct, out=tct)
        xp.multiply(at[:, :H], tct, out=R[t])       # o * tanh(c)
        if whr_t is not None:
            xp.matmul(R[t], whr_t, out=Y[t])         # projection
        h = Y[t]
        c = ct
    return Y, ((A, C, TC) if whr_t is None else (A, C, TC, R))


def _gru_fwd(x, h, wih_f, whh_f_t, bih_f, bhh_f, reverse):
    """GRU over a sequence (r, z rows of the weights pre-scaled by -1). Returns Y and the
    buffers backward needs (RZ: activated r|z, N: new gate, GH: hidden projection)."""
    xp = backend.array_module(x)
    T, B = x.shape[:2]
    H = h.shape[-1]
    GI = _input_gates(x, wih_f, bih_f)
    GH = xp.empty_like(GI)
    RZ = xp.empty((T, B, 2 * H), dtype=x.dtype)
    N = xp.empty((T, B, H), dtype=x.dtype)
    Y = xp.empty_like(N)
    h2 = 2 * H
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        gh = GH[t]
        xp.matmul(h, whh_f_t, out=gh)
        if bhh_f is not None:
            gh += bhh_f
        rz = RZ[t]
        xp.add(GI[t, :, :h2], gh[:, :h2], out=rz)
        _sigmoid_of_neg_(rz)
        n = N[t]
        xp.multiply(rz[:, :H], gh[:, h2:], out=n)
        n += GI[t, :, h2:]
        xp.tanh(n, out=n)
        yt = Y[t]
        xp.subtract(h, n, out=yt)                    # h' = n + z * (h - n)
        yt *= rz[:, H:]
        yt += n
        h = yt
    return Y, (RZ, N, GH)


# ====================================================================== backward
# Each ``_*_bwd`` runs BPTT over the steps in reverse processing order and
# returns (dGI, dGH, dh0, dc0): the gradients of the input-side and hidden-side
# pre-activations of all steps as (T * B, gates * H) matrices (the same array
# when they coincide) and of the initial states. Whatever depends only on
# saved activations is precomputed over all steps at once, so the loop body
# is just the recurrence.

def _lstm_bwd(gy, dh, dc, w_hh, bufs, c0, reverse, steps, need_h0, w_hr=None, DH=None):
    """With a projection ``w_hr`` (P, H), ``DH`` (T, B, P) receives the gradient of
    every step's (projected) hidden state."""
    A, C, TC = bufs[:3]                              # gates in internal order (o, i, f, g)
    xp = backend.array_module(A)
    T, B, H = TC.shape
    h3 = 3 * H
    D = A * (1 - A)                                  # sigmoid' for o, i, f
    g = A[..., h3:]
    xp.multiply(g, g, out=D[..., h3:])
    xp.subtract(1, D[..., h3:], out=D[..., h3:])     # tanh' for g
    # dG = [dh, dc, dc, dc] * M per gate block
    M = xp.empty((T, B, 4, H), dtype=A.dtype)
    xp.multiply(TC, D[..., :H], out=M[:, :, 0])
    xp.multiply(g, D[..., H:2 * H], out=M[:, :, 1])
    xp.multiply(_shifted(C, c0, reverse), D[..., 2 * H:h3], out=M[:, :, 2])
    xp.multiply(A[..., H:2 * H], D[..., h3:], out=M[:, :, 3])
    del D
    P = 1 - TC * TC
    P *= A[..., :H]                                  # d c / d h through h = o * tanh(c)
    F = A[..., 2 * H:h3]
    DG = xp.empty((T, B, 4 * H), dtype=A.dtype)
    last = steps[-1]
    for t in steps:
        if w_hr is None:
            dr = dh = gy[t] + dh
        else:
            dh = xp.add(gy[t], dh, out=DH[t])
            dr = dh @ w_hr                           # through h = W_hr r
        dcur = dr * P[t]
        dcur += dc
        g4 = DG[t].reshape(B, 4, H)
        xp.multiply(dr, M[t, :, 0], out=g4[:, 0])
        xp.multiply(dcur[:, None, :], M[t, :, 1:], out=g4[:, 1:])
        dc = dcur * F[t]
        if t != last or need_h0:
            dh = DG[t] @ w_hh
    DG = DG.reshape(T * B, 4 * H)
    return DG, DG, dh, dc


def _gru_bwd(gy, dh, w_hh, bufs, hprev, steps, need_h0):
    RZ, N, GH = bufs
    xp = backend.array_module(N)
    T, B, H = N.shape
    R, Z, GHn = RZ[..., :H], RZ[..., H:], GH[..., 2 * H:]
    A1 = 1 - N * N
    A1 *= 1 - Z                                      # d h / d n_pre
    Mh = xp.empty((T, B, 3, H), dtype=N.dtype)       # d h / d (hidden-side pre-activations)
    xp.multiply(A1, GHn, out=Mh[:, :, 0])
    Mh[:, :, 0] *= R
    Mh[:, :, 0] *= 1 - R                             # r
    xp.subtract(hprev, N, out=Mh[:, :, 1])
    Mh[:, :, 1] *= Z
    Mh[:, :, 1] *= 1 - Z                             # z
    xp.multiply(A1, R, out=Mh[:, :, 2])              # W_hn h + b_hn (inside r * (...))
    DH = xp.empty_like(N)
    DGH = xp.empty((T, B, 3, H), dtype=N.dtype)
    last = steps[-1]
    for t in steps:
        dht = DH[t]
        xp.add(gy[t], dh, out=dht)
        xp.multiply(dht[:, None, :], Mh[t], out=DGH[t])
        if t != last or need_h0:
            dh = dht * Z[t]
            dh += DGH[t].reshape(B, 3 * H) @ w_hh
    DGI = DGH.copy()                                 # input side: same r, z; n without the r factor
    xp.multiply(DH, A1, out=DGI[:, :, 2])
    return DGI.reshape(T * B, 3 * H), DGH.reshape(T * B, 3 * H), dh, None


def _rnn_bwd(gy, dh, w_hh, Y, relu, steps, need_h0):
    xp = backend.array_module(Y)
    T, B, H = Y.shape
    D = (Y > 0).astype(Y.dtype) if relu else 1 - Y * Y
    DG = xp.empty_like(Y)
    last = steps[-1]
    for t in steps:
        dh = gy[t] + dh
        xp.multiply(dh, D[t], out=DG[t])
        if t != last or need_h0:
            dh = DG[t] @ w_hh
    DG = DG.reshape(T * B, H)
    return DG, DG, dh, None


# the compiled versions (kernels/rnn.py): same arguments and results, one compiled loop per step
kernels.hook(globals(), '_lstm_fwd', 'rnn.lstm_fwd')
kernels.hook(globals(), '_gru_fwd', 'rnn.gru_fwd')
kernels.hook(globals(), '_lstm_bwd', 'rnn.lstm_bwd')
kernels.hook(globals(), '_gru_bwd', 'rnn.gru_bwd')
kernels.hook(globals(), '_rnn_bwd', 'rnn.rnn_bwd')


class RecurrentLayerBackward(MultiOutputNode):
    """Backpropagation through time of one fused recurrent layer.
    Inputs: (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr); outputs: (Y, h_n[, c_n]).
    ``biases``: the bias arrays (b_ih, b_hh), for the second-order rule only."""
    __slots__ = ('mode', 'biases')

    @property
    def name(self):
        return self.mode

    def backward(self, grads):
        mode, reverse, x, h0, c0, w_ih, w_hh, bufs, Y, w_hr = self.saved
        xp = backend.array_module(x)
        T, B, I = x.shape
        H = h0.shape[-1]
        nxt = self.next
        gy = grads[0] if grads[0] is not None else xp.zeros_like(Y)
        dh = grads[1] if grads[1] is not None else xp.zeros_like(h0)
        steps = range(T) if reverse else range(T - 1, -1, -1)
        need_h0 = nxt[1] is not None
        hprev = _shifted(Y, h0, reverse)
        DH = None if w_hr is None else xp.empty_like(Y)
        if mode == 'LSTM':
            dc = grads[2] if grads[2] is not None else xp.zeros_like(c0)
            DGI, DGH, dh, dc = _lstm_bwd(gy, dh, dc, w_hh, bufs, c0, reverse, steps, need_h0, w_hr, DH)
        elif mode == 'GRU':
            DGI, DGH, dh, dc = _gru_bwd(gy, dh, w_hh, bufs, hprev, steps, need_h0)
        else:
            DGI, DGH, dh, dc = _rnn_bwd(gy, dh, w_hh, Y, mode == 'RNN_RELU', steps, need_h0)
        unperm = _lstm_unperm if mode == 'LSTM' else (lambda a: a)
        gx = (DGI @ w_ih).reshape(T, B, I) if nxt[0] is not None else None
        gwih = unperm(DGI.T @ x.reshape(T * B, I)) if nxt[3] is not None else None
        gwhh = unperm(DGH.T @ hprev.reshape(T * B, H)) if nxt[4] is not None else None
        gbih = unperm(DGI.sum(0)) if nxt[5] is not None else None
        gbhh = None
        if nxt[6] is not None:
            gbhh = unperm(DGH.sum(0)) if DGH is not DGI or gbih is None else gbih.copy()
        gwhr = None
        if w_hr is not None and nxt[7] is not None:
            P = Y.shape[-1]
            gwhr = DH.reshape(T * B, P).T @ bufs[3].reshape(T * B, bufs[3].shape[-1])
        return (gx, dh if need_h0 else None, dc if nxt[2] is not None else None, gwih, gwhh, gbih, gbhh,
                gwhr)

    def backward_graph(self, grads):
        """create_graph: the layer re-run step by step with tensor ops (``_forward_graph``)
        on stand-ins of its inputs, and differentiated with create_graph; the
        gradients are connected to the inputs and to ``grads``, to any order."""
        mode, reverse, x, h0, c0, w_ih, w_hh, bufs, Y, w_hr = self.saved
        unperm = _lstm_unperm if mode == 'LSTM' else (lambda a: a)
        values = (x, h0, c0, unperm(w_ih), unperm(w_hh), self.biases[0], self.biases[1], w_hr)
        stand = stand_ins(values, self.next)
        outs = _forward_graph(mode, reverse, *stand)
        return tuple(backward_to(stand, outs, grads)[0])


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, w_hr=None):
    """One recurrent layer (one direction) over a whole sequence, as one graph node.

    ``mode``: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'. ``x``: (T, B, I);
    ``h0``/``c0``: (B, H) or None (zeros; ``c0`` only for LSTM); weights and
    biases as PyTorch lays them out. ``reverse`` runs the sequence backwards.
    ``w_hr`` (LSTM only): the projection (P, H) of PyTorch's ``proj_size``; then
    ``h0``, the output and h_n have P features (c0 and c_n keep H).
    Returns (output (T, B, H or P), h_n) or, for LSTM, (output, h_n, c_n).
    """
    xd, wih, whh = x._data, w_ih._data, w_hh._data
    h0d = h0._data if h0 is not None else backend.array_module(xd).zeros((xd.shape[1], whh.shape[1]),
                                                                         dtype=xd.dtype)
    bih = b_ih._data if b_ih is not None else None
    bhh = b_hh._data if b_hh is not None else None
    whr = None
    if w_hr is not None:
        if mode != 'LSTM':
            raise ValueError(f"recurrent_layer: a projection w_hr is only supported for LSTM, not {mode}")
        whr = w_hr._data
    with np.errstate(over='ignore', under='ignore'):  # exp(-x) -> inf or 0 is fine: sigmoid -> 0 or 1
        outs, saved_bufs = _forward(mode, xd, h0d, c0, wih, whh, bih, bhh, reverse, whr)
    c0d, wih_b, whh_b, bufs = saved_bufs
    Y = outs[0]
    inputs = (x, h0, c0 if mode == 'LSTM' else None, w_ih, w_hh, b_ih, b_hh, w_hr)
    saved = (mode, reverse, xd, h0d, c0d, wih_b, whh_b, bufs, Y, whr)
    check = [t for t in inputs if t is not None]
    tensors, node = track_multi(outs, RecurrentLayerBackward, inputs, saved, check, check_outs=(0,))
    if node is not None:
        node.mode = mode
        node.biases = (bih, bhh)
    return tuple(tensors)


def _forward_graph(mode, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
    """The layer's recurrence on Tensors with differentiable ops, one step at a time in
    PyTorch's gate order: what ``RecurrentLayerBackward.backward_graph`` differentiates.
    Returns (Y, h_n) or, for LSTM, (Y, h_n, c_n)."""
    from .api import stack  # noqa: PLC0415 - the op table imports this module
    T = x.shape[0]
    H = w_hh.shape[0] // _N_GATES[mode]
    gi = x @ w_ih.T
    if b_ih is not None:
        gi = gi + b_ih
    h, c = h0, c0
    ys = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        gh = h @ w_hh.T
        if b_hh is not None:
            gh = gh + b_hh
        if mode == 'LSTM':
            gates = gi[t] + gh
            i, f = gates[:, :H].sigmoid(), gates[:, H:2 * H].sigmoid()
            g, o = gates[:, 2 * H:3 * H].tanh(), gates[:, 3 * H:].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            if w_hr is not None:
                h = h @ w_hr.T
        elif mode == 'GRU':
            git = gi[t]
            r = (git[:, :H] + gh[:, :H]).sigmoid()
            z = (git[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
            n = (git[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
            h = n + z * (h - n)
        else:
            pre = gi[t] + gh
            h = pre.relu() if mode == 'RNN_RELU' else pre.tanh()
        ys[t] = h
    Y = stack(ys, 0)
    return (Y, h, c) if mode == 'LSTM' else (Y, h)


def _forward(mode, xd, h0d, c0, wih, whh, bih, bhh, reverse, whr=None):
    """Arrays of the outputs, and (c0, backward weights, buffers) for backward."""
    xp = backend.array_module(xd)
    T, B, _ = xd.shape
    H = whh.shape[0] // _N_GATES[mode]
    # the per-step GEMMs get their transposed weights C-ordered: measured (OpenBLAS, 1 thread),
    # (32, 256) @ (256, 1024) takes 153 us so, 221 us through the transposed view ((16, 64) @
    # (64, 256): 5.8 vs 12.5 us); the copy costs 0.27 ms (12 us) once per call
    c_ordered = xp.ascontiguousarray
    if mode == 'LSTM':
        c0d = c0._data if c0 is not None else xp.zeros((B, H), dtype=xd.dtype)
        wih_p, whh_p = _lstm_perm(wih), _lstm_perm(whh)
        bias = None if bih is None and bhh is None else _lstm_perm(
            bih + bhh if bih is not None and bhh is not None else (bih if bih is not None else bhh))
        Y, bufs = _lstm_fwd(xd, h0d, c0d, _scaled_rows(wih_p, 3 * H, -1, -2),
                            c_ordered(_scaled_rows(whh_p, 3 * H, -1, -2).T),
                            None if bias is None else _scaled_rows(bias, 3 * H, -1, -2), reverse,
                            None if whr is None else c_ordered(whr.T))
        t_last = 0 if reverse else T - 1
        outs = (Y, Y[t_last].copy(), bufs[1][t_last].copy())
        wih_b, whh_b = wih_p, whh_p
    elif mode == 'GRU':
        c0d = None
        Y, bufs = _gru_fwd(xd, h0d, _scaled_rows(wih, 2 * H, -1, 1),
                           c_ordered(_scaled_rows(whh, 2 * H, -1, 1).T),
                           None if bih is None else _scaled_rows(bih, 2 * H, -1, 1),
                           None if bhh is None else _scaled_rows(bhh, 2 * H, -1, 1), reverse)
        outs = (Y, Y[0 if reverse else T - 1].copy())
        wih_b, whh_b = wih, whh
    else:
        c0d = None
        bias = bih + bhh if bih is not None and bhh is not None else (bih if bih is not None else bhh)
        Y, bufs = _rnn_fwd(xd, h0d, wih, c_ordered(whh.T), bias, mode == 'RNN_RELU', reverse)
        outs = (Y, Y[0 if reverse else T - 1].copy())
        wih_b, whh_b = wih, whh
    return outs, (c0d, wih_b, whh_b, bufs)
