"""Regressions found by the differential fuzzer (tests/fuzz), each the
minimal program it reported, checked against torch."""
import numpy as np
import pytest
import torch

import tensorgrad as tg


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('op', ['flip', 'cumsum', 'cumprod', 'softmax', 'log_softmax'])
@pytest.mark.parametrize('dim', [0, -1])
def test_zero_dim_tensor_takes_dim_0_and_minus_1(op, dim, dtype):
    """A 0-d tensor accepts dim 0 and -1 as in torch (flip raised), forward and backward."""
    a = np.array(-1.25, dtype=dtype)
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    arg = (dim,) if op == 'flip' else dim
    y, yt = getattr(x, op)(arg), getattr(xt, op)(arg)
    assert tuple(y.shape) == () and str(y.dtype) == dtype
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    (y * 1.7).backward()
    (yt * 1.7).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('op', ['flip', 'cumsum', 'cumprod', 'softmax', 'log_softmax'])
@pytest.mark.parametrize('dim', [1, -2])
def test_zero_dim_tensor_rejects_other_dims(op, dim):
    """Other dims raise IndexError for a 0-d tensor in both libraries (cumsum, cumprod and
    softmax accepted any dim)."""
    arg = (dim,) if op == 'flip' else dim
    with pytest.raises(IndexError):
        getattr(torch.tensor(1.0), op)(arg)
    with pytest.raises(IndexError, match=op):
        getattr(tg.tensor(np.array(1.0), requires_grad=False), op)(arg)


@pytest.mark.parametrize('make', [
    lambda lib, x: x.logical_not(),
    lambda lib, x: x.argmax(0),
    lambda lib, x: x.argmin(-1),
])
def test_zero_dim_results_are_tensors_usable_in_arithmetic(make):
    """logical_not of a 0-d tensor and argmax/argmin(dim) of a 1-d one held a NumPy
    scalar, so the next binary op raised 'expected all tensors on the same device'."""
    a = np.array([0.5, -1.5], dtype=np.float32)
    for src in (a, a[0]):
        if src.ndim == 0 and make.__code__.co_names[-1] != 'logical_not':
            continue
        y = make(tg, tg.tensor(np.array(src), requires_grad=False))
        yt = make(torch, torch.tensor(np.array(src)))
        other = np.array([True, False])
        out, ref = y + tg.tensor(other, requires_grad=False), yt + torch.tensor(other)
        assert str(out.dtype) == str(ref.dtype).replace('torch.', '')
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        np.testing.assert_array_equal((y * 3).numpy(), (yt * 3).numpy())
