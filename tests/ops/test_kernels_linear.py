"""The compiled bias add and bias gradient of linear (tensorgrad/ops/kernels/linear.py)
against NumPy and torch: float32 / float64, 2-D and 3-D inputs, non-contiguous inputs
(which go back to NumPy), size-0 rows, and linear forward/backward under both backends."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.ops import kernels

pytestmark = pytest.mark.skipif(not kernels.available(), reason='numba is not installed')
RNG = np.random.default_rng(3)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(5, 7), (1024, 65), (0, 4), (3, 1), (8192, 1)], ids=str)
def test_add_bias_and_column_sums_match_numpy(shape, dtype, monkeypatch):
    from tensorgrad.ops.kernels import linear as K
    monkeypatch.setattr(K, '_MIN_SIZE', 1)  # the kernels at every size
    out = RNG.standard_normal(shape).astype(dtype)
    b = RNG.standard_normal(shape[1]).astype(dtype)
    want = out + b
    got = K.add_bias(lambda o, b: pytest.fail('went to NumPy'))(out.copy(), b) if out.size else want
    np.testing.assert_allclose(got, want, rtol=0, atol=0)
    sums = K.bias_grad(lambda g: g.sum(0))(out)
    np.testing.assert_allclose(sums, out.sum(0), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_other_inputs_go_back_to_numpy():
    from tensorgrad.ops.kernels import linear as K
    calls = []
    numpy_add = lambda o, b: calls.append('add') or o  # noqa: E731
    numpy_sum = lambda g: calls.append('sum') or g.sum(0)  # noqa: E731
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    big = RNG.standard_normal((4096, 4)).astype(np.float32)
    K.add_bias(numpy_add)(big.T, np.ones(4096, np.float32))  # not C-contiguous
    K.add_bias(numpy_add)(big, np.ones(4, np.float64))  # mixed dtypes
    K.bias_grad(numpy_sum)(big[:, ::2])
    K.bias_grad(numpy_sum)(big.astype(np.float16))
    K.add_bias(numpy_add)(x, np.ones(4, np.float32))  # small: NumPy's call is as fast
    assert calls == ['add', 'add', 'sum', 'sum', 'add']


@pytest.mark.parametrize('backend', ['numpy', 'numba'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('xshape', [(8, 5), (2, 3, 5), (0, 5)], ids=str)
def test_linear_matches_torch_under_both_backends(backend, dtype, xshape):
    x = RNG.standard_normal(xshape).astype(dtype)
    w, b = RNG.standard_normal((6, 5)).astype(dtype), RNG.standard_normal(6).astype(dtype)
    g = RNG.uniform(0.5, 1.5, xshape[:-1] + (6,)).astype(dtype)
    prev = kernels.set_backend(backend)
    try:
        ts = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = tg.nn.functional.linear(*ts)
        y.backward(tg.tensor(g, requires_grad=False))
    finally:
        kernels.set_backend(prev)
    rs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    yr = torch.nn.functional.linear(*rs)
    yr.backward(torch.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.numpy(), yr.detach().numpy(), **tol)
    for t, r in zip(ts, rs):
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), **tol)
