"""embedding (tensorgrad.ops.embedding) against torch.
(Forward and every gradient, non-uniform upstream gradients.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import RNG, compare, rand


@pytest.mark.parametrize('ishape', [(5,), (4, 7), (32, 64)], ids=str)
@pytest.mark.parametrize('padding_idx', [None, 2, -1])
def test_embedding(ishape, padding_idx, device):
    V = 10
    idx = RNG.integers(0, V, size=ishape).astype(np.int64)
    idx.reshape(-1)[:3] = 2  # repeated indices, and the padding row used
    w = rand(V, 6)
    compare(lambda i, w: tg.embedding(i, w, padding_idx), lambda i, w: F.embedding(i, w, padding_idx), idx, w,
            device=device)


def test_embedding_errors():
    w = tg.tensor(rand(5, 3))
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 5\)"):
        tg.embedding(tg.tensor(np.array([0, 5])), w)
    with pytest.raises(TypeError, match=r"embedding: indices must be integers"):
        tg.embedding(tg.tensor(rand(3)), w)


@pytest.mark.parametrize('repeats', ['few', 'many'])
def test_embedding_backward_repeated_indices(repeats, device):
    # few repeats: k-th occurrences added step by step; many (> 16): runs summed with reduceat
    V = 60 if repeats == 'few' else 5
    idx = RNG.integers(0, V, size=(10, 20))
    if repeats == 'many':
        idx[:, :10] = 3  # one index 100 times
    w = rand(V, 6)
    compare(lambda w: tg.embedding(tg.tensor(idx), w), lambda w: F.embedding(torch.tensor(idx), w), w,
            device=device)
