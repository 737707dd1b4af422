"""create_graph=True through custom autograd.Functions (their backward receives
tensors with grad mode on, saved tensors are the connected tensors),
@once_differentiable, multi-output nodes (backward_graph receives a list) and
checkpointing, against torch in float64 with Hessian-vector products."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.autograd.multi import output_tensor, track_multi
from tensorgrad.autograd.node import MultiOutputNode
from tensorgrad.utils.checkpoint import checkpoint as tg_checkpoint
from torch.utils.checkpoint import checkpoint as torch_checkpoint

RNG = np.random.default_rng(4)
X, W = RNG.uniform(0.5, 1.5, (3, 4)), RNG.uniform(0.5, 1.5, 4)
GX, GW = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
VX, VW = RNG.standard_normal((3, 4)), RNG.standard_normal(4)


def _functions(L):
    class CubeScale(L.autograd.Function):
        """y = x**3 * w, saving an input, a broadcast input and the output."""
        @staticmethod
        def forward(ctx, x, w):
            y = x ** 3 * w
            ctx.save_for_backward(x, w, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, w, y = ctx.saved_tensors
            return g * 3 * x ** 2 * w, (g * y / w).sum(0)

    class SinCos(L.autograd.Function):
        """Two outputs; the second one may get no gradient."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            x, = ctx.saved_tensors
            return gs * x.cos() - gc * x.sin()

    return CubeScale, SinCos


def _hvp(L, f):
    x, w = L.tensor(X, requires_grad=True), L.tensor(W, requires_grad=True)
    y = f(L, x, w)
    gx, gw = L.autograd.grad((y * L.tensor(GX)).sum(), (x, w), create_graph=True)
    hx, hw = L.autograd.grad((gx * L.tensor(VX)).sum() + (gw * L.tensor(VW)).sum(), (x, w), allow_unused=True)
    return [gx.detach().numpy(), gw.detach().numpy(), hx.numpy(), np.zeros(4) if hw is None else hw.numpy()]


CASES = {
    'saved inputs and output': lambda L, x, w: _functions(L)[0].apply(x, w),
    'non-contiguous inputs': lambda L, x, w: _functions(L)[0].apply(x.t(), w[1:]).t(),
    'two outputs, both used': lambda L, x, w: (lambda s, c: s * c + s * w)(*_functions(L)[1].apply(x * w)),
    'two outputs, one used': lambda L, x, w: _functions(L)[1].apply(x * w)[0] ** 2,
    'checkpoint': lambda L, x, w: _ck(L)(lambda a: (a * w).tanh() * a, x.t().t()),
    'checkpoint, two outputs': lambda L, x, w: (lambda a, b: a * b)(*_ck(L)(lambda a: (a.sin(), a * w), x)),
}


def _ck(L):
    return tg_checkpoint if L is tg else (lambda fn, *a: torch_checkpoint(fn, *a, use_reentrant=False))


