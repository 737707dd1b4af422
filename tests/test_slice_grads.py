"""Slices' gradients (autograd.engine.SliceGrad): the backward of basic indexing hands
the engine the piece and its index, and the engine adds the pieces of one tensor into a
single buffer. Checked against torch: split / chunk / unbind pieces, a slice used twice,
slices mixed with dense uses, leaves and non-leaves, hooks, autograd.grad, create_graph."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.autograd import engine

RNG = np.random.default_rng(5)


def _both(fn, *arrays):
    """fn(lib, *tensors) -> loss in both libraries; returns the grads of the inputs."""
    out = []
    for L in (torch, tg):
        ts = [L.tensor(a, requires_grad=True) for a in arrays]
        fn(L, *ts).backward()
        out.append([t.grad.numpy() if L is tg else t.grad.detach().numpy() for t in ts])
    return out


CASES = {
    'split_three': lambda L, x: sum(((i + 1.5) * p * p).sum() for i, p in enumerate(x.split(2, dim=1))),
    'chunk_with_dense_use': lambda L, x: (x.chunk(3, 2)[0].exp().sum() + (x.chunk(3, 2)[2] * 3).sum()
                                          + (x * x).sum()),
    'unbind': lambda L, x: sum((p * (i + 1)).sum() for i, p in enumerate(x.unbind(0))),
    'slice_used_twice': lambda L, x: (x[:, 1:3].sin().sum() + (x[:, 1:3] * 2).sum() + x[0].sum()),
    'non_leaf_pieces': lambda L, x: sum(p.tanh().sum() for p in (x * 2).split([1, 3, 2], dim=1)),
    'newaxis_and_step': lambda L, x: (x[None, :, ::2] * 1.5).sum() + x[..., -1].pow(2).sum(),
}


@pytest.mark.parametrize('case', CASES, ids=str)
def test_slice_gradients_match_torch(case):
    a = RNG.standard_normal((4, 6, 6))
    ref, ours = _both(CASES[case], a)
    for r, o in zip(ref, ours):
        np.testing.assert_allclose(o, r, rtol=1e-12, atol=1e-12)


def test_split_backward_builds_one_buffer(monkeypatch):
    """Three pieces of one tensor: one dense materialisation, not three."""
    calls = []
    dense = engine.SliceGrad.dense
    monkeypatch.setattr(engine.SliceGrad, 'dense', lambda self: calls.append(1) or dense(self))
    x = tg.tensor(RNG.standard_normal((3, 9)), requires_grad=True)
    sum((p * (i + 1)).sum() for i, p in enumerate(x.split(3, dim=1))).backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(x.grad.numpy(), np.concatenate([np.full((3, 3), i + 1.) for i in range(3)], axis=1))


def test_hooks_retain_grad_and_autograd_grad_see_dense_arrays():
    x = tg.tensor(RNG.standard_normal((2, 4)), requires_grad=True)
    y = x * 1.0
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(type(g._data)))
    a, b = y.split(2, dim=1)
    (a.sum() + 2 * b.sum()).backward(retain_graph=True)
    assert seen == [np.ndarray] and isinstance(y.grad._data, np.ndarray)
    np.testing.assert_array_equal(y.grad.numpy(), [[1, 1, 2, 2]] * 2)
    gx, = tg.autograd.grad(a.sum() + 3 * b.sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [[1, 1, 3, 3]] * 2)


def test_create_graph_through_split_matches_torch():
    a = RNG.standard_normal((3, 4))
    res = []
    for L in (torch, tg):
        x = L.tensor(a, requires_grad=True)
        p, q = x.split(2, dim=1)
        loss = (p ** 3).sum() + (q ** 2 * p).sum()
        g, = (torch.autograd.grad if L is torch else tg.autograd.grad)(loss, [x], create_graph=True)
        g.pow(2).sum().backward()
        res.append(x.grad.detach().numpy() if L is torch else x.grad.numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)
