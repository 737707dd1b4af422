"""Scatter / index-write ops against PyTorch: scatter (src, value, reduce),
scatter_add, scatter_reduce (all reductions, include_self, ties, zeros),
index_add / index_copy / index_fill, masked_scatter, their in-place forms
(no-grad fast path, recorded on non-leaves and views) and the errors."""
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.ops import scatter as sc
from helpers import assert_close, compare, rand

DTYPES = [np.float32, np.float64]


def _perm_index(rng, n, shape, axis):
    """An index of ``shape`` with distinct values along ``axis`` (so scatter has no write conflict)."""
    idx = np.stack([rng.permutation(n)[:shape[axis]] for _ in range(int(np.prod(shape)) // shape[axis])], -1)
    return np.moveaxis(idx.reshape((shape[axis],) + tuple(s for i, s in enumerate(shape) if i != axis)), 0, axis)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1])
def test_scatter_src(dtype, dim):
    rng = np.random.default_rng(1)
    x, s = rand(4, 5, dtype=dtype), rand(3, 4, dtype=dtype)
    axis = dim % 2
    idx = _perm_index(rng, x.shape[axis], (3, 4) if axis == 0 else (3, 4)[:1] + (4,), axis)
    compare(lambda a, b, i: tg.scatter(a, dim, i, b), lambda a, b, i: torch.scatter(a, dim, i, b), x, s, idx)
    compare(lambda a, b, i: a.scatter(dim, i, src=b), lambda a, b, i: a.scatter(dim, i, src=b), x, s, idx)


@pytest.mark.parametrize('dtype', DTYPES)
def test_scatter_non_contiguous(dtype):
    rng = np.random.default_rng(2)
    x, s = rand(5, 4, dtype=dtype), rand(6, 3, dtype=dtype)
    idx = _perm_index(rng, 4, (3, 3), 0).T.copy()  # (3, 3) distinct along dim 0 after transpose
    # input transposed, src sliced with a step, index transposed
    compare(lambda a, b, i: tg.scatter(a.T, 0, i.T, b[::2]), lambda a, b, i: torch.scatter(a.T, 0, i.T, b[::2]),
            x, s, idx)
    e = rand(1, 3, dtype=dtype)  # an expanded src
    compare(lambda a, b, i: tg.scatter(a.T, 0, i.T, b.expand(3, 3)),
            lambda a, b, i: torch.scatter(a.T, 0, i.T, b.expand(3, 3)), x, e, idx)


def test_scatter_value_and_shapes():
    x = rand(3, 4)
    idx = np.array([[0, 2], [1, 0]])
    compare(lambda a, i: tg.scatter(a, 0, i, 2.5), lambda a, i: torch.scatter(a, 0, i, 2.5), x, idx)
    compare(lambda a, i: a.scatter(1, i, value=-1), lambda a, i: a.scatter(1, i, value=-1), x, idx)
    # 0-d
    compare(lambda a, b, i: tg.scatter(a, 0, i, b), lambda a, b, i: torch.scatter(a, 0, i, b),
            np.array(1.5, np.float32), np.array(-2.0, np.float32), np.array(0))
    # empty index: a copy, zero gradient for src
    compare(lambda a, b, i: tg.scatter(a, 0, i, b), lambda a, b, i: torch.scatter(a, 0, i, b),
            x, rand(0, 3), np.zeros((0, 3), np.int64))
    # an int tensor keeps its dtype; the value is cast
    out = tg.tensor([1, 2, 3]).scatter(0, tg.tensor([0]), 2.7)
    assert out.tolist() == [2, 2, 3] and out.dtype == tg.int64


def test_scatter_src_larger_than_index():
    """torch gives the forward but raises at backward; the gradient here is zero outside the index."""
    x, s = rand(3, 4), rand(3, 5)
    idx = np.array([[0, 1], [2, 0]])
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(s, requires_grad=True)
    y = tg.scatter(a, 0, tg.tensor(idx), b)
    assert_close(y, torch.scatter(torch.tensor(x), 0, torch.tensor(idx), torch.tensor(s)))
    g = rand(3, 4)
    (y * tg.tensor(g)).sum().backward()
    expect = np.zeros_like(s)
    expect[:2, :2] = np.take_along_axis(g[:, :2], idx, 0)
    assert_close(b.grad, expect)
    assert_close(a.grad, torch.scatter(torch.tensor(g), 0, torch.tensor(idx), 0.0))


@pytest.mark.parametrize('reduce,equiv', [('add', 'sum'), ('multiply', 'prod')])
def test_scatter_reduce_argument(reduce, equiv):
    x, s = rand(3, 4, low=0.5, high=1.5), rand(3, 4, low=0.5, high=1.5)
    idx = np.array([[0, 1, 0, 2], [0, 0, 1, 2], [2, 2, 2, 1]])
    for v in (s, None):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # torch: the reduce argument is deprecated
            ref = torch.scatter(torch.tensor(x), 0, torch.tensor(idx), torch.tensor(v) if v is not None else 1.5,
                                reduce=reduce)
        out = tg.scatter(tg.tensor(x), 0, tg.tensor(idx), tg.tensor(v) if v is not None else 1.5, reduce=reduce)
        assert_close(out, ref)
    # gradients (which torch does not implement) are those of scatter_reduce
    compare(lambda a, b, i: tg.scatter(a, 0, i, b, reduce=reduce),
            lambda a, b, i: torch.scatter_reduce(a, 0, i, b, equiv), x, s, idx, rtol=1e-4)


@pytest.mark.parametrize('dtype', DTYPES)
def test_scatter_add(dtype):
    x, s = rand(3, 4, dtype=dtype), rand(5, 4, dtype=dtype)
    idx = np.array([[0, 1, 0, 2], [0, 0, 1, 2], [2, 2, 2, 1], [1, 1, 1, 1]])
    compare(lambda a, b, i: tg.scatter_add(a, 0, i, b[1:]), lambda a, b, i: torch.scatter_add(a, 0, i, b[1:]),
            x, s, idx, atol=1e-5 if dtype == np.float32 else 1e-12)
    compare(lambda a, b, i: a.T.scatter_add(1, i.T, b[1:].T), lambda a, b, i: a.T.scatter_add(1, i.T, b[1:].T),
            x, s, idx)
    compare(lambda a, b, i: tg.scatter_add(a, 0, i, b), lambda a, b, i: torch.scatter_add(a, 0, i, b),
            np.array(1.0, dtype), np.array(2.0, dtype), np.array(0))


def _ties(shape, dtype, rng):
    """Values from a small set (ties for amax/amin) with some zeros (for prod)."""
    return rng.choice(np.array([-1.5, -0.5, 0.0, 0.5, 1.0, 2.0]), size=shape).astype(dtype)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reduce', ['sum', 'prod', 'mean', 'amax', 'amin'])
@pytest.mark.parametrize('include_self', [True, False])
def test_scatter_reduce(dtype, reduce, include_self):
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 4, size=(6, 3))
    idx[:, 2] = 0  # many values into one position
    for x, s in ((rand(4, 3, dtype=dtype), rand(6, 3, dtype=dtype)),
                 (_ties((4, 3), dtype, rng), _ties((6, 3), dtype, rng))):
        compare(lambda a, b, i: tg.scatter_reduce(a, 0, i, b, reduce, include_self=include_self),
                lambda a, b, i: torch.scatter_reduce(a, 0, i, b, reduce, include_self=include_self),
                x, s, idx, rtol=1e-4, atol=1e-5)
    # dim 1, non-contiguous input
    compare(lambda a, b, i: a.T.scatter_reduce(1, i.T, b, reduce, include_self=include_self),
            lambda a, b, i: a.T.scatter_reduce(1, i.T, b, reduce, include_self=include_self),
            rand(4, 3, dtype=dtype), rand(3, 6, dtype=dtype), idx, rtol=1e-4)


