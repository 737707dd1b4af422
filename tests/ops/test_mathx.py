"""outer/ger, lerp, addcmul, addcdiv, addmm, baddbmm, erfc, erfinv, float_power,
hypot, xlogy, logit, cummax/cummin (and in-place forms) against PyTorch."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from _libcheck import check, rand

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('dtype', DTYPES)
def test_outer(dtype):
    a, b = rand(3, dtype=dtype), rand(4, dtype=dtype)
    check(lambda x, y, L: L.outer(x, y), a, b, **_tol(dtype))
    check(lambda x, y, L: x.ger(y), a, b, layout='strided', **_tol(dtype))
    check(lambda x, y, L: L.outer(x, y), np.zeros(0, dtype), b)
    with pytest.raises(ValueError, match='outer'):
        tg.outer(tg.ones(2, 2), tg.ones(2))


@pytest.mark.parametrize('dtype', DTYPES)
def test_lerp_addc(dtype):
    a, b, w = rand(3, 4, dtype=dtype), rand(4, dtype=dtype), rand(3, 1, dtype=dtype)
    t = _tol(dtype)
    check(lambda x, y, L: L.lerp(x, y, 0.3), a, b, **t)
    check(lambda x, y, z, L: x.lerp(y, z), a, b, w, **t)
    check(lambda x, y, z, L: L.addcmul(x, y, z, value=-0.5), a, b, w, **t)
    check(lambda x, y, z, L: x.addcmul(y, z), a, b, w, layout='strided', **t)
    c = rand(3, 1, dtype=dtype, low=0.5, high=2.0)
    check(lambda x, y, z, L: L.addcdiv(x, y, z, value=2), a, b, c, **t)
    check(lambda x, y, z, L: x.addcdiv(y, z), a, b, c, layout='strided', **t)
    check(lambda x, y, L: L.lerp(x, y, 0.5), np.array(1.0, dtype), np.array(3.0, dtype))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('beta,alpha', [(1, 1), (0.5, 2.0), (0, 1)])
def test_addmm_baddbmm(beta, alpha, dtype):
    t = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else _tol(dtype)
    check(lambda i, a, b, L: L.addmm(i, a, b, beta=beta, alpha=alpha), rand(4, dtype=dtype), rand(3, 5, dtype=dtype),
          rand(5, 4, dtype=dtype), **t)
    check(lambda i, a, b, L: i.addmm(a.T, b, beta=beta, alpha=alpha), rand(3, 4, dtype=dtype),
          rand(5, 3, dtype=dtype), rand(5, 4, dtype=dtype), **t)
    check(lambda i, a, b, L: L.baddbmm(i, a, b, beta=beta, alpha=alpha), rand(2, 3, 4, dtype=dtype),
          rand(2, 3, 5, dtype=dtype), rand(2, 5, 4, dtype=dtype), **t)
    check(lambda i, a, b, L: i.baddbmm(a, b, beta=beta, alpha=alpha), rand(1, 4, dtype=dtype),
          rand(2, 3, 5, dtype=dtype), rand(2, 5, 4, dtype=dtype), layout='strided', **t)
    with pytest.raises(ValueError, match='addmm'):
        tg.addmm(tg.ones(5, 5), tg.ones(2, 3), tg.ones(3, 4))


def test_addmm_beta0_ignores_nan():
    i = tg.tensor([[np.nan, np.inf]])
    out = tg.addmm(i, tg.ones(2, 3), tg.ones(3, 2), beta=0)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 3.0))


@pytest.mark.parametrize('dtype', DTYPES)
def test_erfc(dtype):
    a = np.concatenate([np.linspace(-6, 9, 61), [0.0, 25.0, -30.0, np.inf, -np.inf]]).astype(dtype)
    rt = 3e-7 if dtype == np.float32 else 1e-13
    check(lambda x, L: L.erfc(x), a, rtol=rt, atol=0)
    check(lambda x, L: x.erfc(), rand(3, 4, dtype=dtype), layout='strided', rtol=rt, atol=1e-30)
    check(lambda x, L: L.erfc(x), np.array(0.5, dtype))
    check(lambda x, L: L.erfc(x), np.array([1, 2]))


@pytest.mark.parametrize('dtype', DTYPES)
def test_erfinv(dtype):
    a = np.concatenate([np.linspace(-0.999, 0.999, 41), [0.0, 1 - 1e-6, -1 + 1e-6]]).astype(dtype)
    rt = 3e-7 if dtype == np.float32 else 1e-12
    check(lambda x, L: L.erfinv(x), a, rtol=rt, atol=1e-7 if dtype == np.float32 else 1e-13)
    check(lambda x, L: x.erfinv(), rand(3, 4, dtype=dtype, low=-0.9, high=0.9), layout='strided', rtol=1e-5)
    check(lambda x, L: L.erfinv(x), np.array([1.0, -1.0, 1.5, np.nan], dtype), grad=False)
    x = tg.tensor(rand(50, dtype=np.float64, low=-3, high=3))
    np.testing.assert_allclose(tg.erfinv(tg.erf(x)).numpy(), x.numpy(), rtol=1e-9)


@pytest.mark.parametrize('dtype', DTYPES)
def test_float_power_hypot(dtype):
    a, b = rand(3, 4, dtype=dtype, low=0.2, high=2.0), rand(4, dtype=dtype)
    check(lambda x, y, L: L.float_power(x, y), a, b, rtol=1e-6)
    check(lambda x, L: x.float_power(2), a, layout='strided', rtol=1e-6)
    check(lambda x, L: L.float_power(x, 0.5), np.array([1, 4, 9]))
    check(lambda x, y, L: L.hypot(x, y), rand(3, 4, dtype=dtype), b, **_tol(dtype))
    check(lambda x, y, L: x.hypot(y), rand(3, 4, dtype=dtype), rand(3, 4, dtype=dtype), layout='strided')
    check(lambda x, y, L: L.hypot(x, y), np.zeros(2, dtype), np.zeros(2, dtype))
    check(lambda x, y, L: L.hypot(x, y), np.array(3.0, dtype), np.array(4.0, dtype))


@pytest.mark.parametrize('dtype', DTYPES)
def test_xlogy_logit(dtype):
    a = rand(3, 4, dtype=dtype)
    a[0, :2] = 0
    b = rand(4, dtype=dtype, low=0.1, high=3.0)
    check(lambda x, y, L: L.xlogy(x, y), a, b, **_tol(dtype))
    check(lambda x, y, L: x.xlogy(y), a, rand(3, 4, dtype=dtype, low=0.1), layout='strided', **_tol(dtype))
    check(lambda x, L: L.xlogy(x, 2.0), a, **_tol(dtype))
    check(lambda x, y, L: L.xlogy(x, y), np.array([0.0, 1.0, 0.0], dtype), np.array([0.0, 0.0, np.nan], dtype))
    p = rand(3, 4, dtype=dtype, low=0.01, high=0.99)
    check(lambda x, L: L.logit(x), p, rtol=1e-5)
    check(lambda x, L: x.logit(eps=0.2), p, layout='strided', rtol=1e-5)
    check(lambda x, L: L.logit(x), np.array(0.3, dtype))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', ['cummax', 'cummin'])
def test_cumext(name, dtype):
    a = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [2.0, 2.0, 1.0, 1.0, 0.0], [0.0, np.nan, 1.0, np.nan, 4.0]], dtype)
    for dim in (0, 1, -1):
        check(lambda x, L: getattr(L, name)(x, dim), a)
        check(lambda x, L: getattr(x, name)(dim), rand(3, 4, 2, dtype=dtype), layout='strided')
    check(lambda x, L: getattr(L, name)(x, 0), np.array(2.0, dtype))
    check(lambda x, L: getattr(L, name)(x, 1), np.zeros((2, 0), dtype))
    check(lambda x, L: getattr(L, name)(x, 0), np.array([3, 1, 4, 1, 5]))
    out = getattr(tg, name)(tg.tensor(a), 1)
    assert type(out).__name__ == name and out.indices.dtype == tg.int64


@pytest.mark.parametrize('name,args', [('lerp_', (np.ones(4), 0.25)), ('addcmul_', (np.ones(4), np.full(4, 2.0))),
                                       ('addcdiv_', (np.ones(4), np.full(4, 2.0))), ('hypot_', (np.ones(4),)),
                                       ('xlogy_', (np.full(4, 2.0),)), ('erfc_', ()), ('float_power_', (2,))])
def test_inplace(name, args):
    def fn(x, L):
        y = x * 1
        getattr(y, name)(*[L.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
        return y
    check(fn, rand(3, 4, dtype=np.float64, low=0.1, high=0.9))
    with pytest.raises(RuntimeError, match='float_power_'):
        tg.ones(2).float_power_(2)
    torch.ones(2, dtype=torch.float64).float_power_(2)
