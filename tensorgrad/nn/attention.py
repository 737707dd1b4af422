"""``MultiheadAttention`` with PyTorch's arguments, parameters and state-dict keys
(``in_proj_weight``, ``in_proj_bias``, ``out_proj.*``, ``bias_k``/``bias_v``,
``q/k/v_proj_weight`` when kdim/vdim differ), on the fused
``scaled_dot_product_attention`` kernel.

The reference's two-argument call ``MultiheadAttention(embed_dim, num_heads)``
(optionally with ``device``/``dtype``) keeps the reference's documented
behaviour: it builds a ``ReferenceMultiheadAttention`` (batch first, returns a
Tensor, parameters ``q_weight``/``k_weight``/``v_weight``/``o_weight``; see
``attention_reference.py``). Passing any of PyTorch's other arguments
(``batch_first=``, ``bias=``, ``dropout=`` ...) gives PyTorch's module.
"""
import math
import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..ops.activations import dropout as _dropout
from ..ops.attention import scaled_dot_product_attention
from ..ops.linear import linear
from ..ops.shape import cat
from ..ops.softmax import softmax
from . import init
from .linear import Linear
from .module import Module, Parameter

_OP = 'MultiheadAttention'
_REFERENCE_ARGS = ('embed_dim', 'num_heads', 'device', 'dtype')


def _is_reference_call(args, kwargs):
    """True for the reference's documented call: embed_dim and num_heads (by position or
    name), optionally device/dtype by name, nothing else."""
    if len(args) > 2 or any(k not in _REFERENCE_ARGS for k in kwargs):
        return False
    return len(args) + sum(k in kwargs for k in ('embed_dim', 'num_heads')) == 2


def _mask_array(mask, name, xp):
    """The raw array of a mask (Tensor or array); bool or floating, else AssertionError as PyTorch."""
    m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype != np.bool_ and m.dtype.kind != 'f':
        raise AssertionError(f"{_OP}: only bool and floating types of {name} are supported, got {m.dtype}")
    return m


def _additive(m, dt, xp):
    """A bool mask (True = not attended) as 0 / -inf of dtype ``dt``; a float mask cast to ``dt``."""
    if m.dtype == np.bool_:
        return xp.where(m, dt.type(-np.inf), dt.type(0))
    return m.astype(dt, copy=False)


