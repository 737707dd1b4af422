"""Torch-comparison helpers shared by the test files.

``compare(tg_fn, torch_fn, *arrays)`` runs the same computation in tensorgrad
and PyTorch on copies of the NumPy ``arrays`` (float arrays require grad),
checks the outputs match, then back-propagates the same random (non-uniform)
upstream gradient through both and checks every input gradient.
"""
import numpy as np
import torch

import tensorgrad as tg

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32, low=-1.0, high=1.0):
    """Uniform random array of ``shape`` (float32 by default)."""
    return RNG.uniform(low, high, size=shape).astype(dtype)


def to_np(x):
    """NumPy array of a tensorgrad or torch tensor (or anything array-like)."""
    if isinstance(x, tg.Tensor):
        return x.numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol=1e-5, atol=1e-5, what=''):
    """Values (and shapes) of two tensors/arrays agree."""
    a, e = to_np(actual), to_np(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, err_msg=what)


def compare(tg_fn, torch_fn, *arrays, device='cpu', grad=None, rtol=1e-5, atol=1e-5, check_dtype=True):
    """Check ``tg_fn(*tensors)`` against ``torch_fn(*torch_tensors)``, forward and
    backward. ``grad``: which inputs require grad (default: the float ones).
    Returns the tensorgrad output."""
    if grad is None:
        grad = [np.asarray(a).dtype.kind == 'f' for a in arrays]
    tgs = [tg.tensor(np.array(a), device=device, requires_grad=g) for a, g in zip(arrays, grad)]
    ths = [torch.tensor(np.array(a), requires_grad=g) for a, g in zip(arrays, grad)]
    out = tg_fn(*tgs)
    ref = torch_fn(*ths)
    assert_close(out, ref, rtol, atol, 'forward')
    if check_dtype:
        assert str(out.dtype) == str(ref.dtype).replace('torch.', ''), f"dtype {out.dtype} != {ref.dtype}"
    if any(grad) and ref.requires_grad:
        up = RNG.uniform(0.5, 1.5, size=tuple(ref.shape)).astype(to_np(ref).dtype)
        out.backward(tg.tensor(up, device=device))
        ref.backward(torch.tensor(up))
        for i, (t, r, g) in enumerate(zip(tgs, ths, grad)):
            if not g:
                continue
            if r.grad is None:
                assert t.grad is None or np.allclose(t.grad.numpy(), 0), f"input {i}: unexpected grad"
                continue
            assert t.grad is not None, f"input {i}: no gradient"
            assert t.grad.dtype == t.dtype, f"input {i}: grad dtype {t.grad.dtype} != {t.dtype}"
            assert_close(t.grad, r.grad, rtol, atol, f'grad of input {i}')
    return out
