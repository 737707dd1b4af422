"""cdist, pairwise_distance, cosine_similarity (functional and modules),
softmax_focal_loss (MyGrad's definition) and margin_ranking_loss broadcasting."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from _libcheck import check, rand

DTYPES = [np.float32, np.float64]
PS = [2.0, 1.0, 3.0, 0.5, 0.0, float('inf')]


def _F(L):
    return tg.nn.functional if L is tg else torch.nn.functional


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('p', PS)
def test_cdist(p, dtype):
    a, b = rand(4, 3, dtype=dtype), rand(5, 3, dtype=dtype)
    b[0] = a[1]  # a zero distance: zero gradient
    t = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    check(lambda x, y, L: L.cdist(x, y, p), a, b, **t)
    check(lambda x, y, L: L.cdist(x, y, p=p), rand(2, 4, 3, dtype=dtype), rand(1, 2, 3, dtype=dtype),
          layout='strided', **t)
    check(lambda x, y, L: L.cdist(x, y, p), np.zeros((0, 3), dtype), b, **t)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('p', PS)
def test_pairwise_distance(p, dtype):
    a, b = rand(4, 3, dtype=dtype), rand(4, 3, dtype=dtype)
    t = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    check(lambda x, y, L: _F(L).pairwise_distance(x, y, p), a, b, **t)
    check(lambda x, y, L: _F(L).pairwise_distance(x, y, p, keepdim=True), a, b[0], layout='strided', **t)
    check(lambda x, y, L: L.pairwise_distance(x, y, p, eps=0.0), a, a.copy(), **t)
    check(lambda x, y, L: L.nn.PairwiseDistance(p, keepdim=True)(x, y), a, b, **t)


@pytest.mark.parametrize('dtype', DTYPES)
def test_cosine_similarity(dtype):
    a, b = rand(4, 3, dtype=dtype), rand(1, 3, dtype=dtype)
    check(lambda x, y, L: L.nn.CosineSimilarity()(x, y), a, b, rtol=1e-5)
    check(lambda x, y, L: L.nn.CosineSimilarity(dim=0)(x, y), a, a[::-1].copy(), layout='strided', rtol=1e-5)
    assert 'dim=1' in repr(tg.nn.CosineSimilarity())


def _focal_reference(scores, targets, alpha, gamma):
    p = torch.softmax(scores, 1).gather(1, targets[:, None])[:, 0]
    return -alpha * (1 - p) ** gamma * torch.log(p)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('alpha,gamma', [(1.0, 0.0), (0.25, 2.0), (0.5, 1.5)])
@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
def test_softmax_focal_loss(alpha, gamma, reduction, dtype):
    s, t = rand(5, 4, dtype=dtype), np.array([0, 3, 1, 1, 2])

    def fn(x, y, L):
        if L is tg:
            return tg.nn.functional.softmax_focal_loss(x, y, alpha, gamma, reduction)
        loss = _focal_reference(x, y, alpha, gamma)
        return {'none': loss, 'mean': loss.mean(), 'sum': loss.sum()}[reduction]
    check(fn, s, t, rtol=1e-5)
    check(fn, s, t, rtol=1e-5, layout='strided')
    if alpha == 1.0 and gamma == 0.0:
        check(lambda x, y, L: _F(L).cross_entropy(x, y, reduction=reduction) if L is torch else
              tg.nn.functional.softmax_focal_loss(x, y, reduction=reduction), s, t, rtol=1e-5)
    with pytest.raises(ValueError, match='softmax_focal_loss'):
        tg.nn.functional.softmax_focal_loss(tg.ones(5), tg.tensor([0]))


@pytest.mark.parametrize('shapes', [((4, 1), (4, 1), (4, 1)), ((4, 3), (4, 3), (4, 1)), ((4, 3), (1, 3), (4, 1)),
                                    ((5,), (5,), (5,))], ids=str)
@pytest.mark.parametrize('reduction', ['none', 'mean'])
def test_margin_ranking_loss_broadcasts(shapes, reduction):
    a, b = rand(*shapes[0]), rand(*shapes[1])
    y = np.sign(rand(*shapes[2])).astype(np.float32)
    check(lambda x1, x2, t, L: _F(L).margin_ranking_loss(x1, x2, t, 0.3, reduction=reduction), a, b, y, rtol=1e-5)
    check(lambda x1, x2, t, L: L.nn.MarginRankingLoss(0.1, reduction=reduction)(x1, x2, t), a, b, y, rtol=1e-5)
    with pytest.raises(ValueError, match='margin_ranking_loss'):
        tg.nn.functional.margin_ranking_loss(tg.ones(4, 1), tg.ones(4, 1), tg.ones(4))
