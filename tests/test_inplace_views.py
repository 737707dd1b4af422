"""Recorded in-place ops on views (PyTorch's CopySlices semantics): the base's
graph is rewritten, the base and all its views read the new values, and the
gradients equal PyTorch's for the same program. Also MyGrad's front-page view
example and the errors that remain (views of leaves, unmappable views)."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import rand


def _run(lib, program, *arrays):
    """Run ``program(lib_tensors..., wrap)`` and backward a non-uniform weighted sum of its
    result; returns (result values, input grads)."""
    if lib == 'tg':
        ts = [tg.tensor(a) for a in arrays]
        out = program(ts, tg.tensor)
        w = np.linspace(0.5, 1.5, out.numel()).reshape(out.shape).astype(np.float32)
        (out * tg.tensor(w, requires_grad=False)).sum().backward()
        return out.numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = program(ts, torch.tensor)
    w = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(np.float32)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]


def _row_mul(ts, T):
    a, w = ts
    b = a * 2
    b[1].mul_(w)
    return b


def _slice_add_then_use_view(ts, T):
    a, w = ts
    b = a * 2 + 1  # (an op saving its output, like exp, would make torch and tensorgrad raise)
    v = b[:, 1:3]
    v.add_(w[:2])
    return (v * b[:, :2]).sum(0) + b[0, 0]


def _view_of_view(ts, T):
    a, w = ts
    b = a * 1
    v = b[1:][:, ::2]
    v.mul_(w[0])
    return b.tanh()


def _transposed_view(ts, T):
    a, w = ts
    b = a + 0
    bt = b.transpose(0, 1)
    bt[0].sub_(w[:3] * 2)
    return b ** 2


def _setitem_on_view(ts, T):
    a, w = ts
    b = a * 3
    row = b[2]
    row[1:3] = w[:2] * w[:2]
    return b


def _copy_into_buffer_view(ts, T):
    a, w = ts
    buf = T(np.zeros((3, 4), np.float32), requires_grad=False)
    buf[:, 1].copy_(a[:, 0])
    buf[0].add_(w)
    return buf * buf


def _two_views_then_base_op(ts, T):
    a, w = ts
    b = a * 3
    u, v = b[0], b[2]
    v.add_(u)  # reads u while writing v
    b.mul_(2)
    return u + v


PROGRAMS = [_row_mul, _slice_add_then_use_view, _view_of_view, _transposed_view, _setitem_on_view,
            _copy_into_buffer_view, _two_views_then_base_op]


@pytest.mark.parametrize('program', PROGRAMS, ids=lambda p: p.__name__.strip('_'))
def test_inplace_on_views_matches_torch(program):
    a, w = rand(3, 4), rand(4, low=0.5, high=1.5)
    out, grads = _run('tg', program, a, w)
    ref, ref_grads = _run('torch', program, a, w)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    for g, r in zip(grads, ref_grads):
        if r is None:
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_mygrad_diagonal_view_example():
    x0 = tg.tensor(np.arange(9.0).reshape(3, 3))
    x = x0 * 1  # a non-leaf: views of leaves that require grad cannot be changed in place
    diag_view = np.einsum('ii->i', x)
    diag_view *= -1  # mutates x in place
    np.testing.assert_array_equal(x.numpy(), [[-0., 1., 2.], [3., -4., 5.], [6., 7., -8.]])
    (x ** 2).backward()
    sign = np.where(np.eye(3, dtype=bool), -1.0, 1.0)
    np.testing.assert_allclose(x0.grad.numpy(), 2 * x.numpy() * sign)


def test_view_base_shares_memory_after_inplace():
    b = tg.tensor(rand(3, 4)) * 1
    v = b[1]
    v.add_(tg.tensor(rand(4)))
    assert np.shares_memory(v.numpy(), b.numpy())
    np.testing.assert_array_equal(v.numpy(), b.numpy()[1])
    assert v._version == b._version == 1


def test_view_of_leaf_that_requires_grad_raises_and_changes_nothing():
    x = tg.tensor(rand(3, 4))
    before = x.numpy().copy()
    with pytest.raises(RuntimeError, match='mul_: a view of a leaf'):
        x[0].mul_(2)
    np.testing.assert_array_equal(x.numpy(), before)


def test_unmappable_view_raises_and_changes_nothing():
    b = tg.tensor(rand(1, 4)) * 1
    e = b.expand(3, 4)
    before = b.numpy().copy()
    if np.shares_memory(e.numpy(), b.numpy()):  # an expanded view reads each element 3 times
        with pytest.raises(RuntimeError, match='add_'):
            e.add_(tg.tensor(rand(3, 4)))
        np.testing.assert_array_equal(b.numpy(), before)


def test_no_grad_inplace_on_view_just_writes():
    b = tg.tensor(rand(2, 3)) * 1
    with tg.no_grad():
        b[0].fill_(7.0)
    np.testing.assert_array_equal(b.numpy()[0], 7.0)


def test_changing_a_saved_value_through_a_view_raises_at_backward():
    a = tg.tensor(rand(2, 3))
    b = a.exp()  # exp's backward needs its output b
    b[0].mul_(2)
    with pytest.raises(RuntimeError, match='modified by an in-place operation'):
        b.sum().backward()
