"""tensorgrad.nn.utils clipping and vector helpers against torch.nn.utils."""
import math

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

SHAPES = [(3, 4), (7,), (2, 2, 3)]


def _pair(scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for s in SHAPES:
        w = rng.standard_normal(s).astype(np.float32)
        g = (scale * rng.standard_normal(s)).astype(np.float32)
        p = tg.Tensor(w.copy(), requires_grad=True)
        p.grad = tg.Tensor._wrap(g.copy())
        tp = torch.tensor(w.copy(), requires_grad=True)
        tp.grad = torch.tensor(g.copy())
        ours.append(p)
        theirs.append(tp)
    return ours, theirs


@pytest.mark.parametrize('norm_type', [2.0, 1.0, 3.0, 0.5, math.inf, 'inf'])
@pytest.mark.parametrize('max_norm', [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pair(scale=2.0)
    before = [p.grad._data for p in ours]
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, tg.Tensor) and total.shape == () and total._data.dtype == np.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-5, atol=1e-7)
        assert p.grad._data.dtype == np.float32
    if max_norm == 0.5:  # clipped: new arrays, the old ones untouched
        for b, p in zip(before, ours):
            assert b is not p.grad._data


def test_clip_grad_norm_does_not_write_into_shared_gradients():
    a = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    g = np.array([3.0, 4.0, 12.0], np.float32)
    a.grad = tg.Tensor._wrap(g)
    b.grad = tg.Tensor._wrap(g)
    total = clip_grad_norm_([a], 1.0)
    assert total.item() == pytest.approx(13.0)
    np.testing.assert_array_equal(g, [3.0, 4.0, 12.0])
    np.testing.assert_allclose(np.linalg.norm(a.grad._data), 1.0, rtol=1e-5)
    assert b.grad._data is g


def test_clip_grad_norm_single_tensor_and_no_grads():
    ours, theirs = _pair()
    total = clip_grad_norm_(ours[0], 0.1)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad._data, theirs[0].grad.numpy(), rtol=1e-5)
    p = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0


@pytest.mark.filterwarnings('ignore::RuntimeWarning')  # inf * 0 gives nan grads, as in PyTorch
def test_clip_grad_norm_nonfinite():
    ours, _ = _pair()
    ours[1].grad._data[0] = np.inf
    with pytest.raises(RuntimeError, match='non-finite'):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(ours, 1.0)
    assert math.isinf(total.item())


@pytest.mark.parametrize('clip_value', [0.1, 0.7, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = _pair(scale=1.5)
    g0 = ours[0].grad._data
    g0_copy = g0.copy()
    clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad._data, tp.grad.numpy())
        assert p.grad._data.dtype == np.float32
    np.testing.assert_array_equal(g0, g0_copy)  # original array not written


def test_parameters_to_vector_and_back():
    ours, theirs = _pair()
    vec = parameters_to_vector(ours)
    tvec = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec._data, tvec.detach().numpy())
    # differentiable, as in PyTorch
    up = np.random.default_rng(2).standard_normal(vec.shape).astype(np.float32)
    for p, tp in zip(ours, theirs):
        p.grad = tp.grad = None
    vec.backward(tg.Tensor._wrap(up))
    tvec.backward(torch.tensor(up))
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad._data, tp.grad.numpy())

    new = np.arange(vec.shape[0], dtype=np.float32)
    versions = [p._version for p in ours]
    vector_to_parameters(tg.Tensor(new, requires_grad=False), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, tp, v in zip(ours, theirs, versions):
        np.testing.assert_array_equal(p._data, tp.detach().numpy())
        assert p._version > v
    with pytest.raises(ValueError, match='elements'):
        vector_to_parameters(tg.Tensor(new[:-1], requires_grad=False), ours)
    with pytest.raises(TypeError, match='Tensor'):
        vector_to_parameters(new, ours)
