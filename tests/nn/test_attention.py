"""The reference's MultiheadAttention (what ``nn.MultiheadAttention(embed_dim,
num_heads)`` builds: batch first, returns a Tensor, q/k/v/o_weight) against
torch.nn.MultiheadAttention (weights copied with ``init_from_torch``): forward and
every gradient with a non-uniform upstream gradient, masks of both shapes, key
padding, T_q != T_k, error cases. PyTorch's layout: test_attention_torch.py."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.nn.attention_reference import ReferenceMultiheadAttention as MultiheadAttention
from helpers import assert_close

TOL = dict(rtol=1e-4, atol=1e-5)


def _rng(seed):
    return np.random.default_rng(seed)


def _pair(E, heads, device, bias=False, seed=0, **kw):
    torch.manual_seed(seed)
    tm = torch.nn.MultiheadAttention(E, heads, batch_first=True, bias=bias, **kw)
    if bias:  # torch initialises biases to zero: make them count
        with torch.no_grad():
            for p in (tm.in_proj_bias, tm.out_proj.bias):
                p.normal_()
    m = MultiheadAttention(E, heads, bias=bias, **kw).init_from_torch(tm)
    m.to(device)
    return m, tm


def _torch_grads(tm, bias):
    """Gradients of torch's packed parameters, in our parameter names."""
    E = tm.embed_dim
    if tm.in_proj_weight is not None:
        w = tm.in_proj_weight.grad
        grads = {'q_weight': w[:E], 'k_weight': w[E:2 * E], 'v_weight': w[2 * E:]}
    else:
        grads = {'q_weight': tm.q_proj_weight.grad, 'k_weight': tm.k_proj_weight.grad,
                 'v_weight': tm.v_proj_weight.grad}
    grads['o_weight'] = tm.out_proj.weight.grad
    if bias:
        b = tm.in_proj_bias.grad
        grads.update(q_bias=b[:E], k_bias=b[E:2 * E], v_bias=b[2 * E:], o_bias=tm.out_proj.bias.grad)
    return grads


def _check(m, tm, shapes, device, attn_mask=None, torch_mask=None, key_padding_mask=None, bias=False,
           seed=1, same_qkv=False):
    rng = _rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    tgs = [tg.tensor(a, device=device, requires_grad=True) for a in arrays]
    ths = [torch.tensor(a, requires_grad=True) for a in arrays]
    if same_qkv:
        tgs, ths = tgs[:1] * 3, ths[:1] * 3
    kpm_g = None if key_padding_mask is None else tg.tensor(key_padding_mask, device=device)
    kpm_t = None if key_padding_mask is None else torch.tensor(key_padding_mask)
    out = m(*tgs, attn_mask=None if attn_mask is None else tg.tensor(attn_mask, device=device),
            key_padding_mask=kpm_g)
    ref, _ = tm(*ths, attn_mask=torch_mask, key_padding_mask=kpm_t, need_weights=False)
    assert out.shape == tuple(ref.shape)
    assert_close(out, ref, what='forward', **TOL)
    up = rng.uniform(-1.5, 1.5, size=tuple(ref.shape)).astype(np.float32)
    out.backward(tg.tensor(up, device=device))
    ref.backward(torch.tensor(up))
    for i, (a, b) in enumerate(zip(tgs, ths)):
        assert_close(a.grad, b.grad, what=f'grad of input {i}', **TOL)
    for name, g in _torch_grads(tm, bias).items():
        mine = getattr(m, name)
        assert mine.grad is not None and mine.grad.dtype == mine.dtype, name
        assert_close(mine.grad, g, what=f'grad of {name}', **TOL)
    return out


@pytest.mark.parametrize('E,heads', [(8, 1), (8, 2), (12, 4)])
@pytest.mark.parametrize('Tq,Tk', [(4, 4), (3, 5)])
@pytest.mark.parametrize('bias', [False, True])
def test_matches_torch(E, heads, Tq, Tk, bias, device):
    m, tm = _pair(E, heads, device, bias=bias)
    B = 2
    _check(m, tm, [(B, Tq, E), (B, Tk, E), (B, Tk, E)], device, bias=bias)


def test_self_attention_shared_input(device):
    m, tm = _pair(8, 2, device)
    _check(m, tm, [(2, 5, 8)], device, same_qkv=True)


