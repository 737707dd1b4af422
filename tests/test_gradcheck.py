"""autograd.gradcheck / gradgradcheck: pass on a representative op of every
family, fail on deliberately wrong custom Functions, and follow PyTorch's
input checks, options and error types."""
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn
from tensorgrad.autograd import Function, GradcheckError, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def t64(*shape, low=-1.0, high=1.0, grad=True):
    """A float64 tensor of uniform values (requires grad by default)."""
    return tg.tensor(RNG.uniform(low, high, size=shape), dtype=tg.float64, requires_grad=grad)


def _lstm_cell():
    cell = nn.LSTMCell(3, 4).double()
    x, h, c = t64(2, 3), t64(2, 4), t64(2, 4)
    return (lambda x, h, c, w: tuple(cell(x, (h, c)))), (x, h, c, cell.weight_ih)


def _gru_cell():
    cell = nn.GRUCell(3, 2).double()
    return (lambda x, h: cell(x, h)), (t64(2, 3), t64(2, 2))


def _attention():
    q, k, v = t64(1, 2, 3, 4), t64(1, 2, 5, 4), t64(1, 2, 5, 4)
    return (lambda q, k, v: F.scaled_dot_product_attention(q, k, v)), (q, k, v)


def _embedding():
    idx = tg.tensor(np.array([[0, 2], [3, 2]]), requires_grad=False)
    return (lambda w: F.embedding(idx, w)), (t64(4, 3),)


def _gather_scatter():
    idx = tg.tensor(np.array([[0, 1, 1], [2, 0, 2]]), requires_grad=False)
    perm = tg.tensor(np.array([[2, 0], [1, 2]]), requires_grad=False)  # scatter: no duplicate targets
    return (lambda x, s: (x.gather(1, idx), x.scatter(1, perm, s), x.scatter_add(1, idx, s))), (t64(2, 3), t64(2, 3))


CASES = {
    # elementwise, binary with broadcasting
    'add_mul_div': lambda: ((lambda a, b: a * b + a / (b + 3)), (t64(2, 3), t64(3))),
    'pow_maximum': lambda: ((lambda a, b: tg.maximum(a, b) ** 2), (t64(3, 2), t64(1, 2))),
    # unary math
    'exp_log_tanh': lambda: ((lambda a: a.exp() + (a + 2).log() + a.tanh()), (t64(2, 3),)),
    'sigmoid_sqrt': lambda: ((lambda a: a.sigmoid() * a.sqrt()), (t64(4, low=0.5, high=2.0),)),
    # reductions
    'sum_mean_dims': lambda: ((lambda a: (a.sum(1), a.mean((0, 2), keepdim=True))), (t64(2, 3, 2),)),
    'var_amax_logsumexp': lambda: ((lambda a: (a.var(0), a.amax(-1), a.logsumexp(1))), (t64(3, 4),)),
    'prod_0d': lambda: ((lambda a: a.prod()), (t64(3, low=0.5, high=1.5),)),
    # shape / view
    'reshape_permute': lambda: ((lambda a: a.reshape(3, 4).t().permute(1, 0).unsqueeze(0)), (t64(2, 6),)),
    'cat_stack_flip': lambda: ((lambda a, b: tg.cat([a, b], 0).flip(1) + tg.stack([a, b]).sum(0).repeat(2, 1)),
                               (t64(2, 3), t64(2, 3))),
    'transposed_input': lambda: ((lambda a: a * 2), (t64(3, 2).detach().t().requires_grad_(),)),
    # indexing / gather / scatter
    'getitem': lambda: ((lambda a: a[1:, ::2] + a[[0, 1], [1, 2]].sum()), (t64(3, 4),)),
    'gather_scatter': _gather_scatter,
    'index_select_where': lambda: ((lambda a, b: tg.where(a > 0, a, b).index_select(0, tg.tensor(np.array([1, 0]),
                                                                                                   requires_grad=False))),
                                   (t64(2, 3), t64(2, 3))),
    # matmul / einsum
    'matmul_batched': lambda: ((lambda a, b: a @ b), (t64(2, 3, 4), t64(4, 2))),
    'einsum': lambda: ((lambda a, b: tg.einsum('ij,jk->ik', a, b)), (t64(2, 3), t64(3, 2))),
    # conv / pool
    'conv2d': lambda: ((lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1)), (t64(1, 2, 3, 3), t64(2, 2, 2, 2),
                                                                                  t64(2))),
    'pools': lambda: ((lambda x: (F.max_pool2d(x, 2), F.avg_pool2d(x, 2))), (t64(1, 1, 4, 4),)),
    # softmax family
    'softmax_log_softmax': lambda: ((lambda a: (F.softmax(a, dim=1), F.log_softmax(a, dim=0))), (t64(3, 4),)),
    # losses
    'cross_entropy': lambda: ((lambda a: F.cross_entropy(a, tg.tensor(np.array([0, 2, 1]), requires_grad=False))),
                              (t64(3, 4),)),
    'mse_bce': lambda: ((lambda a, b: F.mse_loss(a, b) + F.binary_cross_entropy_with_logits(a, (b > 0).double())),
                        (t64(2, 3), t64(2, 3))),
    # norms
    'layer_norm': lambda: ((lambda x, w, b: F.layer_norm(x, (4,), w, b)), (t64(2, 4), t64(4), t64(4))),
    'batch_norm': lambda: ((lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
                           (t64(4, 3), t64(3), t64(3))),
    # embedding, attention, rnn cells
    'embedding': _embedding,
    'attention': _attention,
    'lstm_cell': _lstm_cell,
    'gru_cell': _gru_cell,
}


