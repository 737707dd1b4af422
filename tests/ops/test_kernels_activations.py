"""The compiled (numba) GELU (exact and tanh) and erf kernels against the NumPy
path, PyTorch and an exact float64 reference: forward and backward, float32
and float64 (the NumPy path), NaN / +-inf / huge / tiny / subnormal values,
non-contiguous inputs and upstream gradients, 0-d and 0-size, the parallel
builds, and graphs whose forward and backward ran under different backends
(the compiled forwards keep no cdf / tanh for the backward)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from tensorgrad.ops import kernels

RNG = np.random.default_rng(11)
BACKENDS = ['numpy'] + (['numba', 'numba-parallel'] if kernels.available() else [])
needs_numba = pytest.mark.skipif(not kernels.available(), reason='numba is not installed')

OPS = {  # name: (tensorgrad op, torch op)
    'gelu': (tg.gelu, F.gelu),
    'gelu_tanh': (lambda x: tg.gelu(x, 'tanh'), lambda x: F.gelu(x, approximate='tanh')),
    'erf': (tg.erf, torch.erf),
}
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1e-40, -1e-40, 1e30, -1e30, 3e38, -3e38,
                    5.6, -5.6, 13.1, -13.1, 13.2, -13.2, 14.0, -14.0, 40.0, -40.0, 1.0, -1.0, 0.999999, -1.000001])


def _run(op, x, g, backend, make=None):
    """(y, dy/dx . g) of ``OPS[op]`` under ``backend``; ``make(t)`` may reshape the input tensor first."""
    prev = kernels.set_backend(backend)
    try:
        t = tg.tensor(x, requires_grad=True)
        y = OPS[op][0](make(t) if make else t)
        y.backward(tg.tensor(g))
        return y.numpy(), t.grad.numpy()
    finally:
        kernels.set_backend(prev)


def _torch(op, x, g, make=None):
    t = torch.tensor(x, requires_grad=True)
    y = OPS[op][1](make(t) if make else t)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def _upstream(shape, dtype):
    return RNG.uniform(0.5, 1.5, shape).astype(dtype)


@pytest.mark.parametrize('kernel_backend', BACKENDS, indirect=True)
@pytest.mark.parametrize('op', list(OPS))
@pytest.mark.parametrize('shape', [(), (0,), (3, 0, 2), (1,), (17,), (4, 33), (3, 5, 7), (300, 300)], ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_against_torch(kernel_backend, op, shape, dtype):
    # x >= -2: below, PyTorch's float32 GELU loses digits to 1 + erf(x / sqrt 2) (1e-6 off at -3.5;
    # the exact reference below covers that range)
    x = RNG.uniform(-2, 8, shape).astype(dtype)
    g = _upstream(shape, dtype)
    y, gx = _run(op, x, g, kernels.get_backend())
    ry, rg = _torch(op, x, g)
    assert y.dtype == dtype and gx.dtype == dtype and y.shape == shape
    tol = dict(rtol=1e-6, atol=3e-7) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(y, ry, **tol, err_msg='forward')
    if op == 'gelu_tanh' and dtype == np.float32:  # both evaluate 1 - tanh^2 (or the like) in float32
        tol['rtol'] = 3e-6
    np.testing.assert_allclose(gx, rg, **tol, err_msg='backward')


def _transposed(t):
    return t.transpose(0, 2)


def _sliced(t):
    return t[:, ::2, 1:]


@pytest.mark.parametrize('kernel_backend', BACKENDS, indirect=True)
@pytest.mark.parametrize('op', list(OPS))
@pytest.mark.parametrize('make', [_transposed, _sliced], ids=['transposed', 'sliced'])
def test_non_contiguous_input_and_upstream(kernel_backend, op, make):
    x = RNG.uniform(-2, 6, (6, 9, 70)).astype(np.float32)
    out_shape = tuple(make(torch.tensor(x)).shape)
    g = _upstream(out_shape[::-1], np.float32).T  # a non-contiguous upstream gradient too
    y, gx = _run(op, x, g, kernels.get_backend(), make)
    ry, rg = _torch(op, x, np.ascontiguousarray(g), make)
    np.testing.assert_allclose(y, ry, rtol=1e-6, atol=3e-7)
    np.testing.assert_allclose(gx, rg, rtol=3e-6 if op == 'gelu_tanh' else 1e-6, atol=3e-7)


def _exact(op, x):
    """float64 forward and derivative (math.erf: correctly rounded)."""
    erf = np.vectorize(math.erf)
    with np.errstate(all='ignore'):
        if op == 'gelu':
            cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
            cdf = np.where(x < 0, 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2)), cdf)
            return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        if op == 'gelu_tanh':
            k = math.sqrt(2 / math.pi)
            u = k * (x + 0.044715 * x ** 3)
            s = 0.5 * (1 + np.tanh(u))
            return x * s, s + 0.5 * x * (1 - np.tanh(u) ** 2) * k * (1 + 3 * 0.044715 * x * x)
        return erf(x), 2 / math.sqrt(math.pi) * np.exp(-x * x)


# largest error allowed vs the exact value: atol + rtol |exact|, forward and backward (the worst
# measured is 0.6-0.8 of it; PyTorch's float32 GELU is 1e-6 off at x = -3.5, its tanh GELU 1e-3
# relative at x = -3: 1 + erf and 1 + tanh cancel there)
EXACT_TOL = {'gelu': ((1e-7, 1e-7), (1.5e-7, 1.5e-7)), 'gelu_tanh': ((1e-7, 1.5e-7), (1e-7, 1.5e-7)),
             'erf': ((1.5e-7, 0), (1e-7, 1.5e-7))}


@pytest.mark.parametrize('backend', BACKENDS[:2])
@pytest.mark.parametrize('op', list(OPS))
def test_float32_accuracy_dense_grid(backend, op):
    x = np.concatenate([np.linspace(-14, 14, 56001), [0.0, -0.0, 1e-30, -1e-30, 1e-40, 50.0, -50.0]]).astype(np.float32)
    ones = np.ones_like(x)
    y, gx = _run(op, x, ones, backend)
    ry, rg = _exact(op, x.astype(np.float64))
    for name, got, ref, (atol, rtol) in (('forward', y, ry, EXACT_TOL[op][0]), ('backward', gx, rg, EXACT_TOL[op][1])):
        err = np.abs(got - ref)
        bad = err > atol + rtol * np.abs(ref)
        assert not bad.any(), f'{name}: {bad.sum()} values off, worst at x = {x[np.argmax(err)]} ({err.max():.3g})'


@needs_numba
@pytest.mark.parametrize('op', list(OPS))
def test_special_values(op):
    x = SPECIAL.astype(np.float32)
    g = _upstream(x.shape, np.float32)
    with np.errstate(all='ignore'):
        y0, g0 = _run(op, x, g, 'numpy')
        y1, g1 = _run(op, x, g, 'numba')
    np.testing.assert_allclose(y1, y0, rtol=1e-6, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(g1, g0, rtol=1e-6, atol=1e-7, equal_nan=True)
    ry, rg = _torch(op, x, g)
    # PyTorch's float32 GELU: NaN at +inf and inf at 3e38 (0.5 x (1 + erf) on its vector path);
    # x Phi(x) is +inf and 3e38
    same = ~((x == np.inf) | (x == np.float32(3e38))) if op == 'gelu' else np.ones(x.shape, bool)
    np.testing.assert_allclose(y1[same], ry[same], rtol=1e-6, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(g1, rg, rtol=1e-6, atol=1e-7, equal_nan=True)
    finite = np.isfinite(x)
    assert np.isnan(y1[0]) and np.isnan(g1[0])
    if op == 'erf':
        assert y1[1] == 1 and y1[2] == -1 and (g1[1:3] == 0).all()
        assert np.isfinite(y1[1:]).all() and np.isfinite(g1[1:]).all()
    else:
        assert y1[1] == np.inf and np.isnan(y1[2])  # +inf * 1, -inf * 0
        assert np.isnan(g1[1:3]).all()  # x pdf(x) at +-inf: inf * 0, as PyTorch
        assert np.isfinite(y1[finite]).all()
    if op == 'gelu':
        assert y1[3] == 0 and g1[3] == g[3] * np.float32(0.5)  # Phi(0) is exactly 1/2
        assert np.isfinite(g1[finite]).all()


@needs_numba
@pytest.mark.parametrize('op', list(OPS))
@pytest.mark.parametrize('first,second', [('numba', 'numpy'), ('numpy', 'numba')])
def test_forward_and_backward_under_different_backends(op, first, second):
    """The compiled forwards save no cdf / tanh: a NumPy backward recomputes them (and a
    compiled backward ignores the NumPy forward's)."""
    x = RNG.uniform(-2, 4, (5, 40)).astype(np.float32)
    g = _upstream(x.shape, np.float32)
    prev = kernels.set_backend(first)
    try:
        t = tg.tensor(x, requires_grad=True)
        y = OPS[op][0](t)
        kernels.set_backend(second)
        y.backward(tg.tensor(g))
    finally:
        kernels.set_backend(prev)
    ry, rg = _torch(op, x, g)
    np.testing.assert_allclose(t.grad.numpy(), rg, rtol=3e-6 if op == 'gelu_tanh' else 1e-6, atol=3e-7)


@pytest.mark.parametrize('kernel_backend', BACKENDS, indirect=True)
@pytest.mark.parametrize('op', list(OPS))
def test_second_order(kernel_backend, op):
    x = RNG.uniform(-3, 3, (4, 9)).astype(np.float64)
    g = _upstream(x.shape, np.float64)
    t, tt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (d,) = tg.autograd.grad(OPS[op][0](t), t, tg.tensor(g), create_graph=True)
    (rd,) = torch.autograd.grad(OPS[op][1](tt), tt, torch.tensor(g), create_graph=True)
    np.testing.assert_allclose(d.numpy(), rd.detach().numpy(), rtol=1e-10, atol=1e-12)
    (d2,) = tg.autograd.grad(d.sum(), t)
    (rd2,) = torch.autograd.grad(rd.sum(), tt)
    np.testing.assert_allclose(d2.numpy(), rd2.numpy(), rtol=1e-9, atol=1e-11)


@needs_numba
def test_other_dtypes_take_the_numpy_path():
    x = RNG.uniform(-3, 3, (7, 8))
    for dtype in (np.float16, np.float64):
        for op in OPS:
            xd = x.astype(dtype)
            g = _upstream(xd.shape, dtype)
            y0, g0 = _run(op, xd, g, 'numpy')
            y1, g1 = _run(op, xd, g, 'numba')
            assert y1.dtype == dtype and g1.dtype == dtype
            np.testing.assert_array_equal(y1, y0)
            np.testing.assert_array_equal(g1, g0)


@needs_numba
def test_compiled_kernels_are_used():
    """Under numba the hooked helpers are the compiled ones (not a silent NumPy fallback)."""
    from tensorgrad.ops import activations as act
    from tensorgrad.ops.kernels import activations as compiled
    x = RNG.uniform(-3, 3, 64).astype(np.float32)
    prev = kernels.set_backend('numba')
    try:
        for op in OPS:  # the first calls build the compiled wrappers
            t = tg.tensor(x, requires_grad=True)
            OPS[op][0](t).sum().backward()
        for name in ('_gelu_float32', '_gelu_grad', '_gelu_tanh', '_gelu_tanh_grad', '_erf_array'):
            assert getattr(act, name).__module__ == compiled.__name__, name
        assert act._gelu_float32(x)[0] is None  # no cdf kept
        kernels.set_backend('numpy')
        assert act._gelu_float32 is act._gelu_float32_numpy  # the NumPy helpers are back
    finally:
        kernels.set_backend(prev)


# ---------------------------------------------------------------------- nn.functional's pointwise ops
# The compiled forward(xp, x, *params) / grad(xp, g, x, y, *params) of the ops that nn/_elementwise.py
# and ops/elementwise.py build (hooked there by name), called directly here: against the NumPy path
# (the op under the 'numpy' backend) and PyTorch.
import tensorgrad.nn.functional as GF  # noqa: E402

POINTWISE = {  # case: (tensorgrad op, torch op, params, forward factory or None, grad factory, grad reads)
    'sigmoid': (GF.sigmoid, torch.sigmoid, (), 'sigmoid_forward', 'sigmoid_grad', 'y'),
    'tanh': (GF.tanh, torch.tanh, (), None, 'tanh_grad', 'y'),
    'relu': (GF.relu, torch.relu, (), None, 'relu_grad', 'y'),
    'silu': (GF.silu, F.silu, (), 'silu_forward', 'silu_grad', 'x'),
    'softplus': (GF.softplus, F.softplus, (1.0, 20.0), 'softplus_forward', 'softplus_grad', 'x'),
    'softplus-b2-t5': (GF.softplus, F.softplus, (2.0, 5.0), 'softplus_forward', 'softplus_grad', 'x'),
    'logsigmoid': (GF.logsigmoid, F.logsigmoid, (), 'logsigmoid_forward', 'logsigmoid_grad', 'x'),
    'mish': (GF.mish, F.mish, (), 'mish_forward', 'mish_grad', 'x'),
    'elu': (GF.elu, F.elu, (1.0,), 'elu_forward', 'elu_grad', 'x'),
    'elu-0.7': (GF.elu, F.elu, (0.7,), 'elu_forward', 'elu_grad', 'x'),
    'selu': (GF.selu, F.selu, (), 'selu_forward', 'selu_grad', 'x'),
    'celu-0.5': (GF.celu, F.celu, (0.5,), 'celu_forward', 'celu_grad', 'x'),
    'leaky_relu': (GF.leaky_relu, F.leaky_relu, (0.01,), 'leaky_relu_forward', 'leaky_relu_grad', 'x'),
    'leaky_relu-1.5': (GF.leaky_relu, F.leaky_relu, (1.5,), 'leaky_relu_forward', 'leaky_relu_grad', 'x'),
    'hardsigmoid': (GF.hardsigmoid, F.hardsigmoid, (), 'hardsigmoid_forward', 'hardsigmoid_grad', 'x'),
    'hardswish': (GF.hardswish, F.hardswish, (), 'hardswish_forward', 'hardswish_grad', 'x'),
    'hardtanh': (GF.hardtanh, F.hardtanh, (-2.0, 1.5), 'hardtanh_forward', 'hardtanh_grad', 'x'),
}
PW_SPECIAL = np.concatenate([SPECIAL, [-100.0, 100.0, 25.0, -25.0, 20.0, 20.5, 3.0, -3.0, 2.9999, -2.9999, 5.0, 5.01,
                                       -0.5, -0.49, 1e-4, -1e-4, 1.5, -2.0]]).astype(np.float32)


def _no_fallback(*args):
    raise AssertionError('the NumPy function was called for float32 arrays')


def _compiled_pair(case):
    from tensorgrad.ops.kernels import activations as compiled
    _, _, params, fwd, grad, reads = POINTWISE[case]
    return (fwd and getattr(compiled, fwd)(_no_fallback)), getattr(compiled, grad)(_no_fallback), params, reads


def _pw_numpy(case, x, g):
    """The op's result and gradient on the NumPy path (the 'numpy' backend)."""
    op, _, params = POINTWISE[case][:3]
    prev = kernels.set_backend('numpy')
    try:
        t = tg.tensor(x, requires_grad=True)
        with np.errstate(all='ignore'):
            y = op(t, *params)
            y.backward(tg.tensor(g))
        return y.numpy(), t.grad.numpy()
    finally:
        kernels.set_backend(prev)


def _pw_torch(case, x, g):
    op, params = POINTWISE[case][1], POINTWISE[case][2]
    t = torch.tensor(x, requires_grad=True)
    y = op(t, *params)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def _pw_compiled(case, x, g, y_for_grad):
    fwd, grad, params, reads = _compiled_pair(case)
    y = fwd(np, x, *params) if fwd else None
    gx = grad(np, g, x if reads == 'x' else None, y_for_grad if reads == 'y' else None, *params)
    return y, gx


@needs_numba
@pytest.mark.parametrize('kernel_backend', BACKENDS[1:], indirect=True)
@pytest.mark.parametrize('case', list(POINTWISE))
def test_pointwise_kernels(kernel_backend, case):
    x = np.concatenate([PW_SPECIAL, (RNG.standard_normal(3000) * 4).astype(np.float32)])
    g = _upstream(x.shape, np.float32)
    y0, g0 = _pw_numpy(case, x, g)
    yt, gt = _pw_torch(case, x, g)
    y1, g1 = _pw_compiled(case, x, g, y0)
    tol = dict(rtol=2e-6, atol=1e-7, equal_nan=True)
    if y1 is not None:
        assert y1.dtype == np.float32 and y1.shape == x.shape
        np.testing.assert_allclose(y1, y0, **tol, err_msg='forward vs NumPy')
        fits = np.abs(x) < 1e37  # PyTorch's hardswish: x (x + 3) / 6 overflows at 3e38
        np.testing.assert_allclose(y1[fits], yt[fits], **tol, err_msg='forward vs PyTorch')
    np.testing.assert_allclose(g1, g0, rtol=2e-6, atol=2e-7, equal_nan=True, err_msg='grad vs NumPy')
    # PyTorch's NaN rule differs between its vector and scalar loops for some of these (hardtanh,
    # hardswish, elu at x = NaN): the NumPy path's rule is kept there
    num = ~np.isnan(x)
    g1t = _pw_compiled(case, x, g, yt)[1]  # (with PyTorch's y, for the ops whose grad reads y)
    np.testing.assert_allclose(g1t[num], gt[num], rtol=2e-6, atol=2e-7, equal_nan=True, err_msg='grad vs PyTorch')


@needs_numba
@pytest.mark.parametrize('case', list(POINTWISE))
def test_pointwise_kernels_layouts_and_fallback(case):
    fwd, grad, params, reads = _compiled_pair(case)
    base = (RNG.standard_normal((9, 12, 10)) * 3).astype(np.float32)
    for x in (base.transpose(2, 0, 1), base[:, ::3, 1:], np.array(0.7, np.float32), np.ones((0, 4), np.float32)):
        g = np.asarray(_upstream(x.shape[::-1], np.float32)).T  # a non-contiguous upstream gradient
        xc, gc = np.array(x, order="C"), np.array(g, order="C")  # (ascontiguousarray makes 0-d 1-d)
        y0, g0 = _pw_numpy(case, xc, gc)
        y1, g1 = _pw_compiled(case, x, g, np.asarray(y0))
        if y1 is not None:
            assert y1.shape == x.shape
            np.testing.assert_allclose(y1, y0, rtol=2e-6, atol=1e-7)
        assert g1.shape == x.shape
        np.testing.assert_allclose(g1, g0, rtol=2e-6, atol=1e-7)
    # other dtypes and shape mismatches go to the NumPy function unchanged
    from tensorgrad.ops.kernels import activations as compiled
    calls = []
    numpy_fn = lambda *a: calls.append(a) or 'numpy'  # noqa: E731
    x64 = base.astype(np.float64)
    if fwd:
        assert getattr(compiled, POINTWISE[case][3])(numpy_fn)(np, x64, *params) == 'numpy'
    g = getattr(compiled, POINTWISE[case][4])(numpy_fn)
    assert g(np, x64, x64, x64, *params) == 'numpy'
    assert g(np, base.astype(np.float16), base, base, *params) == 'numpy'
    assert g(np, base[:1], base, base, *params) == 'numpy'  # a broadcast g


@pytest.mark.parametrize('kernel_backend', BACKENDS, indirect=True)
@pytest.mark.parametrize('case', list(POINTWISE))
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_pointwise_ops_against_torch(kernel_backend, case, dtype):
    """The ops themselves under each backend (compiled where hooked)."""
    x = (RNG.standard_normal((6, 50)) * 3).astype(dtype)
    g = _upstream(x.shape, dtype)
    op, top, params = POINTWISE[case][:3]
    t, tt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = op(t, *params), top(tt, *params)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    tol = dict(rtol=2e-6, atol=2e-7) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert y.numpy().dtype == dtype and t.grad.numpy().dtype == dtype
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    if case == 'tanh' and dtype == np.float32:  # 1 - y^2 with each library's own y cancels above |x| ~ 3
        tol['atol'] = 2e-6
    if case == 'hardsigmoid' and dtype == np.float64:  # PyTorch's float64 backward: g * (1.0f / 6.0f)
        tol['rtol'] = 1e-7
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), **tol)


@needs_numba
def test_pointwise_ops_run_the_compiled_kernels(monkeypatch):
    """Under numba each hooked op's forward and backward run their kernels."""
    from tensorgrad.ops.kernels import _jit
    from tensorgrad.ops.kernels import activations as compiled
    used = set()
    pick = _jit.Kernel.pick
    monkeypatch.setattr(_jit.Kernel, 'pick', lambda self, size: used.add(id(self)) or pick(self, size))
    x = RNG.uniform(-4, 4, (3, 20)).astype(np.float32)
    prev = kernels.set_backend('numba')
    try:
        for case, (op, _, params, fwd, grad, _) in POINTWISE.items():
            used.clear()
            t = tg.tensor(x, requires_grad=True)
            op(t, *params).sum().backward()
            names = {n for n, k in vars(compiled).items() if id(k) in used}
            assert len(names) == (2 if fwd else 1) and all(n.endswith(('_fwd', '_bwd')) for n in names), (case, names)
    finally:
        kernels.set_backend(prev)
