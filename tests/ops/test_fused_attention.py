"""scaled_dot_product_attention (tensorgrad.ops.attention) against torch.
(Forward and every gradient, non-uniform upstream gradients.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import RNG, compare, rand


@pytest.mark.parametrize('qs,ks,vs', [((2, 4, 8), (2, 6, 8), (2, 6, 5)), ((2, 3, 4, 8), (2, 3, 4, 8), (2, 3, 4, 8)),
                                      ((2, 3, 5, 4), (1, 3, 6, 4), (1, 3, 6, 3))], ids=str)
@pytest.mark.parametrize('opts', [{}, {'scale': 0.3}, {'is_causal': True}], ids=str)
def test_sdpa(qs, ks, vs, opts, device):
    q, k, v = rand(*qs), rand(*ks), rand(*vs)
    compare(lambda q, k, v: tg.scaled_dot_product_attention(q, k, v, **opts),
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **opts), q, k, v, device=device)


@pytest.mark.parametrize('L,S', [(3, 0), (0, 3), (0, 0)])
def test_sdpa_size_zero(L, S, device):
    """No keys (zeros out, as torch) or no queries: forward and gradients."""
    q, k, v = rand(2, L, 4), rand(2, S, 4), rand(2, S, 5)
    compare(tg.scaled_dot_product_attention, F.scaled_dot_product_attention, q, k, v, device=device)


@pytest.mark.parametrize('float_mask', [False, True])
@pytest.mark.parametrize('mshape', [(4, 6), (2, 1, 4, 6)], ids=str)
def test_sdpa_masks(float_mask, mshape, device):
    q, k, v = rand(2, 3, 4, 8), rand(2, 3, 6, 8), rand(2, 3, 6, 5)
    if float_mask:
        m = rand(*mshape, low=-2, high=2)
        compare(lambda q, k, v, m: tg.scaled_dot_product_attention(q, k, v, m),
                lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), q, k, v, m, device=device)
    else:
        m = RNG.uniform(size=mshape) > 0.4
        m[..., 0] = True  # every query attends to something
        compare(lambda q, k, v: tg.scaled_dot_product_attention(q, k, v, tg.tensor(m, device=device)),
                lambda q, k, v: F.scaled_dot_product_attention(q, k, v, torch.tensor(m)), q, k, v, device=device)


def test_sdpa_dropout(device):
    q, k, v = (tg.tensor(rand(2, 4, 8), device=device, requires_grad=True) for _ in range(3))
    tg.manual_seed(0)
    out = tg.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert out.shape == (2, 4, 8)
    out.backward(tg.tensor(rand(2, 4, 8), device=device))
    assert q.grad is not None and k.grad is not None and v.grad is not None
    tg.manual_seed(0)
    again = tg.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert np.array_equal(out.numpy(), again.numpy())


def test_sdpa_error():
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query \(2, 4, 8\), key \(2, 6, 7\)"):
        tg.scaled_dot_product_attention(tg.tensor(rand(2, 4, 8)), tg.tensor(rand(2, 6, 7)), tg.tensor(rand(2, 6, 7)))


@pytest.mark.parametrize('scale', [None, 40.0], ids=['direct', 'shifted'])
def test_sdpa_inplace_softmax_paths(scale, device):
    # the scores are normalised in place: range checked before the exp (a large scale forces the shift)
    q, k, v = rand(2, 5, 4), rand(2, 6, 4), rand(2, 6, 3)
    compare(lambda q, k, v: tg.scaled_dot_product_attention(q, k, v, scale=scale),
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=scale), q, k, v, device=device,
            atol=1e-5, rtol=1e-4)
    m = np.zeros((5, 6), np.float32)
    m[:, 2] = -1e4  # a float mask with large negative entries
    compare(lambda q, k, v, m: tg.scaled_dot_product_attention(q, k, v, m, scale=scale),
            lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, scale=scale), q, k, v, m,
            device=device, atol=1e-5, rtol=1e-4, grad=[True, True, True, False])
