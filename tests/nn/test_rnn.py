"""RNN / LSTM / GRU and their cells against PyTorch (weights copied with
``init_from_torch``): outputs, final states, and the gradients of the input,
the initial states and every parameter under non-uniform upstream gradients
on both the output and the final states."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as hst

import tensorgrad as tg
from tensorgrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from helpers import assert_close

TOL = dict(rtol=1e-4, atol=1e-5)
LAYERS = {
    'rnn_tanh': (RNN, torch.nn.RNN, {}),
    'rnn_relu': (RNN, torch.nn.RNN, {'nonlinearity': 'relu'}),
    'lstm': (LSTM, torch.nn.LSTM, {}),
    'gru': (GRU, torch.nn.GRU, {}),
}
CELLS = {
    'rnn_tanh': (RNNCell, torch.nn.RNNCell, {}),
    'rnn_relu': (RNNCell, torch.nn.RNNCell, {'nonlinearity': 'relu'}),
    'lstm': (LSTMCell, torch.nn.LSTMCell, {}),
    'gru': (GRUCell, torch.nn.GRUCell, {}),
}


def _rng(seed):
    return np.random.default_rng(seed)


def _pair(tg_cls, torch_cls, device, *args, **kw):
    torch.manual_seed(0)
    tm = torch_cls(*args, **kw)
    m = tg_cls(*args, **kw).init_from_torch(tm)
    m.to(device)
    return m, tm


def _leaf(a, device):
    return tg.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check_run(m, tm, x, states, is_lstm, device, seed=1):
    """Run both modules on input ``x`` and initial ``states`` (list of arrays, may be
    empty), compare outputs, back-propagate random gradients on output and final
    state(s), compare every gradient."""
    rng = _rng(seed)
    xg, xt = _leaf(x, device)
    sg, st = zip(*[_leaf(s, device) for s in states]) if states else ((), ())
    if is_lstm:
        og, (hg, cg) = m(xg, tuple(sg) if sg else None)
        ot, (ht, ct) = tm(xt, tuple(st) if st else None)
        outs_g, outs_t = [og, hg, cg], [ot, ht, ct]
    else:
        og, hg = m(xg, sg[0] if sg else None)
        ot, ht = tm(xt, st[0] if st else None)
        outs_g, outs_t = [og, hg], [ot, ht]
    for name, a, b in zip(('output', 'h_n', 'c_n'), outs_g, outs_t):
        assert_close(a, b, what=name, **TOL)
    ups = [rng.uniform(-1.5, 1.5, size=tuple(b.shape)).astype(np.float32) for b in outs_t]
    tg.autograd.backward(outs_g, [tg.tensor(u, device=device) for u in ups])
    torch.autograd.backward(outs_t, [torch.tensor(u) for u in ups])
    assert_close(xg.grad, xt.grad, what='input grad', **TOL)
    for i, (a, b) in enumerate(zip(sg, st)):
        assert_close(a.grad, b.grad, what=f'initial state {i} grad', **TOL)
    for name, p in tm.named_parameters():
        mine = getattr(m, name)
        assert mine.grad is not None, f"no gradient for {name}"
        assert mine.grad.dtype == mine.dtype
        assert_close(mine.grad, p.grad, what=f'grad of {name}', **TOL)
    return outs_g


@pytest.mark.parametrize('kind', list(LAYERS))
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('num_layers', [1, 2])
@pytest.mark.parametrize('with_state', [False, True])
def test_layer_matches_torch(kind, batch_first, num_layers, with_state, device):
    tg_cls, torch_cls, kw = LAYERS[kind]
    T, B, I, H = 5, 3, 4, 6
    m, tm = _pair(tg_cls, torch_cls, device, I, H, num_layers=num_layers, batch_first=batch_first, **kw)
    rng = _rng(num_layers + 2 * batch_first)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    n_states = 2 if kind == 'lstm' else 1
    states = [rng.standard_normal((num_layers, B, H)).astype(np.float32) for _ in range(n_states)] \
        if with_state else []
    _check_run(m, tm, x, states, kind == 'lstm', device)


@pytest.mark.parametrize('kind', list(LAYERS))
@pytest.mark.parametrize('num_layers', [1, 2])
def test_bidirectional_matches_torch(kind, num_layers, device):
    tg_cls, torch_cls, kw = LAYERS[kind]
    T, B, I, H = 4, 2, 3, 5
    m, tm = _pair(tg_cls, torch_cls, device, I, H, num_layers=num_layers, bidirectional=True,
                  batch_first=True, **kw)
    rng = _rng(7)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    states = [rng.standard_normal((2 * num_layers, B, H)).astype(np.float32)
              for _ in range(2 if kind == 'lstm' else 1)]
    _check_run(m, tm, x, states, kind == 'lstm', device)


@pytest.mark.parametrize('kind', list(LAYERS))
@pytest.mark.parametrize('with_state', [False, True])
def test_unbatched_input(kind, with_state, device):
    tg_cls, torch_cls, kw = LAYERS[kind]
    T, I, H, L = 6, 3, 4, 2
    m, tm = _pair(tg_cls, torch_cls, device, I, H, num_layers=L, **kw)
    rng = _rng(3)
    x = rng.standard_normal((T, I)).astype(np.float32)
    states = [rng.standard_normal((L, H)).astype(np.float32) for _ in range(2 if kind == 'lstm' else 1)] \
        if with_state else []
    outs = _check_run(m, tm, x, states, kind == 'lstm', device)
    assert outs[0].shape == (T, H) and outs[1].shape == (L, H)


@pytest.mark.parametrize('kind', list(LAYERS))
def test_no_bias_and_single_step(kind, device):
    tg_cls, torch_cls, kw = LAYERS[kind]
    m, tm = _pair(tg_cls, torch_cls, device, 3, 5, bias=False, **kw)
    assert [n for n, _ in m.named_parameters()] == ['weight_ih_l0', 'weight_hh_l0']
    x = _rng(4).standard_normal((1, 2, 3)).astype(np.float32)
    _check_run(m, tm, x, [], kind == 'lstm', device)


@pytest.mark.parametrize('kind', list(LAYERS))
def test_gradient_from_final_state_only(kind, device):
    """Only h_n feeds the loss: the output's gradient is absent, not zero-filled wrongly."""
    tg_cls, torch_cls, kw = LAYERS[kind]
    m, tm = _pair(tg_cls, torch_cls, device, 3, 4, num_layers=2, **kw)
    x = _rng(5).standard_normal((7, 2, 3)).astype(np.float32)
    xg, xt = _leaf(x, device)
    hg = m(xg)[1]
    ht = tm(xt)[1]
    if kind == 'lstm':
        hg, ht = hg[0], ht[0]
    up = _rng(6).standard_normal(tuple(ht.shape)).astype(np.float32)
    hg.backward(tg.tensor(up, device=device))
    ht.backward(torch.tensor(up))
    assert_close(xg.grad, xt.grad, what='input grad', **TOL)
    for name, p in tm.named_parameters():
        assert_close(getattr(m, name).grad, p.grad, what=name, **TOL)


