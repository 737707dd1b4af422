"""diag, diagonal, trace, diff, repeat_interleave, tensor_split, hstack/vstack/
column_stack, meshgrid, cartesian_prod, take_along_dim, select, swapdims,
fliplr/flipud, rot90 against PyTorch, forward and backward."""
import numpy as np
import pytest

import tensorgrad as tg
from _libcheck import check, rand

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize('dtype', DTYPES)
def test_diagonals(dtype):
    a = rand(3, 4, 5, dtype=dtype)
    for off, d1, d2 in ((0, 0, 1), (1, 0, 1), (-2, 1, 2), (2, -1, 0), (9, 0, 1)):
        check(lambda x, L: L.diagonal(x, off, d1, d2), a)
    check(lambda x, L: x.diagonal(1), a, layout='strided')
    check(lambda x, L: x.permute(2, 0, 1).diagonal(), a)
    m = rand(4, 3, dtype=dtype)
    for k in (0, 1, -1, -5):
        check(lambda x, L: L.diag(x, k), m)
        check(lambda x, L: x.diag(k), m[0])
    check(lambda x, L: L.diag(x), np.zeros(0, dtype))
    check(lambda x, L: L.trace(x), m)
    check(lambda x, L: x.trace(), m, layout='strided')
    check(lambda x, L: L.trace(x), np.arange(9).reshape(3, 3))
    with pytest.raises(ValueError, match='trace'):
        tg.trace(tg.ones(2, 2, 2))
    with pytest.raises(ValueError, match='diag'):
        tg.diag(tg.ones(2, 2, 2))


@pytest.mark.parametrize('dtype', DTYPES)
def test_diff(dtype):
    a = rand(3, 5, dtype=dtype)
    check(lambda x, L: L.diff(x), a)
    check(lambda x, L: x.diff(n=2, dim=0), a)
    check(lambda x, L: x.diff(n=3), a, layout='strided')
    check(lambda x, p, q, L: L.diff(x, dim=1, prepend=p, append=q), a, rand(3, 2, dtype=dtype), rand(3, 1, dtype=dtype))
    check(lambda x, L: L.diff(x, n=0), a)
    check(lambda x, L: L.diff(x, n=7), a)
    check(lambda x, L: L.diff(x), np.array([True, False, False, True]))
    check(lambda x, L: L.diff(x), np.array([3, 1, 4, 1, 5]))
    with pytest.raises(ValueError, match='diff'):
        tg.diff(tg.tensor(1.0))


@pytest.mark.parametrize('dtype', DTYPES)
def test_repeat_interleave(dtype):
    a = rand(2, 3, dtype=dtype)
    check(lambda x, L: L.repeat_interleave(x, 2), a)
    check(lambda x, L: x.repeat_interleave(3, dim=1), a, layout='strided')
    check(lambda x, r, L: L.repeat_interleave(x, r, dim=0), a, np.array([0, 3]))
    check(lambda x, r, L: x.repeat_interleave(r, dim=-1), a, np.array([1, 0, 2]))
    check(lambda x, L: L.repeat_interleave(x, 2), np.array(5.0, dtype))
    check(lambda r, L: L.repeat_interleave(r), np.array([2, 0, 1]))
    with pytest.raises(ValueError, match='repeat_interleave'):
        tg.repeat_interleave(tg.ones(3), tg.tensor([1, 2]))


@pytest.mark.parametrize('dtype', DTYPES)
def test_tensor_split(dtype):
    a = rand(7, 4, dtype=dtype)
    for ios in (3, 7, 9, [1, 5], [2, 2, 6], [-2], (0, 10)):
        check(lambda x, L: L.tensor_split(x, ios), a)
    check(lambda x, L: x.tensor_split(3, dim=1), a, layout='strided')
    check(lambda x, i, L: L.tensor_split(x, i), a, np.array([1, 5]))
    check(lambda x, i, L: L.tensor_split(x, i, 1), a, np.array(3))


@pytest.mark.parametrize('dtype', DTYPES)
def test_stacks(dtype):
    v, w, m, s = rand(3, dtype=dtype), rand(3, dtype=dtype), rand(3, 2, dtype=dtype), np.array(1.5, dtype)
    check(lambda a, b, L: L.hstack([a, b]), v, w)
    check(lambda a, b, L: L.hstack((a, b)), m, m.copy())
    check(lambda a, b, L: L.vstack([a, b]), v, w)
    check(lambda a, b, L: L.vstack([a, b]), m, m.copy(), layout='strided')
    check(lambda a, b, c, L: L.column_stack([a, b, c]), v, m, w)
    check(lambda a, b, L: L.hstack([a, b]), s, s.copy())
    check(lambda a, b, L: L.row_stack([a, b]), v, w)


@pytest.mark.parametrize('indexing', ['ij', 'xy'])
def test_meshgrid_cartesian(indexing):
    a, b, c = rand(3), rand(4), rand(2)
    check(lambda x, y, L: L.meshgrid(x, y, indexing=indexing), a, b)
    check(lambda x, y, z, L: L.meshgrid([x, y, z], indexing=indexing), a, b, c)
    check(lambda x, L: L.meshgrid(x, indexing=indexing), a)
    check(lambda x, y, L: L.meshgrid(x, y, indexing=indexing), np.array(1.0, np.float32), b)
    check(lambda x, y, L: L.cartesian_prod(x, y), a, b)
    check(lambda x, y, z, L: L.cartesian_prod(x, y, z), a, b, c, layout='strided')
    check(lambda x, L: L.cartesian_prod(x), a)


@pytest.mark.parametrize('dtype', DTYPES)
def test_take_along_dim_select(dtype):
    a = rand(3, 4, dtype=dtype)
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    check(lambda x, i, L: L.take_along_dim(x, i, 1), a, idx)
    check(lambda x, i, L: x.take_along_dim(i, dim=0), a, np.array([[2, 0, 1, 1]]))  # broadcast
    check(lambda x, i, L: L.take_along_dim(x, i), a, np.array([11, 0, 5, 5]))
    check(lambda x, i, L: L.take_along_dim(x, i, -1), a, np.array([[0], [1], [3]]), layout='strided')
    check(lambda x, i, L: L.take_along_dim(x, i, 1), rand(1, 4, dtype=dtype), idx)  # input broadcast
    check(lambda x, L: L.select(x, 1, -1), a)
    check(lambda x, L: x.select(0, 2), a, layout='strided')
    with pytest.raises(IndexError, match='select'):
        tg.select(tg.ones(2, 3), 1, 3)


@pytest.mark.parametrize('dtype', DTYPES)
def test_flips_rot90(dtype):
    a = rand(3, 4, 2, dtype=dtype)
    check(lambda x, L: L.swapdims(x, 0, 2), a)
    check(lambda x, L: x.swapdims(-1, 1), a, layout='strided')
    check(lambda x, L: L.fliplr(x), a)
    check(lambda x, L: x.flipud(), a, layout='strided')
    check(lambda x, L: L.flipud(x), rand(5, dtype=dtype))
    for k in (0, 1, 2, 3, -1, 5):
        check(lambda x, L: L.rot90(x, k), a)
        check(lambda x, L: x.rot90(k, [2, 0]), a, layout='strided')
    with pytest.raises(ValueError, match='fliplr'):
        tg.fliplr(tg.ones(3))
    with pytest.raises(ValueError, match='rot90'):
        tg.rot90(tg.ones(2, 3), 1, [0, 0])
