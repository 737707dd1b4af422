"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Each layer (and direction) runs as ONE fused graph node over the whole
sequence: the input projection of all time steps is a single GEMM, the time
loop runs on raw arrays (a handful of in-place array calls per step), and
backward is hand-written backpropagation through time that ends with one GEMM
per weight. That keeps the Python overhead per step small and the graph tiny
(one node per layer instead of ~20 per step).

Two tricks keep the step loop short (both exact up to float rounding):
- every gate nonlinearity is one ``exp`` over all gates at once:
  sigmoid(x) = 1 / (1 + exp(-x)) and tanh(x) = 2 * sigmoid(2x) - 1, with the
  factors -1 / -2 folded into pre-scaled copies of the weights (powers of
  two: the scaled products are exact); NumPy's float32 ``exp`` is about twice
  as fast as its ``tanh``;
- LSTM gates are reordered internally to (o, i, f, g) so the sigmoid gates
  are contiguous; gradients are mapped back to PyTorch's (i, f, g, o).
"""
import math

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..autograd.grad_mode import GRAD_MODE
from ..autograd.node import MultiOutputNode, OutputRef
from ..ops.nn_kernels import dropout
from ..ops.shape import cat, stack
from .module import Module, Parameter

_new = object.__new__

_GATES = {'RNN_TANH': 1, 'RNN_RELU': 1, 'LSTM': 4, 'GRU': 3}


# ====================================================================== graph plumbing
def _track_multi(arrays, node_cls, inputs, saved, check, check_outs=()):
    """Wrap ``arrays`` (the outputs of one op) in Tensors and, when grad mode is
    on and an input requires grad, record one ``node_cls`` (a MultiOutputNode)
    for all of them; ``check_outs``: indices of outputs whose arrays ``saved`` holds.
    Returns (output tensors, the node or None)."""
    outs = [Tensor._wrap(a) for a in arrays]
    if not GRAD_MODE.enabled or not any(t is not None and t.requires_grad for t in inputs):
        return outs, None
    node = _new(node_cls)
    node.next = tuple(None if t is None or not t.requires_grad else (t.grad_fn or t) for t in inputs)
    node.saved = saved
    node.shape = arrays[0].shape
    node.hooks = None
    node.retained = None
    node.versions = [(t._vc, t._vc[0]) for t in check] + [(outs[i]._vc, 0) for i in check_outs]
    node.n_outputs = len(arrays)
    node.output_shapes = tuple(a.shape for a in arrays)
    node.output_dtypes = tuple(a.dtype for a in arrays)
    for i, t in enumerate(outs):
        ref = _new(OutputRef)
        ref.next = (node,)
        ref.saved = None
        ref.shape = arrays[i].shape
        ref.hooks = None
        ref.retained = None
        ref.versions = None
        ref.index = i
        t.requires_grad = True
        t.grad_fn = ref
    return outs, node


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
def _rnn_fwd(x, h, wih_f, whh_f_t, bias_f, relu, reverse):
    """Elman RNN over a sequence: returns (Y, None) with Y (T, B, H)."""
    xp = backend.array_module(x)
    T, B, I = x.shape
    Y = (x.reshape(T * B, I) @ wih_f.T).reshape(T, B, -1)
    if bias_f is not None:
        Y += bias_f
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


def _lstm_fwd(x, h, c, wih_f, whh_f_t, bias_f, reverse):
    """LSTM over a sequence with internal gate order (o, i, f, g), weights pre-scaled
    by -1 (o, i, f) and -2 (g). Returns Y and the buffers backward needs (A: activated gates,
    C: cell states, TC: tanh of cell states)."""
    xp = backend.array_module(x)
    T, B, I = x.shape
    H = h.shape[-1]
    A = (x.reshape(T * B, I) @ wih_f.T).reshape(T, B, 4 * H)
    if bias_f is not None:
        A += bias_f
    Y = xp.empty((T, B, H), dtype=x.dtype)
    C = xp.empty_like(Y)
    TC = xp.empty_like(Y)
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
        xp.multiply(at[:, :H], tct, out=Y[t])       # o * tanh(c)
        h = Y[t]
        c = ct
    return Y, (A, C, TC)


def _gru_fwd(x, h, wih_f, whh_f_t, bih_f, bhh_f, reverse):
    """GRU over a sequence (r, z rows of the weights pre-scaled by -1). Returns Y and the
    buffers backward needs (RZ: activated r|z, N: new gate, GH: hidden projection)."""
    xp = backend.array_module(x)
    T, B, I = x.shape
    H = h.shape[-1]
    GI = (x.reshape(T * B, I) @ wih_f.T).reshape(T, B, 3 * H)
    if bih_f is not None:
        GI += bih_f
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

def _lstm_bwd(gy, dh, dc, w_hh, bufs, c0, reverse, steps, need_h0):
    A, C, TC = bufs                                  # gates in internal order (o, i, f, g)
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
        dh = gy[t] + dh
        dcur = dh * P[t]
        dcur += dc
        g4 = DG[t].reshape(B, 4, H)
        xp.multiply(dh, M[t, :, 0], out=g4[:, 0])
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


class RecurrentLayerBackward(MultiOutputNode):
    """Backpropagation through time of one fused recurrent layer.
    Inputs: (x, h0, c0, w_ih, w_hh, b_ih, b_hh); outputs: (Y, h_n[, c_n])."""
    __slots__ = ('mode',)

    @property
    def name(self):
        return self.mode

    def backward(self, grads):
        mode, reverse, x, h0, c0, w_ih, w_hh, bufs, Y = self.saved
        xp = backend.array_module(x)
        T, B, I = x.shape
        H = h0.shape[-1]
        nxt = self.next
        gy = grads[0] if grads[0] is not None else xp.zeros_like(Y)
        dh = grads[1] if grads[1] is not None else xp.zeros_like(h0)
        steps = range(T) if reverse else range(T - 1, -1, -1)
        need_h0 = nxt[1] is not None
        hprev = _shifted(Y, h0, reverse)
        if mode == 'LSTM':
            dc = grads[2] if grads[2] is not None else xp.zeros_like(h0)
            DGI, DGH, dh, dc = _lstm_bwd(gy, dh, dc, w_hh, bufs, c0, reverse, steps, need_h0)
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
        return (gx, dh if need_h0 else None, dc if nxt[2] is not None else None, gwih, gwhh, gbih, gbhh)


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One recurrent layer (one direction) over a whole sequence, as one graph node.

    ``mode``: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'. ``x``: (T, B, I);
    ``h0``/``c0``: (B, H) or None (zeros; ``c0`` only for LSTM); weights and
    biases as PyTorch lays them out. ``reverse`` runs the sequence backwards.
    Returns (output (T, B, H), h_n) or, for LSTM, (output, h_n, c_n).
    """
    xd, wih, whh = x.data, w_ih.data, w_hh.data
    h0d = h0.data if h0 is not None else backend.array_module(xd).zeros((xd.shape[1], whh.shape[1]),
                                                                         dtype=xd.dtype)
    bih = b_ih.data if b_ih is not None else None
    bhh = b_hh.data if b_hh is not None else None
    with np.errstate(over='ignore', under='ignore'):  # exp(-x) -> inf or 0 is fine: sigmoid -> 0 or 1
        outs, saved_bufs = _forward(mode, xd, h0d, c0, wih, whh, bih, bhh, reverse)
    c0d, wih_b, whh_b, bufs = saved_bufs
    Y = outs[0]
    inputs = (x, h0, c0 if mode == 'LSTM' else None, w_ih, w_hh, b_ih, b_hh)
    saved = (mode, reverse, xd, h0d, c0d, wih_b, whh_b, bufs, Y)
    check = [t for t in inputs if t is not None]
    tensors, node = _track_multi(outs, RecurrentLayerBackward, inputs, saved, check, check_outs=(0,))
    if node is not None:
        node.mode = mode
    return tuple(tensors)


