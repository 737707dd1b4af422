"""The compiled (numba) fused kernels against the NumPy ones: same forward and
gradients within float32 rounding, on row lengths around the vector widths,
non-contiguous inputs, 0-size inputs and NaN / inf rows; and the backend
switch itself. Skipped without numba. (The test_fused_* files also run under
both backends: see conftest.py.)"""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.backends import kernels as kb
from tensorgrad.ops import softmax as softmax_mod

pytestmark = pytest.mark.skipif(not kb.available(), reason='numba is not installed')
RNG = np.random.default_rng(7)


def _run(backend, fn, arrays, needs_grad):
    prev = kb.set_backend(backend)
    try:
        ts = [tg.tensor(a, requires_grad=r) for a, r in zip(arrays, needs_grad)]
        y = fn(*ts)
        g = np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype)
        (y * tg.tensor(g)).sum().backward()
        return y.numpy(), [t.grad.numpy() if r else None for t, r in zip(ts, needs_grad)]
    finally:
        kb.set_backend(prev)


def _parity(fn, *arrays, needs_grad=None, rtol=2e-5, atol=2e-6):
    needs_grad = needs_grad or [a.dtype.kind == 'f' for a in arrays]
    y0, g0 = _run('numpy', fn, arrays, needs_grad)
    y1, g1 = _run('numba', fn, arrays, needs_grad)
    np.testing.assert_allclose(y1, y0, rtol=rtol, atol=atol, err_msg='forward')
    for a, b in zip(g1, g0):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * 10, err_msg='gradient')


def _x(*shape, dtype=np.float32, scale=3.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


SHAPES = [(1, 1), (3, 7), (5, 16), (4, 33), (2, 3, 64), (7, 257), (300, 300)]  # (300, 300): parallel build


@pytest.mark.parametrize('shape', SHAPES, ids=str)
@pytest.mark.parametrize('op', ['softmax', 'log_softmax'])
def test_softmax_family(op, shape):
    _parity(lambda x: getattr(tg, op)(x, -1), _x(*shape))
    _parity(lambda x: getattr(tg, op)(x.transpose(0, -1), -1), _x(*shape))  # non-contiguous rows
    _parity(lambda x: getattr(tg, op)(x, 0), _x(*shape))  # another axis: the NumPy kernel
    _parity(lambda x: getattr(tg, op)(x, -1), _x(*shape, dtype=np.float64), rtol=1e-12, atol=1e-12)


def test_softmax_special_values():
    x = np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [-np.inf] * 3,
                  [100.0, -100.0, 0.0], [-200.0, -201.0, -250.0]], np.float32)
    for op in (tg.softmax, tg.log_softmax):
        outs = []
        for b in ('numpy', 'numba'):
            prev = kb.set_backend(b)
            outs.append(op(tg.tensor(x), -1).numpy())
            kb.set_backend(prev)
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, atol=1e-7, equal_nan=True)
    prev = kb.set_backend('numba')
    try:
        assert tg.softmax(tg.tensor(x), -1).numpy()[2, 0] == 0.0  # exp(-inf) is exactly 0
    finally:
        kb.set_backend(prev)


def test_softmax_zero_size():
    for shape in ((0, 5), (4, 0)):
        _parity(lambda x: tg.softmax(x, -1), _x(*shape))


@pytest.mark.parametrize('n,c', [(1, 1), (8, 10), (64, 1000), (300, 300)])
def test_cross_entropy(n, c):
    t = RNG.integers(0, c, n)
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x, t), _x(n, c), t)
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x, t, reduction='none'), _x(n, c, scale=30.0), t)


@pytest.mark.parametrize('shape', [(0,), (1,), (17,), (3, 5, 7), (300, 300)], ids=str)
def test_gelu(shape):
    x = _x(*shape)
    _parity(tg.nn.functional.gelu, x, atol=5e-7)
    if len(shape) == 3:
        _parity(lambda x: tg.nn.functional.gelu(x.transpose(0, 2)), x, atol=5e-7)
    _parity(tg.nn.functional.gelu, _x(*shape, dtype=np.float64), rtol=1e-12, atol=1e-12)


def test_gelu_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -6.0, 40.0, -40.0], np.float32)
    y = []
    for b in ('numpy', 'numba'):
        prev = kb.set_backend(b)
        y.append(tg.nn.functional.gelu(tg.tensor(x)).numpy())
        kb.set_backend(prev)
    np.testing.assert_allclose(y[1], y[0], rtol=1e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize('shape', [(1, 1), (4, 7), (2, 5, 32), (33, 130), (300, 300)], ids=str)
@pytest.mark.parametrize('affine', [True, False])
def test_layer_norm(shape, affine):
    M = shape[-1]
    if affine:
        fn = lambda x, w, b: tg.nn.functional.layer_norm(x, (M,), w, b)  # noqa: E731
        arrays = (_x(*shape), _x(M), _x(M))
    else:
        fn = lambda x: tg.nn.functional.layer_norm(x, (M,))  # noqa: E731
        arrays = (_x(*shape),)
    _parity(fn, *arrays, atol=1e-5)
    _parity(fn, *(a.astype(np.float64) for a in arrays), rtol=1e-10, atol=1e-10)
    _parity(lambda x: tg.nn.functional.layer_norm(x.transpose(0, -1), (shape[0],)), _x(*shape), atol=1e-5)


def test_layer_norm_only_weight_grad():
    x, w = _x(6, 9), _x(9)
    _parity(lambda x, w: tg.nn.functional.layer_norm(x, (9,), w), x, w, needs_grad=[False, True], atol=1e-5)
    _parity(lambda x, w: tg.nn.functional.layer_norm(x, (9,), w), x, w, needs_grad=[True, False], atol=1e-5)


@pytest.mark.parametrize('vocab,dim,n', [(10, 3, 100), (50, 64, 2048), (7, 1, 70), (1000, 300, 400)])
def test_embedding_backward(vocab, dim, n):
    idx = RNG.integers(0, vocab, n)
    _parity(lambda w, i: tg.nn.functional.embedding(i, w), _x(vocab, dim), idx, atol=1e-5)


def test_switch_is_module_level_and_reversible():
    prev = kb.set_backend('numpy')
    try:
        assert kb.get_backend() == 'numpy'
        assert softmax_mod._softmax_array.__module__ == 'tensorgrad.ops.softmax'
        kb.set_backend('numba')
        assert kb.get_backend() == 'numba'
        tg.softmax(tg.tensor(_x(3, 4)), -1)  # the first call puts the compiled function in place
        assert softmax_mod._softmax_array.__module__ == 'tensorgrad.ops.kernels.softmax'
    finally:
        kb.set_backend(prev)
    with pytest.raises(ValueError, match="set_backend: backend must be one of"):
        kb.set_backend('fortran')


def test_threads_follow_set_num_threads():
    import numba
    prev_n = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        prev = kb.set_backend('numba')
        x = tg.tensor(_x(400, 400))
        tg.softmax(x, -1)
        tg.set_num_threads(2)
        tg.softmax(x, -1)
        assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    finally:
        tg.set_num_threads(prev_n)
        kb.set_backend(prev)
