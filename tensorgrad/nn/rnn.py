"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

The modules hold the parameters (PyTorch's names and layout) and stack the
layers and directions; each layer (and direction) runs as one fused graph
node, ``tensorgrad.ops.rnn_kernels.recurrent_layer`` (raw-array time loops
forward and hand-written backpropagation through time).
"""
import math

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..ops.activations import dropout
from ..ops.rnn_kernels import recurrent_layer
from ..ops.shape import cat, stack
from .module import Module, Parameter

_GATES = {'RNN_TANH': 1, 'RNN_RELU': 1, 'LSTM': 4, 'GRU': 3}


# ====================================================================== modules
def _uniform_(params, hidden_size):
    """PyTorch's default init of recurrent weights: U(-1/sqrt(H), 1/sqrt(H))."""
    from ..random import generator  # noqa: PLC0415
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    rng = generator()
    for p in params:
        arr = rng.uniform(-k, k, size=p._data.shape).astype(p._data.dtype)
        p._data[...] = backend.move(arr, p.device)
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
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        op = self._get_name()
        input_size = _check_int(op, 'input_size', input_size, 1)
        hidden_size = _check_int(op, 'hidden_size', hidden_size, 1)
        num_layers = _check_int(op, 'num_layers', num_layers, 1)
        proj_size = _check_int(op, 'proj_size', proj_size, 0)
        if proj_size and mode != 'LSTM':
            raise ValueError(f"{op}: proj_size is only supported for LSTM, got proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{op}: proj_size must be smaller than hidden_size, got proj_size={proj_size}, "
                             f"hidden_size={hidden_size}")
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
        self.proj_size = proj_size
        dirs = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        names = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else real_hidden * dirs
            for d in range(dirs):
                sfx = f'_l{layer}' + ('_reverse' if d else '')
                shapes = [('weight_ih' + sfx, (gate, in_size)), ('weight_hh' + sfx, (gate, real_hidden))]
                if bias:
                    shapes += [('bias_ih' + sfx, (gate,)), ('bias_hh' + sfx, (gate,))]
                if proj_size:
                    shapes.append(('weight_hr' + sfx, (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(np.empty(shape, dtype=np.float32)))
                    names.append(name)
        self._flat_weights_names = names
        self.reset_parameters()
        _finish_init(self, device, dtype)

    def reset_parameters(self):
        """Re-draw every weight and bias (and projection) from U(-1/sqrt(hidden_size),
        1/sqrt(hidden_size))."""
        _uniform_(self.parameters(), self.hidden_size)

    def flatten_parameters(self):
        """No-op, for code written for PyTorch's cuDNN weight layout."""

    @property
    def all_weights(self):
        """Per layer and direction, the list [w_ih, w_hh(, b_ih, b_hh)(, w_hr)]."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i:i + per] for i in range(0, len(flat), per)]

    def _layer_params(self, layer, direction):
        """(w_ih, w_hh, b_ih, b_hh) of one layer and direction, and the projection w_hr or None."""
        sfx = f'_l{layer}' + ('_reverse' if direction else '')
        return ((getattr(self, 'weight_ih' + sfx), getattr(self, 'weight_hh' + sfx),
                 getattr(self, 'bias_ih' + sfx) if self.bias else None,
                 getattr(self, 'bias_hh' + sfx) if self.bias else None),
                getattr(self, 'weight_hr' + sfx) if self.proj_size else None)

    def _check_state(self, state, what, expected, x):
        op = self._get_name()
        if not isinstance(state, Tensor):
            raise TypeError(f"{op}: {what} must be a Tensor, got {type(state).__name__}")
        if tuple(state._data.shape) != expected:
            raise ValueError(f"{op}: expected {what} of shape {expected}, got {tuple(state._data.shape)}")
        if state._data.dtype != x._data.dtype or state.device is not x.device:
            raise TypeError(f"{op}: {what} ({state._data.dtype}, {state.device.value}) must match the "
                            f"input ({x._data.dtype}, {x.device.value})")

    def forward(self, input, hx=None):
        """Run the stacked recurrent layers over ``input`` ((T, B, I), (B, T, I) with
        ``batch_first`` or unbatched (T, I)). ``hx``: initial hidden state(s) of shape
        (num_layers * num_directions, B, H) (or (L*D, H) unbatched), zeros when None; with
        ``proj_size`` P > 0, h_0, h_n and the output have P features (c_0, c_n keep H).
        Returns (output, h_n) and for LSTM (output, (h_n, c_n)), as PyTorch."""
        op = self._get_name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
        shape = tuple(input._data.shape)
        if len(shape) not in (2, 3):
            raise ValueError(f"{op}: expected input of 2 (unbatched) or 3 dimensions, got shape {shape}")
        if shape[-1] != self.input_size:
            raise ValueError(f"{op}: expected input with last dimension input_size={self.input_size}, "
                             f"got shape {shape}")
        if input._data.dtype.kind != 'f':
            raise TypeError(f"{op}: expected a floating input, got {input._data.dtype}")
        w0 = self.weight_ih_l0
        if input._data.dtype != w0._data.dtype or input.device is not w0.device:
            raise TypeError(f"{op}: input ({input._data.dtype}, {input.device.value}) does not match the "
                            f"parameters ({w0._data.dtype}, {w0.device.value})")
        batched = len(shape) == 3
        if not batched:
            x = input.unsqueeze(1)
        elif self.batch_first:
            x = input.transpose(0, 1)
        else:
            x = input
        T, B = x._data.shape[:2]
        if T == 0:
            raise ValueError(f"{op}: expected a non-empty sequence, got input of shape {shape}")
        dirs = 2 if self.bidirectional else 1
        L, H = self.num_layers, self.hidden_size
        is_lstm = self.mode == 'LSTM'
        h0 = c0 = None
        if hx is not None:
            lead = (L * dirs, B) if batched else (L * dirs,)
            expected = lead + (self.proj_size or H,)
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{op}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
                self._check_state(h0, 'h_0', expected, input)
                self._check_state(c0, 'c_0', lead + (H,), input)
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
                weights, w_hr = self._layer_params(layer, d)
                res = recurrent_layer(self.mode, layer_in,
                                      h0[idx] if h0 is not None else None,
                                      c0[idx] if c0 is not None else None,
                                      *weights, reverse=bool(d), w_hr=w_hr)
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
        """Copy the weights of the PyTorch analogue (same mode, sizes, proj_size, layers
        and directions; ``batch_first`` and dropout are taken from it too); returns self."""
        op = self._get_name()
        for attr in ('mode', 'input_size', 'hidden_size', 'proj_size', 'num_layers', 'bias', 'bidirectional'):
            theirs = getattr(torch_module, attr, 0 if attr == 'proj_size' else None)
            if theirs != getattr(self, attr):
                raise ValueError(f"{op}.init_from_torch: {attr} differs: {getattr(self, attr)!r} here, "
                                 f"{theirs!r} in the torch module")
        super().init_from_torch(torch_module)
        self.batch_first = bool(torch_module.batch_first)
        self.dropout = float(torch_module.dropout)
        return self

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
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
                         num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Multi-layer LSTM (gate order i, f, g, o as PyTorch). forward(input, hx=None) with
    hx = (h_0, c_0) -> (output, (h_n, c_n)). ``proj_size`` P > 0 (< hidden_size) adds per
    layer and direction a projection ``weight_hr`` (P, hidden_size): h_t = W_hr (o_t * tanh(c_t))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__('LSTM', input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Multi-layer GRU (gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).
    forward(input, hx=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__('GRU', input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


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
        shape = tuple(input._data.shape)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(f"{op}: expected input of shape (B, {self.input_size}) or ({self.input_size},), "
                             f"got {shape}")
        w = self.weight_ih
        if input._data.dtype != w._data.dtype or input.device is not w.device:
            raise TypeError(f"{op}: input ({input._data.dtype}, {input.device.value}) does not match the "
                            f"parameters ({w._data.dtype}, {w.device.value})")
        batched = len(shape) == 2
        x = input if batched else input.unsqueeze(0)
        expected = (x._data.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        states = []
        for i, s in enumerate(hx):
            if s is None:
                states.append(None)
                continue
            what = ('h', 'c')[i]
            if not isinstance(s, Tensor):
                raise TypeError(f"{op}: {what} must be a Tensor, got {type(s).__name__}")
            if tuple(s._data.shape) != expected:
                raise ValueError(f"{op}: expected {what} of shape {expected}, got {tuple(s._data.shape)}")
            if s._data.dtype != input._data.dtype or s.device is not input.device:
                raise TypeError(f"{op}: {what} ({s._data.dtype}) must match the input ({input._data.dtype})")
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