def _forward(mode, xd, h0d, c0, wih, whh, bih, bhh, reverse):
    """Arrays of the outputs, and (c0, backward weights, buffers) for backward."""
    xp = backend.array_module(xd)
    T, B, _ = xd.shape
    H = whh.shape[1]
    if mode == 'LSTM':
        c0d = c0.data if c0 is not None else xp.zeros((B, H), dtype=xd.dtype)
        wih_p, whh_p = _lstm_perm(wih), _lstm_perm(whh)
        bias = None if bih is None and bhh is None else _lstm_perm(
            bih + bhh if bih is not None and bhh is not None else (bih if bih is not None else bhh))
        Y, bufs = _lstm_fwd(xd, h0d, c0d, _scaled_rows(wih_p, 3 * H, -1, -2),
                            _scaled_rows(whh_p, 3 * H, -1, -2).T,
                            None if bias is None else _scaled_rows(bias, 3 * H, -1, -2), reverse)
        t_last = 0 if reverse else T - 1
        outs = (Y, Y[t_last].copy(), bufs[1][t_last].copy())
        wih_b, whh_b = wih_p, whh_p
    elif mode == 'GRU':
        c0d = None
        Y, bufs = _gru_fwd(xd, h0d, _scaled_rows(wih, 2 * H, -1, 1), _scaled_rows(whh, 2 * H, -1, 1).T,
                           None if bih is None else _scaled_rows(bih, 2 * H, -1, 1),
                           None if bhh is None else _scaled_rows(bhh, 2 * H, -1, 1), reverse)
        outs = (Y, Y[0 if reverse else T - 1].copy())
        wih_b, whh_b = wih, whh
    else:
        c0d = None
        bias = bih + bhh if bih is not None and bhh is not None else (bih if bih is not None else bhh)
        Y, bufs = _rnn_fwd(xd, h0d, wih, whh.T, bias, mode == 'RNN_RELU', reverse)
        outs = (Y, Y[0 if reverse else T - 1].copy())
        wih_b, whh_b = wih, whh
    return outs, (c0d, wih_b, whh_b, bufs)


