"""track_multi / attach_multi: the shared builder of multi-output graph nodes."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.autograd.multi import track_multi
from tensorgrad.autograd.node import MultiOutputNode, Node, OutputRef


class _SplitScaleBackward(MultiOutputNode):
    """Outputs (2 * x[:n], x[n:] * y) of inputs (x, y)."""
    __slots__ = ()

    def backward(self, grads):
        x, y, n = self.saved
        g0, g1 = grads
        gx = np.zeros_like(x)
        if g0 is not None:
            gx[:n] = 2 * g0
        if g1 is not None:
            gx[n:] = g1 * y
        gy = (g1 * x[n:]).sum(keepdims=True).reshape(y.shape) if g1 is not None else None
        return gx, gy


def _op(x, y, n=2):
    xd, yd = x._data, y._data
    outs, node = track_multi((2 * xd[:n], xd[n:] * yd), _SplitScaleBackward, (x, y), (xd, yd, n), check=(x, y))
    return outs, node


def test_node_slots_and_gradients():
    rng = np.random.default_rng(0)
    xd = rng.standard_normal(5).astype(np.float32)
    x = tg.tensor(xd, requires_grad=True)
    y = tg.tensor(np.float32(1.5), requires_grad=True)
    (a, b), node = _op(x, y)
    assert isinstance(node, _SplitScaleBackward) and node.n_outputs == 2
    assert node.output_shapes == ((2,), (3,)) and node.output_dtypes == (np.float32, np.float32)
    assert node.next == (x, y) and node.hooks is None and node.retained is None
    for i, t in enumerate((a, b)):
        ref = t.grad_fn
        assert isinstance(ref, OutputRef) and isinstance(ref, Node)
        assert ref.index == i and ref.next == (node,) and ref.shape == t._data.shape
        assert ref.saved is None and ref.versions is None and ref.hooks is None and ref.retained is None
        assert t.requires_grad
    ga = rng.standard_normal(2).astype(np.float32)
    gb = rng.standard_normal(3).astype(np.float32)
    b.retain_grad()
    tg.autograd.backward([a, b], [tg.tensor(ga, requires_grad=False), tg.tensor(gb, requires_grad=False)])
    np.testing.assert_allclose(x.grad._data, np.concatenate([2 * ga, gb * 1.5]), rtol=1e-6)
    np.testing.assert_allclose(y.grad._data, (gb * xd[2:]).sum(), rtol=1e-5)
    np.testing.assert_allclose(b.grad._data, gb)


def test_one_output_unused():
    x = tg.tensor(np.arange(4, dtype=np.float32), requires_grad=True)
    y = tg.tensor(np.float32(2.0), requires_grad=False)
    (a, _), _ = _op(x, y)
    a.sum().backward()
    np.testing.assert_allclose(x.grad._data, [2, 2, 0, 0])


def test_no_node_without_grad():
    x = tg.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = tg.tensor(np.float32(2.0), requires_grad=False)
    with tg.no_grad():
        outs, node = _op(x, y)
    assert node is None and all(not t.requires_grad and t.grad_fn is None for t in outs)
    outs, node = _op(tg.tensor(np.ones(4, dtype=np.float32), requires_grad=False), y)
    assert node is None and all(not t.requires_grad for t in outs)


def test_inplace_change_of_checked_input_raises():
    x = tg.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = tg.tensor(np.float32(2.0), requires_grad=True)
    xc = x * 1
    (_, b), _ = _op(xc, y)
    xc.mul_(3)
    with pytest.raises(RuntimeError, match='modified by an in-place operation'):
        b.sum().backward()


def test_output_check_detects_inplace_change():
    x = tg.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    outs, node = track_multi((x._data * 2, x._data * 3), _SplitScaleBackward, (x, None), None, check_outs=(1,))
    assert node.versions == [(outs[1]._vc, 0)]