@settings(max_examples=15, deadline=None)
@given(kind=hst.sampled_from(list(LAYERS)), T=hst.integers(1, 6), B=hst.integers(1, 4), I=hst.integers(1, 5),
       H=hst.integers(1, 6), num_layers=hst.integers(1, 3), batch_first=hst.booleans(), bidirectional=hst.booleans())
def test_random_shapes_match_torch(kind, T, B, I, H, num_layers, batch_first, bidirectional):
    tg_cls, torch_cls, kw = LAYERS[kind]
    m, tm = _pair(tg_cls, torch_cls, 'cpu', I, H, num_layers=num_layers, batch_first=batch_first,
                  bidirectional=bidirectional, **kw)
    rng = _rng(T * 100 + B * 10 + I)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    D = 2 if bidirectional else 1
    states = [rng.standard_normal((num_layers * D, B, H)).astype(np.float32)
              for _ in range(2 if kind == 'lstm' else 1)]
    _check_run(m, tm, x, states, kind == 'lstm', 'cpu')


def test_parameter_names_shapes_and_init():
    for tg_cls, torch_cls, kw in LAYERS.values():
        tm = torch_cls(4, 8, num_layers=2, bidirectional=True, **kw)
        m = tg_cls(4, 8, num_layers=2, bidirectional=True, **kw)
        assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
        k = 1 / np.sqrt(8)
        for p in m.parameters():
            assert p.dtype == tg.float32 and p.requires_grad
            assert np.all(np.abs(p.numpy()) <= k)
        # U(-k, k) has std k / sqrt(3); checked over all values (a single 8-entry bias is too noisy)
        allv = np.concatenate([p.numpy().ravel() for p in m.parameters()])
        assert abs(np.std(allv) - k / np.sqrt(3)) < k / 10