# ====================================================================== modules
def _uniform_(params, hidden_size):
    """PyTorch's default init of recurrent weights: U(-1/sqrt(H), 1/sqrt(H))."""
    from ..random import generator  # noqa: PLC0415
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    rng = generator()
    for p in params:
        arr = rng.uniform(-k, k, size=p.data.shape).astype(p.data.dtype)
        p.data[...] = backend.move(arr, p.device)
        p._vc[0] += 1


def _check_int(op, name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{op}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _finish_init(module, device, dtype):
    if device is not None or dtype is not None:
        module.to(device=device, dtype=dtype)


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (PyTorch's ``nn.RNNBase``)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        op = self._get_name()
        input_size = _check_int(op, 'input_size', input_size, 1)
        hidden_size = _check_int(op, 'hidden_size', hidden_size, 1)
        num_layers = _check_int(op, 'num_layers', num_layers, 1)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{op}: dropout must be a number in [0, 1], got {dropout!r}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        dirs = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        names = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f'_l{layer}' + ('_reverse' if d else '')
                shapes = [('weight_ih' + sfx, (gate, in_size)), ('weight_hh' + sfx, (gate, hidden_size))]
                if bias:
                    shapes += [('bias_ih' + sfx, (gate,)), ('bias_hh' + sfx, (gate,))]
                for name, shape in shapes:
                    setattr(self, name, Parameter(np.empty(shape, dtype=np.float32)))
                    names.append(name)
        self._flat_weights_names = names
        self.reset_parameters()
        _finish_init(self, device, dtype)

    def reset_parameters(self):
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        _uniform_(self.parameters(), self.hidden_size)

    def flatten_parameters(self):
        """No-op, for code written for PyTorch's cuDNN weight layout."""

    @property
    def all_weights(self):
        """Per layer and direction, the list [w_ih, w_hh(, b_ih, b_hh)]."""
        per = 4 if self.bias else 2
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i:i + per] for i in range(0, len(flat), per)]

    def _layer_params(self, layer, direction):
        sfx = f'_l{layer}' + ('_reverse' if direction else '')
        return (getattr(self, 'weight_ih' + sfx), getattr(self, 'weight_hh' + sfx),
                getattr(self, 'bias_ih' + sfx) if self.bias else None,
                getattr(self, 'bias_hh' + sfx) if self.bias else None)

    def _check_state(self, state, what, expected, x):
        op = self._get_name()
        if not isinstance(state, Tensor):
            raise TypeError(f"{op}: {what} must be a Tensor, got {type(state).__name__}")
        if tuple(state.data.shape) != expected:
            raise ValueError(f"{op}: expected {what} of shape {expected}, got {tuple(state.data.shape)}")
        if state.data.dtype != x.data.dtype or state.device is not x.device:
            raise TypeError(f"{op}: {what} ({state.data.dtype}, {state.device.value}) must match the "
                            f"input ({x.data.dtype}, {x.device.value})")

    def forward(self, input, hx=None):
        """Run the stacked recurrent layers over ``input`` ((T, B, I), (B, T, I) with
        ``batch_first`` or unbatched (T, I)). ``hx``: initial hidden state(s) of shape
        (num_layers * num_directions, B, H) (or (L*D, H) unbatched), zeros when None.
        Returns (output, h_n) and for LSTM (output, (h_n, c_n)), as PyTorch."""
        op = self._get_name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
        shape = tuple(input.data.shape)
        if len(shape) not in (2, 3):
            raise ValueError(f"{op}: expected input of 2 (unbatched) or 3 dimensions, got shape {shape}")
        if shape[-1] != self.input_size:
            raise ValueError(f"{op}: expected input with last dimension input_size={self.input_size}, "
                             f"got shape {shape}")
        if input.data.dtype.kind != 'f':
            raise TypeError(f"{op}: expected a floating input, got {input.data.dtype}")
        w0 = self.weight_ih_l0
        if input.data.dtype != w0.data.dtype or input.device is not w0.device:
            raise TypeError(f"{op}: input ({input.data.dtype}, {input.device.value}) does not match the "
                            f"parameters ({w0.data.dtype}, {w0.device.value})")
        batched = len(shape) == 3
        if not batched:
            x = input.unsqueeze(1)
        elif self.batch_first:
            x = input.transpose(0, 1)
        else:
            x = input
        T, B = x.data.shape[:2]
        if T == 0:
            raise ValueError(f"{op}: expected a non-empty sequence, got input of shape {shape}")
        dirs = 2 if self.bidirectional else 1
        L, H = self.num_layers, self.hidden_size
        is_lstm = self.mode == 'LSTM'
        h0 = c0 = None
        if hx is not None:
            expected = (L * dirs, B, H) if batched else (L * dirs, H)
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{op}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
                self._check_state(h0, 'h_0', expected, input)
                self._check_state(c0, 'c_0', expected, input)
            else:
                h0 = hx
                self._check_state(h0, 'hx', expected, input)
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
        hs, cs = [], []
        layer_in = x
        for layer in range(L):
            outs = []
            for d in range(dirs):
                idx = layer * dirs + d
                res = recurrent_layer(self.mode, layer_in,
                                      h0[idx] if h0 is not None else None,
                                      c0[idx] if c0 is not None else None,
                                      *self._layer_params(layer, d), reverse=bool(d))
                outs.append(res[0])
                hs.append(res[1])
                if is_lstm:
                    cs.append(res[2])
            layer_in = outs[0] if dirs == 1 else cat(outs, -1)
            if self.training and self.dropout > 0 and layer < L - 1:
                layer_in = dropout(layer_in, self.dropout, training=True)
        out = layer_in
        h_n = stack(hs, 0)
        c_n = stack(cs, 0) if is_lstm else None
        if not batched:
            out = out.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if is_lstm else (out, h_n)

    def init_from_torch(self, torch_module):
        """Copy the weights of the PyTorch analogue (same mode, sizes, layers and
        directions; ``batch_first`` and dropout are taken from it too); returns self."""
        op = self._get_name()
        for attr in ('mode', 'input_size', 'hidden_size', 'num_layers', 'bias', 'bidirectional'):
            theirs = getattr(torch_module, attr, None)
            if theirs != getattr(self, attr):
                raise ValueError(f"{op}.init_from_torch: {attr} differs: {getattr(self, attr)!r} here, "
                                 f"{theirs!r} in the torch module")
        if getattr(torch_module, 'proj_size', 0):
            raise ValueError(f"{op}.init_from_torch: proj_size is not supported")
        super().init_from_torch(torch_module)
        self.batch_first = bool(torch_module.batch_first)
        self.dropout = float(torch_module.dropout)
        return self

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == 'RNN_RELU':
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Multi-layer Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh
    or relu. forward(input, hx=None) -> (output, h_n), PyTorch's shapes and semantics."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ('tanh', 'relu'):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or 'relu')")
        super().__init__('RNN_TANH' if nonlinearity == 'tanh' else 'RNN_RELU', input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Multi-layer LSTM (gate order i, f, g, o as PyTorch). forward(input, hx=None) with
    hx = (h_0, c_0) -> (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size:
            raise NotImplementedError("LSTM: proj_size > 0 is not supported")
        super().__init__('LSTM', input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)


class GRU(RNNBase):
    """Multi-layer GRU (gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).
    forward(input, hx=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__('GRU', input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)


# ====================================================================== cells
class RNNCellBase(Module):
    """Shared machinery of the single-step cells (one fused step of the layer kernel)."""

    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        op = self._get_name()
        self.mode = mode
        self.input_size = _check_int(op, 'input_size', input_size, 1)
        self.hidden_size = _check_int(op, 'hidden_size', hidden_size, 1)
        self.bias = bool(bias)
        gate = _GATES[mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((gate, self.input_size), dtype=np.float32))
        self.weight_hh = Parameter(np.empty((gate, self.hidden_size), dtype=np.float32))
        if bias:
            self.bias_ih = Parameter(np.empty((gate,), dtype=np.float32))
            self.bias_hh = Parameter(np.empty((gate,), dtype=np.float32))
        else:
            self.bias_ih = None
            self.bias_hh = None
        self.reset_parameters()
        _finish_init(self, device, dtype)

    def reset_parameters(self):
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        _uniform_(self.parameters(), self.hidden_size)

    def _step(self, input, hx):
        op = self._get_name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
        shape = tuple(input.data.shape)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(f"{op}: expected input of shape (B, {self.input_size}) or ({self.input_size},), "
                             f"got {shape}")
        w = self.weight_ih
        if input.data.dtype != w.data.dtype or input.device is not w.device:
            raise TypeError(f"{op}: input ({input.data.dtype}, {input.device.value}) does not match the "
                            f"parameters ({w.data.dtype}, {w.device.value})")
        batched = len(shape) == 2
        x = input if batched else input.unsqueeze(0)
        expected = (x.data.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        states = []
        for i, s in enumerate(hx):
            if s is None:
                states.append(None)
                continue
            what = ('h', 'c')[i]
            if not isinstance(s, Tensor):
                raise TypeError(f"{op}: {what} must be a Tensor, got {type(s).__name__}")
            if tuple(s.data.shape) != expected:
                raise ValueError(f"{op}: expected {what} of shape {expected}, got {tuple(s.data.shape)}")
            if s.data.dtype != input.data.dtype or s.device is not input.device:
                raise TypeError(f"{op}: {what} ({s.data.dtype}) must match the input ({input.data.dtype})")
            states.append(s if batched else s.unsqueeze(0))
        c0 = states[1] if len(states) > 1 else None
        res = recurrent_layer(self.mode, x.unsqueeze(0), states[0], c0, self.weight_ih, self.weight_hh,
                              self.bias_ih, self.bias_hh)
        res = res[1:]
        return res if batched else tuple(r.squeeze(0) for r in res)

    def init_from_torch(self, torch_module):
        """Copy the weights of the PyTorch analogue cell; returns self."""
        op = self._get_name()
        for attr in ('input_size', 'hidden_size', 'bias'):
            if getattr(torch_module, attr, None) != getattr(self, attr):
                raise ValueError(f"{op}.init_from_torch: {attr} differs: {getattr(self, attr)!r} here, "
                                 f"{getattr(torch_module, attr, None)!r} in the torch module")
        return super().init_from_torch(torch_module)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == 'RNN_RELU':
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: forward(input, hx=None) -> h' ((B, H) or (H,))."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None):
        if nonlinearity not in ('tanh', 'relu'):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or 'relu')")
        super().__init__('RNN_TANH' if nonlinearity == 'tanh' else 'RNN_RELU', input_size, hidden_size,
                         bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """h' = act(input W_ih^T + b_ih + hx W_hh^T + b_hh); hx defaults to zeros."""
        return self._step(input, (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, hx=None) with hx = (h, c) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__('LSTM', input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        """(h', c') of one step; hx = (h, c) defaults to zeros."""
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        return tuple(self._step(input, tuple(hx)))


class GRUCell(RNNCellBase):
    """One GRU step: forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__('GRU', input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        """h' of one step; hx defaults to zeros."""
        return self._step(input, (hx,))[0]
