"""Fused scaled dot-product attention."""
import math

import numpy as np

from .. import backend
from . import kernels
from .._tensor import Tensor, track
from ..autograd.node import Node
from ._checks import _float_array, _same_device
from ._rowops import _scalar
from .activations import dropout_mask
from .softmax import _softmax_array, _softmax_backward


class AttentionBackward(Node):
    __slots__ = ()

    def backward(self, g):
        qs, k, v, a, pdrop, scale, keep = self.saved
        xp = backend.array_module(g)
        gq = gk = gv = gm = None
        if self.next[2] is not None:
            gv = xp.swapaxes(pdrop, -1, -2) @ g
        ga = g @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            ga *= keep
        gs = _softmax_backward(a, ga, a.ndim - 1)
        if self.next[3] is not None:
            gm = gs
        if self.next[0] is not None:
            gq = gs @ k
            gq *= scale
        if self.next[1] is not None:
            gk = xp.swapaxes(gs, -1, -2) @ qs  # qs = query * scale
        return gq, gk, gv, gm

    def backward_graph(self, g):
        # the attention weights recomputed from query, key (and a float mask) with tensor ops; the
        # additive mask is rebuilt as log(a) - q k^T (equal up to a per-row shift, which softmax ignores)
        from .softmax import softmax  # noqa: PLC0415
        qs, k, v, a, pdrop, scale, keep = self.saved
        xp = backend.array_module(a)
        s0 = qs @ xp.swapaxes(k, -1, -2)
        with np.errstate(divide='ignore', invalid='ignore'):
            m = xp.log(a) - s0
        q_t = self.input(0, qs / scale) * scale
        k_t, v_t = self.input(1, k), self.input(2, v)
        mask = self.next[3]
        m_t = (mask if mask is not None and not isinstance(mask, Node) else self.input(3, m))
        a_t = softmax(q_t @ k_t.transpose(-1, -2) + m_t, -1)
        p_t = a_t if keep is None else a_t * Tensor._wrap(keep)
        gq = gk = gv = gm = None
        if self.next[2] is not None:
            gv = p_t.transpose(-1, -2) @ g
        ga = g @ v_t.transpose(-1, -2)
        if keep is not None:
            ga = ga * Tensor._wrap(keep)
        gs = a_t * (ga - (ga * a_t).sum(-1, keepdim=True))
        if self.next[3] is not None:
            gm = gs
        if self.next[0] is not None:
            gq = (gs @ k_t) * scale
        if self.next[1] is not None:
            gk = gs.transpose(-1, -2) @ q_t
        return gq, gk, gv, gm


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims
    (leading dims are batch dims and broadcast), as PyTorch's
    ``F.scaled_dot_product_attention``: a bool ``attn_mask`` marks with True the
    positions that take part, a float one is added to the scores; ``is_causal``
    masks the upper triangle; ``scale`` defaults to 1/sqrt(E)."""
    op = 'scaled_dot_product_attention'
    qd = _float_array(op, query, 'query')
    kd = _float_array(op, key, 'key')
    vd = _float_array(op, value, 'value')
    _same_device(op, qd, kd, 'query', 'key')
    _same_device(op, qd, vd, 'query', 'value')
    if qd.ndim < 2 or kd.ndim < 2 or vd.ndim < 2:
        raise ValueError(f"{op}: query, key and value must be at least 2-D (..., L, E), got shapes "
                         f"{qd.shape}, {kd.shape}, {vd.shape}")
    if qd.shape[-1] != kd.shape[-1] or kd.shape[-2] != vd.shape[-2]:
        raise ValueError(f"{op}: query {qd.shape}, key {kd.shape} and value {vd.shape} do not match "
                         f"(query and key need the same last dim, key and value the same length)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
    xp = backend.array_module(qd)
    dt = qd.dtype
    L, S = qd.shape[-2], kd.shape[-2]
    sc = _scalar(1.0 / math.sqrt(qd.shape[-1]) if scale is None else scale, dt)
    qs = qd * sc  # scaling the (L, E) query is cheaper than the (L, S) scores
    s = qs @ xp.swapaxes(kd, -1, -2)
    mask_t = None
    add = None  # additive mask: 0 where attending, -inf elsewhere
    if attn_mask is not None:
        md = attn_mask._data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
        _same_device(op, qd, md, 'query', 'attn_mask')
        try:
            np.broadcast_shapes(md.shape, s.shape)
        except ValueError:
            raise ValueError(f"{op}: attn_mask of shape {md.shape} cannot be broadcast to the attention "
                             f"scores of shape {s.shape}") from None
        if md.dtype == np.bool_:
            add = xp.where(md, _scalar(0, dt), _scalar(-np.inf, dt))
        else:
            add = md.astype(dt, copy=False)
            if isinstance(attn_mask, Tensor):
                mask_t = attn_mask
    elif is_causal:
        add = xp.where(xp.tril(xp.ones((L, S), dtype=bool)), _scalar(0, dt), _scalar(-np.inf, dt))
    if add is not None:
        if np.broadcast_shapes(add.shape, s.shape) == s.shape:
            s += add
        else:
            s = s + add
    a = _softmax_array(s, -1, out=s)  # s is a fresh array: normalised in place
    keep = None
    pdrop = a
    if dropout_p > 0:
        keep = dropout_mask(a.shape, dropout_p, dt, xp)
        pdrop = a * keep
    out = pdrop @ vd
    # saved arrays that alias inputs: key (for the query's gradient) and value (for the scores'
    # gradient, needed by query, key and a float mask); qs, a and pdrop are fresh arrays
    scores_need = query._rg or key._rg or (mask_t is not None and mask_t._rg)
    return track(out, AttentionBackward, (query, key, value, mask_t), (qs, kd, vd, a, pdrop, sc, keep),
                 check=(key,) * query._rg + (value,) * scores_need)


# the attention kernel uses the compiled softmax too, when that backend is on
kernels.hook(globals(), '_softmax_array', 'softmax.softmax_array')
kernels.hook(globals(), '_softmax_backward', 'softmax.softmax_backward')

EXPORTS = ('scaled_dot_product_attention',)
