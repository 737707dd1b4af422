"""bincount, histc, nonzero, argwhere, count_nonzero, masked_select (with its
gradient) and unique against PyTorch."""
import numpy as np
import pytest

import tensorgrad as tg
from _libcheck import check, rand

DTYPES = [np.float32, np.float64]


def test_bincount():
    ids = np.array([0, 3, 3, 1, 7, 3])
    check(lambda x, L: L.bincount(x), ids)
    check(lambda x, L: x.bincount(minlength=10), ids)
    check(lambda x, w, L: L.bincount(x, w), ids, rand(6), grad=False)
    check(lambda x, w, L: L.bincount(x, w, 2), ids, rand(6, dtype=np.float64), grad=False)
    check(lambda x, w, L: L.bincount(x, w), ids, np.arange(6))  # integer weights: float64
    check(lambda x, L: L.bincount(x, minlength=3), np.zeros((0,), dtype=np.int64))
    check(lambda x, L: L.bincount(x[::2]), np.array([1, 9, 1, 9, 2]))
    with pytest.raises(ValueError, match='bincount'):
        tg.bincount(tg.tensor([1, -2]))
    with pytest.raises(ValueError, match='bincount'):
        tg.bincount(tg.tensor([[1, 2]]))
    with pytest.raises(TypeError, match='bincount'):
        tg.bincount(tg.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match='minlength'):
        tg.bincount(tg.tensor([1]), minlength=-1)


@pytest.mark.parametrize('dtype', DTYPES)
def test_histc(dtype):
    a = rand(5, 7, dtype=dtype)
    check(lambda x, L: L.histc(x), a)
    check(lambda x, L: x.histc(bins=6, min=-1, max=1), a, layout='strided')
    check(lambda x, L: L.histc(x, bins=4), np.array([1.0, 1.0], dtype=dtype))
    check(lambda x, L: L.histc(x, bins=4), np.zeros((0,), dtype=dtype))
    check(lambda x, L: L.histc(x, bins=3, min=0, max=3), np.array([0.0, 1.0, 3.0, 3.5, -1.0, 2.999], dtype=dtype))
    with pytest.raises(ValueError, match='histc'):
        tg.histc(tg.tensor([1.0]), min=3, max=1)
    with pytest.raises(TypeError, match='histc'):
        tg.histc(tg.tensor([1, 2]))


@pytest.mark.parametrize('a', [np.array([[0.0, 1.5], [2.0, 0.0]]), np.array(3.0), np.array(0.0),
                               np.zeros((0, 3)), np.array([[True, False, True]])], ids=str)
def test_nonzero_argwhere_count(a):
    check(lambda x, L: L.nonzero(x), a)
    check(lambda x, L: x.nonzero(as_tuple=True), a)
    check(lambda x, L: L.argwhere(x), a)
    check(lambda x, L: L.count_nonzero(x), a)
    if a.ndim:
        check(lambda x, L: x.count_nonzero(dim=0), a)
        check(lambda x, L: L.count_nonzero(x, dim=(0, -1)), a)


def test_nonzero_strided():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 1.0]])
    check(lambda x, L: L.nonzero(x), a, layout='strided')
    check(lambda x, L: L.nonzero(x.T), a)


@pytest.mark.parametrize('dtype', DTYPES)
def test_masked_select(dtype):
    a = rand(3, 4, dtype=dtype)
    m = np.array([[True, False, True, True], [False] * 4, [True] * 4])
    check(lambda x, mk, L: L.masked_select(x, mk), a, m)
    check(lambda x, mk, L: x.masked_select(mk), a, m[0])  # mask broadcast over rows
    check(lambda x, mk, L: L.masked_select(x, mk), a[0], m)  # input broadcast over the mask
    check(lambda x, mk, L: L.masked_select(x, mk), a, m, layout='strided')
    check(lambda x, mk, L: L.masked_select(x.T, mk.T), a, m)
    check(lambda x, mk, L: L.masked_select(x, mk), np.array(2.0, dtype=dtype), np.array(True))
    check(lambda x, mk, L: L.masked_select(x, mk), np.zeros((0, 2), dtype=dtype), np.zeros((0, 2), dtype=bool))
    with pytest.raises(TypeError, match='masked_select'):
        tg.masked_select(tg.tensor([1.0]), tg.tensor([1]))
    with pytest.raises(ValueError, match='masked_select'):
        tg.masked_select(tg.tensor([1.0, 2.0]), tg.tensor([True, False, True]))


@pytest.mark.parametrize('kw', [{}, {'return_inverse': True}, {'return_counts': True},
                                {'return_inverse': True, 'return_counts': True}], ids=str)
def test_unique(kw):
    a = np.array([[3, 1, 2], [1, 3, 3]])
    check(lambda x, L: L.unique(x, **kw), a)
    check(lambda x, L: x.unique(**kw), np.array([2.5, -1.0, 2.5, 0.0]), grad=False)
    check(lambda x, L: L.unique(x, **kw), np.array(4))
    check(lambda x, L: L.unique(x, **kw), np.zeros((0,), dtype=np.int64))
    check(lambda x, L: L.unique(x, dim=0, **kw), np.array([[1, 2], [3, 4], [1, 2]]))
    check(lambda x, L: L.unique(x, dim=1, **kw), np.array([[1, 1, 0], [2, 2, 5]]))
    check(lambda x, L: L.unique(x, dim=-1, **kw), np.array([[1, 0, 1], [2, 5, 2]]), layout='strided')


def test_unique_nan_and_grad():
    check(lambda x, L: L.unique(x), np.array([np.nan, 1.0, np.nan]), grad=False)
    out = tg.unique(tg.tensor([1.0, 1.0], requires_grad=True))
    assert not out.requires_grad