def test_scatter_reduce_prod_zeros():
    """A single zero among a position's factors gets the product of the others; two zeros give zero."""
    x = np.array([2.0, 0.0, 3.0, 1.0])
    s = np.array([0.0, 4.0, 0.0, 0.0, 5.0, 2.0])
    idx = np.array([0, 0, 1, 2, 2, 3])
    for inc in (True, False):
        compare(lambda a, b, i: tg.scatter_reduce(a, 0, i, b, 'prod', include_self=inc),
                lambda a, b, i: torch.scatter_reduce(a, 0, i, b, 'prod', include_self=inc), x, s, idx)


@pytest.mark.parametrize('reduce', ['sum', 'prod', 'mean', 'amax', 'amin'])
def test_scatter_reduce_int(reduce):
    x = np.array([1, 7, -3, 4])
    s = np.array([3, 4, -6, 2, 9])
    idx = np.array([0, 0, 1, 1, 1])
    for inc in (True, False):
        out = tg.tensor(x).scatter_reduce(0, tg.tensor(idx), tg.tensor(s), reduce, include_self=inc)
        ref = torch.tensor(x).scatter_reduce(0, torch.tensor(idx), torch.tensor(s), reduce, include_self=inc)
        assert out.tolist() == ref.tolist() and out.dtype == tg.int64


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1])
def test_index_add(dtype, dim):
    x = rand(4, 5, dtype=dtype)
    idx = np.array([0, 3, 0])
    s = rand(3, 5, dtype=dtype) if dim == 0 else rand(4, 3, dtype=dtype)
    for alpha in (1, -2.5):
        compare(lambda a, b, i: tg.index_add(a, dim, i, b, alpha=alpha),
                lambda a, b, i: torch.index_add(a, dim, i, b, alpha=alpha), x, s, idx)
    # non-contiguous self and source, int32 index, 0-d index
    compare(lambda a, b: a.T.index_add(0, tg.tensor([4, 1], dtype=tg.int32), b.T[::2]),
            lambda a, b: a.T.index_add(0, torch.tensor([4, 1], dtype=torch.int32), b.T[::2]),
            x, rand(4, 4, dtype=dtype))
    compare(lambda a, b: a.index_add(1, tg.tensor(2), b), lambda a, b: a.index_add(1, torch.tensor(2), b),
            x, rand(4, 1, dtype=dtype))
    compare(lambda a, b, i: a.index_add(0, i, b), lambda a, b, i: a.index_add(0, i, b),
            np.array(1.0, dtype), np.array(2.0, dtype), np.array([0]))
    compare(lambda a, b, i: a.index_add(0, i, b), lambda a, b, i: a.index_add(0, i, b),
            x, rand(0, 5, dtype=dtype), np.zeros(0, np.int64))


