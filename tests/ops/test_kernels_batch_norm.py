"""The compiled (numba) batch norm against the NumPy one and against PyTorch:
forward, input / weight / bias gradients and running statistics, training and
eval, both loop orders (long rows per channel, short rows by columns),
float32 / float64, weight / bias None, 0-size inputs, non-contiguous inputs,
mixed dtypes (the NumPy fallback), sums independent of the thread count.
Skipped without numba. (test_fused_norms.py also runs under both backends.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from tensorgrad.backends import kernels as kb

pytestmark = pytest.mark.skipif(not kb.available(), reason='numba is not installed')

# (N, C), (N, C, L) and (N, C, H, W); R = prod(dims 2:) below 64 runs the column kernels, from 64 the
# per-channel ones; (300, 7) and (40, 3, 2) have several row chunks. (The parallel builds: the last tests.)
SHAPES = [(8, 3), (300, 7), (4, 3, 5), (40, 3, 2), (3, 4, 5, 7), (2, 3, 100), (4, 6, 8, 8), (2, 3, 3, 1000),
          (16, 8, 64, 64)]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1.5).astype(dtype)
    w, b = rng.uniform(0.5, 1.5, C).astype(dtype), rng.standard_normal(C).astype(dtype)
    rm, rv = rng.standard_normal(C).astype(dtype), rng.uniform(0.5, 2, C).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)  # non-uniform upstream gradient
    return x, w, b, rm, rv, g


def _tg(backend, x, w, b, rm, rv, g, training, need=(True, True, True), view=None, momentum=0.3):
    """(y, [gx, gw, gb], running mean, running var) from tensorgrad under ``backend``."""
    prev = kb.set_backend(backend)
    try:
        ts = [None if a is None else tg.tensor(a.copy(), requires_grad=n) for a, n in zip((x, w, b), need)]
        rm_t, rv_t = (None if a is None else tg.tensor(a.copy()) for a in (rm, rv))
        xin = ts[0] if view is None else view(ts[0])
        y = tg.batch_norm(xin, rm_t, rv_t, ts[1], ts[2], training=training, momentum=momentum, eps=1e-3)
        if any(t is not None and t.requires_grad for t in ts):
            y.backward(tg.tensor(g))
        grads = [None if t is None or t.grad is None else t.grad.numpy() for t in ts]
        return y.numpy(), grads, *(None if t is None else t.numpy() for t in (rm_t, rv_t))
    finally:
        kb.set_backend(prev)


def _torch(x, w, b, rm, rv, g, training, need=(True, True, True), view=None, momentum=0.3):
    ts = [None if a is None else torch.tensor(a.copy(), requires_grad=n) for a, n in zip((x, w, b), need)]
    rm_t, rv_t = (None if a is None else torch.tensor(a.copy()) for a in (rm, rv))
    xin = ts[0] if view is None else view(ts[0])
    y = F.batch_norm(xin, rm_t, rv_t, ts[1], ts[2], training=training, momentum=momentum, eps=1e-3)
    if y.requires_grad:
        y.backward(torch.tensor(g))
    grads = [None if t is None or t.grad is None else t.grad.numpy() for t in ts]
    return y.detach().numpy(), grads, *(None if t is None else t.numpy() for t in (rm_t, rv_t))


def _check(got, want, tol, what):
    y, grads, rm, rv = got
    y0, grads0, rm0, rv0 = want
    assert y.dtype == y0.dtype, what
    np.testing.assert_allclose(y, y0, **tol, err_msg=f'{what}: forward')
    for name, a, a0 in zip(('x', 'weight', 'bias'), grads, grads0):
        assert (a is None) == (a0 is None), f'{what}: gradient of {name} missing or unexpected'
        if a is not None:
            assert a.dtype == a0.dtype and a.shape == a0.shape, f'{what}: gradient of {name}'
            np.testing.assert_allclose(a, a0, **tol, err_msg=f'{what}: gradient of {name}')
    for name, a, a0 in (('running_mean', rm, rm0), ('running_var', rv, rv0)):
        if a0 is not None:
            np.testing.assert_allclose(a, a0, **tol, err_msg=f'{what}: {name}')


def _all(args, training, tol, **kw):
    """numba against NumPy and against PyTorch."""
    nb = _tg('numba', *args, training, **kw)
    _check(nb, _tg('numpy', *args, training, **kw), tol, 'numba vs numpy')
    _check(nb, _torch(*args, training, **kw), tol, 'numba vs torch')


@pytest.mark.parametrize('shape', SHAPES, ids=str)
@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
def test_matches_numpy_and_torch(shape, training, dtype):
    _all(_data(shape, dtype), training, TOL[dtype])


@pytest.mark.parametrize('shape', [(8, 3), (4, 3, 5), (4, 6, 8, 8)], ids=str)
@pytest.mark.parametrize('affine', ['weight', 'bias', 'none'])
@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_weight_or_bias_none(shape, affine, training):
    x, w, b, rm, rv, g = _data(shape, np.float32)
    w = w if affine == 'weight' else None
    b = b if affine == 'bias' else None
    _all((x, w, b, rm, rv, g), training, TOL[np.float32])


@pytest.mark.parametrize('shape', [(300, 7), (4, 6, 8, 8)], ids=str)
@pytest.mark.parametrize('need', [(True, False, False), (False, True, False), (False, False, True),
                                  (False, True, True), (True, False, True)], ids=str)
@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_partial_gradients(shape, need, training):
    _all(_data(shape, np.float32), training, TOL[np.float32], need=need)


def test_no_running_stats():
    x, w, b, _, _, g = _data((6, 4, 9, 9), np.float64)
    _all((x, w, b, None, None, g), True, TOL[np.float64])
    x, w, b, _, _, g = _data((50, 4), np.float64)
    _all((x, w, b, None, None, g), True, TOL[np.float64])


@pytest.mark.parametrize('shape', [(0, 3), (0, 3, 5), (0, 3, 8, 8), (2, 3, 0)], ids=str)
def test_zero_size_eval(shape):
    _all(_data(shape, np.float32), False, TOL[np.float32])


@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_zero_channels(training):  # PyTorch fails on C = 0 (an IndexError): the two backends agree
    args = _data((4, 0, 5), np.float32)
    _check(_tg('numba', *args, training), _tg('numpy', *args, training), TOL[np.float32], 'C = 0')


@pytest.mark.parametrize('base,view', [
    ((4, 96, 5), lambda t: t.transpose(1, 2)),  # (4, 5, 96): channels strided, long rows
    ((5, 3, 4), lambda t: t.transpose(1, 2).transpose(0, 2)),  # (3, 4, 5) not C-ordered, short rows
    ((8, 6, 70), lambda t: t[::2, ::2]),  # (4, 3, 70) sliced batch and channels
    ((6, 3, 10, 10), lambda t: t[:, :, 1:9, ::2]),  # (6, 3, 8, 5) sliced spatial dims
], ids=['transpose-long', 'transpose-short', 'slice-bc', 'slice-hw'])
@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_non_contiguous(base, view, training):
    x, _, _, _, _, _ = _data(base, np.float32)
    shape = tuple(view(torch.tensor(x)).shape)
    _, w, b, rm, rv, g = _data(shape, np.float32, seed=1)
    _all((x, w, b, rm, rv, g), training, TOL[np.float32], view=view)


def test_non_contiguous_upstream_gradient():
    x, w, b, rm, rv, g = _data((4, 5, 80), np.float32)
    gt = np.ascontiguousarray(g.transpose(2, 1, 0)).transpose(2, 1, 0)  # same values, F order
    assert not gt.flags.c_contiguous
    for training in (True, False):
        _check(_tg('numba', x, w, b, rm, rv, gt, training), _torch(x, w, b, rm, rv, g, training),
               TOL[np.float32], 'F-ordered g')


@pytest.mark.parametrize('shape', [(300, 4), (16, 4, 12, 12)], ids=str)
def test_large_mean(shape):
    # a mean far from 0 against a small spread: the centred sums matter
    x, w, b, rm, rv, g = _data(shape, np.float32)
    _all((x + np.float32(300.0), w, b, rm, rv, g), True, dict(rtol=1e-3, atol=1e-3))


@pytest.mark.parametrize('shape', [(5, 3), (2, 3, 70)], ids=str)
def test_eval_zero_variance_and_eps(shape):  # 1 / sqrt(0) is inf (numba would raise on the division)
    x, w, b, rm, rv, g = _data(shape, np.float64)
    rv[1] = 0.0
    outs = []
    for backend in ('numba', 'numpy'):
        prev = kb.set_backend(backend)
        try:
            X, W = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
            with np.errstate(all='ignore'):
                y = tg.batch_norm(X, tg.tensor(rm), tg.tensor(rv), W, None, training=False, eps=0.0)
                y.backward(tg.tensor(g))
            outs.append((y.numpy(), X.grad.numpy(), W.grad.numpy()))
        finally:
            kb.set_backend(prev)
    assert np.isinf(outs[0][1][:, 1]).all()
    for a, a0 in zip(*outs):
        np.testing.assert_allclose(a, a0, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_float64_running_stats_with_float32_input(training):  # PyTorch refuses the mix: against NumPy
    x, w, b, rm, rv, g = _data((16, 4, 12, 12), np.float32)
    args = (x, w, b, rm.astype(np.float64), rv.astype(np.float64), g)
    nb = _tg('numba', *args, training)
    _check(nb, _tg('numpy', *args, training), TOL[np.float32], 'float64 running stats')
    assert nb[0].dtype == np.float32 and nb[2].dtype == np.float64 and nb[3].dtype == np.float64


def test_mixed_dtypes_fall_back_to_numpy():
    # a float64 weight with a float32 input is not a kernel case: the NumPy path's result, exactly
    x, w, b, rm, rv, g = _data((4, 3, 70), np.float32)
    args = (x, w.astype(np.float64), b, rm, rv, g)
    for training in (True, False):
        nb, np_ = _tg('numba', *args, training), _tg('numpy', *args, training)
        _check(nb, np_, dict(rtol=0, atol=0), 'fallback')


@pytest.mark.parametrize('backend', ['numpy', 'numba'])
def test_in_place_change_of_input_is_detected(backend):
    # both backends save x itself (as PyTorch): changing it before backward raises
    prev = kb.set_backend(backend)
    try:
        for shape in ((6, 3), (4, 3, 70)):
            x = tg.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32), requires_grad=True)
            h = x * 1.0
            y = tg.batch_norm(h, None, None, training=True)
            h.add_(1.0)
            with pytest.raises(RuntimeError):
                y.sum().backward()
    finally:
        kb.set_backend(prev)


@pytest.mark.parametrize('shape', [(6, 3), (3, 2, 70)], ids=str)
@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_second_order_after_compiled_forward(shape, training):
    # the second-order rule reads what the compiled forward saved (x and the mean, not x - mean)
    x, w, b, rm, rv, g = _data(shape, np.float64)
    prev = kb.set_backend('numba')
    try:
        X, W = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
        y = tg.batch_norm(X, tg.tensor(rm), tg.tensor(rv), W, None, training=training, eps=1e-3)
        gx, gw = tg.autograd.grad((y * tg.tensor(g)).sum(), (X, W), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
    finally:
        kb.set_backend(prev)
    TX, TW = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = F.batch_norm(TX, torch.tensor(rm), torch.tensor(rv), TW, None, training=training, eps=1e-3)
    tgx, tgw = torch.autograd.grad((ty * torch.tensor(g)).sum(), (TX, TW), create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(X.grad.numpy(), TX.grad.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(W.grad.numpy(), TW.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize('shape', [(300, 7), (4, 6, 8, 8), (2, 70, 3000)], ids=str)
@pytest.mark.parametrize('need', [(True, True, True), (True, False, False), (False, True, False)], ids=str)
def test_numpy_backward_by_channel_blocks(shape, need, threaded):
    # the NumPy backward runs over blocks of channels ((2, 70, 3000): two), split over two threads here
    args = _data(shape, np.float32)
    for training in (True, False):
        _check(_tg('numpy', *args, training, need=need), _torch(*args, training, need=need), TOL[np.float32],
               'NumPy, threaded')


def _kernels_run(build, shape, threads):
    """Statistics and gradients from the compiled kernels' ``build``, with ``threads`` numba threads."""
    import numba

    from tensorgrad.ops.kernels import batch_norm as K
    x, w, b, _, _, g = _data(shape, np.float32)
    B, C = shape[:2]
    x3, g3 = x.reshape(B, C, -1), g.reshape(B, C, -1)
    R = x3.shape[2]
    mean, var, rstd, gsum, gdot = (np.empty(C, np.float32) for _ in range(5))
    y, gx = np.empty_like(x3), np.empty_like(x3)
    prev = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        if K._pick_rows(R):
            getattr(K._forward_rows, build)(x3, mean, var, w, b, True, True, True, 1e-5, y, rstd)
            getattr(K._backward_rows, build)(g3, x3, mean, rstd, w, True, True, True, True, gx, gsum, gdot)
        else:
            M = C * R
            getattr(K._forward_cols, build)(x3.reshape(B, M), C, mean, var, w, b, True, True, True, 1e-5,
                                            y.reshape(B, M), rstd)
            getattr(K._backward_cols, build)(g3.reshape(B, M), x3.reshape(B, M), C, mean, rstd, w, True, True,
                                             True, True, gx.reshape(B, M), gsum, gdot)
    finally:
        numba.set_num_threads(prev)
    return (mean, var, rstd, gsum, gdot), (y, gx)


SUM_SHAPES = [(300, 7), (40, 3, 2), (4, 6, 8, 8), (3, 5, 1000)]


@pytest.mark.parametrize('shape', SUM_SHAPES, ids=str)
def test_parallel_build_independent_of_thread_count(shape):
    # every channel's sums are added in one fixed order (by channel, or by row chunks set by B)
    one, two = _kernels_run('parallel', shape, 1), _kernels_run('parallel', shape, 2)
    for a, b in zip(one[0] + one[1], two[0] + two[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('shape', SUM_SHAPES, ids=str)
def test_serial_and_parallel_builds_agree(shape):
    # the column kernels' sums are float64 per column: the same bits in both builds. Within a row,
    # LLVM vectorises (and fuses multiply-adds) in each build its own way: a few ulp apart at most
    # (measured: the cached parallel build of the row backward, sum(g * xhat), up to 3 ulp)
    from tensorgrad.ops.kernels import batch_norm as K
    ser, par = _kernels_run('serial', shape, 1), _kernels_run('parallel', shape, 2)
    exact = not K._pick_rows(int(np.prod(shape[2:])))
    for a, b in zip(ser[0], par[0]):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for a, b in zip(ser[1], par[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
