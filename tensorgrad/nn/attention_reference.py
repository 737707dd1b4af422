"""The reference's ``MultiheadAttention`` (``spec/tensorgrad-DOCS.md``): what the
documented call ``nn.MultiheadAttention(embed_dim, num_heads)`` builds. Batch
first, ``forward(q, k, v, attn_mask=None)`` returns a Tensor, separate
``q_weight``/``k_weight``/``v_weight``/``o_weight`` parameters (state-dict keys
too); weights copy from torch with ``init_from_torch``."""
import math

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..ops.activations import dropout as _dropout
from ..ops.attention import scaled_dot_product_attention
from ..ops.linear import linear
from ..ops.softmax import softmax
from ..random import generator
from .attention import MultiheadAttention
from .module import Module, Parameter, copy_from_torch

_OP = 'MultiheadAttention'


def _uniform(shape, bound):
    return Parameter(generator().uniform(-bound, bound, size=shape).astype(np.float32))


class ReferenceMultiheadAttention(MultiheadAttention):
    """Multi-head attention of *Attention Is All You Need*, batch first:
    ``forward(q, k, v, attn_mask=None)`` with q (B, T_q, E), k (B, T_k, kdim),
    v (B, T_k, vdim) returns (B, T_q, E). A bool ``attn_mask`` of shape
    (B, T_q, T_k) or (T_q, T_k) is True where a position is NOT attended.

    Parameters: ``q_weight``, ``k_weight``, ``v_weight``, ``o_weight``
    ((embed_dim, embed_dim); k/v: (embed_dim, kdim/vdim)) and, with
    ``bias=True``, ``q_bias``, ``k_bias``, ``v_bias``, ``o_bias``. ``dropout``
    applies to the attention weights in training mode.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=False, kdim=None, vdim=None, batch_first=True,
                 device=None, dtype=None):
        Module.__init__(self)
        for name, val in (('embed_dim', embed_dim), ('num_heads', num_heads)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"{_OP}: {name} must be a positive integer, got {val!r}")
        if embed_dim % num_heads:
            raise ValueError(f"{_OP}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{_OP}: dropout must be a number in [0, 1], got {dropout!r}")
        self.embed_dim = int(embed_dim)
        self.num_heads = int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        E = self.embed_dim
        # PyTorch's init: xavier-uniform over the packed (3E, E) in-projection (or each
        # separate projection when kdim/vdim differ), kaiming-uniform output projection
        same = self.kdim == E and self.vdim == E
        self.q_weight = _uniform((E, E), math.sqrt(6.0 / (4 * E)) if same else math.sqrt(3.0 / E))
        self.k_weight = _uniform((E, self.kdim), math.sqrt(6.0 / (4 * E)) if same else math.sqrt(6.0 / (E + self.kdim)))
        self.v_weight = _uniform((E, self.vdim), math.sqrt(6.0 / (4 * E)) if same else math.sqrt(6.0 / (E + self.vdim)))
        self.o_weight = _uniform((E, E), 1.0 / math.sqrt(E))
        if bias:
            for name in ('q_bias', 'k_bias', 'v_bias', 'o_bias'):
                setattr(self, name, Parameter(np.zeros((E,), dtype=np.float32)))
        else:
            self.q_bias = self.k_bias = self.v_bias = self.o_bias = None
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    @property
    def bias(self):
        """Whether the projections have biases."""
        return self.q_bias is not None

    # ------------------------------------------------------------------ validation
    def _check_inputs(self, q, k, v):
        for name, t, d in (('query', q, self.embed_dim), ('key', k, self.kdim), ('value', v, self.vdim)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{_OP}: {name} must be a Tensor, got {type(t).__name__}")
            if t._data.ndim != 3:
                raise ValueError(f"{_OP}: expected a 3-D {name} (batch, seq, {d}), got shape {tuple(t._data.shape)}")
            if t._data.shape[-1] != d:
                raise ValueError(f"{_OP}: expected {name} with last dimension {d}, got shape {tuple(t._data.shape)}")
            w = self.q_weight
            if t._data.dtype != w._data.dtype or t.device is not w.device:
                raise TypeError(f"{_OP}: {name} ({t._data.dtype}, {t.device.value}) does not match the parameters "
                                f"({w._data.dtype}, {w.device.value})")
        bq = 0 if self.batch_first else 1
        if q._data.shape[bq] != k._data.shape[bq] or k._data.shape[:2] != v._data.shape[:2]:
            raise ValueError(f"{_OP}: query {tuple(q._data.shape)}, key {tuple(k._data.shape)} and value "
                             f"{tuple(v._data.shape)} must share the batch size, key and value the length")

    def _mask(self, attn_mask, key_padding_mask, B, Tq, Tk, like):
        """One mask for the (B, heads, T_q, T_k) scores: bool (True = attend) or an
        additive float array; None when nothing is masked."""
        xp = backend.array_module(like)
        dt = like.dtype
        masks = []
        if attn_mask is not None:
            m = attn_mask._data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
            shape = tuple(m.shape)
            if shape == (Tq, Tk):
                pass
            elif shape == (B, Tq, Tk):
                m = m[:, None]
            elif shape == (B * self.num_heads, Tq, Tk):
                m = m.reshape(B, self.num_heads, Tq, Tk)
            else:
                raise ValueError(f"{_OP}: attn_mask of shape {shape} must be ({Tq}, {Tk}) or ({B}, {Tq}, {Tk}) "
                                 f"for query length {Tq}, key length {Tk} and batch {B}")
            masks.append(m)
        if key_padding_mask is not None:
            m = key_padding_mask._data if isinstance(key_padding_mask, Tensor) else xp.asarray(key_padding_mask)
            if tuple(m.shape) != (B, Tk):
                raise ValueError(f"{_OP}: key_padding_mask of shape {tuple(m.shape)} must be ({B}, {Tk})")
            masks.append(m[:, None, None, :])
        for m in masks:
            if m.dtype != np.bool_ and m.dtype.kind != 'f':
                raise TypeError(f"{_OP}: masks must be bool or floating, got dtype {m.dtype}")
            if backend.device_of(m) is not backend.device_of(like):
                raise RuntimeError(f"{_OP}: mask on {backend.device_of(m).value}, inputs on "
                                   f"{backend.device_of(like).value}")
        if not masks:
            return None
        if all(m.dtype == np.bool_ for m in masks):
            blocked = masks[0] if len(masks) == 1 else masks[0] | masks[1]
            return ~blocked
        total = 0
        for m in masks:
            total = total + (xp.where(m, dt.type(-np.inf), dt.type(0)) if m.dtype == np.bool_ else m.astype(dt))
        return total

    # ------------------------------------------------------------------ forward
    def _heads(self, x, B, T):
        """(B, T, E) -> (B, heads, T, head_dim)."""
        return x.reshape(B, T, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, query, key, value, attn_mask=None, key_padding_mask=None, need_weights=False,
                average_attn_weights=True, is_causal=False):
        """Attention output (B, T_q, E). ``attn_mask``: bool (T_q, T_k) or (B, T_q, T_k), True =
        not attended (a float mask is added to the scores; PyTorch's (B * heads, T_q, T_k) layout
        is accepted too); ``key_padding_mask``: (B, T_k), True = ignore that key; ``is_causal``
        without a mask masks future positions. With ``need_weights=True`` returns
        ``(output, weights)`` as PyTorch (weights averaged over heads unless
        ``average_attn_weights=False``)."""
        self._check_inputs(query, key, value)
        if not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        B, Tq, _ = query._data.shape
        Tk = key._data.shape[1]
        mask = self._mask(attn_mask, key_padding_mask, B, Tq, Tk, query._data)
        if mask is None and is_causal:
            xp = backend.array_module(query._data)
            mask = xp.tril(xp.ones((Tq, Tk), dtype=bool))
        q = self._heads(linear(query, self.q_weight, self.q_bias), B, Tq)
        k = self._heads(linear(key, self.k_weight, self.k_bias), B, Tk)
        v = self._heads(linear(value, self.v_weight, self.v_bias), B, Tk)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = q.matmul(k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
            if mask is not None:
                if mask.dtype == np.bool_:
                    scores = scores.masked_fill(Tensor._wrap(~mask), float('-inf'))
                else:
                    scores = scores + Tensor._wrap(mask)
            weights = softmax(scores, -1)
            if p > 0:
                weights = _dropout(weights, p, training=True)
            att = weights.matmul(v)
        else:
            att = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        out = linear(att.transpose(1, 2).reshape(B, Tq, self.embed_dim), self.o_weight, self.o_bias)
        if not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out
        return out, (weights.mean(1) if average_attn_weights else weights)

    # ------------------------------------------------------------------ torch interop
    def init_from_torch(self, torch_module):
        """Copy the weights of a ``torch.nn.MultiheadAttention`` with the same embed_dim,
        num_heads, kdim, vdim and bias setting (its packed ``in_proj_weight`` is split into
        q/k/v), and its dropout and training mode; returns self. ``batch_first`` stays this
        module's own (the contract is batch first)."""
        for attr in ('embed_dim', 'num_heads', 'kdim', 'vdim'):
            if getattr(torch_module, attr, None) != getattr(self, attr):
                raise ValueError(f"{_OP}.init_from_torch: {attr} differs: {getattr(self, attr)!r} here, "
                                 f"{getattr(torch_module, attr, None)!r} in the torch module")
        if getattr(torch_module, 'bias_k', None) is not None or getattr(torch_module, 'add_zero_attn', False):
            raise ValueError(f"{_OP}.init_from_torch: add_bias_kv and add_zero_attn are not supported")
        torch_bias = torch_module.in_proj_bias is not None
        if torch_bias != self.bias:
            raise ValueError(f"{_OP}.init_from_torch: bias={self.bias} here but the torch module has "
                             f"bias={torch_bias}")
        E = self.embed_dim
        if torch_module.in_proj_weight is not None:
            w = torch_module.in_proj_weight
            sources = [w[:E], w[E:2 * E], w[2 * E:]]
        else:
            sources = [torch_module.q_proj_weight, torch_module.k_proj_weight, torch_module.v_proj_weight]
        pairs = list(zip((self.q_weight, self.k_weight, self.v_weight), sources))
        pairs.append((self.o_weight, torch_module.out_proj.weight))
        if self.bias:
            b = torch_module.in_proj_bias
            pairs += [(self.q_bias, b[:E]), (self.k_bias, b[E:2 * E]), (self.v_bias, b[2 * E:]),
                      (self.o_bias, torch_module.out_proj.bias)]
        for mine, theirs in pairs:  # validate every shape before copying anything
            if tuple(theirs.shape) != tuple(mine._data.shape):
                raise ValueError(f"{_OP}.init_from_torch: torch tensor of shape {tuple(theirs.shape)} does not "
                                 f"match {tuple(mine._data.shape)}")
        for mine, theirs in pairs:
            copy_from_torch(mine, theirs, _OP)
        self.dropout = float(torch_module.dropout)
        self.train(bool(torch_module.training))
        return self

    def extra_repr(self):
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bias:
            s += ", bias=True"
        if self.kdim != self.embed_dim or self.vdim != self.embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        if not self.batch_first:
            s += ", batch_first=False"
        return s

    def _get_name(self):
        return 'MultiheadAttention'
