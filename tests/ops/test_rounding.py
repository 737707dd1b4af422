"""floor, ceil, round (decimals), trunc/fix, frac, fmod, clamp_min, clamp_max,
nan_to_num and the in-place forms against PyTorch, forward and backward."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from _libcheck import check, rand

DTYPES = [np.float32, np.float64]
HALVES = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 1.2, -3.7, 0.0])


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', ['floor', 'ceil', 'round', 'trunc', 'fix', 'frac'])
def test_steps(name, dtype):
    a = HALVES.astype(dtype).reshape(2, 5)
    check(lambda x, L: getattr(L, name)(x), a)
    check(lambda x, L: getattr(x, name)(), a, layout='strided')
    check(lambda x, L: getattr(L, name)(x.T), a)
    check(lambda x, L: getattr(L, name)(x), np.array(2.5, dtype=dtype))
    check(lambda x, L: getattr(L, name)(x), np.zeros((0, 2), dtype=dtype))
    if name != 'frac':
        check(lambda x, L: getattr(L, name)(x), np.array([1, -2, 3]))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('decimals', [1, 2, -1, 3])
def test_round_decimals(decimals, dtype):
    a = np.array([1.25, 2.675, -0.35, 15.0, 25.0, 35.0, 123.456, -1e-3], dtype=dtype)
    check(lambda x, L: L.round(x, decimals=decimals), a)
    check(lambda x, L: x.round(decimals=decimals), rand(3, 4, dtype=dtype) * 100)


@pytest.mark.parametrize('dtype', DTYPES)
def test_fmod(dtype):
    a, b = rand(3, 4, dtype=dtype) * 5, rand(4, dtype=dtype, low=0.5, high=2.0) * np.array([1, -1, 1, -1], dtype=dtype)
    check(lambda x, y, L: L.fmod(x, y), a, b)
    check(lambda x, y, L: x.fmod(y), a, b, layout='strided')
    check(lambda x, L: L.fmod(x, 1.5), a)
    check(lambda x, L: L.fmod(x, -2), a)
    check(lambda x, L: L.fmod(x, 2), np.array(-7.5, dtype=dtype))
    check(lambda x, y, L: L.fmod(x, y), np.array([5, -5, 7]), np.array([3, 3, -2]))
    check(lambda x, L: L.fmod(x, 2.5), np.array([5, -5]))
    with pytest.raises(ZeroDivisionError, match='fmod'):
        tg.fmod(tg.tensor([5, -5]), 0)


@pytest.mark.parametrize('dtype', DTYPES)
def test_clamp_min_max(dtype):
    a = rand(3, 4, dtype=dtype)
    lo = rand(4, dtype=dtype)
    check(lambda x, L: L.clamp_min(x, 0.2), a)
    check(lambda x, L: x.clamp_max(-0.1), a, layout='strided')
    check(lambda x, y, L: L.clamp_min(x, y), a, lo)
    check(lambda x, y, L: L.clamp_max(x, y), a, lo)
    check(lambda x, L: L.clamp_min(x, 0.5), np.array([5, -5]))


@pytest.mark.parametrize('dtype', DTYPES)
def test_nan_to_num(dtype):
    a = np.array([1.0, np.nan, np.inf, -np.inf, -2.0], dtype=dtype)
    check(lambda x, L: L.nan_to_num(x), a)
    check(lambda x, L: x.nan_to_num(nan=1.5, posinf=10.0, neginf=-10.0), a)
    check(lambda x, L: L.nan_to_num(x, posinf=3.0), np.tile(a, (2, 1)), layout='strided')
    check(lambda x, L: L.nan_to_num(x), np.array(np.nan, dtype=dtype))
    check(lambda x, L: L.nan_to_num(x), np.array([1, 2]))


@pytest.mark.parametrize('name,args', [('floor_', ()), ('ceil_', ()), ('round_', ()), ('trunc_', ()),
                                       ('frac_', ()), ('fmod_', (1.5,)), ('clamp_min_', (0.1,)),
                                       ('clamp_max_', (0.1,)), ('nan_to_num_', ())])
def test_inplace(name, args):
    def fn(x, L):
        y = x * 2
        getattr(y, name)(*args)
        return y * 3
    check(fn, rand(3, 4, dtype=np.float64))
    t = tg.tensor(rand(3))
    with tg.no_grad():
        ref = getattr(torch, name[:-1])(torch.tensor(t.numpy()), *args)
        assert getattr(t, name)(*args) is t
    np.testing.assert_allclose(t.numpy(), ref.numpy())
