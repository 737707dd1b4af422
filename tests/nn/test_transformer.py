"""Transformer family against torch.nn from the same weights (``load_state_dict(torch
model.state_dict())``): state-dict keys equal to PyTorch's, forward and every gradient
under a non-uniform upstream gradient, float32 and float64, post/pre-norm,
batch_first, masks (bool, float, causal, key padding), unbatched inputs, errors."""
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn
from helpers import assert_close

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}
TDT = {np.float32: torch.float32, np.float64: torch.float64}


def _rng(seed=0):
    return np.random.default_rng(seed)


def _load(tm, m, dtype, device='cpu'):
    """torch module -> tensorgrad twin with the same weights (biases randomised in torch first)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in tm.named_parameters():
            if p.dim() == 1:  # torch starts biases at zero / LayerNorm at ones: make them count
                p.add_(torch.randn_like(p) * 0.1)
    tm = tm.to(TDT[dtype])
    with torch.no_grad():  # float64 values a float32 copy would round
        for p in tm.parameters():
            p.add_(torch.randn_like(p) * 1e-3)
    assert list(m.state_dict()) == list(tm.state_dict())
    m.to(device=device, dtype=dtype)
    m.load_state_dict(tm.state_dict())
    tm.eval()
    m.eval()
    return tm, m


def _run(m, tm, arrays, kwargs_tg, kwargs_t, dtype, device='cpu', seed=3):
    """Forward both, backward the same random upstream gradient; compare outputs, input and parameter grads."""
    tgs = [tg.tensor(a, device=device, requires_grad=True) for a in arrays]
    ths = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = m(*tgs, **kwargs_tg)
    ref = tm(*ths, **kwargs_t)
    tol = TOL[dtype]
    assert out.dtype == getattr(tg, np.dtype(dtype).name)
    assert_close(out, ref, what='forward', **tol)
    g = _rng(seed).uniform(-1.5, 1.5, size=tuple(ref.shape)).astype(dtype)
    (out * tg.tensor(g, device=device)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for i, (a, b) in enumerate(zip(tgs, ths)):
        assert_close(a.grad, b.grad, what=f'grad of input {i}', **tol)
    tp = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        assert p.grad is not None, name
        assert_close(p.grad, tp[name].grad, what=f'grad of {name}', **tol)
    return out


def _mask_pair(arr, device='cpu'):
    return tg.tensor(arr, device=device), torch.tensor(arr)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('norm_first', [False, True])
def test_encoder_layer(dtype, batch_first, norm_first, device):
    kw = dict(dim_feedforward=16, dropout=0.1, batch_first=batch_first, norm_first=norm_first)
    tm, m = _load(torch.nn.TransformerEncoderLayer(8, 2, **kw), nn.TransformerEncoderLayer(8, 2, **kw), dtype, device)
    x = _rng(1).standard_normal((3, 5, 8)).astype(dtype)
    if not batch_first:
        x = x.transpose(1, 0, 2)  # non-contiguous input
    kpm = np.zeros((3, 5), dtype=bool)
    kpm[1, 3:] = True
    a, b = _mask_pair(kpm, device)
    _run(m, tm, [x], dict(src_key_padding_mask=a), dict(src_key_padding_mask=b), dtype, device)


@pytest.mark.parametrize('activation', ['gelu', 'relu', 'callable'])
def test_encoder_layer_activations_and_no_bias(activation):
    act_t = torch.nn.functional.silu if activation == 'callable' else activation
    act_g = tg.nn.functional.silu if activation == 'callable' else activation
    tm, m = _load(torch.nn.TransformerEncoderLayer(8, 4, 12, activation=act_t, bias=False, layer_norm_eps=1e-3),
                  nn.TransformerEncoderLayer(8, 4, 12, activation=act_g, bias=False, layer_norm_eps=1e-3), np.float64)
    assert 'linear1.bias' not in m.state_dict() and 'norm1.bias' not in m.state_dict()
    x = _rng(2).standard_normal((4, 2, 8))
    mask = _rng(3).random((4, 4)) < 0.3
    np.fill_diagonal(mask, False)
    a, b = _mask_pair(mask)
    _run(m, tm, [x], dict(src_mask=a), dict(src_mask=b), np.float64)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('norm_first', [False, True])
def test_encoder_stack_with_norm_and_causal_mask(dtype, norm_first):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first), 2,
                                         norm=torch.nn.LayerNorm(8))
        m = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first), 2,
                                  norm=nn.LayerNorm(8))
    assert [k for k in m.state_dict()][:2] == ['layers.0.self_attn.in_proj_weight', 'layers.0.self_attn.in_proj_bias']
    tm, m = _load(tm, m, dtype)
    assert m.layers[0].linear1.weight is not m.layers[1].linear1.weight  # deep copies
    x = _rng(4).standard_normal((6, 2, 8)).astype(dtype)
    a = nn.Transformer.generate_square_subsequent_mask(6, dtype=getattr(tg, np.dtype(dtype).name))
    b = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=TDT[dtype])
    _run(m, tm, [x], dict(mask=a), dict(mask=b), dtype)
    _run(m, tm, [x], dict(mask=a, is_causal=True), dict(mask=b, is_causal=True), dtype)


def test_float_padding_mask_and_unbatched():
    tm, m = _load(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                  nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), np.float64)
    x = _rng(5).standard_normal((5, 8))  # unbatched (S, E)
    fm = _rng(6).standard_normal((5, 5))
    a, b = _mask_pair(fm)
    _run(m, tm, [x], dict(src_mask=a), dict(src_mask=b), np.float64)
    kpm = np.array([0., 0., -np.inf, 0., -1.0])
    a, b = _mask_pair(kpm)
    _run(m, tm, [x], dict(src_key_padding_mask=a), dict(src_key_padding_mask=b), np.float64)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('norm_first', [False, True])
def test_decoder_layer(dtype, batch_first, norm_first, device):
    kw = dict(dim_feedforward=16, batch_first=batch_first, norm_first=norm_first)
    tm, m = _load(torch.nn.TransformerDecoderLayer(8, 2, **kw), nn.TransformerDecoderLayer(8, 2, **kw), dtype, device)
    tgt = _rng(7).standard_normal((2, 4, 8)).astype(dtype)
    mem = _rng(8).standard_normal((2, 6, 8)).astype(dtype)
    if not batch_first:
        tgt, mem = tgt.transpose(1, 0, 2), mem.transpose(1, 0, 2)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    mkpm = np.zeros((2, 6), dtype=bool)
    mkpm[0, 4:] = True
    (a, b), (c, d) = _mask_pair(causal, device), _mask_pair(mkpm, device)
    _run(m, tm, [tgt, mem], dict(tgt_mask=a, memory_key_padding_mask=c, tgt_is_causal=True),
         dict(tgt_mask=b, memory_key_padding_mask=d, tgt_is_causal=True), dtype, device)


def test_decoder_stack_memory_mask():
    tm = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 16), 2, norm=torch.nn.LayerNorm(8))
    m = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8))
    assert 'norm.weight' in m.state_dict() and 'layers.1.multihead_attn.out_proj.weight' in m.state_dict()
    tm, m = _load(tm, m, np.float64)
    tgt, mem = _rng(9).standard_normal((3, 2, 8)), _rng(10).standard_normal((5, 2, 8))
    mm = _rng(11).random((3, 5)) < 0.3
    mm[:, 0] = False
    tkpm = np.zeros((2, 3), dtype=bool)
    tkpm[1, 2] = True
    (a, b), (c, d) = _mask_pair(mm), _mask_pair(tkpm)
    _run(m, tm, [tgt, mem], dict(memory_mask=a, tgt_key_padding_mask=c), dict(memory_mask=b, tgt_key_padding_mask=d),
         np.float64)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('batch_first', [False, True])
def test_transformer(dtype, batch_first, device):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16,
              batch_first=batch_first)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        tm, m = _load(torch.nn.Transformer(**kw), nn.Transformer(**kw), dtype, device)
    src = _rng(12).standard_normal((2, 5, 8)).astype(dtype)
    tgt = _rng(13).standard_normal((2, 4, 8)).astype(dtype)
    if not batch_first:
        src, tgt = src.transpose(1, 0, 2), tgt.transpose(1, 0, 2)
    a = nn.Transformer.generate_square_subsequent_mask(4, device=device, dtype=getattr(tg, np.dtype(dtype).name))
    b = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=TDT[dtype])
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[0, -1] = True
    (c, d) = _mask_pair(kpm, device)
    _run(m, tm, [src, tgt], dict(tgt_mask=a, src_key_padding_mask=c, memory_key_padding_mask=c),
         dict(tgt_mask=b, src_key_padding_mask=d, memory_key_padding_mask=d), dtype, device)


def test_transformer_training_dropout_changes_output_and_eval_is_deterministic():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = nn.Transformer(8, 2, 1, 1, 16, dropout=0.5)
    src, tgt = tg.randn(4, 2, 8), tg.randn(3, 2, 8)
    tg.manual_seed(0)
    a = m(src, tgt).numpy()
    b = m(src, tgt).numpy()
    assert not np.allclose(a, b)
    m.eval()
    assert_close(m(src, tgt), m(src, tgt), rtol=0, atol=0)


def test_generate_square_subsequent_mask():
    a = nn.Transformer.generate_square_subsequent_mask(4)
    b = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert a.dtype == tg.float32 and not a.requires_grad
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(0).shape == (0, 0)


def test_default_init_and_repr_names():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = nn.Transformer(16, 4, 1, 1, 32)
        tm = torch.nn.Transformer(16, 4, 1, 1, 32)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [tuple(v.shape) for v in m.state_dict().values()] == [tuple(v.shape) for v in tm.state_dict().values()]
    w = m.encoder.layers[0].linear1.weight.numpy()
    bound = np.sqrt(6 / (16 + 32))  # xavier-uniform, as torch's Transformer._reset_parameters
    assert np.abs(w).max() <= bound and w.std() > bound / 3
    assert 'TransformerEncoderLayer(' in repr(m) and '(self_attn): MultiheadAttention(' in repr(m)


def test_warnings_as_torch():
    for bf in (False, True):
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter('always')
            nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=bf), 1)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter('always')
            torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=bf), 1)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


def test_errors():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match='batch number of src and tgt'):
        m(tg.zeros(4, 2, 8), tg.zeros(3, 3, 8))
    with pytest.raises(RuntimeError, match='feature number of src and tgt must be equal to d_model'):
        m(tg.zeros(4, 2, 8), tg.zeros(3, 2, 6))
    with pytest.raises(RuntimeError, match='activation should be relu/gelu, not tanh'):
        nn.TransformerEncoderLayer(8, 2, activation='tanh')
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(AssertionError, match='only bool and floating types of src_mask'):
        layer(tg.zeros(3, 2, 8), src_mask=tg.zeros(3, 3, dtype=tg.int64))
    with pytest.raises(RuntimeError, match=r'2D attn_mask is \(4, 4\), but should be \(3, 3\)'):
        layer(tg.zeros(3, 2, 8), src_mask=tg.zeros(4, 4))
    with pytest.raises(TypeError, match='encoder_layer must be a Module'):
        nn.TransformerEncoder('layer', 2)
