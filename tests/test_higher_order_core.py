"""create_graph=True: the engine records the backward pass (issue 12). Op families
have their own second-order tests; these check the engine and the elementwise
template against torch in float64 (Hessian-vector products, third order)."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

RNG = np.random.default_rng(0)
A = RNG.random((3, 4)) + 0.5
B = RNG.random(4) + 0.5

CASES = {
    'mul': lambda L, x, y: x * y * x,
    'div': lambda L, x, y: x / y,
    'pow tensor exponent': lambda L, x, y: x ** y,
    'pow number': lambda L, x, y: x ** 3 + y,
    'exp': lambda L, x, y: (x * y).exp(),
    'log': lambda L, x, y: (x * y).log(),
    'sin': lambda L, x, y: (x + y).sin(),
    'tanh': lambda L, x, y: (x * y).tanh(),
    'sigmoid': lambda L, x, y: (x * y).sigmoid(),
    'sqrt': lambda L, x, y: (x * y).sqrt(),
    'maximum': lambda L, x, y: L.maximum(x * x, y),
    'sub': lambda L, x, y: (x - y) * (x - y),
    'abs': lambda L, x, y: (x - y).abs() * x,
    'mean': lambda L, x, y: (x * y).mean(0) * y,
    'sum keepdim': lambda L, x, y: (x * x).sum(1, keepdim=True) * x + y,
    'clamp': lambda L, x, y: (x * y).clamp(0.6, 1.2) * x,
}


def _hvp(L, fn):
    x, y = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
    out = fn(L, x, y)
    g = L.tensor(np.linspace(0.2, 1.1, out.numel()).reshape(tuple(out.shape)))
    gx, gy = L.autograd.grad((out * g).sum(), (x, y), create_graph=True)
    h = (gx * L.tensor(np.linspace(-1, 1, 12).reshape(3, 4))).sum() + (gy * L.tensor(np.linspace(0, 1, 4))).sum()
    hx, hy = L.autograd.grad(h, (x, y), allow_unused=True)  # y may enter linearly
    return gx.detach().numpy(), hx.numpy(), np.zeros(4) if hy is None else hy.numpy()


@pytest.mark.parametrize('name', CASES)
def test_hessian_vector_products_match_torch(name):
    for ours, ref in zip(_hvp(tg, CASES[name]), _hvp(torch, CASES[name])):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_third_order():
    res = []
    for L in (tg, torch):
        x = L.tensor(np.array([0.7, 1.5]), requires_grad=True)
        y = (x ** 4).sin().sum()
        g1, = L.autograd.grad(y, x, create_graph=True)
        g2, = L.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = L.autograd.grad(g2.sum(), x)
        res.append([g.detach().numpy() for g in (g1, g2, g3)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_backward_create_graph_then_backward_through_grad():
    res = []
    for L in (tg, torch):
        x = L.tensor(np.array([1., 2.]), requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        assert x.grad.requires_grad
        first = x.grad.detach().numpy().copy()
        x.grad.sum().backward()
        res.append((first, x.grad.detach().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)


def test_first_order_gradients_carry_no_graph_without_create_graph():
    x = tg.tensor([1., 2.], requires_grad=True)
    g, = tg.autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None
    (x ** 3).sum().backward()
    assert not x.grad.requires_grad


def test_an_op_without_a_second_order_rule_raises_at_the_second_backward():
    class Square(tg.autograd.node.Node):  # no backward_graph
        __slots__ = ()

        def backward(self, g):
            return (2 * self.saved * g,)

    from tensorgrad._tensor import track
    x = tg.tensor([3.], requires_grad=True)
    y = track(x._data ** 2, Square, (x,), x._data)
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)
    assert g.item() == 6.0 and g.requires_grad  # first order stays right
    with pytest.raises(RuntimeError, match='Square does not support higher-order gradients'):
        g.sum().backward()


def test_grad_materialize_grads_and_allow_unused():
    x, y = tg.tensor([1.], requires_grad=True), tg.tensor([2.], requires_grad=True)
    gx, gy = tg.autograd.grad((x * 3).sum(), (x, y), materialize_grads=True)
    assert gx.item() == 3.0 and gy.item() == 0.0
    gx, gy = tg.autograd.grad((x * 3).sum(), (x, y), allow_unused=True, create_graph=True)
    assert gy is None