@pytest.mark.parametrize('Tq,Tk', [(4, 4), (3, 6)])
def test_mask_2d(Tq, Tk, device):
    m, tm = _pair(8, 2, device)
    mask = _rng(2).random((Tq, Tk)) < 0.5
    mask[:, 0] = False  # every query attends to something
    _check(m, tm, [(2, Tq, 8), (2, Tk, 8), (2, Tk, 8)], device, attn_mask=mask, torch_mask=torch.tensor(mask))


@pytest.mark.parametrize('Tq,Tk', [(4, 4), (3, 6)])
@pytest.mark.parametrize('heads', [1, 2])
def test_mask_3d(Tq, Tk, heads, device):
    m, tm = _pair(8, heads, device)
    B = 3
    mask = _rng(3).random((B, Tq, Tk)) < 0.5
    mask[:, :, -1] = False
    torch_mask = torch.tensor(mask).repeat_interleave(heads, 0)  # torch wants (B * heads, T_q, T_k)
    _check(m, tm, [(B, Tq, 8), (B, Tk, 8), (B, Tk, 8)], device, attn_mask=mask, torch_mask=torch_mask)


def test_causal_mask_and_key_padding(device):
    m, tm = _pair(8, 2, device, bias=True)
    T = 5
    causal = np.triu(np.ones((T, T), dtype=bool), 1)
    kpm = np.zeros((2, T), dtype=bool)
    kpm[1, 3:] = True
    _check(m, tm, [(2, T, 8)] * 3, device, attn_mask=causal, torch_mask=torch.tensor(causal),
           key_padding_mask=kpm, bias=True)


def test_is_causal_equals_explicit_mask():
    m = MultiheadAttention(8, 2)
    x = tg.tensor(_rng(4).standard_normal((2, 5, 8)).astype(np.float32))
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    assert_close(m(x, x, x, is_causal=True), m(x, x, x, attn_mask=tg.tensor(causal)), rtol=0, atol=0)


def test_float_mask_is_added():
    m, tm = _pair(8, 2, 'cpu')
    fmask = _rng(5).standard_normal((4, 4)).astype(np.float32)
    _check(m, tm, [(2, 4, 8)] * 3, 'cpu', attn_mask=fmask, torch_mask=torch.tensor(fmask))


def test_kdim_vdim(device):
    m, tm = _pair(8, 2, device, bias=True, kdim=5, vdim=3)
    assert m.k_weight.shape == (8, 5) and m.v_weight.shape == (8, 3)
    _check(m, tm, [(2, 4, 8), (2, 6, 5), (2, 6, 3)], device, bias=True)


def test_need_weights_matches_torch():
    m, tm = _pair(8, 2, 'cpu')
    rng = _rng(6)
    q, k = rng.standard_normal((2, 3, 8)).astype(np.float32), rng.standard_normal((2, 5, 8)).astype(np.float32)
    mask = rng.random((3, 5)) < 0.4
    mask[:, 0] = False
    for average in (True, False):
        out, w = m(tg.tensor(q), tg.tensor(k), tg.tensor(k), attn_mask=tg.tensor(mask), need_weights=True,
                   average_attn_weights=average)
        ref, wref = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k), attn_mask=torch.tensor(mask),
                       need_weights=True, average_attn_weights=average)
        assert_close(out, ref, **TOL)
        assert_close(w, wref, **TOL)
    mask3 = rng.random((2, 3, 5)) < 0.4
    mask3[..., 1] = False
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[1, 3:] = True
    out, w = m(tg.tensor(q), tg.tensor(k), tg.tensor(k), attn_mask=tg.tensor(mask3),
               key_padding_mask=tg.tensor(kpm), need_weights=True)
    ref, wref = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k),
                   attn_mask=torch.tensor(mask3).repeat_interleave(2, 0), key_padding_mask=torch.tensor(kpm))
    assert_close(out, ref, **TOL)
    assert_close(w, wref, **TOL)


def test_batch_first_false():
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, bias=False)
    m = MultiheadAttention(8, 2, batch_first=False).init_from_torch(tm)
    x = _rng(7).standard_normal((5, 2, 8)).astype(np.float32)
    assert_close(m(*[tg.tensor(x)] * 3), tm(*[torch.tensor(x)] * 3, need_weights=False)[0], **TOL)


