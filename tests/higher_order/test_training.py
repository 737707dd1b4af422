"""Higher-order gradients in training loops, against torch in float64: a MAML
outer gradient (inner SGD steps taken with grad(create_graph=True)), a WGAN-GP
critic's parameter gradients (the gradient penalty), a PINN-style loss on an
input derivative; and a loop of 200 gradient-penalty steps that does not grow
memory."""
import gc
import tracemalloc

import numpy as np
import torch

import tensorgrad as tg

RNG = np.random.default_rng(33)
PARAMS = [RNG.standard_normal((2, 8)) * 0.7, RNG.standard_normal(8) * 0.1,
          RNG.standard_normal((8, 1)) * 0.7, RNG.standard_normal(1) * 0.1]


def _net(params, x):
    w1, b1, w2, b2 = params
    return (x @ w1 + b1).tanh() @ w2 + b2


def _leaves(L, arrays=PARAMS):
    return [L.tensor(a, requires_grad=True) for a in arrays]


def _maml(L, inner_steps):
    params = _leaves(L)
    rng = np.random.default_rng(1)
    outer = 0
    for _ in range(2):  # two tasks: y = a sin(x + phase)
        a, phase = rng.uniform(0.5, 2.0), rng.uniform(0, np.pi)
        xs, xq = rng.uniform(-2, 2, (5, 2)), rng.uniform(-2, 2, (5, 2))
        ys, yq = a * np.sin(xs.sum(1, keepdims=True) + phase), a * np.sin(xq.sum(1, keepdims=True) + phase)
        fast = params
        for _ in range(inner_steps):
            loss = ((_net(fast, L.tensor(xs, requires_grad=False)) - L.tensor(ys, requires_grad=False)) ** 2).mean()
            grads = L.autograd.grad(loss, fast, create_graph=True)
            fast = [p - 0.1 * g for p, g in zip(fast, grads)]
        outer = outer + ((_net(fast, L.tensor(xq, requires_grad=False)) - L.tensor(yq, requires_grad=False))
                         ** 2).mean()
    outer.backward()
    return [outer.item()] + [p.grad.numpy() for p in params]


def test_maml_outer_gradients_match_torch():
    for steps in (1, 2):
        ours, ref = _maml(tg, steps), _maml(torch, steps)
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _critic_step(L, params, real, fake, eps, lam=10.0):
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    g, = L.autograd.grad(_net(params, x_hat).sum(), x_hat, create_graph=True)
    gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
    loss = _net(params, fake).mean() - _net(params, real).mean() + lam * gp
    return loss


def test_gradient_penalty_parameter_gradients_match_torch():
    rng = np.random.default_rng(2)
    real, fake, eps = rng.standard_normal((16, 2)), rng.standard_normal((16, 2)) + 1, rng.random((16, 1))
    res = []
    for L in (tg, torch):
        params = _leaves(L)
        loss = _critic_step(L, params, *(L.tensor(a, requires_grad=False) for a in (real, fake, eps)))
        loss.backward()
        res.append([loss.item()] + [p.grad.numpy() for p in params])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_pinn_loss_on_input_derivatives_matches_torch():
    x_np = np.linspace(0, np.pi, 7)[:, None] @ np.ones((1, 2))
    res = []
    for L in (tg, torch):
        params = _leaves(L)
        x = L.tensor(x_np, requires_grad=True)
        u = _net(params, x)
        du, = L.autograd.grad(u.sum(), x, create_graph=True)
        d2u, = L.autograd.grad(du.sum(), x, create_graph=True)
        loss = ((d2u.sum(1, keepdim=True) + u) ** 2).mean()
        loss.backward()
        res.append([loss.item()] + [p.grad.numpy() for p in params])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_200_gradient_penalty_steps_do_not_grow_memory():
    rng = np.random.default_rng(3)
    params = _leaves(tg, [p.astype(np.float32) for p in PARAMS])
    opt = tg.optim.SGD(params, lr=1e-3)

    def step():
        real = tg.tensor(rng.standard_normal((32, 2)).astype(np.float32), requires_grad=False)
        fake = tg.tensor(rng.standard_normal((32, 2)).astype(np.float32), requires_grad=False)
        eps = tg.tensor(rng.random((32, 1)).astype(np.float32), requires_grad=False)
        opt.zero_grad()
        _critic_step(tg, params, real, fake, eps).backward()
        opt.step()

    for _ in range(20):  # warm up caches (optimizer state, op tables)
        step()
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        objects = len(gc.get_objects())
        for _ in range(200):
            step()
        gc.collect()
        now, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert now - base < 256 * 1024, f"memory grew by {(now - base) / 1024:.0f} KiB over 200 steps"
    assert len(gc.get_objects()) - objects < 500