@pytest.mark.parametrize('dtype', DTYPES)
def test_index_copy(dtype):
    x = rand(4, 5, dtype=dtype)
    compare(lambda a, b, i: a.index_copy(0, i, b), lambda a, b, i: a.index_copy(0, i, b),
            x, rand(2, 5, dtype=dtype), np.array([3, 1]))
    compare(lambda a, b, i: tg.index_copy(a.T, 1, i, b.T), lambda a, b, i: torch.index_copy(a.T, 1, i, b.T),
            x, rand(3, 5, dtype=dtype), np.array([0, 2, 1]))
    compare(lambda a, b, i: a.index_copy(-1, i, b), lambda a, b, i: a.index_copy(-1, i, b),
            x, rand(4, 1, dtype=dtype), np.array(4))


@pytest.mark.parametrize('dtype', DTYPES)
def test_index_fill(dtype):
    x = rand(4, 5, dtype=dtype)
    compare(lambda a, i: a.index_fill(1, i, -3.0), lambda a, i: a.index_fill(1, i, -3.0), x, np.array([4, -1, 0]))
    compare(lambda a, i: tg.index_fill(a.T, 0, i, 2), lambda a, i: torch.index_fill(a.T, 0, i, 2), x, np.array(2))
    # a 0-d tensor value is differentiable; a row named twice (-1 and 3) counts once
    compare(lambda a, v, i: a.index_fill(0, i, v), lambda a, v, i: a.index_fill(0, i, v),
            x, np.array(0.5, dtype), np.array([1, 1, 3]))
    compare(lambda a, v, i: a.index_fill(1, i, v), lambda a, v, i: a.index_fill(1, i, v),
            x, np.array(0.5, np.float64), np.array([0, 2]), check_dtype=True)
    for alpha in (2.5, -1.5):  # an int tensor truncates alpha
        out = tg.tensor([0, 0]).index_add(0, tg.tensor([1]), tg.tensor([3]), alpha=alpha)
        assert out.tolist() == torch.tensor([0, 0]).index_add(0, torch.tensor([1]), torch.tensor([3]),
                                                              alpha=alpha).tolist()
    out = tg.tensor([[1, 2], [3, 4]]).index_fill(0, tg.tensor([1]), 2.7)
    assert out.tolist() == [[1, 2], [2, 2]]