def test_dropout_only_in_training():
    m, tm = _pair(8, 2, 'cpu', dropout=0.5)
    assert m.dropout == 0.5
    x = tg.tensor(_rng(8).standard_normal((2, 6, 8)).astype(np.float32))
    tg.manual_seed(0)
    train_out = m(x, x, x).numpy().copy()
    m.eval()
    tm.eval()
    eval_out = m(x, x, x)
    assert_close(eval_out, tm(*[torch.tensor(x.numpy())] * 3, need_weights=False)[0], **TOL)
    assert not np.allclose(train_out, eval_out.numpy())


def test_parameters_and_init():
    m = MultiheadAttention(16, 4)
    assert [(n, p.shape) for n, p in m.named_parameters()] == \
        [('q_weight', (16, 16)), ('k_weight', (16, 16)), ('v_weight', (16, 16)), ('o_weight', (16, 16))]
    assert all(p.dtype == tg.float32 and p.requires_grad for p in m.parameters())
    bound = np.sqrt(6 / (4 * 16))
    assert np.abs(m.q_weight.numpy()).max() <= bound and m.q_weight.numpy().std() > bound / 4
    mb = MultiheadAttention(16, 4, bias=True)
    assert [n for n, _ in mb.named_parameters()][4:] == ['q_bias', 'k_bias', 'v_bias', 'o_bias']
    assert repr(m) == 'MultiheadAttention(embed_dim=16, num_heads=4)'


def test_no_graph_under_no_grad():
    m = MultiheadAttention(8, 2)
    x = tg.tensor(np.ones((1, 3, 8), dtype=np.float32))
    with tg.no_grad():
        out = m(x, x, x)
    assert out.grad_fn is None and not out.requires_grad


def test_errors():
    with pytest.raises(ValueError, match=r'embed_dim \(10\) must be divisible by num_heads \(3\)'):
        MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match='num_heads'):
        MultiheadAttention(8, 0)
    m = MultiheadAttention(8, 2)
    x = tg.zeros(2, 4, 8)
    with pytest.raises(ValueError, match=r'3-D query .* shape \(4, 8\)'):
        m(tg.zeros(4, 8), x, x)
    with pytest.raises(ValueError, match=r'key with last dimension 8, got shape \(2, 4, 6\)'):
        m(x, tg.zeros(2, 4, 6), x)
    with pytest.raises(ValueError, match='batch size'):
        m(x, tg.zeros(3, 4, 8), tg.zeros(3, 4, 8))
    with pytest.raises(ValueError, match='batch size'):
        m(x, x, tg.zeros(2, 5, 8))
    with pytest.raises(ValueError, match=r'attn_mask of shape \(4, 5\)'):
        m(x, x, x, attn_mask=tg.tensor(np.zeros((4, 5), dtype=bool)))
    with pytest.raises(ValueError, match=r'attn_mask of shape \(3, 4, 4\)'):
        m(x, x, x, attn_mask=tg.tensor(np.zeros((3, 4, 4), dtype=bool)))
    with pytest.raises(TypeError, match='bool or floating'):
        m(x, x, x, attn_mask=tg.tensor(np.zeros((4, 4), dtype=np.int64)))
    with pytest.raises(ValueError, match='key_padding_mask'):
        m(x, x, x, key_padding_mask=tg.tensor(np.zeros((2, 3), dtype=bool)))
    with pytest.raises(TypeError, match='float64'):
        m(tg.zeros(2, 4, 8, dtype=tg.float64), x, x)
    with pytest.raises(ValueError, match='num_heads'):
        MultiheadAttention(8, 2).init_from_torch(torch.nn.MultiheadAttention(8, 4, batch_first=True, bias=False))
    with pytest.raises(ValueError, match='bias'):
        MultiheadAttention(8, 2).init_from_torch(torch.nn.MultiheadAttention(8, 2, batch_first=True))


def test_two_argument_call_builds_the_reference_module():
    m = tg.nn.MultiheadAttention(8, 2)
    assert type(m) is MultiheadAttention and isinstance(m, tg.nn.MultiheadAttention)
    assert list(m.state_dict()) == ['q_weight', 'k_weight', 'v_weight', 'o_weight']
    assert type(tg.nn.MultiheadAttention(embed_dim=8, num_heads=2, dtype=tg.float64)) is MultiheadAttention
    for kw in (dict(batch_first=True), dict(bias=False), dict(dropout=0.0), dict(kdim=8)):
        assert type(tg.nn.MultiheadAttention(8, 2, **kw)) is tg.nn.MultiheadAttention, kw
    x = tg.randn(2, 3, 8)
    assert isinstance(m(x, x, x), tg.Tensor)