@pytest.mark.parametrize('name', list(CASES))
def test_gradcheck_passes(name):
    func, inputs = CASES[name]()
    assert gradcheck(func, inputs) is True


@pytest.mark.parametrize('name', ['add_mul_div', 'sum_mean_dims', 'conv2d', 'lstm_cell', 'getitem'])
def test_gradcheck_fast_mode_passes(name):
    func, inputs = CASES[name]()
    assert gradcheck(func, inputs, fast_mode=True) is True


def test_gradcheck_zero_dim_and_empty_inputs():
    assert gradcheck(lambda a: a.exp() * a, (t64(),))
    assert gradcheck(lambda a, b: a.sum(0) + b, (t64(0, 3), t64(3)))
    assert gradcheck(lambda a: a * 3, (t64(0, 2),), fast_mode=True)


class WrongSquare(Function):
    """x**2 with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x


class IgnoresGradOutput(Function):
    """Identity whose backward returns ones instead of grad_output."""

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return grad * 0 + 1


class Nondeterministic(Function):
    """2x with a tiny random error in backward."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * (2 + tg.tensor(np.random.uniform(0, 1e-9, size=tuple(grad.shape)), requires_grad=False))


class WrongTwoOutputs(Function):
    """(x, 2x) with a wrong gradient for the second output."""

    @staticmethod
    def forward(ctx, x):
        return x * 1, x * 2

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 + g2


@pytest.mark.parametrize('fast_mode', [False, True])
def test_wrong_backward_raises_and_returns_false(fast_mode):
    x = t64(2, 3)
    with pytest.raises(GradcheckError, match='Jacobian mismatch for output 0 with respect to input 0'):
        gradcheck(WrongSquare.apply, (x,), fast_mode=fast_mode)
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False, fast_mode=fast_mode) is False
    assert isinstance(GradcheckError('x'), RuntimeError)


def test_wrong_second_output_names_output_1():
    with pytest.raises(GradcheckError, match='mismatch for output 1 with respect to input 0'):
        gradcheck(WrongTwoOutputs.apply, (t64(3),))


def test_backward_not_multiplied_by_grad_output():
    # the Jacobian at grad_output = basis vectors happens to match (ones); the zero check catches it
    with pytest.raises(GradcheckError, match='backward not multiplied by grad_output'):
        gradcheck(IgnoresGradOutput.apply, (t64(1),))


def test_nondeterministic_backward_and_nondet_tol():
    x = t64(3)
    with pytest.raises(GradcheckError, match='Backward is not reentrant'):
        gradcheck(Nondeterministic.apply, (x,))
    assert gradcheck(Nondeterministic.apply, (x,), nondet_tol=1e-6)


def test_torch_agrees_on_the_same_functions():
    """The same checks give the same verdicts in PyTorch."""
    class TorchWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x
    xt = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(TorchWrong.apply, (xt,), raise_exception=False) is False
    assert gradcheck(WrongSquare.apply, (tg.tensor(xt.detach().numpy()),), raise_exception=False) is False