@pytest.mark.parametrize('dtype', DTYPES)
def test_masked_scatter(dtype):
    x = rand(3, 4, dtype=dtype)
    m = np.array([[True, False, True, True], [False, False, True, False], [True, True, True, True]])
    compare(lambda a, b: a.masked_scatter(tg.tensor(m), b), lambda a, b: a.masked_scatter(torch.tensor(m), b),
            x, rand(3, 5, dtype=dtype))
    # mask broadcast to the input, input broadcast to the mask, non-contiguous source
    row = np.array([True, False, False, True])
    compare(lambda a, b: tg.masked_scatter(a, tg.tensor(row), b.T),
            lambda a, b: torch.masked_scatter(a, torch.tensor(row), b.T), x, rand(4, 2, dtype=dtype))
    compare(lambda a, b: tg.masked_scatter(a, tg.tensor(m), b),
            lambda a, b: torch.masked_scatter(a, torch.tensor(m), b), rand(4, dtype=dtype), rand(12, dtype=dtype))
    compare(lambda a, b: a.masked_scatter(tg.tensor(np.zeros((3, 4), bool)), b),
            lambda a, b: a.masked_scatter(torch.tensor(np.zeros((3, 4), bool)), b), x, rand(0, dtype=dtype))


# ---------------------------------------------------------------- in-place
INPLACE = [
    ('scatter_', lambda t, lib, s: t.scatter_(0, lib.tensor([[1, 0, 2]]), s[:1, :3])),
    ('scatter_value', lambda t, lib, s: t.scatter_(1, lib.tensor([[1], [0], [3]]), 4.0)),
    ('scatter_add_', lambda t, lib, s: t.scatter_add_(0, lib.tensor([[1, 0, 2, 1], [1, 1, 1, 1]]), s[:2])),
    ('scatter_reduce_', lambda t, lib, s: t.scatter_reduce_(0, lib.tensor([[1, 0, 2, 1], [1, 1, 1, 1]]), s[:2],
                                                            'amax', include_self=False)),
    ('index_add_', lambda t, lib, s: t.index_add_(0, lib.tensor([2, 2]), s[:2], alpha=3)),
    ('index_copy_', lambda t, lib, s: t.index_copy_(1, lib.tensor([3, 0]), s[:, :2])),
    ('index_fill_', lambda t, lib, s: t.index_fill_(1, lib.tensor([3, 0]), s[0, 0])),
    ('masked_scatter_', lambda t, lib, s: t.masked_scatter_(lib.tensor([True, False, True, True]), s)),
]