def test_load_torch_state_dict_and_package_names():
    tm = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    m = tg.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    m.load_state_dict(tm.state_dict())
    x = _rng(15).standard_normal((5, 2, 3)).astype(np.float32)
    assert_close(m(tg.tensor(x))[0], tm(torch.tensor(x))[0], **TOL)
    assert all(hasattr(tg.nn, n) for n in ('RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell'))


def test_cuda_layers_match_cpu():
    if not tg.is_cuda_available():
        pytest.skip('needs CUDA')
    for tg_cls, torch_cls, kw in LAYERS.values():
        m, tm = _pair(tg_cls, torch_cls, 'cuda', 3, 4, num_layers=2, **kw)
        x = _rng(8).standard_normal((5, 2, 3)).astype(np.float32)
        _check_run(m, tm, x, [], tg_cls is LSTM, 'cuda')


def test_float64():
    m, tm = _pair(LSTM, torch.nn.LSTM, 'cpu', 3, 4)
    m.double()
    tm.double()
    x = _rng(9).standard_normal((4, 2, 3))
    xg, xt = _leaf(x, 'cpu')
    og, _ = m(xg)
    ot, _ = tm(xt)
    assert og.dtype == tg.float64
    og.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(og.numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_extreme_preactivations_are_finite():
    """Saturated gates (|x| ~ 1e3) give exact 0/1 sigmoids and no warnings."""
    m, tm = _pair(LSTM, torch.nn.LSTM, 'cpu', 2, 3)
    x = np.array([[[1e3, -1e3]], [[-1e3, 1e3]]], dtype=np.float32)
    with np.errstate(all='raise'):
        og, (hg, cg) = m(tg.tensor(x))
    ot, (ht, ct) = tm(torch.tensor(x))
    assert_close(og, ot, **TOL)
    assert_close(cg, ct, **TOL)


def test_dropout_between_layers():
    m, tm = _pair(GRU, torch.nn.GRU, 'cpu', 3, 4, num_layers=2, dropout=0.5)
    x = tg.tensor(_rng(10).standard_normal((5, 2, 3)).astype(np.float32))
    tg.manual_seed(0)
    train_out = m(x)[0].numpy().copy()
    m.eval()
    tm.eval()
    eval_out = m(x)[0]
    assert_close(eval_out, tm(torch.tensor(x.numpy()))[0], **TOL)
    assert not np.allclose(train_out, eval_out.numpy())


@pytest.mark.parametrize('kind', list(LAYERS))
def test_retain_graph_backward_twice(kind):
    """Backward does not modify what the node saved: a second pass doubles the gradients."""
    tg_cls, _, kw = LAYERS[kind]
    m = tg_cls(3, 4, **kw)
    x = tg.tensor(_rng(13).standard_normal((4, 2, 3)).astype(np.float32), requires_grad=True)
    out = m(x)[0]
    up = tg.tensor(_rng(14).standard_normal((4, 2, 4)).astype(np.float32))
    out.backward(up, retain_graph=True)
    first = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in m.parameters()]
    out.backward(up)
    second = [x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]
    for a, b in zip(first, second):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-5, atol=1e-6)


def test_no_graph_under_no_grad():
    m = LSTM(3, 4)
    with tg.no_grad():
        out, (h, c) = m(tg.tensor(np.ones((2, 1, 3), dtype=np.float32)))
    assert out.grad_fn is None and not out.requires_grad and h.grad_fn is None


def test_inplace_change_of_output_is_detected():
    m = GRU(3, 4)
    out, _ = m(tg.tensor(np.ones((2, 1, 3), dtype=np.float32), requires_grad=True))
    out.mul_(2)
    with pytest.raises(RuntimeError, match='in-place'):
        out.sum().backward()