def test_input_checks():
    with pytest.raises(ValueError, match='at least one input tensor to require gradient'):
        gradcheck(lambda a: a * 2, (t64(2, grad=False),))
    e = tg.Tensor._wrap(np.broadcast_to(np.ones(3), (2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match='dimension with stride 0'):
        gradcheck(lambda a: a * 2, (e,))
    x32 = tg.tensor(RNG.uniform(size=3).astype(np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match='is not a double precision'):
        gradcheck(lambda a: a * 2, (x32,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_non_tensor_arguments_and_non_differentiable_outputs():
    assert gradcheck(lambda a, k, b: (a * k + b, a.argmax()), (t64(3), 2.5, t64(3)))
    # only non-differentiable outputs: the numerical gradient must be zero
    assert gradcheck(lambda a: a.argmax(), (t64(4),))
    # a float output cut from the graph has a non-zero numerical gradient: a failure, as in PyTorch
    assert gradcheck(lambda a: a.detach() * 2, (t64(4),), raise_exception=False) is False


def test_unsupported_options_raise():
    x = t64(2)
    with pytest.raises(NotImplementedError, match='check_batched_grad'):
        gradcheck(lambda a: a * 2, (x,), check_batched_grad=True)
    with pytest.raises(NotImplementedError, match='check_forward_ad'):
        gradcheck(lambda a: a * 2, (x,), check_forward_ad=True)
    with pytest.raises(AssertionError):
        gradcheck(lambda a: a * 2, (x,), check_backward_ad=False)


def test_gradcheck_leaves_grad_and_random_state_untouched():
    x = t64(3)
    state = np.random.get_state()[1].copy()
    assert gradcheck(lambda a: a.sin(), (x,), fast_mode=True)
    assert x.grad is None
    assert np.array_equal(np.random.get_state()[1], state)


class DetachedSquareGrad(Function):
    """x**2 whose backward is right in value but computed from detached data, so
    the gradient's own derivative with respect to x is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * tg.tensor(2 * x.detach().numpy(), requires_grad=False)


@pytest.mark.parametrize('name', ['add_mul_div', 'exp_log_tanh', 'matmul_batched', 'softmax_log_softmax'])
def test_gradgradcheck_passes(name):
    func, inputs = CASES[name]()
    assert gradgradcheck(func, inputs) is True


def test_gradgradcheck_catches_a_non_differentiable_backward():
    x = t64(3)
    assert gradcheck(DetachedSquareGrad.apply, (x,))  # first order is right
    assert gradgradcheck(DetachedSquareGrad.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match='Jacobian mismatch'):
        gradgradcheck(DetachedSquareGrad.apply, (x,))


def test_gradgradcheck_names_create_graph_when_unsupported(monkeypatch):
    """Where autograd.grad cannot build a graph, the error names create_graph."""
    import tensorgrad.autograd as ag
    real_grad = ag.grad

    def no_create_graph(outputs, inputs, grad_outputs=None, create_graph=False, **kw):
        if create_graph:
            raise NotImplementedError("grad: create_graph=True is not supported")
        return real_grad(outputs, inputs, grad_outputs, **kw)

    monkeypatch.setattr(ag, 'grad', no_create_graph)
    with pytest.raises(NotImplementedError, match='gradgradcheck needs .*create_graph=True'):
        gradgradcheck(lambda a: a.exp(), (t64(3),))


def test_gradgradcheck_runs_gradcheck_on_the_gradient(monkeypatch):
    """Once create_graph works, gradgradcheck is gradcheck of autograd.grad: here
    autograd.grad is stood in for by the analytic gradient of x**3 (3 x**2 g),
    written with differentiable ops, to exercise the wiring."""
    import tensorgrad.autograd as ag
    real_grad = ag.grad

    def fake_grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False, **kw):
        if not create_graph:  # gradcheck's own first-order calls
            return real_grad(outputs, inputs, grad_outputs, allow_unused=allow_unused, **kw)
        (x,), (g,) = inputs, grad_outputs
        return (3 * x * x * g,)

    monkeypatch.setattr(ag, 'grad', fake_grad)
    assert gradgradcheck(lambda a: a ** 3, (t64(3),))
    assert gradgradcheck(lambda a: a ** 3, (t64(2, 2),), gen_non_contig_grad_outputs=True)

    def wrong_grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False, **kw):
        if not create_graph:
            return real_grad(outputs, inputs, grad_outputs, allow_unused=allow_unused, **kw)
        (x,), (g,) = inputs, grad_outputs
        return (3 * WrongSquare.apply(x) * g,)  # the right value, but its own backward is wrong

    monkeypatch.setattr(ag, 'grad', wrong_grad)
    assert gradgradcheck(lambda a: a ** 3, (t64(3),), raise_exception=False) is False


def test_no_warning_for_float64():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert gradcheck(lambda a: a.cos(), (t64(2),))
