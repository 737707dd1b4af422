"""Second (and third) order gradients of the reductions, value-selecting ops, the
wider math library, matmul/einsum, norms and distances, against torch in float64.

Each case runs ``grad(y, xs, g, create_graph=True)`` with a random upstream ``g``
(itself differentiable), then the Hessian-vector product ``grad(sum(grad_i * v_i),
xs + [g])`` with random ``v``: it checks the recorded rule's dependence on the
inputs and on ``g``."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

RNG = np.random.default_rng(12)


def _r(*shape, lo=0.5, hi=1.5):
    return RNG.uniform(lo, hi, shape)


def _n(*shape):
    return RNG.standard_normal(shape)


def _values(out):
    return out[0] if isinstance(out, tuple) else out


def _derivatives(L, fn, arrays, order):
    """The first ``order`` derivatives of ``fn`` (as numpy arrays) with fixed random vectors."""
    rng = np.random.default_rng(7)
    xs = [L.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = _values(fn(L, *xs))
    g = L.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    grads = L.autograd.grad(out, xs, g, create_graph=True, allow_unused=True)
    res = [np.zeros(a.shape) if d is None else d.detach().numpy() for a, d in zip(arrays, grads)]
    wrt = xs + [g]
    for _ in range(order - 1):
        s = sum((d * L.tensor(rng.standard_normal(tuple(d.shape)), requires_grad=False)).sum()
                for d in grads if d is not None and d.requires_grad)
        grads = L.autograd.grad(s, wrt, create_graph=True, allow_unused=True)
        res += [np.zeros(tuple(w.shape)) if d is None else d.detach().numpy() for w, d in zip(wrt, grads)]
    return res


def check(fn, *arrays, order=2, rtol=1e-9, atol=1e-10):
    ours = _derivatives(tg, fn, arrays, order)
    ref = _derivatives(torch, fn, arrays, order)
    assert len(ours) == len(ref)
    for i, (a, b) in enumerate(zip(ours, ref)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f'derivative #{i}')


TIES = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, -1.0, 2.0], [0.7, 0.1, 0.9, 0.9]])
ZERO1 = np.array([[1.2, 0.0, 0.7, 1.5], [0.8, 1.1, 0.9, 1.3], [0.6, 0.0, 0.0, 1.4]])  # rows: 1, 0, 2 zeros
DUP = np.array([[1.0, 2.0, 1.0, 3.0, 2.0], [0.5, 0.5, 0.5, 0.2, 0.2]])

REDUCTIONS = {
    'amax dims': (lambda L, x: L.amax(x ** 3, dim=(0, 2)), _n(3, 2, 4)),
    'amax ties keepdim': (lambda L, x: L.amax(x * x, dim=1, keepdim=True), TIES),
    'amin transposed': (lambda L, x: L.amin(x.mT ** 3, dim=-1), TIES),
    'max all ties': (lambda L, x: (x ** 3).max() * x, TIES),
    'min all': (lambda L, x: (x * x).min(), _n(3, 4)),
    'max dim': (lambda L, x: L.max(x ** 3, 1), TIES),
    'min dim keepdim': (lambda L, x: L.min(x ** 3, 0, keepdim=True), _n(3, 4)),
    'prod dim': (lambda L, x: L.prod(x, 1), _r(3, 4)),
    'prod all': (lambda L, x: (x * x).prod(), _r(2, 3)),
    'prod dim zeros': (lambda L, x: L.prod(x, 1, keepdim=True), ZERO1),
    'prod all one zero': (lambda L, x: x.prod(), np.array([[1.2, 0.0], [0.7, 1.5]])),
    'prod 0-d': (lambda L, x: (x * x).prod(), np.array(1.5)),
    'var dims': (lambda L, x: L.var(x, dim=(0, 2)), _n(3, 2, 4)),
    'var correction 0 keepdim': (lambda L, x: L.var(x.mT, 1, correction=0, keepdim=True), _n(3, 4)),
    'var all': (lambda L, x: (x * x).var(), _n(3, 4)),
    'std dim': (lambda L, x: L.std(x, 1), _n(3, 4)),
    'std constant row': (lambda L, x: L.std(x, 1) * x.sum(1), np.array([[1.0, 1.0, 1.0], [0.3, -1.0, 2.0]])),
    'std all': (lambda L, x: (x ** 3).std(), _n(2, 3)),
    'logsumexp dim': (lambda L, x: L.logsumexp(x, 1), _n(3, 4)),
    'logsumexp dims keepdim': (lambda L, x: L.logsumexp(x * x, (0, 2), keepdim=True), _n(2, 3, 4)),
    'logsumexp -inf': (lambda L, x: L.logsumexp(x.log(), 1), np.array([[0.0, 0.5, 1.0], [0.2, 0.3, 0.0]])),
}

SELECTION = {
    'sort': (lambda L, x: L.sort(x ** 3, 1), _n(3, 5)),
    'sort descending dim 0': (lambda L, x: L.sort(x.mT ** 3, 0, descending=True), _n(3, 5)),
    'topk': (lambda L, x: L.topk(x ** 3, 2, 1), _n(3, 5)),
    'topk smallest': (lambda L, x: L.topk(x ** 3, 3, 0, largest=False), _n(4, 2)),
    'kthvalue': (lambda L, x: L.kthvalue(x ** 3, 2, 1), _n(3, 5)),
    'median dim': (lambda L, x: L.median(x ** 3, 1), _n(3, 5)),
    'median all': (lambda L, x: (x ** 3).median() * x, _n(3, 5)),
    'mode': (lambda L, x: L.mode(x ** 3, 1), DUP),
    'msort': (lambda L, x: L.msort(x ** 3), _n(4, 3)),
    'masked_select': (lambda L, x: L.masked_select(x ** 3, L.tensor(TIES > 0.9, requires_grad=False)), _n(3, 4)),
    'masked_select broadcast': (lambda L, x: L.masked_select(x ** 3, L.tensor(TIES > 0.9, requires_grad=False)),
                                _n(4)),
}

MATH = {
    'cumsum': (lambda L, x: L.cumsum(x * x, 1), _n(3, 4)),
    'cumsum dim 0 transposed': (lambda L, x: L.cumsum(x.mT ** 3, 0), _n(3, 4)),
    'cumprod': (lambda L, x: L.cumprod(x, 1), _r(3, 4)),
    'cumprod zeros': (lambda L, x: L.cumprod(x, 1), ZERO1),
    'cumprod zeros dim 0': (lambda L, x: L.cumprod(x * x, 0), ZERO1),
    'tril': (lambda L, x: L.tril(x ** 3, -1), _n(4, 3)),
    'triu batched': (lambda L, x: L.triu(x ** 3, 1), _n(2, 3, 4)),
    'roll dims': (lambda L, x: L.roll(x ** 3, (1, -2), (0, 1)), _n(3, 4)),
    'roll flat': (lambda L, x: L.roll(x ** 3, 5), _n(3, 4)),
    'logaddexp': (lambda L, x, y: L.logaddexp(x * y, x), _n(3, 4), _n(4)),
    'logaddexp2': (lambda L, x, y: L.logaddexp2(x, y * y), _n(3, 4), _n(3, 4)),
    'logaddexp number': (lambda L, x: L.logaddexp(x * x, L.tensor(0.5, dtype=L.float64, requires_grad=False)),
                         _n(3)),
    'arctan2': (lambda L, x, y: L.arctan2(x * y, y), _n(3, 4), _n(4)),
    'sinc': (lambda L, x: L.sinc(x), np.array([0.3, -1.7, 2.5, 1e-4, -2e-3])),
    'hypot': (lambda L, x, y: L.hypot(x, y * x), _n(3, 4), _n(4)),
    'xlogy': (lambda L, x, y: L.xlogy(x, y), _n(3, 4), _r(3, 4)),
    'xlogy zeros': (lambda L, x, y: L.xlogy(x * 0, y), _n(3), _r(3)),
    'logit': (lambda L, x: L.logit(x), _r(3, 4, lo=0.1, hi=0.9)),
    'logit eps': (lambda L, x: L.logit(x, eps=0.2), np.array([0.1, 0.3, 0.5, 0.85])),
    'erfc': (lambda L, x: L.erfc(x), _n(3, 4)),
    'erfinv': (lambda L, x: L.erfinv(x), _r(3, 4, lo=-0.9, hi=0.9)),
    'float_power': (lambda L, x: L.float_power(x, 2.5), _r(3)),
    'floor times square': (lambda L, x: L.floor(x * 3) * x * x, _n(3, 4)),
    'round decimals times x': (lambda L, x: L.round(x, decimals=1) * x, _n(3)),
    'frac': (lambda L, x: L.frac(x * x), _n(3, 4) * 2),
    'fmod': (lambda L, x, y: L.fmod(x * x, y), _n(3, 4) * 3, _r(4)),
    'nan_to_num': (lambda L, x: L.nan_to_num((x - 0.5).log()) * x, np.array([0.2, 1.5, 0.7, 2.0])),
    'clamp_min': (lambda L, x: L.clamp_min(x, 0.1) ** 2, _n(5)),
}

UNARY = {name: (lambda name: lambda L, x: getattr(L, name)(x))(name) for name in (
    'tan', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'arcsinh', 'arctanh', 'exp2', 'expm1', 'log2',
    'log10', 'log1p', 'square', 'reciprocal', 'rsqrt')}
UNARY = {name: (fn, _r(3, 4, lo=0.1, hi=0.8)) for name, fn in UNARY.items()}
UNARY['arccosh'] = (lambda L, x: L.arccosh(x), _r(3, 4, lo=1.2, hi=2.0))
UNARY['cbrt'] = (lambda L, x: L.pow(x, 1 / 3) if L is torch else L.cbrt(x), _r(3, 4))
UNARY['square transposed'] = (lambda L, x: L.square(x.mT), _n(3, 4))

TRIG = {  # MyGrad's reciprocal functions, compared with their definitions in torch
    'cot': (lambda x: 1 / torch.tan(x), _r(4)), 'csc': (lambda x: 1 / torch.sin(x), _r(4)),
    'sec': (lambda x: 1 / torch.cos(x), _r(4)), 'arccot': (lambda x: torch.arctan(1 / x), _r(4)),
    'arccsc': (lambda x: torch.arcsin(1 / x), _r(4, lo=1.2, hi=2)),
    'arcsec': (lambda x: torch.arccos(1 / x), _r(4, lo=1.2, hi=2)),
    'coth': (lambda x: 1 / torch.tanh(x), _r(4)), 'csch': (lambda x: 1 / torch.sinh(x), _r(4)),
    'sech': (lambda x: 1 / torch.cosh(x), _r(4)), 'arccoth': (lambda x: torch.arctanh(1 / x), _r(4, lo=1.2, hi=2)),
    'arccsch': (lambda x: torch.arcsinh(1 / x), _r(4)),
}
for _name, (_ref, _arr) in TRIG.items():
    MATH['trig ' + _name] = ((lambda name, ref: lambda L, x: getattr(tg, name)(x) if L is tg else ref(x))(_name, _ref),
                             _arr)

def _cdist(L, a, b, p=2.0):
    """tensorgrad's cdist; torch's has no double backward: its definition there."""
    if L is tg:
        return tg.cdist(a, b, p=p)
    return torch.linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, dim=-1)


LINALG = {
    'matmul 1d 1d': (lambda L, a, b: L.matmul(a, b * b), _n(4), _n(4)),
    'matmul 1d 2d': (lambda L, a, b: L.matmul(a * a, b), _n(3), _n(3, 4)),
    'matmul 2d 1d': (lambda L, a, b: L.matmul(a, b * b), _n(3, 4), _n(4)),
    'matmul 2d 2d': (lambda L, a, b: L.matmul(a * a, b), _n(3, 4), _n(4, 2)),
    'matmul transposed': (lambda L, a, b: L.matmul(a.mT, b.mT * b.mT), _n(4, 3), _n(2, 4)),
    'matmul batched': (lambda L, a, b: L.matmul(a, b * b), _n(2, 3, 4), _n(2, 4, 2)),
    'matmul batch broadcast': (lambda L, a, b: L.matmul(a * a, b), _n(2, 1, 3, 4), _n(5, 4, 2)),
    'matmul 3d 2d': (lambda L, a, b: L.matmul(a, b * b), _n(2, 3, 4), _n(4, 2)),
    'matmul 1d 3d': (lambda L, a, b: L.matmul(a, b * b), _n(4), _n(2, 4, 3)),
    'matmul 3d 1d': (lambda L, a, b: L.matmul(a * a, b), _n(2, 3, 4), _n(4)),
    'matmul same operand': (lambda L, a: L.matmul(a, a), _n(3, 3)),
    'einsum matmul': (lambda L, a, b: L.einsum('ij,jk->ik', a * a, b), _n(3, 4), _n(4, 2)),
    'einsum batched': (lambda L, a, b: L.einsum('bij,bjk->bik', a, b * b), _n(2, 3, 4), _n(2, 4, 2)),
    'einsum diag': (lambda L, a: L.einsum('ii->i', a * a), _n(3, 3)),
    'einsum trace times': (lambda L, a, b: L.einsum('ii,j->j', a, b * b), _n(3, 3), _n(2)),
    'einsum sum out': (lambda L, a, b: L.einsum('ij,j->', a * a, b), _n(3, 4), _n(4)),
    'einsum ellipsis broadcast': (lambda L, a, b: L.einsum('...ij,...jk->...ik', a, b * b), _n(2, 3, 4), _n(4, 2)),
    'einsum three': (lambda L, a, b, c: L.einsum('ij,jk,k->i', a, b, c * c), _n(3, 4), _n(4, 2), _n(2)),
    'einsum outer only': (lambda L, a, b: L.einsum('i,jk->ijk', a * a, b), _n(3), _n(2, 2)),
    'vector_norm 2': (lambda L, x: L.linalg.vector_norm(x, 2, dim=1), _n(3, 4)),
    'vector_norm 2 zero row': (lambda L, x: L.linalg.vector_norm(x * x, dim=1) * x.sum(1),
                               np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])),
    'vector_norm 1': (lambda L, x: L.linalg.vector_norm(x * x * x, 1, dim=0), _n(3, 4)),
    'vector_norm 3': (lambda L, x: L.linalg.vector_norm(x, 3), _n(3, 4)),
    'vector_norm inf': (lambda L, x: L.linalg.vector_norm(x ** 3, float('inf'), dim=1), _n(3, 4)),
    'matrix_norm fro keepdim': (lambda L, x: L.linalg.matrix_norm(x, keepdim=True), _n(2, 3, 4)),
    'linalg.norm': (lambda L, x: L.linalg.norm(x), _n(3, 4)),
    'norm p=3 dim': (lambda L, x: L.norm(x, 3, dim=1), _n(3, 4)),
    'cdist 2': (lambda L, a, b: _cdist(L, a, b * b), _n(3, 4), _n(2, 4)),
    'cdist 1': (lambda L, a, b: _cdist(L, a ** 3, b, p=1.0), _n(3, 4), _n(2, 4)),
    'cdist 3 batched': (lambda L, a, b: _cdist(L, a, b, p=3.0), _n(2, 3, 4), _n(2, 2, 4)),
    'cdist inf': (lambda L, a, b: _cdist(L, a ** 3, b, p=float('inf')), _n(3, 4), _n(2, 4)),
    'pairwise_distance': (lambda L, a, b: L.nn.functional.pairwise_distance(a, b * b), _n(3, 4), _n(3, 4)),
}


@pytest.mark.parametrize('name', REDUCTIONS)
def test_reductions(name):
    check(*REDUCTIONS[name])


@pytest.mark.parametrize('name', SELECTION)
def test_selection(name):
    check(*SELECTION[name])


@pytest.mark.parametrize('name', MATH)
def test_math(name):
    # sinc near 0: torch's formula cancels (relative error ~1e-16 / x^2); ours uses the series
    check(*MATH[name], **({'rtol': 1e-7} if name == 'sinc' else {}))


@pytest.mark.parametrize('name', UNARY)
def test_unary(name):
    check(*UNARY[name])


@pytest.mark.parametrize('name', LINALG)
def test_linalg(name):
    check(*LINALG[name])


THIRD = {
    'matmul': (lambda L, a, b: L.matmul(a * a, b), _n(3, 4), _n(4, 2)),
    'einsum': (lambda L, a, b: L.einsum('bij,bjk->bik', a * a, b), _n(2, 3, 4), _n(2, 4, 2)),
    'logsumexp': (lambda L, x: L.logsumexp(x, 1), _n(3, 4)),
    'prod with a zero': (lambda L, x: L.prod(x, 1), ZERO1),
    'cumprod': (lambda L, x: L.cumprod(x, 1), _r(2, 4)),
    'cumprod with a zero': (lambda L, x: L.cumprod(x, 1), ZERO1[:2]),
    'sort': (lambda L, x: L.sort(x ** 3, 1), _n(3, 4)),
    'std': (lambda L, x: L.std(x, 1), _n(3, 4)),
    'masked_select': (lambda L, x: L.masked_select(x ** 3, L.tensor(TIES > 0.9, requires_grad=False)), _n(3, 4)),
}


F = torch.nn.functional
COMPOSITE = {  # ops composed of primitives (their rules live with the primitives)
    'cummax': (lambda L, x: L.cummax(x ** 3, 1), _n(3, 5)),
    'cummin dim 0': (lambda L, x: L.cummin(x ** 3, 0), _n(3, 5)),
    'addmm': (lambda L, c, a, b: L.addmm(c, a * a, b, beta=0.5, alpha=2.0), _n(3, 2), _n(3, 4), _n(4, 2)),
    'baddbmm': (lambda L, c, a, b: L.baddbmm(c, a, b * b), _n(2, 3, 2), _n(2, 3, 4), _n(2, 4, 2)),
    'outer': (lambda L, a, b: L.outer(a * a, b), _n(3), _n(4)),
    'lerp': (lambda L, a, b, w: L.lerp(a, b * b, w), _n(3), _n(3), _r(3)),
    'addcmul': (lambda L, a, b, c: L.addcmul(a, b, c * c, value=0.5), _n(3), _n(3), _n(3)),
    'addcdiv': (lambda L, a, b, c: L.addcdiv(a, b * b, c, value=0.5), _n(3), _n(3), _r(3)),
    'elu': (lambda L, x: (L if L is tg else F).elu(x, 0.7), _n(3, 4)),
    'selu': (lambda L, x: (L if L is tg else F).selu(x), _n(3, 4)),
    'softsign': (lambda L, x: (L if L is tg else F).softsign(x), _n(3, 4)),
    'glu': (lambda L, x: (L if L is tg else F).glu(x, 1), _n(3, 4)),
    'multi_dot': (lambda L, a, b, c: L.linalg.multi_dot([a, b * b, c]), _n(3), _n(3, 4), _n(4, 2)),
}


@pytest.mark.parametrize('name', COMPOSITE)
def test_composite(name):
    check(*COMPOSITE[name])


EDGE_SHAPES = {  # 0-d and size-0 inputs
    'amax 0-d': (lambda L, x: L.amax(x * x), np.array(0.7)),
    'sort 0-d': (lambda L, x: L.sort(x ** 3, 0), np.array(0.7)),
    'logsumexp 0-d': (lambda L, x: L.logsumexp(x * x, 0), np.array(0.7)),
    'cumsum 0-d': (lambda L, x: L.cumsum(x * x, 0), np.array(0.7)),
    'cumprod 0-d': (lambda L, x: L.cumprod(x * x, 0), np.array(0.7)),
    'prod empty dim': (lambda L, x: L.prod(x, 1), np.zeros((3, 0))),
    'var empty': (lambda L, x: L.var(x, 1), np.zeros((0, 3))),
    'logsumexp empty': (lambda L, x: L.logsumexp(x, 1), np.zeros((0, 3))),
    'cumprod empty': (lambda L, x: L.cumprod(x, 1), np.zeros((0, 3))),
    'sort empty': (lambda L, x: L.sort(x * x, 1), np.zeros((0, 3))),
    'matmul empty inner': (lambda L, a, b: L.matmul(a * a, b), np.zeros((3, 0)), np.zeros((0, 2))),
    'einsum empty': (lambda L, a, b: L.einsum('ij,jk->ik', a * a, b), np.zeros((0, 4)), _n(4, 2)),
}


@pytest.mark.parametrize('name', EDGE_SHAPES)
def test_edge_shapes(name):
    check(*EDGE_SHAPES[name])


@pytest.mark.parametrize('name', THIRD)
def test_third_order(name):
    check(*THIRD[name], order=3)


def test_sinc_second_derivative_at_zero():
    # -pi^2 / 3 (torch gives NaN there: its formula divides by x)
    x = tg.tensor(np.array([0.0, 1e-5]), requires_grad=True)
    gx, = tg.autograd.grad(tg.sinc(x).sum(), x, create_graph=True)
    hx, = tg.autograd.grad(gx.sum(), x)
    np.testing.assert_allclose(gx.detach().numpy(), [0.0, -np.pi ** 2 / 3 * 1e-5], atol=1e-12)
    np.testing.assert_allclose(hx.numpy(), [-np.pi ** 2 / 3] * 2, rtol=1e-8)


def test_float32_stays_float32():
    x = tg.tensor(_n(3, 4).astype(np.float32), requires_grad=True)
    for fn in (lambda t: tg.logsumexp(t, 1), lambda t: tg.std(t, 1), lambda t: tg.prod(t, 1),
               lambda t: tg.cumprod(t, 1), lambda t: tg.matmul(t, t.mT), lambda t: tg.sinc(t),
               lambda t: tg.logaddexp(t, 0.5)):
        gx, = tg.autograd.grad(fn(x).sum(), x, create_graph=True)
        hx, = tg.autograd.grad((gx * gx).sum(), x)
        assert gx.dtype == tg.float32 and hx.dtype == tg.float32


@pytest.mark.parametrize('shape', [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize('ord_', ['nuc', 2, -2])
def test_svdvals_and_spectral_norms_second_order(shape, ord_):
    rng = np.random.default_rng(5)
    a, v = rng.standard_normal(shape), rng.standard_normal(shape)
    res = []
    for L in (tg, torch):
        x = L.tensor(a, requires_grad=True)
        g, = L.autograd.grad(L.linalg.matrix_norm(x * 1, ord_).sum(), x, create_graph=True)
        h, = L.autograd.grad((g * L.tensor(v)).sum(), x)
        s_g, = L.autograd.grad((L.linalg.svdvals(x) * L.tensor(np.arange(1., 1 + min(shape[-2:])))).sum(), x,
                               create_graph=True)
        s_h, = L.autograd.grad((s_g * L.tensor(v)).sum(), x)
        res.append([t.detach().numpy() for t in (g, h, s_g, s_h)])
    for ours, ref in zip(*res):
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


def test_svd_third_order_raises_naming_the_op():
    x = tg.tensor(_n(3, 3), requires_grad=True)
    gx, = tg.autograd.grad(tg.linalg.svdvals(x).sum(), x, create_graph=True)
    hx, = tg.autograd.grad((gx * gx).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match='Svd'):
        tg.autograd.grad(hx.sum(), x)
