"""nn.MultiheadAttention built with PyTorch's arguments against torch.nn.MultiheadAttention
from the same state_dict: forward, attention weights and every gradient (non-uniform
upstream gradient), float32/float64, batch_first both ways, self/cross attention,
bool/float 2-D/3-D masks, key padding, kdim/vdim, add_bias_kv, add_zero_attn,
unbatched inputs, is_causal, dropout, PyTorch's errors."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn
from helpers import assert_close

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}
TDT = {np.float32: torch.float32, np.float64: torch.float64}


def _rng(seed):
    return np.random.default_rng(seed)


def _pair(E, H, dtype=np.float32, device='cpu', **kw):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, **kw).to(TDT[dtype])
    with torch.no_grad():
        for name, p in tm.named_parameters():
            if 'bias' in name:  # torch starts biases at zero: make them count
                p.normal_()
    m = nn.MultiheadAttention(E, H, **kw)
    assert type(m) is nn.MultiheadAttention
    assert list(m.state_dict()) == list(tm.state_dict())
    m.to(device=device, dtype=dtype)
    m.load_state_dict(tm.state_dict())
    return m, tm


def _run(m, tm, arrays, share=None, dtype=np.float32, device='cpu', masks=None, seed=1, **kw):
    """Forward both (``share``: 'qkv' = one tensor for all three, 'kv' = key is value), backward
    one random upstream gradient through output (and weights), compare everything."""
    masks = masks or {}
    tgs = [tg.tensor(a, device=device, requires_grad=True) for a in arrays]
    ths = [torch.tensor(a, requires_grad=True) for a in arrays]
    if share == 'qkv':
        tgs, ths = tgs * 3, ths * 3
    elif share == 'kv':
        tgs, ths = tgs + tgs[1:], ths + ths[1:]
    mk_g = {k: tg.tensor(v, device=device) for k, v in masks.items()}
    mk_t = {k: torch.tensor(v) for k, v in masks.items()}
    out, w = m(*tgs, **mk_g, **kw)
    ref, wref = tm(*ths, **mk_t, **kw)
    tol = TOL[dtype]
    assert out.dtype == getattr(tg, np.dtype(dtype).name)
    assert_close(out, ref, what='forward', **tol)
    rng = _rng(seed)
    go = rng.uniform(-1.5, 1.5, ref.shape).astype(dtype)
    loss_g = (out * tg.tensor(go, device=device)).sum()
    loss_t = (ref * torch.tensor(go)).sum()
    if wref is None:
        assert w is None
    else:
        assert_close(w, wref, what='weights', **tol)
        gw = rng.uniform(-1.5, 1.5, wref.shape).astype(dtype)
        loss_g = loss_g + (w * tg.tensor(gw, device=device)).sum()
        loss_t = loss_t + (wref * torch.tensor(gw)).sum()
    loss_g.backward()
    loss_t.backward()
    n = {'qkv': 1, 'kv': 2}.get(share, 3)
    for i in range(n):
        assert_close(tgs[i].grad, ths[i].grad, what=f'grad of input {i}', **tol)
    tp = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.dtype == p.dtype, name
        assert_close(p.grad, tp[name].grad, what=f'grad of {name}', **tol)
    return out, w


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('share', ['qkv', 'kv', None])
def test_matches_torch(dtype, batch_first, share, device):
    m, tm = _pair(8, 2, dtype, device, batch_first=batch_first)
    r = _rng(2)
    shapes = [(3, 4, 8), (3, 6, 8), (3, 6, 8)] if batch_first else [(4, 3, 8), (6, 3, 8), (6, 3, 8)]
    arrays = [r.standard_normal(s).astype(dtype) for s in shapes][:{'qkv': 1, 'kv': 2}.get(share, 3)]
    if share == 'qkv':
        arrays = [arrays[0][:, :3] if batch_first else arrays[0]]
    _run(m, tm, arrays, share, dtype, device)
    m.zero_grad()
    tm.zero_grad()
    _run(m, tm, arrays, share, dtype, device, need_weights=False)


@pytest.mark.parametrize('average', [True, False])
def test_attention_weights_per_head(average):
    m, tm = _pair(12, 3, np.float64, batch_first=True)
    x = _rng(3).standard_normal((2, 5, 12))
    _, w = _run(m, tm, [x], 'qkv', np.float64, average_attn_weights=average)
    assert w.shape == ((2, 5, 5) if average else (2, 3, 5, 5))


@pytest.mark.parametrize('kind', ['bool2d', 'float2d', 'bool3d', 'float3d'])
@pytest.mark.parametrize('need_weights', [True, False])
def test_attn_masks(kind, need_weights):
    H, B, L, S = 2, 3, 4, 5
    m, tm = _pair(8, H, np.float64, batch_first=False)  # any PyTorch argument gives PyTorch's module
    r = _rng(4)
    shape = (L, S) if kind.endswith('2d') else (B * H, L, S)
    if kind.startswith('bool'):
        mask = r.random(shape) < 0.4
        mask[..., 0] = False
    else:
        mask = r.standard_normal(shape)
    q, k, v = r.standard_normal((L, B, 8)), r.standard_normal((S, B, 8)), r.standard_normal((S, B, 8))
    _run(m, tm, [q, k, v], None, np.float64, masks=dict(attn_mask=mask), need_weights=need_weights)


@pytest.mark.parametrize('float_kpm', [False, True])
def test_key_padding_with_attn_mask(float_kpm):
    m, tm = _pair(8, 2, np.float64, batch_first=True)
    r = _rng(5)
    kpm = np.zeros((2, 6), dtype=bool)
    kpm[1, 4:] = True
    if float_kpm:
        kpm = np.where(kpm, -np.inf, r.standard_normal(kpm.shape))
    am = np.triu(np.ones((6, 6), dtype=bool), 1)
    masks = dict(key_padding_mask=kpm, attn_mask=am.astype(np.float64) * -1e9 if float_kpm else am)
    x = r.standard_normal((2, 6, 8))
    _run(m, tm, [x], 'qkv', np.float64, masks=masks)


def test_mismatched_mask_types_warn_as_torch():
    m, tm = _pair(8, 2, np.float64, bias=True)
    x = tg.randn(3, 2, 8, dtype=tg.float64)
    kpm = np.zeros((2, 3), dtype=bool)
    with pytest.warns(UserWarning, match='mismatched key_padding_mask and attn_mask'):
        m(x, x, x, key_padding_mask=tg.tensor(kpm), attn_mask=tg.zeros(3, 3, dtype=tg.float64))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_kdim_vdim_separate_projections(dtype, device):
    m, tm = _pair(8, 2, dtype, device, kdim=5, vdim=3)
    assert [n for n, _ in m.named_parameters()] == ['q_proj_weight', 'k_proj_weight', 'v_proj_weight',
                                                     'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    assert m.in_proj_weight is None
    r = _rng(6)
    arrays = [r.standard_normal(s).astype(dtype) for s in ((4, 2, 8), (7, 2, 5), (7, 2, 3))]
    _run(m, tm, arrays, None, dtype, device)


@pytest.mark.parametrize('add_bias_kv,add_zero_attn', [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize('need_weights', [True, False])
def test_bias_kv_and_zero_attn(add_bias_kv, add_zero_attn, need_weights):
    m, tm = _pair(8, 2, np.float64, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn)
    if add_bias_kv:
        assert list(m.state_dict())[2:4] == ['bias_k', 'bias_v'] and m.bias_k.shape == (1, 1, 8)
    r = _rng(7)
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[0, 3:] = True
    am = r.random((4, 5)) < 0.3
    am[:, 0] = False
    arrays = [r.standard_normal(s) for s in ((4, 2, 8), (5, 2, 8), (5, 2, 8))]
    _run(m, tm, arrays, None, np.float64, masks=dict(key_padding_mask=kpm, attn_mask=am), need_weights=need_weights)


def test_unbatched():
    m, tm = _pair(8, 2, np.float64, batch_first=True)
    r = _rng(8)
    kpm = np.array([False, False, True, False, False])
    am3 = r.random((2, 3, 5)) < 0.3  # (num_heads, L, S) for unbatched
    am3[..., 0] = False
    out, w = _run(m, tm, [r.standard_normal((3, 8)), r.standard_normal((5, 8)), r.standard_normal((5, 8))], None,
                  np.float64, masks=dict(key_padding_mask=kpm, attn_mask=am3))
    assert out.shape == (3, 8) and w.shape == (3, 5)


def test_no_bias_and_is_causal():
    m, tm = _pair(8, 2, np.float64, bias=False)
    assert list(m.state_dict()) == ['in_proj_weight', 'out_proj.weight']
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    x = _rng(9).standard_normal((5, 2, 8))
    _run(m, tm, [x], 'qkv', np.float64, masks=dict(attn_mask=causal), is_causal=True, need_weights=False)
    with pytest.raises(RuntimeError, match='Need attn_mask if specifying the is_causal hint'):
        m(*[tg.tensor(x)] * 3, is_causal=True)


def test_non_contiguous_and_zero_length(device):
    m, tm = _pair(8, 2, np.float32, device, batch_first=True)
    base = _rng(10).standard_normal((6, 2, 8)).astype(np.float32)
    x = base.transpose(1, 0, 2)  # (2, 6, 8) transposed view
    _run(m, tm, [x[:, ::2], x, x], None, np.float32, device)
    empty = tg.zeros(2, 0, 8, device=device)
    out, w = m(empty, tg.zeros(2, 3, 8, device=device), tg.zeros(2, 3, 8, device=device))
    assert out.shape == (2, 0, 8) and w.shape == (2, 0, 3)


def test_dropout_in_training_only():
    m, tm = _pair(8, 2, np.float32, dropout=0.5)
    x = tg.tensor(_rng(11).standard_normal((6, 2, 8)).astype(np.float32))
    tg.manual_seed(0)
    o1, w1 = m(x, x, x)
    o2, _ = m(x, x, x, need_weights=False)
    assert not np.allclose(o1.numpy(), m.eval()(x, x, x)[0].numpy())
    assert (w1.numpy() == 0).any() or not np.allclose(w1.numpy().sum(-1), 1)  # weights are dropped (as torch)
    tm.eval()
    assert_close(m(x, x, x)[0], tm(*[torch.tensor(x.numpy())] * 3)[0], rtol=2e-4, atol=2e-5)


def test_init_and_repr():
    m = nn.MultiheadAttention(16, 4, dropout=0.0)
    w = m.in_proj_weight.numpy()
    bound = np.sqrt(6 / (16 + 48))
    assert w.shape == (48, 16) and np.abs(w).max() <= bound and w.std() > bound / 3
    assert (m.in_proj_bias.numpy() == 0).all() and (m.out_proj.bias.numpy() == 0).all()
    tm = torch.nn.MultiheadAttention(16, 4)
    assert repr(m) == repr(tm)
    m64 = nn.MultiheadAttention(8, 2, bias=True, dtype=tg.float64)
    assert all(p.dtype == tg.float64 for p in m64.parameters())


def test_no_graph_under_no_grad():
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = tg.randn(1, 3, 8)
    with tg.no_grad():
        out, w = m(x, x, x)
    assert out.grad_fn is None and w.grad_fn is None


def test_errors():
    with pytest.raises(ValueError, match='embed_dim and num_heads must be greater than 0'):
        nn.MultiheadAttention(8, 0, bias=True)
    with pytest.raises(AssertionError, match='embed_dim must be divisible by num_heads'):
        nn.MultiheadAttention(10, 3, bias=True)
    m = nn.MultiheadAttention(8, 2)  # reference kind; PyTorch's below
    m = nn.MultiheadAttention(8, 2, batch_first=False)
    x = tg.zeros(4, 2, 8)
    with pytest.raises(AssertionError, match='query should be unbatched 2D or batched 3D'):
        m(tg.zeros(8), x, x)
    with pytest.raises(AssertionError, match='expected `key` and `value` to be 3-D'):
        m(x, tg.zeros(4, 8), x)
    with pytest.raises(AssertionError, match='was expecting embedding dimension of 8, but got 6'):
        m(tg.zeros(4, 2, 6), x, x)
    with pytest.raises(AssertionError, match='key shape'):
        m(x, x, tg.zeros(5, 2, 8))
    with pytest.raises(RuntimeError, match=r'2D attn_mask is \(4, 5\), but should be \(4, 4\)'):
        m(x, x, x, attn_mask=tg.zeros(4, 5))
    with pytest.raises(RuntimeError, match=r'3D attn_mask is \(2, 4, 4\), but should be \(4, 4, 4\)'):
        m(x, x, x, attn_mask=tg.zeros(2, 4, 4))
    with pytest.raises(AssertionError, match='only bool and floating types of attn_mask'):
        m(x, x, x, attn_mask=tg.zeros(4, 4, dtype=tg.int64))
    with pytest.raises(AssertionError, match=r'key_padded_mask.shape\[1\] to be 4, but got 3'):
        m(x, x, x, key_padding_mask=tg.tensor(np.zeros((2, 3), dtype=bool)))
    with pytest.raises(AssertionError, match='`key_padding_mask` to be `None` or 2-D'):
        m(x, x, x, key_padding_mask=tg.tensor(np.zeros((4,), dtype=bool)))
    with pytest.raises(RuntimeError, match='float64'):
        m(tg.zeros(4, 2, 8, dtype=tg.float64), x, x)
    with pytest.raises(RuntimeError, match='batch sizes'):
        m(x, tg.zeros(4, 3, 8), tg.zeros(4, 3, 8))
