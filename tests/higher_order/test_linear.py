"""Second order through F.linear / nn.Linear against torch (float64)."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

RNG = np.random.default_rng(3)


@pytest.mark.parametrize('shape', [(5,), (4, 5), (2, 3, 5)], ids=['1-d', '2-d', '3-d'])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_hessian_vector_products(shape, bias):
    xa, wa, ba = RNG.standard_normal(shape), RNG.standard_normal((3, 5)), RNG.standard_normal(3)
    vs = [RNG.standard_normal(a.shape) for a in (xa, wa, ba)]
    out = []
    for L in (tg, torch):
        x, w = L.tensor(xa, requires_grad=True), L.tensor(wa, requires_grad=True)
        b = L.tensor(ba, requires_grad=True) if bias else None
        ins = [t for t in (x, w, b) if t is not None]
        y = L.nn.functional.linear(x * x, w, b).tanh()
        gs = L.autograd.grad(y.sum(), ins, create_graph=True)
        h = sum((g * L.tensor(v)).sum() for g, v in zip(gs, vs))
        hs = L.autograd.grad(h, ins)
        out.append([t.detach().numpy() for t in gs + hs])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gradient_penalty_through_nn_linear_matches_torch():
    tg.manual_seed(0)
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 1)).double()
    model = tg.nn.Sequential(tg.nn.Linear(2, 8), tg.nn.LeakyReLU(0.2), tg.nn.Linear(8, 1)).double()
    model.load_state_dict(tmodel.state_dict())
    xa = RNG.standard_normal((6, 2))
    grads = []
    for L, m in ((tg, model), (torch, tmodel)):
        x = L.tensor(xa, requires_grad=True)
        g, = L.autograd.grad(m(x).sum(), x, create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        grads.append([None if p.grad is None else p.grad.detach().numpy() for p in m.parameters()])
    for a, b in zip(*grads):
        # a parameter the penalty reaches only through piecewise-constant slopes (LeakyReLU)
        # or not at all has a zero gradient, which either library may leave as None
        if a is None and b is None:
            continue
        a = np.zeros_like(b) if a is None else a
        b = np.zeros_like(a) if b is None else b
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_contiguous_and_random_fills_differentiate_twice():
    out = []
    for L in (tg, torch):
        x = L.tensor(np.arange(6.).reshape(2, 3), requires_grad=True)
        g, = L.autograd.grad((x * x).t().contiguous().sin().sum(), x, create_graph=True)
        h, = L.autograd.grad(g.sum(), x)
        filled = x * 1
        filled.uniform_()  # its gradient w.r.t. what it replaced is zero, at every order
        g2, = L.autograd.grad((filled * x).sum(), x, create_graph=True)
        h2, = L.autograd.grad(g2.sum(), x, allow_unused=True)
        out.append((h.numpy(), np.zeros((2, 3)) if h2 is None else h2.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_array_equal(out[0][1], out[1][1])
