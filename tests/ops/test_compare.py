"""equal, allclose, isclose, isnan/isinf/isfinite/isposinf/isneginf, isin,
logical_xor and Tensor.base against PyTorch."""
import numpy as np
import pytest

import tensorgrad as tg
from _libcheck import check, rand

SPECIAL = np.array([0.0, 1.0, -1.5, np.inf, -np.inf, np.nan, 1e-9, 2.0])


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', ['isnan', 'isinf', 'isfinite', 'isposinf', 'isneginf'])
@pytest.mark.parametrize('layout', [None, 'strided'])
def test_value_tests(name, dtype, layout):
    a = SPECIAL.astype(dtype).reshape(2, 4)
    check(lambda x, L: getattr(L, name)(x), a, layout=layout)
    check(lambda x, L: getattr(x, name)(), a)
    check(lambda x, L: getattr(L, name)(x), np.array(np.inf, dtype=dtype))
    check(lambda x, L: getattr(L, name)(x), np.zeros((0, 3), dtype=dtype))
    check(lambda x, L: getattr(L, name)(x), np.array([1, 2]))  # integers: finite


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_isclose_allclose(dtype):
    a = SPECIAL.astype(dtype)
    b = a.copy()
    b[[1, 2]] += np.array([1e-6, 1e-3], dtype=dtype)
    for kw in ({}, {'equal_nan': True}, {'rtol': 1e-2, 'atol': 0.0}, {'atol': 1e-2}):
        check(lambda x, y, L: L.isclose(x, y, **kw), a, b)
        check(lambda x, y, L: x.isclose(y, **kw), a, b)
        check(lambda x, y, L: L.allclose(x, y, **kw), a, b)
        check(lambda x, y, L: L.allclose(x, y, **kw), a[:2], b[:2])
    check(lambda x, y, L: L.isclose(x, y), rand(3, 1, dtype=dtype), rand(4, dtype=dtype))  # broadcast
    check(lambda x, y, L: L.allclose(x, y), rand(3, 4, dtype=dtype), rand(3, 4, dtype=dtype), layout='strided')
    check(lambda x, y, L: L.isclose(x, y), np.array([1, 5]), np.array([1, 6]))


def test_isclose_errors():
    with pytest.raises(RuntimeError, match='isclose'):
        tg.isclose(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64))
    with pytest.raises(TypeError, match='isclose'):
        tg.isclose(tg.tensor([1.0]), 1.0)
    with pytest.raises(ValueError, match='isclose'):
        tg.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0, 3.0]))


def test_equal():
    a = rand(3, 4)
    check(lambda x, y, L: L.equal(x, y), a, a.copy())
    check(lambda x, y, L: x.equal(y), a, a + 1)
    check(lambda x, y, L: L.equal(x, y), a, a[:2])
    check(lambda x, y, L: L.equal(x, y), np.array([1, 2]), np.array([1.0, 2.0]))
    check(lambda x, y, L: L.equal(x, y), np.zeros((0,)), np.zeros((0,)))
    check(lambda x, y, L: L.equal(x, y), np.array(np.nan), np.array(np.nan))
    with pytest.raises(TypeError, match='equal'):
        tg.equal(tg.tensor([1.0]), [1.0])


def test_isin():
    e, t = np.array([[1, 2, 3], [4, 5, 6]]), np.array([2, 6, 9])
    check(lambda x, y, L: L.isin(x, y), e, t)
    check(lambda x, y, L: L.isin(x, y, invert=True), e, t)
    check(lambda x, L: L.isin(x, 2), e)
    check(lambda x, y, L: L.isin(x, y), np.zeros((0,)), np.array([1.0]))
    check(lambda x, y, L: L.isin(x, y), np.array([1.0, 2.0]), np.zeros((0,)))
    check(lambda x, y, L: L.isin(x, y), np.array([1.5, np.nan, 2.0]), np.array([2.0, np.nan]))


def test_logical_xor_method():
    a, b = np.array([True, False, True]), np.array([True, True, False])
    check(lambda x, y, L: x.logical_xor(y), a, b)


def test_base():
    x = tg.randn(3, 4)
    assert x.base is None
    v = x[1:]
    assert v.base is x and v.T.base is x
    assert (x * 2).base is None
