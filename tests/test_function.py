"""Custom differentiable Functions (tensorgrad/autograd/function.py), PyTorch-style."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.autograd.function import Function
from helpers import assert_close, rand


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class ScaledMul(Function):
    """``a * b * scale`` with a non-tensor argument and ctx attributes."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        ctx.seen = ctx.needs_input_grad
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


class SumAndProd(Function):
    """Two outputs from two inputs."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b, a * b

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        a, b = ctx.saved_tensors
        return g_sum + g_prod * b, g_sum + g_prod * a


class TorchSumAndProd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b, a * b

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        a, b = ctx.saved_tensors
        return g_sum + g_prod * b, g_sum + g_prod * a


def test_single_output_matches_builtin():
    x = rand(3, 4)
    t = tg.tensor(x, requires_grad=True)
    y = Exp.apply(t)
    assert y.requires_grad and type(y.grad_fn).__name__ == 'ExpBackward'
    assert y.grad_fn.name == 'Exp'
    g = rand(3, 4)
    y.backward(g)
    assert_close(y, np.exp(x))
    assert_close(t.grad, g * np.exp(x))


def test_function_composes_with_ops():
    x = rand(5)
    t = tg.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    g = rand(5)
    (Exp.apply(t * 2) * t).backward(g)
    (torch.exp(tt * 2) * tt).backward(torch.tensor(g))
    assert_close(t.grad, tt.grad)


def test_non_tensor_args_ctx_attributes_and_needs_input_grad():
    a = tg.tensor(rand(3), requires_grad=True)
    b = tg.tensor(rand(3), requires_grad=False)
    y = ScaledMul.apply(a, b, 3.0)
    assert y.grad_fn.saved[1].seen == (True, False, False)
    g = rand(3)
    y.backward(g)
    assert_close(a.grad, g * b.numpy() * 3.0)
    assert b.grad is None


def test_forward_runs_under_no_grad():
    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            ctx.inner_recorded = inner.grad_fn is not None
            ctx.mode = tg.is_grad_enabled()
            return inner

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = tg.tensor(rand(2), requires_grad=True)
    y = Probe.apply(x)
    ctx = y.grad_fn.saved[1]
    assert not ctx.inner_recorded and not ctx.mode
    assert tg.is_grad_enabled()


def test_multiple_outputs_vs_torch():
    a, b = rand(2, 3), rand(2, 3)
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    s, p = SumAndProd.apply(ta, tb)
    s2, p2 = TorchSumAndProd.apply(pa, pb)
    g1, g2 = rand(2, 3), rand(2, 3)
    (s * tg.tensor(g1) + p * tg.tensor(g2)).sum().backward()
    (s2 * torch.tensor(g1) + p2 * torch.tensor(g2)).sum().backward()
    assert_close(ta.grad, pa.grad)
    assert_close(tb.grad, pb.grad)


def test_unused_output_gets_zero_gradient():
    a, b = rand(4), rand(4)
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    s, p = SumAndProd.apply(ta, tb)
    g = rand(4)
    p.backward(g)  # the sum output receives no gradient: zeros are materialised
    _, p2 = TorchSumAndProd.apply(pa, pb)
    p2.backward(torch.tensor(g))
    assert_close(ta.grad, pa.grad)
    assert_close(tb.grad, pb.grad)


def test_set_materialize_grads_false_passes_none():
    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return g2 * 2

    x = tg.tensor(rand(3), requires_grad=True)
    _, b = Two.apply(x)
    b.backward(np.ones(3, np.float32))
    assert seen == [(True, False)]
    assert_close(x.grad, np.full(3, 2., np.float32))


def test_mark_non_differentiable():
    class SortIdx(Function):
        @staticmethod
        def forward(ctx, x):
            idx = tg.tensor(np.argsort(x.numpy()), requires_grad=False)
            vals = tg.tensor(np.sort(x.numpy()), requires_grad=False)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return vals, idx

        @staticmethod
        def backward(ctx, g_vals, g_idx):
            idx, = ctx.saved_tensors
            gx = np.zeros_like(g_vals.numpy())
            gx[idx.numpy()] = g_vals.numpy()
            return tg.tensor(gx)

    x = tg.tensor(np.array([3., 1., 2.], np.float32), requires_grad=True)
    vals, idx = SortIdx.apply(x)
    assert vals.requires_grad and not idx.requires_grad and idx.grad_fn is None
    vals.backward(np.array([10., 20., 30.], np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [30., 10., 20.])


def test_none_gradient_for_an_input():
    class FirstOnly(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, None

    a, b = tg.tensor(rand(3), requires_grad=True), tg.tensor(rand(3), requires_grad=True)
    FirstOnly.apply(a, b).backward(np.ones(3, np.float32))
    assert a.grad is not None and b.grad is None


def test_broadcast_shaped_gradient_is_summed():
    class AddBias(Function):
        @staticmethod
        def forward(ctx, x, bias):
            return x + bias

        @staticmethod
        def backward(ctx, g):
            return g, g  # g has x's shape: summed down to bias's (4,)

    x, bias = tg.tensor(rand(3, 4), requires_grad=True), tg.tensor(rand(4), requires_grad=True)
    g = rand(3, 4)
    AddBias.apply(x, bias).backward(g)
    assert_close(bias.grad, g.sum(0))


def test_wrong_shaped_gradient_names_function_and_shapes():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return tg.ones(5)

    x = tg.tensor(rand(2, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r'BadBackward.*\(5,\).*\(2, 3\)'):
        Bad.apply(x).backward(np.ones((2, 3), np.float32))


def test_wrong_number_of_gradients():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = tg.tensor(rand(2), requires_grad=True), tg.tensor(rand(2), requires_grad=True)
    with pytest.raises(RuntimeError, match='TooFew.*expected 2, got 1'):
        TooFew.apply(a, b).backward(np.ones(2, np.float32))


def test_saved_tensor_modified_in_place_raises():
    x = tg.tensor(rand(3), requires_grad=False)
    w = tg.tensor(rand(3), requires_grad=True)
    y = ScaledMul.apply(w, x, 1.0)
    x.add_(1)
    with pytest.raises(RuntimeError, match='ScaledMul'):
        y.backward(np.ones(3, np.float32))


def test_no_graph_under_no_grad_or_without_grad_inputs():
    x = tg.tensor(rand(3), requires_grad=True)
    with tg.no_grad():
        y = Exp.apply(x)
    assert y.grad_fn is None and not y.requires_grad
    z = Exp.apply(tg.tensor(rand(3), requires_grad=False))
    assert z.grad_fn is None


def test_returning_an_input_makes_an_alias():
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = tg.tensor(rand(3), requires_grad=True)
    y = Ident.apply(x)
    assert y is not x and x.grad_fn is None and np.shares_memory(y._data, x._data)
    y.backward(np.ones(3, np.float32))
    assert_close(x.grad, np.full(3, 3., np.float32))


def test_backward_may_return_arrays_and_keeps_dtype():
    class Half(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 0.5

        @staticmethod
        def backward(ctx, g):
            return np.asarray(g.numpy(), np.float64) * 0.5

    x = tg.tensor(rand(3), requires_grad=True)
    Half.apply(x).backward(np.ones(3, np.float32))
    assert x.grad._data.dtype == np.float32
    assert_close(x.grad, np.full(3, 0.5, np.float32))


def test_autograd_grad_through_function():
    x = tg.tensor(rand(4), requires_grad=True)
    (gx,) = tg.autograd.grad(Exp.apply(x).sum(), x)
    assert_close(gx, np.exp(x.numpy()))
    assert x.grad is None


# ---------------------------------------------------------------------- the autograd reference's style
def test_reference_instance_style_function():
    class DummyFunction(Function):
        def forward(self, x):
            assert isinstance(x, np.ndarray)  # forward receives the arrays
            return x + 1

        def backward(self, grad):
            assert isinstance(grad, np.ndarray)
            return grad * 2

    x = tg.tensor(np.array([1., 2., 3.], np.float32), requires_grad=True)
    y = DummyFunction.apply(x)
    np.testing.assert_array_equal(y.numpy(), [2., 3., 4.])
    y.backward(np.array([1., 2., 3.], np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [2., 4., 6.])


def test_reference_style_two_inputs_kwargs_and_unbroadcast():
    class ScaledAdd(Function):
        def forward(self, x, y, scale=1.0):
            self.scale = scale
            self.shapes = (x.shape, y.shape)
            return (x + y) * scale

        def backward(self, grad):
            g = grad * self.scale
            return Function.unbroadcast(g, self.shapes[0]), Function.unbroadcast(g, self.shapes[1])

    a = tg.tensor(rand(2, 3), requires_grad=True)
    b = tg.tensor(rand(3), requires_grad=True)
    out = ScaledAdd.apply(a, b, scale=2.0)
    assert_close(out, (a.numpy() + b.numpy()) * 2)
    g = rand(2, 3)
    out.backward(g)
    assert_close(a.grad, g * 2)
    assert_close(b.grad, (g * 2).sum(0))
    np.testing.assert_array_equal(Function.unbroadcast(np.ones((2, 2)), (1, 2)), [[2., 2.]])
