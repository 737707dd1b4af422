"""gelu, erf and dropout (tensorgrad.ops.activations) against torch.
(Forward and every gradient, non-uniform upstream gradients.)"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import compare, rand


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_gelu(approximate, device):
    x = rand(4, 50, low=-6, high=6)
    # tanh mode: 1 + tanh(u) cancels for very negative x in float32, so both libraries are only ~1e-6 exact
    compare(lambda x: tg.gelu(x, approximate), lambda x: F.gelu(x, approximate=approximate), x, device=device,
            atol=1e-6 if approximate == 'none' else 1e-5)


def test_erf(device):
    x = rand(200, low=-5, high=5)
    compare(tg.erf, torch.erf, x, device=device, atol=1e-6)
    compare(lambda x: x.erf(), torch.erf, x, device=device, atol=1e-6)


def test_erf_accuracy_dense_grid():
    from tensorgrad.ops.activations import _erf_array
    x = np.linspace(-8, 8, 40001)
    ref = np.array([math.erf(v) for v in x.astype(np.float32).astype(np.float64)])
    assert np.abs(_erf_array(x.astype(np.float32)) - ref).max() < 2e-7
    assert np.abs(_erf_array(x) - np.array([math.erf(v) for v in x])).max() < 1e-14
    assert np.isnan(_erf_array(np.array([np.nan], np.float32)))[0]


# ---------------------------------------------------------------------- dropout


def test_dropout_statistics(device):
    tg.manual_seed(0)
    p = 0.3
    x = tg.tensor(np.ones((200, 500), np.float32), device=device, requires_grad=True)
    y = tg.dropout(x, p)
    yn = y.numpy()
    assert yn.dtype == np.float32
    assert abs((yn == 0).mean() - p) < 0.01
    assert abs(yn.mean() - 1.0) < 0.02
    assert np.allclose(yn[yn != 0], 1 / (1 - p))
    g = rand(200, 500)
    y.backward(tg.tensor(g, device=device))
    np.testing.assert_allclose(x.grad.numpy(), g * (yn != 0) / (1 - p), rtol=1e-6)


def test_dropout_identity_and_edges(device):
    x = tg.tensor(rand(4, 5), device=device, requires_grad=True)
    assert tg.dropout(x, 0.5, training=False) is x
    assert tg.dropout(x, 0.0) is x
    assert np.all(tg.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match=r"dropout: probability p must be in \[0, 1\]"):
        tg.dropout(x, 1.5)


def test_dropout_reproducible():
    x = tg.tensor(np.ones((10, 10), np.float32))
    tg.manual_seed(3)
    a = tg.dropout(x, 0.5).numpy()
    tg.manual_seed(3)
    b = tg.dropout(x, 0.5).numpy()
    assert np.array_equal(a, b)


def test_gelu_float32_accuracy_dense_grid():
    x = np.concatenate([np.linspace(-12, 12, 48001), [0.0, -0.0, 1e-30, -1e-30, 50.0, -50.0]]).astype(np.float32)
    xd = x.astype(np.float64)
    ref = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in xd])
    y = tg.gelu(tg.tensor(x))
    assert y._data.dtype == np.float32
    err = np.abs(y._data - ref)
    assert (err <= 2e-7 + 2e-7 * np.abs(ref)).all(), err.max()
    y64 = tg.gelu(tg.tensor(xd))
    assert y64._data.dtype == np.float64 and np.abs(y64._data - ref).max() < 1e-13
    assert np.isnan(tg.gelu(tg.tensor(np.array([np.nan], np.float32)))._data[0])


def test_gelu_threaded_matches_torch(threaded, device):
    x = rand(3, 70, low=-7, high=7)
    compare(tg.gelu, F.gelu, x, device=device, atol=1e-6)
