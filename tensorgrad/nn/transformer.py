"""PyTorch's Transformer family: ``TransformerEncoderLayer``, ``TransformerEncoder``,
``TransformerDecoderLayer``, ``TransformerDecoder`` and ``Transformer``, with
PyTorch's arguments, sub-module names (so a torch model's ``state_dict()`` loads
key for key) and post-/pre-norm (``norm_first``) residual blocks."""
import copy
import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor
from . import functional as F
from . import init
from .attention import MultiheadAttention
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def _get_activation_fn(activation):
    """'relu' / 'gelu' as the functional forms; a callable (function or Module) as given."""
    if activation == 'relu':
        return F.relu
    if activation == 'gelu':
        return F.gelu
    if callable(activation):
        return activation
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _relu_or_gelu(activation):
    """PyTorch's ``activation_relu_or_gelu`` flag: 1 for ReLU, 2 for GELU, else 0."""
    if activation is F.relu or activation == 'relu' or type(activation).__name__ == 'ReLU':
        return 1
    if activation is F.gelu or activation == 'gelu' or type(activation).__name__ == 'GELU':
        return 2
    return 0


def _get_clones(module, n):
    """``n`` independent deep copies of ``module`` in a ModuleList."""
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _seq_len(src, batch_first):
    shape = src._data.shape
    if len(shape) == 2:  # unbatched (S, E)
        return shape[0]
    return shape[1 if batch_first else 0]


