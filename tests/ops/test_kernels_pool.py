"""The compiled (numba) max_pool2d / avg_pool2d kernels against the NumPy path
and PyTorch: output, indices and the input gradient for a non-uniform
upstream gradient, float32 / float64, overlapping windows (accumulated
gradients), padding, dilation, ceil_mode, count_include_pad /
divisor_override, ties, NaN / inf / all -inf windows, windows beyond the
specialised widths (the run-time builds), 256+ element windows (int32
offsets), non-contiguous inputs, 0-size inputs, the 1-d pools and unbatched
inputs, second order, the parallel builds and the NumPy fallback (float16).
The NumPy path runs every case too: both follow PyTorch's choice of maximum."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorgrad as tg
from tensorgrad.backends import kernels as kb

F = tg.nn.functional
BACKENDS = ('numpy', 'numba') if kb.available() else ('numpy',)
needs_numba = pytest.mark.skipif(not kb.available(), reason='numba is not installed')

# (input shape, max_pool2d arguments)
CONFIGS = [
    ((2, 3, 8, 8), dict(kernel_size=2)),  # windows tile the input: the tiling backward
    ((2, 3, 9, 9), dict(kernel_size=2)),  # not tiling: a row and a column in no window
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2)),  # overlapping windows: gradients accumulate
    ((2, 3, 9, 8), dict(kernel_size=3, stride=1, padding=1)),
    ((2, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 2, 9, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ((2, 2, 8, 9), dict(kernel_size=3, stride=1, dilation=2)),  # dilation: the run-time build
    ((2, 2, 9, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    ((2, 2, 10, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 3), ceil_mode=True)),
    ((2, 2, 11, 11), dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),  # disjoint with gaps
    ((2, 3, 6, 13), dict(kernel_size=(2, 3), stride=(1, 2))),
    ((1, 2, 9, 20), dict(kernel_size=(3, 8), stride=(2, 7), padding=(1, 4))),  # wider than specialised
    ((1, 2, 5, 12), dict(kernel_size=(1, 4), stride=(1, 1))),
    ((1, 2, 17, 18), dict(kernel_size=16, stride=1)),  # 256 kernel offsets: int32 offsets
    ((3, 2, 4, 4), dict(kernel_size=4)),  # one window per plane
]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _data(shape, dtype, kind, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if kind == 'ties':  # few distinct values: many windows with several maxima
        x = np.round(x)
    elif kind == 'special':  # NaN (single and several per window), +-inf
        u = rng.uniform(size=shape)
        x[u < 0.12] = np.nan
        x[(u >= 0.12) & (u < 0.2)] = -np.inf
        x[(u >= 0.2) & (u < 0.23)] = np.inf
    elif kind == 'neg_inf':  # windows whose maximum is -inf (PyTorch points them at their first input element)
        x[rng.uniform(size=shape) < 0.8] = -np.inf
    return x.astype(dtype)


def _tg(backend, x, kwargs, g, view=None, pool=None, create_graph=False):
    """(output, indices, input gradient) from tensorgrad under ``backend``."""
    pool = pool or F.max_pool2d
    prev = kb.set_backend(backend)
    try:
        t = tg.tensor(x.copy(), requires_grad=True)
        y, idx = pool(t if view is None else view(t), **kwargs, return_indices=True)
        y.backward(tg.tensor(g))
        return y.numpy(), idx.numpy(), t.grad.numpy()
    finally:
        kb.set_backend(prev)


def _torch(x, kwargs, g, view=None, pool=None):
    pool = pool or TF.max_pool2d
    t = torch.tensor(x.copy(), requires_grad=True)
    v = t if view is None else view(t)
    y, idx = pool(v.contiguous(), **kwargs, return_indices=True)  # contiguous: torch's NCHW kernel
    y.backward(torch.tensor(g))
    return y.detach().numpy(), idx.numpy(), t.grad.numpy()


def _check(got, want, tol, what):
    (y, idx, gx), (y0, idx0, gx0) = got, want
    assert y.dtype == y0.dtype and gx.dtype == gx0.dtype, what
    np.testing.assert_array_equal(y, y0, err_msg=f'{what}: forward')  # a max is exact (NaN == NaN here)
    np.testing.assert_array_equal(idx, idx0, err_msg=f'{what}: indices')
    np.testing.assert_allclose(gx, gx0, **tol, err_msg=f'{what}: input gradient')


def _all(x, kwargs, view=None, pool=None, tpool=None, out_shape=None):
    """Every backend against PyTorch (and so against each other)."""
    tol = TOL[x.dtype.type]
    with torch.no_grad():
        xt = torch.tensor(x)
        out = (tpool or TF.max_pool2d)((xt if view is None else view(xt)).contiguous(), **kwargs)
    g = np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape)).astype(x.dtype)
    want = _torch(x, kwargs, g, view, tpool)
    for b in BACKENDS:
        _check(_tg(b, x, kwargs, g, view, pool), want, tol, f'{b} vs torch')


@pytest.mark.parametrize('shape,kwargs', CONFIGS, ids=str)
@pytest.mark.parametrize('kind', ['normal', 'ties', 'special'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_max_pool2d_against_torch(shape, kwargs, kind, dtype):
    _all(_data(shape, dtype, kind), kwargs)


@pytest.mark.parametrize('kwargs', [dict(kernel_size=2, stride=1, padding=1), dict(kernel_size=3, padding=1),
                                    dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)], ids=str)
def test_windows_whose_max_is_neg_inf(kwargs):
    _all(_data((2, 3, 7, 8), np.float32, 'neg_inf'), kwargs)
    _all(np.full((1, 2, 5, 5), -np.inf, np.float32), kwargs)


def test_nan_takes_over_as_torch():
    # the last NaN of a window gets its gradient, whatever comes after it; an earlier larger value loses
    x = np.array([[[[1, np.nan, 3, np.nan], [0, 2, 5, 1]], [[np.nan, 7, 9, 1], [2, np.nan, 1, 1]]]], np.float32)
    _all(x, dict(kernel_size=2))
    _all(x, dict(kernel_size=2, stride=1, padding=1))


@pytest.mark.parametrize('name,view', [
    ('transposed', lambda t: t.transpose(2, 3)),
    ('channels_last', lambda t: t.permute(0, 3, 1, 2)),  # an NHWC array seen as NCHW
    ('sliced', lambda t: t[:, ::2, 1:, :-1]),
])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_non_contiguous_inputs(name, view, dtype):
    x = _data((2, 6, 10, 9), dtype, 'ties')
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, dilation=2)):
        _all(x, kwargs, view)


@pytest.mark.parametrize('shape', [(0, 3, 8, 8), (2, 0, 8, 8)])
@pytest.mark.parametrize('kwargs', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_zero_size(shape, kwargs):
    for b in BACKENDS:
        prev = kb.set_backend(b)
        try:
            t = tg.tensor(np.ones(shape, np.float32), requires_grad=True)
            y, idx = F.max_pool2d(t, **kwargs, return_indices=True)
            want = shape[:2] + tuple(TF.max_pool2d(torch.ones((1, 1) + shape[2:]), **kwargs).shape[2:])
            assert y.shape == want and idx.shape == want  # (torch refuses 0 channels)
            y.sum().backward()
            assert t.grad.shape == shape
        finally:
            kb.set_backend(prev)


def test_max_pool1d_and_unbatched():
    x = _data((3, 4, 17), np.float32, 'ties')
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=4, stride=1),
                   dict(kernel_size=3, dilation=2, ceil_mode=True)):
        _all(x, kwargs, pool=F.max_pool1d, tpool=TF.max_pool1d)
    _all(_data((3, 9, 8), np.float64, 'special'), dict(kernel_size=3, stride=2, padding=1))  # (C, H, W)


def _second_order(pool, tpool, kwargs):
    """d/dx of sum(grad(sum(pool(x)^2) . v)) against torch under every backend: through
    the compiled backward under create_graph."""
    x = _data((2, 3, 8, 8), np.float64, 'normal')
    v = np.random.default_rng(2).standard_normal(x.shape)
    t = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad((tpool(t, **kwargs) ** 2).sum(), t, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), t)
    for b in BACKENDS:
        prev = kb.set_backend(b)
        try:
            s = tg.tensor(x, requires_grad=True)
            (g,) = tg.autograd.grad((pool(s, **kwargs) ** 2).sum(), s, create_graph=True)
            (gg,) = tg.autograd.grad((g * tg.tensor(v)).sum(), s)
            np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(gg.numpy(), ggt.numpy(), rtol=1e-12, atol=1e-12)
        finally:
            kb.set_backend(prev)


@pytest.mark.parametrize('kwargs', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_second_order(kwargs):
    _second_order(F.max_pool2d, TF.max_pool2d, kwargs)


@needs_numba
def test_no_grad_forward_and_float16_fallback():
    x = _data((2, 3, 9, 9), np.float32, 'special')
    outs = {}
    for b in BACKENDS:
        prev = kb.set_backend(b)
        try:
            with tg.no_grad():
                outs[b] = F.max_pool2d(tg.tensor(x), 3, 2, 1).numpy()
            t = tg.tensor(x.astype(np.float16), requires_grad=True)  # not compiled: the NumPy path
            y = F.max_pool2d(t, 2)
            y.backward(tg.tensor(np.arange(y.numel(), dtype=np.float16).reshape(y.shape)))
            outs[b, 'f16'] = (y.numpy(), t.grad.numpy())
        finally:
            kb.set_backend(prev)
    np.testing.assert_array_equal(outs['numba'], outs['numpy'])
    np.testing.assert_array_equal(outs['numba'], TF.max_pool2d(torch.tensor(x), 3, 2, 1).numpy())
    for a, b in zip(outs['numba', 'f16'], outs['numpy', 'f16']):
        assert a.dtype == np.float16
        np.testing.assert_array_equal(a, b)


@needs_numba
@pytest.mark.parametrize('kwargs', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=3, dilation=2)], ids=str)
def test_parallel_builds_match_serial(kwargs):
    # the prange builds split planes over threads: the same result, element for element
    from tensorgrad.ops import conv
    from tensorgrad.ops.kernels import pool
    x = _data((3, 5, 12, 11), np.float32, 'special')
    geom = conv._pool_args('max_pool2d', x, kwargs['kernel_size'], kwargs.get('stride'), kwargs.get('padding', 0),
                           kwargs.get('dilation', 1))
    kh, kw, sh, sw, dh, dw, ph, pw, _, _, Ho, Wo = geom
    owa, owb = pool._interior(x.shape[3], Wo, kw, sw, dw, pw)
    fk = pool._forward_for(kw, sw, dw)
    res = []
    for build in (fk.serial, fk.parallel):
        out, idx = np.empty((3, 5, Ho, Wo), np.float32), np.empty((3, 5, Ho, Wo), np.uint8)
        build(x, kh, kw, sh, sw, dh, dw, ph, pw, owa, owb, out, idx)
        g = np.random.default_rng(3).standard_normal(out.shape).astype(np.float32)
        gx = np.zeros(x.shape, np.float32)
        k = np.arange(kh * kw)
        getattr(pool._scatter_backward, 'serial' if build is fk.serial else 'parallel')(
            g, idx, (k // kw) * dh, (k % kw) * dw, sh, sw, ph, pw, gx)
        res.append((out, idx, gx))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        np.testing.assert_array_equal(res[0][0], TF.max_pool2d(torch.tensor(x), **kwargs).numpy())


@needs_numba
def test_parallel_tiling_backward_matches_serial():
    from tensorgrad.ops.kernels import pool
    rng = np.random.default_rng(4)
    g = rng.standard_normal((3, 5, 6, 7))
    idx = rng.integers(0, 4, g.shape).astype(np.uint8)
    gx = [np.full((3, 5, 12, 14), np.nan) for _ in range(2)]  # every element must be written
    pool._tile_kernel(2).serial(g, idx, 2, 2, gx[0])
    pool._tile_kernel(2).parallel(g, idx, 2, 2, gx[1])
    np.testing.assert_array_equal(gx[0], gx[1])
    want = np.zeros_like(gx[0])
    for oh in range(6):
        for ow in range(7):
            i, j = divmod(int(idx[0, 0, oh, ow]), 2)
            want[0, 0, 2 * oh + i, 2 * ow + j] = g[0, 0, oh, ow]
    np.testing.assert_array_equal(gx[0][0, 0], want[0, 0])


def test_large_input_above_parallel_min():
    # 2 x 64 x 32 x 32 = 131072 elements: above parallel_min (the parallel build where numba may use threads)
    _all(_data((2, 64, 32, 32), np.float32, 'normal'), dict(kernel_size=2))
    _all(_data((2, 64, 32, 32), np.float32, 'ties'), dict(kernel_size=3, stride=2, padding=1))


# ---------------------------------------------------------------------- average pooling
AVG_CONFIGS = [
    ((2, 3, 8, 8), dict(kernel_size=2)),  # tiling: the tiling backward
    ((2, 3, 9, 9), dict(kernel_size=2)),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),  # overlapping, padded
    ((2, 3, 9, 8), dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
    ((2, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 2, 9, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ((2, 2, 9, 6), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1), divisor_override=5)),
    ((1, 2, 9, 20), dict(kernel_size=(3, 8), stride=(2, 7), padding=(1, 4))),  # wider than specialised
    ((1, 2, 12, 12), dict(kernel_size=7, stride=2, padding=3)),
    ((3, 2, 4, 4), dict(kernel_size=4)),
]


def _avg_tg(backend, x, kwargs, g, view=None, pool=None):
    prev = kb.set_backend(backend)
    try:
        t = tg.tensor(x.copy(), requires_grad=True)
        y = (pool or F.avg_pool2d)(t if view is None else view(t), **kwargs)
        y.backward(tg.tensor(g))
        return y.numpy(), t.grad.numpy()
    finally:
        kb.set_backend(prev)


def _avg_all(x, kwargs, view=None, pool=None, tpool=None):
    """Every backend against PyTorch."""
    tol = TOL[x.dtype.type]
    t = torch.tensor(x.copy(), requires_grad=True)
    y = (tpool or TF.avg_pool2d)((t if view is None else view(t)).contiguous(), **kwargs)
    g = np.random.default_rng(1).uniform(0.5, 1.5, tuple(y.shape)).astype(x.dtype)
    y.backward(torch.tensor(g))
    for b in BACKENDS:
        out, gx = _avg_tg(b, x, kwargs, g, view, pool)
        assert out.dtype == x.dtype and gx.dtype == x.dtype
        np.testing.assert_allclose(out, y.detach().numpy(), **tol, err_msg=f'{b}: forward')
        np.testing.assert_allclose(gx, t.grad.numpy(), **tol, err_msg=f'{b}: input gradient')


@pytest.mark.parametrize('shape,kwargs', AVG_CONFIGS, ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_avg_pool2d_against_torch(shape, kwargs, dtype):
    _avg_all(_data(shape, dtype, 'normal'), kwargs)


@pytest.mark.filterwarnings('ignore:invalid value encountered')  # inf + -inf in the NumPy path's sums
def test_avg_pool2d_special_values():
    # NaN and inf spread to every window holding them, forward and backward, as the NumPy path
    x = _data((2, 3, 9, 8), np.float32, 'special')
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)):
        _avg_all(x, kwargs)


@pytest.mark.parametrize('name,view', [
    ('transposed', lambda t: t.transpose(2, 3)),
    ('channels_last', lambda t: t.permute(0, 3, 1, 2)),
    ('sliced', lambda t: t[:, ::2, 1:, :-1]),
])
def test_avg_pool2d_non_contiguous(name, view):
    x = _data((2, 6, 10, 9), np.float64, 'normal')
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)):
        _avg_all(x, kwargs, view)


def test_avg_pool1d_zero_size_and_unbatched():
    x = _data((3, 4, 17), np.float32, 'normal')
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=4, stride=1)):
        _avg_all(x, kwargs, pool=F.avg_pool1d, tpool=TF.avg_pool1d)
    _avg_all(_data((3, 9, 8), np.float32, 'normal'), dict(kernel_size=3, stride=2, padding=1))  # (C, H, W)
    for b in BACKENDS:
        prev = kb.set_backend(b)
        try:
            for shape in ((0, 3, 8, 8), (2, 0, 8, 8)):
                t = tg.tensor(np.ones(shape, np.float32), requires_grad=True)
                y = F.avg_pool2d(t, 3, 2, 1)
                assert y.shape == shape[:2] + (4, 4)
                y.sum().backward()
                assert t.grad.shape == shape
        finally:
            kb.set_backend(prev)


@pytest.mark.parametrize('kwargs', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_avg_pool2d_second_order(kwargs):
    _second_order(F.avg_pool2d, TF.avg_pool2d, kwargs)


@needs_numba
def test_avg_pool2d_float16_fallback():
    x = _data((2, 3, 9, 9), np.float16, 'normal')
    res = []
    for b in BACKENDS:
        prev = kb.set_backend(b)
        try:
            t = tg.tensor(x, requires_grad=True)
            y = F.avg_pool2d(t, 3, 2, 1)
            y.backward(tg.tensor(np.linspace(0, 1, y.numel(), dtype=np.float16).reshape(y.shape)))
            res.append((y.numpy(), t.grad.numpy()))
        finally:
            kb.set_backend(prev)
    for a, b in zip(*res):
        assert a.dtype == np.float16
        np.testing.assert_array_equal(a, b)


@needs_numba
@pytest.mark.parametrize('kwargs', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_avg_parallel_builds_match_serial(kwargs):
    from tensorgrad.ops import conv
    from tensorgrad.ops.kernels import pool
    x = _data((3, 5, 12, 12), np.float64, 'normal')
    geom = conv._pool_args('avg_pool2d', x, kwargs['kernel_size'], kwargs.get('stride'), kwargs.get('padding', 0))
    kh, kw, sh, sw, _, _, ph, pw, _, _, Ho, Wo = geom
    rows = pool._avg_rows(12, Ho, kh, sh, ph)
    owa, owb = pool._interior(12, Wo, kw, sw, 1, pw)
    fk = pool._avg_forward_kernel(pool._const(kw), pool._const(sw))
    bk = pool._avg_scatter_kernel(pool._const(kw), pool._const(sw))
    g = np.random.default_rng(3).standard_normal((3, 5, Ho, Wo))
    res = []
    for build in ('serial', 'parallel'):
        out, gx = np.empty((3, 5, Ho, Wo)), np.zeros(x.shape)
        getattr(fk, build)(x, rows, kw, sh, sw, ph, pw, owa, owb, out)
        getattr(bk, build)(g, rows, kw, sh, sw, ph, pw, owa, owb, gx)
        res.append((out, gx))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)
    with torch.no_grad():
        np.testing.assert_allclose(res[0][0] / (kh * kw), TF.avg_pool2d(torch.tensor(x), **kwargs).numpy(),
                                   rtol=1e-12)