@pytest.mark.parametrize('name,op', INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_no_grad(name, op):
    x, s = rand(3, 4), rand(3, 4)
    t = tg.tensor(x, requires_grad=False)
    v = t._version
    assert op(t, tg, tg.tensor(s, requires_grad=False)) is t and t._version == v + 1
    ref = torch.tensor(x)
    op(ref, torch, torch.tensor(s))
    assert_close(t, ref)
    # a view writes through to its base
    base = tg.zeros(3, 8)
    tref = torch.zeros(3, 8)
    op(base[:, ::2], tg, tg.tensor(s, requires_grad=False))
    op(tref[:, ::2], torch, torch.tensor(s))
    assert_close(base, tref)


@pytest.mark.parametrize('name,op', INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_recorded(name, op):
    """On a non-leaf and on a view of one, with gradients to the input and the source."""
    x, s = rand(3, 4), rand(3, 4)
    g = rand(3, 4)
    for view in (False, True):
        res = []
        for lib in (tg, torch):
            a = lib.tensor(x, requires_grad=True)
            b = lib.tensor(s, requires_grad=True)
            y = a * 2
            if view:
                big = (lib.tensor(np.zeros((3, 8), np.float32)) + 0).repeat(1, 1) if lib is tg else torch.zeros(3, 8)
                big = big + a.sum() * 0 + 1
                tgt = big[:, 1::2]
                tgt.mul_(1)  # make it a recorded view
                op(tgt, lib, b)
                out = big * 1
                up = np.concatenate([g, g], 1)
            else:
                op(y, lib, b)
                out = y
                up = g
            (out * lib.tensor(up)).sum().backward()
            res.append((out, a.grad, b.grad))
        (o1, ga1, gb1), (o2, ga2, gb2) = res
        assert_close(o1, o2, what='value')
        assert_close(ga1, ga2, what='grad a')
        if gb2 is None:
            assert gb1 is None or np.allclose(gb1.numpy(), 0)
        else:
            assert_close(gb1, gb2, what='grad src')


def test_inplace_on_leaf_raises_and_saved_index_checked():
    a = tg.tensor(rand(3, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf'):
        a.index_fill_(0, tg.tensor([0]), 1.0)
    idx = tg.tensor([[0, 1, 2, 0]])
    y = tg.scatter_add(a, 0, idx, tg.tensor(rand(1, 4), requires_grad=True))
    idx.add_(1)
    with pytest.raises(RuntimeError):
        y.sum().backward()


# ---------------------------------------------------------------- errors
X = rand(3, 4)
ERRORS = [
    (lambda t: t.scatter(0, tg.tensor([[5]]), 1.0), RuntimeError, r'scatter: index 5 is out of bounds'),
    (lambda t: t.scatter(0, tg.tensor([[-1]]), 1.0), RuntimeError, r'index -1 is out of bounds'),
    (lambda t: t.scatter(0, tg.tensor([0]), 1.0), RuntimeError, r'same number of dimensions as self'),
    (lambda t: t.scatter(0, tg.tensor([[0, 1, 2, 0, 1]]), tg.ones(3, 5)), RuntimeError, r'no larger than self'),
    (lambda t: t.scatter(0, tg.tensor([[0, 1, 2]]), tg.ones(3, 2)), RuntimeError, r'no larger than src'),
    (lambda t: t.scatter(2, tg.tensor([[0]]), 1.0), IndexError, r'scatter: dim 2 is out of range'),
    (lambda t: t.scatter(0, tg.tensor([[0]]), tg.ones(1, 1, dtype=tg.float64)), RuntimeError, r'dtype'),
    (lambda t: t.scatter(0, tg.tensor([[0.0]]), 1.0), RuntimeError, r'expected dtype int64/int32 for index'),
    (lambda t: t.scatter(0, [[0]], 1.0), TypeError, r'scatter: index must be a Tensor'),
    (lambda t: t.scatter(0, tg.tensor([[0]]), 1.0, reduce='mean'), RuntimeError, r'add or multiply'),
    (lambda t: t.scatter_reduce(0, tg.tensor([[0]]), tg.ones(1, 1), 'foo'), RuntimeError, r'sum, prod, mean'),
    (lambda t: t.scatter_add(0, tg.tensor([[0]]), tg.ones(1)), RuntimeError, r'dimensions as src'),
    (lambda t: t.index_add(0, tg.tensor([3]), tg.ones(1, 4)), RuntimeError, r'index_add: index 3 is out of bounds'),
    (lambda t: t.index_add(0, tg.tensor([-1]), tg.ones(1, 4)), RuntimeError, r'index -1 is out of bounds'),
    (lambda t: t.index_add(0, tg.tensor([1.0]), tg.ones(1, 4)), RuntimeError, r'int64/int32'),
    (lambda t: t.index_add(0, tg.tensor([[1]]), tg.ones(1, 4)), IndexError, r'vector'),
    (lambda t: t.index_add(0, tg.tensor([1]), tg.ones(1, 3)), RuntimeError, r'source of shape \(1, 3\)'),
    (lambda t: t.index_add(0, tg.tensor([1]), tg.ones(2, 4)), RuntimeError, r'source of shape \(2, 4\)'),
    (lambda t: t.index_add(0, tg.tensor([1]), tg.ones(1, 4, dtype=tg.float64)), RuntimeError, r'same dtype'),
    (lambda t: t.index_copy(0, tg.tensor([-1]), tg.ones(1, 4)), IndexError, r'index_copy: index -1'),
    (lambda t: t.index_copy(0, tg.tensor([1], dtype=tg.int32), tg.ones(1, 4)), RuntimeError, r'int64'),
    (lambda t: t.index_fill(0, tg.tensor([3]), 1.0), IndexError, r'index_fill: index 3 is out of bounds'),
    (lambda t: t.index_fill(0, tg.tensor([-4]), 1.0), IndexError, r'index -4 is out of bounds'),
    (lambda t: t.index_fill(0, tg.tensor([1], dtype=tg.int32), 1.0), IndexError, r'int64'),
    (lambda t: t.index_fill(0, tg.tensor([1]), tg.ones(1)), RuntimeError, r'0-dimensional value'),
    (lambda t: t.masked_scatter(tg.ones(3, 4).bool(), tg.ones(5)), RuntimeError, r'source \(5'),
    (lambda t: t.masked_scatter(tg.ones(3, 4), tg.ones(15)), RuntimeError, r'boolean masks'),
    (lambda t: t.masked_scatter(tg.ones(3, 4).bool(), tg.ones(15, dtype=tg.float64)), RuntimeError, r'same dtype'),
    (lambda t: t.masked_scatter(tg.ones(2, 4).bool(), tg.ones(15)), RuntimeError, r'cannot be broadcast'),
    (lambda t: t.scatter_(0, tg.tensor([[5]]), 1.0), RuntimeError, r'scatter_: index 5 is out of bounds'),
    (lambda t: t.index_fill_(1, tg.tensor([4]), 1.0), IndexError, r'index_fill_: index 4 is out of bounds'),
    (lambda t: t.index_add_(1, tg.tensor([0]), tg.ones(3, 2)), RuntimeError, r'index_add_: source of shape'),
    (lambda t: t[0].masked_scatter_(tg.ones(3, 4).bool(), tg.ones(15)), RuntimeError, r'cannot be broadcast'),
]


@pytest.mark.parametrize('k', range(len(ERRORS)))
def test_errors(k):
    fn, exc, match = ERRORS[k]
    t = tg.tensor(X, requires_grad=False)
    before = t.numpy().copy()
    with pytest.raises(exc, match=match):
        fn(t)
    np.testing.assert_array_equal(t.numpy(), before)


@pytest.mark.parametrize('name,op', [p for p in INPLACE if p[0] not in ('scatter_value', 'index_fill_')])
def test_inplace_error_leaves_tensor_unchanged(name, op):
    t = tg.tensor(X, requires_grad=False)
    v = t._version
    with pytest.raises((RuntimeError, IndexError)):
        op(t, tg, tg.ones(3, 4, dtype=tg.float64))  # wrong source dtype
    np.testing.assert_array_equal(t.numpy(), X)
    assert t._version == v


@pytest.mark.parametrize('ufunc', ['add', 'multiply', 'maximum', 'minimum'])
def test_reduce_at_by_rank_matches_ufunc_at(ufunc):
    """The CuPy path (no ufunc.at) on NumPy arrays gives what NumPy's ufunc.at gives."""
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 3, size=(7, 4))
    cases = ((sc._coords(np, idx, 0), (3, 4), (7, 4)), ((slice(None), np.array([0, 2, 2, 1, 0])), (3, 3), (3, 5)))
    for key, shape, vshape in cases:
        t, v = rng.uniform(size=shape), rng.uniform(0.5, 1.5, size=vshape)
        a, b = t.copy(), t.copy()
        getattr(np, ufunc).at(a, key, v)
        sc._reduce_at_by_rank(np, ufunc, b, key, v)
        np.testing.assert_allclose(b, a)


def test_exported():
    for name in sc.EXPORTS:
        assert getattr(tg, name) is getattr(sc, name)
        assert getattr(tg.Tensor, name) is getattr(sc, name)
        assert getattr(tg.Tensor, name).__doc__
