"""tensorgrad.autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) against
torch.autograd.functional in float64: values, return structure (tensor or
nested tuples), create_graph (results differentiable again), strict-mode
errors and the vectorize / strategy options."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import tensorgrad as tg
import tensorgrad.autograd.functional as F

RNG = np.random.default_rng(21)
A, B = RNG.uniform(0.5, 1.5, (2, 3)), RNG.uniform(0.5, 1.5, 3)
VA, VB = RNG.standard_normal((2, 3)), RNG.standard_normal(3)


def _t(L, a, grad=False):
    return L.tensor(a, requires_grad=grad)


def _np(res):
    if isinstance(res, (tuple, list)):
        return type(res)(_np(r) for r in res)
    return res.detach().numpy()


def _assert_same(ours, ref):
    assert type(ours) is type(ref) or (isinstance(ref, torch.Tensor) and isinstance(ours, tg.Tensor)), \
        (type(ours), type(ref))
    if isinstance(ref, (tuple, list)):
        assert len(ours) == len(ref)
        for a, b in zip(ours, ref):
            _assert_same(a, b)
    else:
        assert tuple(ours.shape) == tuple(ref.shape)
        np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def f_two_in_two_out(x, y):
    return (x * y).sin(), (x ** 2).sum(0) * y.exp()


def f_one(x):
    return (x ** 3).tanh() * x.t().sum(1, keepdim=True).t()


def f_scalar_two(x, y):
    return ((x * y).sin() * y).sum() + (x ** 2).sum() * y.prod()


def f_scalar_one(x):
    return (x.exp() * x.t().sum(1, keepdim=True).t()).sum()


def _inputs(L, which):
    return {'one': _t(L, A), 'two': (_t(L, A), _t(L, B))}[which]


def _v_out(L, which):
    return {'one': _t(L, VA), 'two': (_t(L, VA), _t(L, VB))}[which]


@pytest.mark.parametrize('fn, which', [(f_one, 'one'), (f_two_in_two_out, 'two')])
def test_vjp_and_jvp(fn, which):
    for op, Lop in ((F.vjp, TF.vjp), (F.jvp, TF.jvp)):
        ours = op(fn, _inputs(tg, which), _v_out(tg, which))
        ref = Lop(fn, _inputs(torch, which), _v_out(torch, which))
        _assert_same(ours, ref)


@pytest.mark.parametrize('fn, which', [(f_one, 'one'), (f_two_in_two_out, 'two')])
def test_jacobian(fn, which):
    ref = TF.jacobian(fn, _inputs(torch, which))
    _assert_same(F.jacobian(fn, _inputs(tg, which)), ref)
    _assert_same(F.jacobian(fn, _inputs(tg, which), vectorize=True), ref)
    _assert_same(F.jacobian(fn, _inputs(tg, which), vectorize=True, strategy='forward-mode'),
                 TF.jacobian(fn, _inputs(torch, which), vectorize=True, strategy='forward-mode'))


@pytest.mark.parametrize('fn, which', [(f_scalar_one, 'one'), (f_scalar_two, 'two')])
def test_hessian_hvp_vhp(fn, which):
    _assert_same(F.hessian(fn, _inputs(tg, which)), TF.hessian(fn, _inputs(torch, which)))
    _assert_same(F.hessian(fn, _inputs(tg, which), vectorize=True, outer_jacobian_strategy='forward-mode'),
                 TF.hessian(fn, _inputs(torch, which), vectorize=True, outer_jacobian_strategy='forward-mode'))
    v = {'one': VA, 'two': (VA, VB)}[which]
    for op, Lop in ((F.hvp, TF.hvp), (F.vhp, TF.vhp)):
        vt = tuple(_t(tg, a) for a in v) if which == 'two' else _t(tg, v)
        vr = tuple(_t(torch, a) for a in v) if which == 'two' else _t(torch, v)
        _assert_same(op(fn, _inputs(tg, which), vt), Lop(fn, _inputs(torch, which), vr))


def test_create_graph_results_differentiate_again():
    res = []
    for L, mod in ((tg, F), (torch, TF)):
        x = _t(L, A, grad=True)
        _, h = mod.hvp(f_scalar_one, x, _t(L, VA), create_graph=True)
        jac = mod.jacobian(f_one, x, create_graph=True)
        hess = mod.hessian(f_scalar_one, x, create_graph=True)
        assert h.requires_grad and jac.requires_grad and hess.requires_grad
        res.append(_np(L.autograd.grad((h ** 2).sum() + jac.sin().sum() + hess.sum(), x)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)


def test_results_carry_no_graph_without_create_graph():
    x = _t(tg, A, grad=True)
    out, g = F.vjp(f_one, x, _t(tg, VA))
    h = F.hessian(f_scalar_one, x)
    assert not out.requires_grad and not g.requires_grad and not h.requires_grad


def test_scalar_defaults_for_v():
    for L, mod in ((tg, F), (torch, TF)):
        x = _t(L, np.array([0.7]))
        out, g = mod.vjp(lambda a: (a ** 3).sum(), x)
        _, j = mod.jvp(lambda a: a ** 3, x)
        np.testing.assert_allclose(g.detach().numpy(), [3 * 0.49])
        np.testing.assert_allclose(j.detach().numpy(), [3 * 0.49])


def test_unused_input_gives_zeros_and_strict_raises():
    def f(x, y):
        return x * 2

    for L, mod in ((tg, F), (torch, TF)):
        _, (gx, gy) = mod.vjp(f, (_t(L, B), _t(L, B)), _t(L, VB))
        np.testing.assert_array_equal(gy.detach().numpy(), np.zeros(3))
        with pytest.raises(RuntimeError, match='independent of input 1'):
            mod.vjp(f, (_t(L, B), _t(L, B)), _t(L, VB), strict=True)
        with pytest.raises(RuntimeError, match='independent of input 1'):
            mod.jacobian(f, (_t(L, B), _t(L, B)), strict=True)
        # a linear function: its jacobian does not depend on the input
        with pytest.raises(RuntimeError, match='jacobian of the user-provided function'):
            mod.hessian(lambda x: (x * 2).sum(), _t(L, B), strict=True)


@pytest.mark.parametrize('call, match, exc', [
    (lambda m, L: m.vjp(f_one, _t(L, A), _t(L, VB)), 'v has invalid size', RuntimeError),
    (lambda m, L: m.vjp(f_one, _t(L, A)), 'v can only be None', RuntimeError),
    (lambda m, L: m.vjp(f_one, [1.0]), 'must be either a Tensor or a tuple of Tensors', TypeError),
    (lambda m, L: m.hvp(f_one, _t(L, A), _t(L, VA)), 'should contain a single element', RuntimeError),
    (lambda m, L: m.hessian(f_two_in_two_out, (_t(L, A), _t(L, B))), 'should return a single Tensor',
     RuntimeError),
    (lambda m, L: m.jacobian(f_one, _t(L, A), strategy='forward-mode'), 'only implemented for `vectorize=True`',
     NotImplementedError),
    (lambda m, L: m.jacobian(f_one, _t(L, A), strategy='sideways'), 'Expected strategy', AssertionError),
    (lambda m, L: m.jacobian(f_one, _t(L, A), vectorize=True, strict=True), 'are not supported together',
     RuntimeError),
])
def test_errors_match_torch(call, match, exc):
    for L, mod in ((tg, F), (torch, TF)):
        with pytest.raises(exc, match=match):
            call(mod, L)


def test_inputs_are_not_modified_and_gradients_reach_captured_tensors():
    res = []
    for L, mod in ((tg, F), (torch, TF)):
        w = _t(L, B, grad=True)
        x = _t(L, A, grad=True)
        _, g = mod.vjp(lambda a: (a * w).sin(), x, _t(L, VA), create_graph=True)
        assert x.grad is None and w.grad is None
        res.append(_np(L.autograd.grad(g.sum(), w)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)
