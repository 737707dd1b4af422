"""Indexing against PyTorch: basic (ints, slices, None, Ellipsis), bool masks,
integer-array (advanced) indexing with repeated indices, lookup, gather,
index_select, where, masked_fill, and the errors."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import compare, rand

IDX = np.array([0, 2, 0, 1])  # repeated index: gradients must accumulate

INDICES = [
    ('int', 1), ('neg_int', -1), ('slice', slice(1, None)), ('step', slice(None, None, 2)),
    ('neg_slice', slice(-2, None)), ('tuple', (1, slice(0, 2))), ('none', (None, 0)),
    ('ellipsis', (Ellipsis, 1)), ('ellipsis_none', (0, Ellipsis, None)),
    ('int_array', IDX), ('int_list', [2, 2, 1]), ('pair_arrays', (np.array([0, 1, 1]), np.array([2, 0, 2]))),
    ('array_and_slice', (slice(None), np.array([1, 1, 3]))), ('mixed', (IDX, slice(1, 3), 0)),
    ('2d_array', np.array([[0, 1], [1, 1]])), ('empty', slice(3, 1)),
]


@pytest.mark.parametrize('name,index', INDICES, ids=[i[0] for i in INDICES])
def test_getitem(name, index, device):
    a = rand(3, 4, 5)

    def conv(ix, lib):
        if isinstance(ix, tuple):
            return tuple(conv(i, lib) for i in ix)
        if isinstance(ix, np.ndarray):
            return lib.tensor(ix) if lib is torch else tg.tensor(ix, device=device)
        return ix
    compare(lambda x: x[conv(index, tg)], lambda x: x[conv(index, torch)], a, device=device)


def test_getitem_bool_mask(device):
    a = rand(3, 4)
    m = a > 0
    compare(lambda x: x[tg.tensor(m, device=device)], lambda x: x[torch.tensor(m)], a, device=device)
    compare(lambda x: x[x > 0], lambda x: x[x > 0], a, device=device)
    row = np.array([True, False, True])
    compare(lambda x: x[tg.tensor(row, device=device)], lambda x: x[torch.tensor(row)], a, device=device)
    compare(lambda x: x[:, tg.tensor([True, False, True, True], device=device)],
            lambda x: x[:, torch.tensor([True, False, True, True])], a, device=device)


def test_getitem_with_index_tensor_of_int(device):
    a = rand(4, 3)
    i = tg.tensor(2, device=device)
    compare(lambda x: x[i], lambda x: x[torch.tensor(2)], a, device=device)


def test_lookup(device):
    w = rand(6, 3)
    ids = np.array([[1, 5, 1], [0, 0, 2]])
    compare(lambda x: x.lookup(tg.tensor(ids, device=device)),
            lambda x: torch.nn.functional.embedding(torch.tensor(ids), x), w, device=device)
    compare(lambda x: x.lookup(x > 0), lambda x: x[x > 0], w, device=device)


@pytest.mark.parametrize('dim', [0, 1, -1])
def test_gather(dim, device):
    a = rand(3, 4)
    rng = np.random.default_rng(1)
    n = a.shape[dim]
    idx = rng.integers(0, n, size=(2, 2) if dim == 0 else (3, 5))
    if dim == 0:
        idx = rng.integers(0, 3, size=(5, 4))
    compare(lambda x: x.gather(dim, tg.tensor(idx, device=device)),
            lambda x: x.gather(dim, torch.tensor(idx)), a, device=device)
    compare(lambda x: tg.gather(x, dim, tg.tensor(idx, device=device)),
            lambda x: torch.gather(x, dim, torch.tensor(idx)), a, device=device)


def test_gather_smaller_index(device):
    a = rand(4, 5)
    idx = np.array([[0, 1], [3, 3]])
    compare(lambda x: x.gather(1, tg.tensor(idx, device=device)), lambda x: x.gather(1, torch.tensor(idx)), a,
            device=device)
    compare(lambda x: x.gather(0, tg.tensor(idx, device=device)), lambda x: x.gather(0, torch.tensor(idx)), a,
            device=device)


def test_index_select(device):
    a = rand(3, 4)
    idx = np.array([3, 0, 3])
    compare(lambda x: x.index_select(1, tg.tensor(idx, device=device)),
            lambda x: x.index_select(1, torch.tensor(idx)), a, device=device)
    compare(lambda x: x.index_select(-2, tg.tensor([2, 2], device=device)),
            lambda x: x.index_select(-2, torch.tensor([2, 2])), a, device=device)


def test_where(device):
    a, b = rand(3, 4), rand(4)
    cond = a > 0
    compare(lambda x, y: tg.where(tg.tensor(cond, device=device), x, y),
            lambda x, y: torch.where(torch.tensor(cond), x, y), a, b, device=device)
    compare(lambda x: tg.where(x > 0, x, 0.0), lambda x: torch.where(x > 0, x, 0.0), a, device=device)
    compare(lambda x: tg.where(x > 0, 1.0, x), lambda x: torch.where(x > 0, 1.0, x), a, device=device)
    nz = tg.where(tg.tensor(cond, device=device))
    ref = torch.where(torch.tensor(cond))
    assert len(nz) == 2 and all(np.array_equal(u.numpy(), v.numpy()) for u, v in zip(nz, ref))


def test_masked_fill(device):
    a = rand(3, 4)
    m = np.array([True, False, False, True])
    compare(lambda x: x.masked_fill(tg.tensor(m, device=device), -1.0),
            lambda x: x.masked_fill(torch.tensor(m), -1.0), a, device=device)
    compare(lambda x: tg.masked_fill(x, x > 0.5, 0.0), lambda x: torch.masked_fill(x, x > 0.5, 0.0), a,
            device=device)
    assert tg.tensor(a, device=device).masked_fill(tg.tensor(m, device=device), 2).dtype == tg.float32


def test_indexing_errors(device):
    x = tg.tensor(rand(2, 3), device=device)
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match='getitem'):
        x[tg.tensor([0, 7], device=device)]
    with pytest.raises(TypeError, match='getitem'):
        x['a']
    with pytest.raises(TypeError, match='masked_fill'):
        x.masked_fill(tg.tensor([[1, 0, 1]], device=device), 0.0)
    with pytest.raises(ValueError, match='masked_fill'):
        x.masked_fill(tg.tensor([True, False], device=device), 0.0)
    with pytest.raises(TypeError, match='gather'):
        x.gather(0, tg.tensor([[0.0]], device=device))
    with pytest.raises(ValueError, match='where'):
        tg.where(tg.tensor([True, False, True, False], device=device), x, x)
