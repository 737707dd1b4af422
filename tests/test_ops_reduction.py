"""Reductions against PyTorch: dim None / int / tuple / negative, keepdim,
forward and backward with a non-uniform upstream gradient."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import assert_close, compare, rand

CASES = [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, -2)),
         ((2, 3, 4), 1), ((5,), 0), ((2, 1, 3), (0, 1, 2))]


def _torch_reduce(name, x, dim, keepdim, ndim):
    """torch's spelling of ``x.<name>(dim, keepdim)``: dim=None means all dims; prod takes one dim."""
    dims = tuple(range(ndim)) if dim is None else dim
    if name == 'prod':
        for d in sorted((d % ndim for d in np.atleast_1d(dims)), reverse=True):
            x = x.prod(int(d), keepdim=keepdim)
        return x
    return getattr(x, name)(dims, keepdim=keepdim)


@pytest.mark.parametrize('keepdim', [False, True])
@pytest.mark.parametrize('shape,dim', CASES, ids=str)
@pytest.mark.parametrize('name', ['sum', 'mean', 'amax', 'amin', 'prod', 'var', 'std', 'logsumexp'])
def test_reduction(name, shape, dim, keepdim, device):
    a = rand(*shape, low=0.5, high=1.5) if name == 'prod' else rand(*shape)
    nd = len(shape)
    compare(lambda x: getattr(x, name)(dim, keepdim=keepdim), lambda x: _torch_reduce(name, x, dim, keepdim, nd),
            a, device=device, atol=2e-5)
    compare(lambda x: getattr(tg, name)(x, dim=dim, keepdim=keepdim),
            lambda x: _torch_reduce(name, x, dim, keepdim, nd), a, device=device, atol=2e-5)
    if dim is None and not keepdim:
        compare(lambda x: getattr(x, name)(), lambda x: _torch_reduce(name, x, None, False, nd), a, device=device,
                atol=2e-5)


@pytest.mark.parametrize('keepdim', [False, True])
@pytest.mark.parametrize('dim', [0, 1, -1, -2])
@pytest.mark.parametrize('name', ['max', 'min'])
def test_max_min_over_dim_returns_values_and_indices(name, dim, keepdim, device):
    a = rand(3, 4)
    compare(lambda x: getattr(x, name)(dim, keepdim=keepdim).values,
            lambda x: getattr(x, name)(dim, keepdim=keepdim).values, a, device=device)
    compare(lambda x: getattr(x, name)(dim=dim, keepdim=keepdim)[0],
            lambda x: getattr(torch, name)(x, dim=dim, keepdim=keepdim)[0], a, device=device)
    values, indices = getattr(tg, name)(tg.tensor(a, device=device), dim, keepdim)
    ref = getattr(torch, name)(torch.tensor(a), dim, keepdim)
    assert indices.dtype == tg.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), ref.indices.numpy())


@pytest.mark.parametrize('name', ['max', 'min', 'amax', 'amin'])
def test_global_max_min_ties_share_gradient(name, device):
    a = np.array([[1.0, 3.0], [3.0, 0.0]], dtype=np.float32)
    if name in ('max', 'min'):
        a = a if name == 'max' else -a
    compare(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a, device=device)


def test_amax_ties_along_dim(device):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], dtype=np.float32)
    compare(lambda x: x.amax(1), lambda x: x.amax(1), a, device=device)


@pytest.mark.parametrize('dim', [None, 0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
@pytest.mark.parametrize('name', ['argmax', 'argmin'])
def test_argmax_argmin(name, dim, keepdim, device):
    a = rand(3, 5)
    if dim is None and keepdim:
        pytest.skip('keepdim without dim')
    out = getattr(tg.tensor(a, device=device), name)(dim, keepdim=keepdim)
    ref = getattr(torch.tensor(a), name)(dim, keepdim=keepdim)
    assert out.dtype == tg.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_prod_with_zeros(device):
    a = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    compare(lambda x: x.prod(1), lambda x: x.prod(1), a, device=device)
    compare(lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdim=True), a, device=device)
    compare(lambda x: x.prod(), lambda x: x.prod(), a, device=device)


@pytest.mark.parametrize('kwargs', [dict(unbiased=False), dict(correction=0), dict(correction=2)])
def test_var_std_corrections(kwargs, device):
    a = rand(4, 5)
    compare(lambda x: x.var(1, **kwargs), lambda x: x.var(1, **kwargs), a, device=device)
    compare(lambda x: x.std(0, keepdim=True, **kwargs), lambda x: x.std(0, keepdim=True, **kwargs), a,
            device=device)


def test_logsumexp_is_stable(device):
    a = np.array([[1000.0, 1000.0], [-1000.0, -1001.0]], dtype=np.float32)
    compare(lambda x: x.logsumexp(-1), lambda x: x.logsumexp(-1), a, device=device, atol=1e-4)


def test_sum_of_ints_and_bools(device):
    i = tg.tensor([[1, 2], [3, 4]], device=device)
    assert i.sum().dtype == tg.int64 and i.sum().item() == 10
    b = tg.tensor([True, False, True], device=device)
    assert b.sum().item() == 2 and b.sum().dtype == tg.int64
    assert i.mean().dtype == tg.float32
    assert i.sum(dtype=tg.float32).dtype == tg.float32


def test_reductions_keep_float32(device):
    a = tg.tensor(rand(3, 4), device=device)
    for out in (a.sum(), a.mean(0), a.var(), a.std(1), a.logsumexp(0), a.prod(), a.max(), a.amax(0)):
        assert out.dtype == tg.float32


@pytest.mark.parametrize('name', ['sum', 'mean', 'amax', 'var', 'logsumexp', 'argmax', 'max'])
def test_bad_dim_raises(name, device):
    a = tg.tensor(rand(2, 3), device=device)
    with pytest.raises(IndexError, match=rf"{name}.*dim 2"):
        getattr(a, name)(2)
    with pytest.raises(IndexError, match=rf"{name}.*dim -3"):
        getattr(a, name)(-3)


def test_repeated_dim_raises(device):
    with pytest.raises(ValueError, match='sum'):
        tg.tensor(rand(2, 3), device=device).sum((0, -2))


def test_max_of_empty_raises(device):
    with pytest.raises(RuntimeError, match='max'):
        tg.zeros(0, device=device).max()


def test_sum_of_0d(device):
    a = tg.tensor(3.0, device=device)
    out = a.sum()
    out.backward()
    assert out.item() == 3.0 and a.grad.item() == 1.0
    assert_close(tg.tensor(2.0, device=device).mean(), torch.tensor(2.0).mean())


@pytest.mark.parametrize('dim', [None, 0, -1, (0, 1)])
@pytest.mark.parametrize('name', ['all', 'any'])
def test_all_any(name, dim, device):
    a = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 0.0]], dtype=np.float32)
    out = getattr(tg.tensor(a, device=device), name)(dim) if dim is not None else getattr(tg.tensor(a, device=device), name)()
    ref = getattr(torch.tensor(a), name)(dim) if dim is not None else getattr(torch.tensor(a), name)()
    assert out.dtype == tg.bool
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_var_std_degenerate_gradients(device):
    for a in (np.array([1.0, 1.0], np.float32), np.array([[2.0, 2.0], [1.0, 3.0]], np.float32)):
        compare(lambda x: x.std(-1), lambda x: x.std(-1), a, device=device)
    x = tg.tensor([1.0], device=device)
    with np.errstate(all='ignore'):
        x.var().backward()
    assert np.isnan(x.grad.numpy()).all()
