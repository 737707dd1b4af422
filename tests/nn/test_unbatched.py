"""PyTorch's unbatched inputs ((C, H, W) for 2-D, (C, L) for 1-D layers) for
convolutions and pools, functional and module forms, against PyTorch: forward
and input/weight gradients for a non-uniform upstream gradient."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorgrad as tg
from helpers import compare, rand, to_np

F = tg.nn.functional

CASES = [
    ('conv2d', (3, 7, 6), lambda f, w: (lambda t, u: f(t, u, padding=1)), (4, 3, 3, 3)),
    ('conv1d', (3, 9), lambda f, w: (lambda t, u: f(t, u, stride=2)), (4, 3, 3)),
]


@pytest.mark.parametrize('name,xs,make,ws', CASES, ids=[c[0] for c in CASES])
def test_unbatched_convolution(name, xs, make, ws, device):
    out = compare(make(getattr(F, name), None), make(getattr(TF, name), None), rand(*xs), rand(*ws), device=device)
    assert out.ndim == len(xs)


POOLS = [
    ('max_pool2d', (3, 7, 7), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ('avg_pool2d', (2, 6, 5), dict(kernel_size=2, padding=1, count_include_pad=False)),
    ('adaptive_avg_pool2d', (2, 7, 5), dict(output_size=(3, 2))),
    ('max_pool1d', (3, 9), dict(kernel_size=2, dilation=2)),
    ('avg_pool1d', (3, 9), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ('adaptive_avg_pool1d', (3, 10), dict(output_size=4)),
]


@pytest.mark.parametrize('name,xs,kw', POOLS, ids=[p[0] for p in POOLS])
def test_unbatched_pool(name, xs, kw, device):
    out = compare(lambda t: getattr(F, name)(t, **kw), lambda t: getattr(TF, name)(t, **kw), rand(*xs),
                  device=device)
    assert out.shape == getattr(TF, name)(torch.tensor(rand(*xs)), **kw).shape


@pytest.mark.parametrize('name,xs', [('max_pool2d', (3, 6, 6)), ('max_pool1d', (3, 8))])
def test_unbatched_return_indices(name, xs, device):
    x = rand(*xs)
    out, idx = getattr(F, name)(tg.tensor(x, device=device), 2, return_indices=True)
    ref, ref_idx = getattr(TF, name)(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_allclose(to_np(out), ref.numpy())
    np.testing.assert_array_equal(to_np(idx), ref_idx.numpy())


def test_unbatched_modules_match_torch():
    tg.manual_seed(0)
    conv, tconv = tg.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
    conv.init_from_torch(tconv)
    x = rand(3, 8, 8)
    np.testing.assert_allclose(to_np(conv(tg.tensor(x))), tconv(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    pool = tg.nn.MaxPool1d(2)
    assert pool(tg.tensor(rand(3, 8))).shape == (3, 4)


@pytest.mark.parametrize('call,msg', [
    (lambda: F.conv2d(tg.randn(8, 8), tg.randn(4, 1, 3, 3)), 'conv2d'),
    (lambda: F.max_pool2d(tg.randn(8), 2), 'max_pool2d'),
    (lambda: F.max_pool1d(tg.randn(2, 2, 2, 8), 2), 'max_pool1d'),
    (lambda: F.conv1d(tg.randn(8), tg.randn(4, 1, 3)), 'conv1d'),
])
def test_wrong_rank_names_the_op(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
