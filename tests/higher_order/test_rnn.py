"""Second-order gradients of the fused recurrent layers (RNN, LSTM, GRU and their
cells) against torch in float64: the first gradient of a loss with non-uniform
weights on the output and the final states, then a Hessian-vector product
with random vectors for the input, the initial states and every parameter."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

CASES = {
    'rnn tanh': ('RNN', dict(input_size=3, hidden_size=4)),
    'rnn relu bidirectional': ('RNN', dict(input_size=3, hidden_size=4, nonlinearity='relu', bidirectional=True)),
    'lstm two layers': ('LSTM', dict(input_size=3, hidden_size=4, num_layers=2)),
    'lstm projection': ('LSTM', dict(input_size=3, hidden_size=4, proj_size=2)),
    'lstm no bias batch_first': ('LSTM', dict(input_size=3, hidden_size=3, bias=False, batch_first=True)),
    'gru bidirectional': ('GRU', dict(input_size=3, hidden_size=4, bidirectional=True)),
}


def _module(L, cls, kw, params):
    m = getattr(L.nn, cls)(**kw).to(L.float64)
    with L.no_grad():
        for n, p in m.named_parameters():
            p.copy_(L.tensor(params[n]))
    return m


def _weights(rng, shape):
    return rng.uniform(0.5, 1.5, shape)


def _second_order(L, cls, kw, params, seed, with_state):
    rng = np.random.default_rng(seed)
    m = _module(L, cls, kw, params)
    T, B = 5, 2
    # a non-contiguous input: the transpose of a (B, T, I) / (T, B, I) array
    raw = rng.standard_normal((B, T, 3) if not kw.get('batch_first') else (T, B, 3))
    x = L.tensor(raw, requires_grad=True)
    ins = [x]
    xin = x.transpose(0, 1)
    states = None
    if with_state:
        layers = kw.get('num_layers', 1) * (2 if kw.get('bidirectional') else 1)
        hsize = kw.get('proj_size') or kw['hidden_size']
        h0 = L.tensor(rng.standard_normal((layers, B, hsize)), requires_grad=True)
        ins.append(h0)
        states = h0
        if cls == 'LSTM':
            c0 = L.tensor(rng.standard_normal((layers, B, kw['hidden_size'])), requires_grad=True)
            ins.append(c0)
            states = (h0, c0)
    out, hn = m(xin, states)
    finals = hn if isinstance(hn, tuple) else (hn,)
    loss = (out * L.tensor(_weights(rng, tuple(out.shape)))).sum()
    for f in finals:
        loss = loss + (f.sin() * L.tensor(_weights(rng, tuple(f.shape)))).sum()
    ins += list(m.parameters())
    grads = L.autograd.grad(loss, ins, create_graph=True)
    h = sum((g * L.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
    hv = L.autograd.grad(h, ins, allow_unused=True)
    return [g.detach().numpy() for g in grads] + [np.zeros(1) if a is None else a.numpy() for a in hv]


@pytest.mark.parametrize('with_state', [False, True], ids=['zero state', 'given state'])
@pytest.mark.parametrize('name', CASES)
def test_recurrent_layer_hessian_vector_products_match_torch(name, with_state):
    cls, kw = CASES[name]
    torch.manual_seed(0)
    params = {n: p.detach().numpy().copy() for n, p in getattr(torch.nn, cls)(**kw).double().named_parameters()}
    ours = _second_order(tg, cls, kw, params, 3, with_state)
    ref = _second_order(torch, cls, kw, params, 3, with_state)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize('cls', ['RNNCell', 'LSTMCell', 'GRUCell'])
def test_cells_second_order_match_torch(cls):
    torch.manual_seed(1)
    params = {n: p.detach().numpy().copy() for n, p in getattr(torch.nn, cls)(3, 4).double().named_parameters()}
    rng = np.random.default_rng(5)
    x_np, h_np, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    res = []
    for L in (tg, torch):
        m = _module(L, cls, {'input_size': 3, 'hidden_size': 4}, params)
        x, h = L.tensor(x_np, requires_grad=True), L.tensor(h_np, requires_grad=True)
        out = m(x, (h, h * 0.5) if cls == 'LSTMCell' else h)
        y = sum((o ** 2).sum() for o in (out if isinstance(out, tuple) else (out,)))
        gx, gh = L.autograd.grad(y, (x, h), create_graph=True)
        res.append([gx.detach().numpy(), gh.detach().numpy()]
                   + [g.numpy() for g in L.autograd.grad((gx * L.tensor(v)).sum() + gh.sum(), (x, h))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_lstm_third_order_and_upstream_gradient_match_torch():
    torch.manual_seed(2)
    params = {n: p.detach().numpy().copy() for n, p in torch.nn.LSTM(2, 3).double().named_parameters()}
    rng = np.random.default_rng(7)
    x_np, g_np = rng.standard_normal((3, 1, 2)), rng.standard_normal((3, 1, 3))
    res = []
    for L in (tg, torch):
        m = _module(L, 'LSTM', {'input_size': 2, 'hidden_size': 3}, params)
        x, g = L.tensor(x_np, requires_grad=True), L.tensor(g_np, requires_grad=True)
        out, _ = m(x)
        gx, = L.autograd.grad(out, x, g, create_graph=True)  # differentiable w.r.t. g too
        g2x, g2g = L.autograd.grad((gx ** 2).sum(), (x, g), create_graph=True)
        g3x, = L.autograd.grad(g2x.sum() + g2g.sum(), x)
        res.append([t.detach().numpy() for t in (gx, g2x, g2g, g3x)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_first_order_rnn_gradients_carry_no_graph():
    m = tg.nn.GRU(2, 3)
    x = tg.randn(4, 1, 2, requires_grad=True)
    gx, = tg.autograd.grad(m(x)[0].sum(), x)
    assert not gx.requires_grad and gx.grad_fn is None