def test_repr_and_init_from_torch_mismatch():
    assert repr(LSTM(3, 4, num_layers=2, batch_first=True)) == 'LSTM(3, 4, num_layers=2, batch_first=True)'
    with pytest.raises(ValueError, match='hidden_size'):
        LSTM(3, 4).init_from_torch(torch.nn.LSTM(3, 5))
    with pytest.raises(ValueError, match='mode'):
        GRU(3, 4).init_from_torch(torch.nn.LSTM(3, 4))
    with pytest.raises(ValueError, match='num_layers'):
        RNN(3, 4).init_from_torch(torch.nn.RNN(3, 4, num_layers=2))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='nonlinearity'):
        RNN(3, 4, nonlinearity='sigmoid')
    with pytest.raises(ValueError, match='hidden_size'):
        LSTM(3, 0)
    with pytest.raises(ValueError, match='dropout'):
        GRU(3, 4, dropout=1.5)
    m = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match='2 .unbatched. or 3 dimensions'):
        m(tg.zeros(2, 3, 4, 3))
    with pytest.raises(ValueError, match='input_size=3'):
        m(tg.zeros(5, 2, 4))
    with pytest.raises(TypeError, match=r'\(h_0, c_0\)'):
        m(tg.zeros(5, 2, 3), tg.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r'h_0 of shape \(2, 2, 4\)'):
        m(tg.zeros(5, 2, 3), (tg.zeros(1, 2, 4), tg.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r'hx of shape \(1, 4\)'):
        GRU(3, 4)(tg.zeros(5, 3), tg.zeros(1, 2, 4))
    with pytest.raises(ValueError, match='non-empty'):
        GRU(3, 4)(tg.zeros(0, 2, 3))
    with pytest.raises(TypeError, match='float64'):
        GRU(3, 4)(tg.zeros(5, 2, 3, dtype=tg.float64))


# ---------------------------------------------------------------------- cells
@pytest.mark.parametrize('kind', list(CELLS))
@pytest.mark.parametrize('batched', [True, False])
@pytest.mark.parametrize('with_state', [False, True])
@pytest.mark.parametrize('bias', [True, False])
def test_cell_matches_torch(kind, batched, with_state, bias, device):
    tg_cls, torch_cls, kw = CELLS[kind]
    I, H, B = 3, 5, 4
    m, tm = _pair(tg_cls, torch_cls, device, I, H, bias=bias, **kw)
    rng = _rng(11)
    lead = (B,) if batched else ()
    x = rng.standard_normal(lead + (I,)).astype(np.float32)
    xg, xt = _leaf(x, device)
    states = [rng.standard_normal(lead + (H,)).astype(np.float32) for _ in range(2 if kind == 'lstm' else 1)]
    sg, st = zip(*[_leaf(s, device) for s in states])
    if kind == 'lstm':
        outs_g = list(m(xg, tuple(sg) if with_state else None))
        outs_t = list(tm(xt, tuple(st) if with_state else None))
    else:
        outs_g = [m(xg, sg[0] if with_state else None)]
        outs_t = [tm(xt, st[0] if with_state else None)]
    for a, b in zip(outs_g, outs_t):
        assert_close(a, b, what='cell output', **TOL)
    ups = [rng.uniform(-1.5, 1.5, size=tuple(b.shape)).astype(np.float32) for b in outs_t]
    tg.autograd.backward(outs_g, [tg.tensor(u, device=device) for u in ups])
    torch.autograd.backward(outs_t, [torch.tensor(u) for u in ups])
    assert_close(xg.grad, xt.grad, what='input grad', **TOL)
    if with_state:
        for a, b in zip(sg, st):
            assert_close(a.grad, b.grad, what='state grad', **TOL)
    for name, p in tm.named_parameters():
        assert_close(getattr(m, name).grad, p.grad, what=name, **TOL)


def test_cell_unrolled_matches_layer():
    """An LSTMCell stepped over time equals the LSTM layer with the same weights."""
    tl = torch.nn.LSTM(3, 4)
    layer = LSTM(3, 4).init_from_torch(tl)
    cell = LSTMCell(3, 4)
    for name in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
        getattr(cell, name).data[...] = getattr(layer, name + '_l0').data
    x = tg.tensor(_rng(12).standard_normal((6, 2, 3)).astype(np.float32))
    h = c = tg.zeros(2, 4)
    outs = []
    for t in range(6):
        h, c = cell(x[t], (h, c))
        outs.append(h)
    assert_close(tg.stack(outs), layer(x)[0], **TOL)


def test_cell_errors():
    with pytest.raises(ValueError, match=r'\(B, 3\)'):
        GRUCell(3, 4)(tg.zeros(2, 5))
    with pytest.raises(ValueError, match=r'h of shape \(2, 4\)'):
        RNNCell(3, 4)(tg.zeros(2, 3), tg.zeros(3, 4))
    with pytest.raises(TypeError, match=r'\(h, c\)'):
        LSTMCell(3, 4)(tg.zeros(2, 3), tg.zeros(2, 4))
    with pytest.raises(ValueError, match='input_size'):
        LSTMCell(3, 4).init_from_torch(torch.nn.LSTMCell(2, 4))
