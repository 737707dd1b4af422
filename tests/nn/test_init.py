"""nn.init: statistics of each initialiser, in-place semantics, no graph, seeding."""
import math

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.nn import init

nn = tg.nn


def param(*shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


def test_uniform_normal_constant():
    tg.manual_seed(0)
    p = param(200, 100)
    assert init.uniform_(p, -2, 3) is p
    a = p.numpy()
    assert a.min() >= -2 and a.max() <= 3 and abs(a.mean() - 0.5) < 0.05
    init.normal_(p, 1.0, 2.0)
    assert abs(p.numpy().mean() - 1) < 0.05 and abs(p.numpy().std() - 2) < 0.05
    assert p.grad_fn is None and p.requires_grad and p._data.dtype == np.float32
    init.constant_(p, 0.3)
    assert np.all(p.numpy() == np.float32(0.3))
    init.zeros_(p)
    assert np.all(p.numpy() == 0)
    init.ones_(p)
    assert np.all(p.numpy() == 1)


def test_trunc_normal():
    tg.manual_seed(0)
    p = init.trunc_normal_(param(100, 100), mean=0.5, std=1.0, a=-1.0, b=1.5)
    a = p.numpy()
    assert a.min() >= -1.0 and a.max() <= 1.5
    ref = torch.nn.init.trunc_normal_(torch.empty(100, 100), 0.5, 1.0, -1.0, 1.5).numpy()
    assert abs(a.mean() - ref.mean()) < 0.03 and abs(a.std() - ref.std()) < 0.03


def test_eye_and_dirac():
    p = init.eye_(param(3, 5))
    np.testing.assert_array_equal(p.numpy(), np.eye(3, 5))
    w = init.dirac_(param(4, 4, 3, 3))
    x = tg.randn(2, 4, 6, 6)
    np.testing.assert_allclose(tg.nn.functional.conv2d(x, w, padding=1).numpy(), x.numpy(), atol=1e-6)
    np.testing.assert_array_equal(w.numpy(), torch.nn.init.dirac_(torch.empty(4, 4, 3, 3)).numpy())
    np.testing.assert_array_equal(init.dirac_(param(6, 2, 3), groups=2).numpy(),
                                  torch.nn.init.dirac_(torch.empty(6, 2, 3), groups=2).numpy())
    with pytest.raises(ValueError):
        init.dirac_(param(3, 3))


@pytest.mark.parametrize('shape', [(300, 200), (64, 32, 3, 3)])
def test_xavier(shape):
    tg.manual_seed(1)
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    a = init.xavier_uniform_(param(*shape), gain=2.0).numpy()
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert a.max() <= bound and a.min() >= -bound and abs(a.std() - bound / math.sqrt(3)) < 0.03 * bound
    n = init.xavier_normal_(param(*shape)).numpy()
    assert abs(n.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.03 * n.std()
    assert init.glorot_uniform_ is init.xavier_uniform_ and init.glorot_normal_ is init.xavier_normal_


@pytest.mark.parametrize('mode', ['fan_in', 'fan_out'])
@pytest.mark.parametrize('nonlinearity,a', [('relu', 0), ('leaky_relu', math.sqrt(5)), ('tanh', 0)])
def test_kaiming(mode, nonlinearity, a):
    tg.manual_seed(2)
    shape = (128, 64, 3, 3)
    fan = (64 if mode == 'fan_in' else 128) * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = init.kaiming_uniform_(param(*shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    assert np.abs(u).max() <= math.sqrt(3) * std * (1 + 1e-6) and abs(u.std() - std) < 0.03 * std
    n = init.kaiming_normal_(param(*shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    assert abs(n.std() - std) < 0.03 * std
    assert init.he_uniform_ is init.kaiming_uniform_ and init.he_normal_ is init.kaiming_normal_
    with pytest.raises(ValueError, match='mode'):
        init.kaiming_uniform_(param(3, 3), mode='fan')


@pytest.mark.parametrize('shape', [(5, 8), (8, 5), (6, 2, 3)])
def test_orthogonal(shape):
    tg.manual_seed(3)
    w = init.orthogonal_(param(*shape), gain=1.5).numpy().reshape(shape[0], -1)
    r, c = w.shape
    if r <= c:
        np.testing.assert_allclose(w @ w.T, 1.5 ** 2 * np.eye(r), atol=1e-5)
    else:
        np.testing.assert_allclose(w.T @ w, 1.5 ** 2 * np.eye(c), atol=1e-5)


def test_calculate_gain_matches_torch():
    for nl, p in [('linear', None), ('conv2d', None), ('sigmoid', None), ('tanh', None), ('relu', None),
                  ('leaky_relu', None), ('leaky_relu', 0.2), ('selu', None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    with pytest.raises(ValueError):
        init.calculate_gain('nope')
    with pytest.raises(ValueError):
        init.xavier_uniform_(param(5))


def test_seeded_and_in_place_without_graph():
    tg.manual_seed(7)
    a = init.normal_(param(4, 4)).numpy().copy()
    tg.manual_seed(7)
    p = param(4, 4)
    data = p._data
    b = init.normal_(p).numpy()
    np.testing.assert_array_equal(a, b)
    assert p._data is data and p.grad_fn is None
    # initialisation on float64 keeps the dtype
    assert init.kaiming_uniform_(param(3, 3, dtype=np.float64))._data.dtype == np.float64
    tg.manual_seed(5)
    m1 = nn.Linear(4, 4)
    tg.manual_seed(5)
    m2 = nn.Linear(4, 4)
    np.testing.assert_array_equal(m1.weight.numpy(), m2.weight.numpy())


def test_sparse():
    tg.manual_seed(0)
    w = init.sparse_(param(10, 6), sparsity=0.3).numpy()
    assert np.all((w == 0).sum(0) >= 3)