def _square_subsequent(sz, dtype=None, like=None):
    """(sz, sz) float array: -inf above the diagonal, 0 elsewhere."""
    xp = backend.array_module(like) if like is not None else np
    dt = np.dtype(np.float32 if dtype is None else dtype)
    return xp.triu(xp.full((sz, sz), -np.inf, dtype=dt), 1)


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """PyTorch's rule: an explicit ``is_causal`` wins; else a mask equal to the square
    subsequent mask (float -inf above the diagonal, or bool True there) counts as causal."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        sz = size if size is not None else m.shape[-2]
        if m.shape == (sz, sz):
            if m.dtype == np.bool_:
                ref = backend.array_module(m).triu(backend.array_module(m).ones((sz, sz), dtype=bool), 1)
            else:
                ref = _square_subsequent(sz, m.dtype, m)
            make_causal = bool((m == ref).all())
    return make_causal


def _check_mask_dtype(mask, name):
    if mask is None:
        return
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_ and m.dtype.kind != 'f':
        raise AssertionError(f"only bool and floating types of {name} are supported, got {m.dtype}")


def _mismatch_warning(a, a_name, b, b_name):
    """PyTorch's deprecation warning for a bool mask next to a float one (or different floats)."""
    if a is None or b is None:
        return
    da = (a._data if isinstance(a, Tensor) else np.asarray(a)).dtype
    db = (b._data if isinstance(b, Tensor) else np.asarray(b)).dtype
    if da != db:
        warnings.warn(f"Support for mismatched {a_name} and {b_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)


class TransformerEncoderLayer(Module):
    """Self-attention then feed-forward, each in a residual block with LayerNorm (after the
    residual sum, or before the block with ``norm_first=True``), as PyTorch's
    ``nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation=relu, layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
    device=None, dtype=None)``."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation_relu_or_gelu = _relu_or_gelu(activation)
        self.activation = _get_activation_fn(activation)
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src`` (S, N, E), (N, S, E) with ``batch_first``, or unbatched (S, E); ``src_mask``
        (S, S) or (N * nhead, S, S), ``src_key_padding_mask`` (N, S): bool (True = masked) or
        float (added). ``is_causal`` hints that ``src_mask`` is the causal mask."""
        _check_mask_dtype(src_key_padding_mask, 'src_key_padding_mask')
        _check_mask_dtype(src_mask, 'src_mask')
        _mismatch_warning(src_key_padding_mask, 'src_key_padding_mask', src_mask, 'src_mask')
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, cross-attention over ``memory``, then feed-forward, each in a residual
    block with LayerNorm (``norm_first`` for pre-norm), as PyTorch's
    ``nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation=relu, layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
    device=None, dtype=None)``."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation)
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """``tgt`` (T, N, E) and ``memory`` (S, N, E) (batch first with ``batch_first``, or
        unbatched); masks as in ``TransformerEncoderLayer`` (``tgt_mask`` (T, T), ``memory_mask``
        (T, S))."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (``layers.0``, ``layers.1``
    ...) and an optional final ``norm``, as PyTorch's ``nn.TransformerEncoder(encoder_layer,
    num_layers, norm=None, enable_nested_tensor=True, mask_check=True)``. Nested tensors do not
    exist here: ``enable_nested_tensor`` only reproduces PyTorch's warnings."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = self._why_not_sparsity_fast_path(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}",
                          stacklevel=2)
            self.use_nested_tensor = False

    @staticmethod
    def _why_not_sparsity_fast_path(layer):
        """PyTorch's reasons for not using nested tensors (only the warning is reproduced)."""
        prefix = 'encoder_layer'
        if not isinstance(layer, TransformerEncoderLayer):
            return f"{prefix} was not TransformerEncoderLayer"
        if layer.norm_first:
            return f"{prefix}.norm_first was True"
        if not layer.self_attn.batch_first:
            return f"{prefix}.self_attn.batch_first was not True(use batch_first for better inference performance)"
        if not layer.self_attn._qkv_same_embed_dim:
            return f"{prefix}.self_attn._qkv_same_embed_dim was not True"
        if layer.self_attn.in_proj_bias is None:
            return f"{prefix}.self_attn was passed bias=False"
        if not layer.activation_relu_or_gelu:
            return f"{prefix}.activation_relu_or_gelu was not True"
        if layer.norm1.eps != layer.norm2.eps:
            return f"{prefix}.norm1.eps was not equal to {prefix}.norm2.eps"
        if layer.self_attn.num_heads % 2 == 1:
            return f"{prefix}.self_attn.num_heads is odd"
        return ''

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run ``src`` through every layer, then ``norm``. ``is_causal=None`` detects a causal
        ``mask`` (equal to ``Transformer.generate_square_subsequent_mask``) as PyTorch."""
        _check_mask_dtype(src_key_padding_mask, 'src_key_padding_mask')
        _check_mask_dtype(mask, 'mask')
        _mismatch_warning(src_key_padding_mask, 'src_key_padding_mask', mask, 'mask')
        first = self.layers[0] if len(self.layers) else None
        batch_first = bool(getattr(getattr(first, 'self_attn', None), 'batch_first', False))
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer`` and an optional final
    ``norm``, as PyTorch's ``nn.TransformerDecoder(decoder_layer, num_layers, norm=None)``."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: decoder_layer must be a Module, got {type(decoder_layer).__name__}")
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run ``tgt`` through every layer (each attending to ``memory``), then ``norm``;
        ``tgt_is_causal=None`` detects a causal ``tgt_mask``."""
        first = self.layers[0] if len(self.layers) else None
        batch_first = bool(getattr(getattr(first, 'self_attn', None), 'batch_first', False))
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """Encoder-decoder Transformer of *Attention Is All You Need*, as PyTorch's
    ``nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation=relu, custom_encoder=None,
    custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
    device=None, dtype=None)``; matrices are xavier-uniform initialised."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode ``src`` (S, N, E) into memory and decode ``tgt`` (T, N, E) against it
        (batch first with ``batch_first``; unbatched (S, E) / (T, E) too); returns (T, N, E)."""
        for name, t in (('src', src), ('tgt', tgt)):
            if not isinstance(t, Tensor):
                raise TypeError(f"Transformer: {name} must be a Tensor, got {type(t).__name__}")
        ss, ts = tuple(src._data.shape), tuple(tgt._data.shape)
        is_batched = len(ss) == 3
        if not self.batch_first and is_batched and ss[1] != ts[1]:
            raise RuntimeError(f"the batch number of src and tgt must be equal (src {ss}, tgt {ts})")
        if self.batch_first and is_batched and ss[0] != ts[0]:
            raise RuntimeError(f"the batch number of src and tgt must be equal (src {ss}, tgt {ts})")
        if ss[-1] != self.d_model or ts[-1] != self.d_model:
            raise RuntimeError(f"the feature number of src and tgt must be equal to d_model ({self.d_model}), got "
                               f"src {ss} and tgt {ts}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: ``-inf`` above the diagonal (future positions), 0 elsewhere."""
        from ..dtypes import to_device, to_numpy_dtype
        arr = _square_subsequent(int(sz), to_numpy_dtype(dtype) if dtype is not None else None)
        if device is not None:
            arr = backend.move(arr, to_device(device))
        return Tensor._wrap(arr)

    def _reset_parameters(self):
        """Xavier-uniform on every parameter with more than one dimension (PyTorch's init)."""
        for p in self.parameters():
            if p._data.ndim > 1:
                init.xavier_uniform_(p)