def _pad_last(m, xp):
    """Append one zero (attended) column to the last dim of an additive mask."""
    return xp.concatenate([m, xp.zeros(m.shape[:-1] + (1,), dtype=m.dtype)], axis=-1)


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under PyTorch's name for ``MultiheadAttention.out_proj`` (same repr as torch's)."""


class MultiheadAttention(Module):
    """PyTorch's ``nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True,
    add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False,
    device=None, dtype=None)``: ``forward(query, key, value, key_padding_mask=None,
    need_weights=True, attn_mask=None, average_attn_weights=True, is_causal=False)``
    returns ``(attn_output, attn_weights or None)``. Inputs are (L, N, E) (or (N, L, E)
    with ``batch_first``) or unbatched (L, E). Masks are bool (True = not attended) or
    float (added to the scores); ``attn_mask`` is (L, S) or (N * num_heads, L, S).

    The reference's call with only ``embed_dim`` and ``num_heads`` builds the reference's
    module instead (batch first, returns a Tensor, ``q_weight`` ... parameters).
    """

    def __new__(cls, *args, **kwargs):
        if cls is MultiheadAttention and _is_reference_call(args, kwargs):
            from .attention_reference import ReferenceMultiheadAttention
            cls = ReferenceMultiheadAttention
        return super().__new__(cls)

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        for name, val in (('embed_dim', embed_dim), ('num_heads', num_heads)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
                raise TypeError(f"{_OP}: {name} must be an int, got {val!r}")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{_OP}: dropout probability has to be between 0 and 1, but got {dropout!r}")
        if embed_dim % num_heads:
            raise AssertionError(f"{_OP}: embed_dim must be divisible by num_heads, got embed_dim={embed_dim} "
                                 f"and num_heads={num_heads}")
        super().__init__()
        E = self.embed_dim = int(embed_dim)
        self.kdim = int(kdim) if kdim is not None else E
        self.vdim = int(vdim) if vdim is not None else E
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = E // self.num_heads
        f32 = np.float32
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(np.empty((E, E), f32))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), f32))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), f32))
            self.register_parameter('in_proj_weight', None)
        else:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), f32))
            self.register_parameter('q_proj_weight', None)
            self.register_parameter('k_proj_weight', None)
            self.register_parameter('v_proj_weight', None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * E,), f32))
        else:
            self.register_parameter('in_proj_bias', None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), f32))
            self.bias_v = Parameter(np.empty((1, 1, E), f32))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def _reset_parameters(self):
        """PyTorch's initialisation: xavier-uniform in-projections, zero biases, xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------------ checks
    def _check(self, query, key, value, key_padding_mask, attn_mask):
        """PyTorch's shape checks (AssertionError / RuntimeError); returns whether batched."""
        for name, t in (('query', query), ('key', key), ('value', value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{_OP}: {name} must be a Tensor, got {type(t).__name__}")
        qn, kn, vn = query._data.ndim, key._data.ndim, value._data.ndim
        kpm_nd = None if key_padding_mask is None else np.ndim(getattr(key_padding_mask, '_data', key_padding_mask))
        am_nd = None if attn_mask is None else np.ndim(getattr(attn_mask, '_data', attn_mask))
        if qn not in (2, 3):
            raise AssertionError(f"{_OP}: query should be unbatched 2D or batched 3D tensor but received "
                                 f"{qn}-D query tensor")
        batched = qn == 3
        kind = 'batched (3-D)' if batched else 'unbatched (2-D)'
        if kn != qn or vn != qn:
            raise AssertionError(f"{_OP}: for {kind} `query`, expected `key` and `value` to be {qn}-D but found "
                                 f"{kn}-D and {vn}-D tensors respectively")
        if kpm_nd is not None and kpm_nd != qn - 1:
            raise AssertionError(f"{_OP}: for {kind} `query`, expected `key_padding_mask` to be `None` or "
                                 f"{qn - 1}-D but found {kpm_nd}-D tensor instead")
        if am_nd is not None and am_nd not in (2, 3):
            raise AssertionError(f"{_OP}: for {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                 f"but found {am_nd}-D tensor instead")
        qs, ks, vs = tuple(query._data.shape), tuple(key._data.shape), tuple(value._data.shape)
        if qs[-1] != self.embed_dim:
            raise AssertionError(f"{_OP}: was expecting embedding dimension of {self.embed_dim}, but got {qs[-1]}")
        if self._qkv_same_embed_dim and ks != vs:
            raise AssertionError(f"{_OP}: key shape {ks} does not match value shape {vs}")
        if ks[:-1] != vs[:-1]:
            raise AssertionError(f"{_OP}: key's sequence and batch dims {ks[:-1]} do not match value's {vs[:-1]}")
        if ks[-1] != self.kdim or vs[-1] != self.vdim:
            raise RuntimeError(f"{_OP}: expected key and value with last dimensions {self.kdim} and {self.vdim}, "
                               f"got shapes {ks} and {vs}")
        if batched:
            bq = 0 if self.batch_first else 1
            if qs[bq] != ks[bq]:
                raise RuntimeError(f"{_OP}: query {qs} and key {ks} have different batch sizes")
        w = self.out_proj.weight
        for name, t in (('query', query), ('key', key), ('value', value)):
            if t._data.dtype != w._data.dtype or t.device is not w.device:
                raise RuntimeError(f"{_OP}: {name} ({t._data.dtype}, {t.device.value}) does not match the "
                                   f"parameters ({w._data.dtype}, {w.device.value})")
        return batched

    def _masks(self, key_padding_mask, attn_mask, B, L, S, like):
        """``(kpm, am)``: additive float arrays, kpm (B, S), am (L, S) or (B, heads, L, S); None if absent."""
        xp = backend.array_module(like)
        dt = like.dtype
        kpm = am = None
        if key_padding_mask is not None:
            m = _mask_array(key_padding_mask, 'key_padding_mask', xp)
            if attn_mask is not None:
                other = _mask_array(attn_mask, 'attn_mask', xp)
                if (m.dtype == np.bool_) != (other.dtype == np.bool_) or (m.dtype != other.dtype):
                    warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                                  "Use same type for both instead.", stacklevel=4)
            if m.ndim == 1:
                m = m[None]
            if m.shape[0] != B:
                raise AssertionError(f"{_OP}: expected key_padded_mask.shape[0] to be {B}, but got {m.shape[0]}")
            if m.shape[1] != S:
                raise AssertionError(f"{_OP}: expected key_padded_mask.shape[1] to be {S}, but got {m.shape[1]}")
            kpm = _additive(m, dt, xp)
        if attn_mask is not None:
            m = _mask_array(attn_mask, 'attn_mask', xp)
            if m.ndim == 2:
                if tuple(m.shape) != (L, S):
                    raise RuntimeError(f"{_OP}: the shape of the 2D attn_mask is {tuple(m.shape)}, but should be "
                                       f"{(L, S)}.")
            else:
                want = (B * self.num_heads, L, S)
                if tuple(m.shape) != want:
                    raise RuntimeError(f"{_OP}: the shape of the 3D attn_mask is {tuple(m.shape)}, but should be "
                                       f"{want}.")
                m = m.reshape(B, self.num_heads, L, S)
            am = _additive(m, dt, xp)
        for m in (kpm, am):
            if m is not None and backend.device_of(m) is not backend.device_of(like):
                raise RuntimeError(f"{_OP}: mask on {backend.device_of(m).value}, inputs on "
                                   f"{backend.device_of(like).value}")
        return kpm, am

    # ------------------------------------------------------------------ forward
    def _project(self, query, key, value):
        """The q, k, v input projections of (B, T, *) inputs (one GEMM for self-attention)."""
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if not self._qkv_same_embed_dim:
            return (linear(query, self.q_proj_weight, bq), linear(key, self.k_proj_weight, bk),
                    linear(value, self.v_proj_weight, bv))
        w = self.in_proj_weight
        if query is key and key is value:
            qkv = linear(query, w, b)
            return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        q = linear(query, w[:E], bq)
        if key is value:
            kv = linear(key, w[E:], None if b is None else b[E:])
            return q, kv[..., :E], kv[..., E:]
        return q, linear(key, w[E:2 * E], bk), linear(value, w[2 * E:], bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """``(attn_output, attn_weights)`` as PyTorch; weights are None unless ``need_weights``
        (averaged over heads unless ``average_attn_weights=False``). ``is_causal`` is a hint
        that ``attn_mask`` (then required) is the causal mask."""
        batched = self._check(query, key, value, key_padding_mask, attn_mask)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = self._to_batch_first(query, key, value)
        B, L, _ = query._data.shape
        S = key._data.shape[1]
        kpm, am = self._masks(key_padding_mask, attn_mask, B, L, S, query._data)
        causal = is_causal and kpm is None and not need_weights
        if causal:
            am = None
        xp = backend.array_module(query._data)
        H, D = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(B, 1, self.embed_dim)], 1)
            v = cat([v, self.bias_v.expand(B, 1, self.embed_dim)], 1)
            am = None if am is None else _pad_last(am, xp)
            kpm = None if kpm is None else _pad_last(kpm, xp)
        q = q.reshape(B, L, H, D).transpose(1, 2)
        k = k.reshape(B, -1, H, D).transpose(1, 2)
        v = v.reshape(B, -1, H, D).transpose(1, 2)
        if self.add_zero_attn:
            zeros = Tensor._wrap(xp.zeros((B, H, 1, D), dtype=q._data.dtype))
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
            am = None if am is None else _pad_last(am, xp)
            kpm = None if kpm is None else _pad_last(kpm, xp)
        mask = am
        if kpm is not None:
            kpm = kpm[:, None, None, :]
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = (q * math.sqrt(1.0 / D)).matmul(k.transpose(-1, -2))
            if mask is not None:
                scores = scores + Tensor._wrap(mask)
            weights = softmax(scores, -1)
            if p > 0:
                weights = _dropout(weights, p, training=True)
            att = weights.matmul(v)
            if average_attn_weights:
                weights = weights.mean(1)
            if not batched:
                weights = weights.squeeze(0)
        else:
            att = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal)
        out = linear(att.transpose(1, 2).reshape(B, L, self.embed_dim), self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    @staticmethod
    def _to_batch_first(query, key, value):
        """(T, B, E) -> (B, T, E), keeping ``query is key is value`` identities (one GEMM for self-attention)."""
        q = query.transpose(0, 1)
        k = q if key is query else key.transpose(0, 1)
        v = k if value is key else (q if value is query else value.transpose(0, 1))
        return q, k, v