@pytest.mark.parametrize('name', CASES)
def test_hessian_vector_products_match_torch(name):
    for a, b in zip(_hvp(tg, CASES[name]), _hvp(torch, CASES[name])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_function_third_order_matches_torch():
    res = []
    for L in (tg, torch):
        cube = _functions(L)[0]
        x, w = L.tensor(np.array([0.7, 1.3]), requires_grad=True), L.tensor(np.array([[2.0, 0.5]]),
                                                                            requires_grad=False)
        g1, = L.autograd.grad(cube.apply(x, w).sum(), x, create_graph=True)
        g2, = L.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        g3, = L.autograd.grad(g2.sum(), x)
        res.append([t.detach().numpy() for t in (g1, g2, g3)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_backward_receives_tensors_with_grad_mode_on_only_under_create_graph():
    seen = []

    class Probe(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            seen.append((tg.is_grad_enabled(), x.requires_grad))
            return g * 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.autograd.grad(Probe.apply(x).sum(), x)
    tg.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [(False, True), (True, True)]


def test_once_differentiable_gives_first_order_and_raises_at_the_second():
    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @tg.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    x = tg.tensor([3.0], requires_grad=True)
    g, = tg.autograd.grad(Square.apply(x).sum(), x)
    assert g.item() == 6.0 and not g.requires_grad
    g, = tg.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.item() == 6.0
    with pytest.raises(RuntimeError, match='Square.*once_differentiable'):
        g.sum().backward()


def test_array_style_function_raises_at_the_second_backward():
    class Double(tg.autograd.Function):
        def forward(self, a):
            return a * 2

        def backward(self, g):
            return g * 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    g, = tg.autograd.grad(Double.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match='Double.*does not support higher-order'):
        g.sum().backward()


def test_function_gradient_of_wrong_shape_raises_under_create_graph():
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g[:1] * tg.ones(5)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r'BadBackward returned an invalid gradient at index 0.*\(5,\)'):
        tg.autograd.grad(Bad.apply(x).sum(), x, create_graph=True)


class _SinCosNode(MultiOutputNode):
    """A raw multi-output op (sin x, cos x) whose second-order rule reuses its outputs."""
    __slots__ = ()

    def backward(self, grads):
        s, c = self.saved
        gs, gc = grads
        out = 0
        if gs is not None:
            out = out + gs * c
        if gc is not None:
            out = out - gc * s
        return (out,)

    def backward_graph(self, grads):
        s, c = output_tensor(self, 0, self.saved[0]), output_tensor(self, 1, self.saved[1])
        gs, gc = grads
        out = 0
        if gs is not None:
            out = out + gs * c
        if gc is not None:
            out = out - gc * s
        return (out,)


def test_multi_output_node_backward_graph_receives_a_list_and_reuses_outputs():
    res = []
    for L in (tg, torch):
        x = L.tensor(X, requires_grad=True)
        if L is tg:
            (s, c), _ = track_multi((np.sin(X), np.cos(X)), _SinCosNode, (x,), (np.sin(X), np.cos(X)))
        else:
            s, c = x.sin(), x.cos()
        gx, = L.autograd.grad((s * L.tensor(GX)).sum() + (c ** 3).sum(), x, create_graph=True)
        hx, = L.autograd.grad((gx * L.tensor(VX)).sum(), x, create_graph=True)
        h3, = L.autograd.grad(hx.sum(), x)
        res.append([t.detach().numpy() for t in (gx, hx, h3)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_checkpoint_closure_parameters_reentrant_and_not():
    """Gradients through a checkpoint reach the closure's weight under create_graph,
    and ``.grad`` after backward(create_graph=True) differentiates again (both variants)."""
    rng = np.random.default_rng(9)
    w_np, x_np, v_np, vw_np = (rng.standard_normal(s) for s in ((3, 3), (2, 3), (2, 3), (3, 3)))

    def run(L, ck, reentrant):
        w, x = L.tensor(w_np, requires_grad=True), L.tensor(x_np, requires_grad=True)

        def f(a):
            return (a @ w).tanh() * a
        y = ck(f, x * 1.5, use_reentrant=reentrant) if ck else f(x * 1.5)
        (y ** 2).sum().backward(create_graph=True)
        gx, gw = x.grad, w.grad
        x.grad = w.grad = None
        ((gx * L.tensor(v_np)).sum() + (gw * L.tensor(vw_np)).sum()).backward()
        return [gx.detach().numpy(), gw.detach().numpy(), x.grad.numpy(), w.grad.numpy()]

    ref = run(torch, None, False)
    for reentrant in (False, True):
        for a, b in zip(run(tg, tg_checkpoint, reentrant), ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_checkpoint_with_a_non_tensor_output_first_and_second_order():
    res = []
    for L, ck in ((tg, tg_checkpoint), (torch, _ck(torch))):
        x = L.tensor(X, requires_grad=True)
        n, y = ck(lambda a: (3, (a ** 3).sin()), x)
        assert n == 3
        g, = L.autograd.grad((y * L.tensor(GX)).sum(), x, create_graph=True)
        x2 = L.tensor(X, requires_grad=True)
        ck(lambda a: (3, (a ** 3).sin()), x2)[1].sum().backward()
        res.append([g.detach().numpy(), L.autograd.grad((g * L.tensor(VX)).sum(), x)[0].numpy(), x2.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
