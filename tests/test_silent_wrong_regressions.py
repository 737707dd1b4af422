"""Regression tests for silently wrong values and gradients found by comparing
random programs with PyTorch (issue 11, "Silently wrong"). Each test runs the
same program on tensorgrad and torch and compares, or checks the error torch raises."""
import threading

import numpy as np
import pytest
import torch

import tensorgrad as tg

F = tg.nn.functional
TF = torch.nn.functional


def _both(fn, *arrays, requires_grad=True):
    """Run ``fn(lib, *tensors)`` on both libraries; returns [(out, grads)] for tg and torch."""
    res = []
    for lib in (tg, torch):
        xs = [lib.tensor(a.copy(), requires_grad=requires_grad) for a in arrays]
        out = fn(lib, *xs)
        g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(arrays[0].dtype)
        (out * lib.tensor(g)).sum().backward()
        res.append((out.detach().numpy(), [x.grad.numpy() for x in xs]))
    return res


def _close(res, rtol=1e-5, atol=1e-6):
    (o1, g1), (o2, g2) = res
    np.testing.assert_allclose(o1, o2, rtol=rtol, atol=atol)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


LAYOUTS = {
    'transposed': lambda x: x.T,
    'permuted': lambda x: x.reshape(8, 9, 10).permute(2, 0, 1),
    'sliced': lambda x: x[:, ::3],
    'expanded': lambda x: x[:1].expand(72, 10),
}


@pytest.mark.parametrize('layout', LAYOUTS)
@pytest.mark.parametrize('op', ['gelu', 'gelu_tanh', 'erf', 'silu'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_elementwise_kernels_on_non_contiguous_inputs(op, layout, dtype):
    a = np.random.default_rng(0).standard_normal((72, 10)).astype(dtype)
    fns = {'gelu': lambda lib, x: lib.nn.functional.gelu(x),
           'gelu_tanh': lambda lib, x: lib.nn.functional.gelu(x, approximate='tanh'),
           'erf': lambda lib, x: lib.erf(x),
           'silu': lambda lib, x: lib.nn.functional.silu(x)}
    _close(_both(lambda lib, x: fns[op](lib, LAYOUTS[layout](x)), a))


def test_zero_dim_tensor_used_many_times_accumulates_every_contribution():
    for lib in (tg, torch):
        x = lib.tensor(0.5, requires_grad=True)
        (x * 1. + x * 2. + x * 4.).backward()
        assert float(x.grad) == 7.0
        y = x * 1.
        (y * 1. + y * 2. + y * 4. + y).backward()
        assert float(x.grad) == 15.0
        if lib is tg:
            assert isinstance(x.grad._data, np.ndarray)


def test_inplace_on_integer_indexed_element_of_non_leaf_writes_into_base():
    a = np.arange(12.).reshape(3, 4)
    out = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        b = x * 1
        b[1, 2].add_(100)
        b[0][1].mul_(3)
        (b * lib.tensor(a + 1)).sum().backward()
        out.append((b.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_integer_index_gives_a_zero_dim_array_not_a_numpy_scalar():
    t = tg.tensor(np.arange(6.).reshape(2, 3))[1, 2]
    assert isinstance(t._data, np.ndarray) and t.shape == () and repr(t).startswith('tensor(5.')


def test_flip_copies():
    x = tg.tensor([1., 2., 3.], requires_grad=False)
    y = x.flip(0)
    x.add_(10)
    np.testing.assert_array_equal(y.numpy(), [3., 2., 1.])
    _close(_both(lambda lib, x: (x * 2).flip((0, 1)), np.random.default_rng(0).standard_normal((3, 4))))


def test_cumprod_output_modified_in_place_raises_at_backward():
    for lib in (tg, torch):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        y = x.cumprod(0)
        y.mul_(2)
        with pytest.raises(RuntimeError, match='modified by an in-?place operation'):
            y.sum().backward()


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('smoothing', [0.0, 0.2])
def test_cross_entropy_probability_targets_give_weight_its_gradient(reduction, smoothing):
    rng = np.random.default_rng(0)
    a, p, w = rng.standard_normal((3, 4, 2)), rng.random((3, 4, 2)), rng.random(4)
    res = []
    for lib in (tg, torch):
        x, wt = lib.tensor(a, requires_grad=True), lib.tensor(w, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(p, requires_grad=False), weight=wt,
                                               reduction=reduction, label_smoothing=smoothing)
        g = lib.tensor(np.arange(1., 1 + loss.numel()).reshape(tuple(loss.shape)))
        (loss * g).sum().backward()
        res.append((loss.detach().numpy(), x.grad.numpy(), wt.grad.numpy()))
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)


def test_cross_entropy_index_targets_treat_weight_as_a_constant():
    # a documented difference: torch refuses a weight that requires grad here
    w = tg.tensor([1., 2., 3.], requires_grad=True)
    x = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    F.cross_entropy(x, tg.tensor([0, 1]), weight=w).backward()
    assert w.grad is None and x.grad is not None


def test_assigning_a_grad_tensor_into_an_int_tensor_cuts_the_graph():
    for lib in (tg, torch):
        x = lib.zeros(3, dtype=lib.int64)
        x[0] = lib.tensor(2.5, requires_grad=True)
        assert not x.requires_grad and x.grad_fn is None and x.tolist() == [2, 0, 0]


@pytest.mark.parametrize('op', ['getitem', 'gather', 'index_select'])
def test_index_tensor_changed_in_place_raises_at_backward(op):
    for lib in (tg, torch):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        i = lib.tensor([0, 1])
        y = x[i] if op == 'getitem' else (x.gather(0, i) if op == 'gather' else x.index_select(0, i))
        i.add_(1)
        with pytest.raises(RuntimeError, match='modified by an inplace operation|modified by an in-place'):
            y.sum().backward()


def test_index_select_rejects_an_out_of_range_dim():
    with pytest.raises(IndexError, match='index_select'):
        tg.tensor([1., 2.]).index_select(1, tg.tensor([0]))
    assert tg.tensor(5.).index_select(0, tg.tensor([0])).shape == ()


@pytest.mark.parametrize('leaf', [True, False])
def test_hook_returning_a_wrong_shape_raises(leaf):
    x = tg.tensor([1., 2., 3.], requires_grad=True)
    t = x if leaf else x * 2
    t.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match='has changed the size of value'):
        (t * 3).sum().backward()


def test_grad_mode_is_per_thread():
    seen = {}
    started, release = threading.Event(), threading.Event()

    def worker():
        started.set()
        release.wait(5)
        x = tg.tensor([1.], requires_grad=True)
        seen['other'] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    started.wait(5)
    with tg.no_grad():
        release.set()
        t.join(5)
        assert not tg.is_grad_enabled()
    assert seen['other'] is True and tg.is_grad_enabled()


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_log_softmax_and_cross_entropy_keep_precision_at_large_logits(dtype):
    a = np.array([[1e4, 1e4 - 2, 1e4 + 0.5, 1e4 - 1], [0., 1., 2., 3.]], dtype)
    t = np.array([1, 1])
    np.testing.assert_allclose(F.log_softmax(tg.tensor(a), -1).numpy(),
                               TF.log_softmax(torch.tensor(a), -1).numpy(), rtol=1e-6, atol=1e-6)
    for red in ('none', 'mean', 'sum'):
        ours = F.cross_entropy(tg.tensor(a), tg.tensor(t), reduction=red).numpy()
        ref = TF.cross_entropy(torch.tensor(a), torch.tensor(t), reduction=red).numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)
    # a row's loss does not depend on the rest of the batch
    alone = F.cross_entropy(tg.tensor(a[:1]), tg.tensor(t[:1])).item()
    np.testing.assert_allclose(alone, TF.cross_entropy(torch.tensor(a[:1]), torch.tensor(t[:1])).item(),
                               rtol=1e-6)


MIXED_INDICES = {
    'int-slice-list': (0, slice(None), [0, 1]),
    'list-slice-int': ([0, 1], slice(None), 0),
    'int-list-list': (0, [0, 2], [1, 3]),
    'ellipsis-int-list': (Ellipsis, 1, [0, 1]),
    'int-none-slice-list': (1, None, slice(None), [2, 0]),
    'int-mask': (0, np.array([[True, False, True, True], [False] * 4, [True] * 4])),
}


@pytest.mark.parametrize('name', MIXED_INDICES)
def test_integer_and_advanced_indices_place_dims_as_torch(name):
    a = np.arange(24.).reshape(2, 3, 4)
    res = []
    for lib in (tg, torch):
        idx = tuple(lib.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in MIXED_INDICES[name])
        x = lib.tensor(a, requires_grad=True)
        y = x[idx]
        g = np.arange(1., 1 + y.numel()).reshape(tuple(y.shape))
        (y * lib.tensor(g)).sum().backward()
        z = lib.tensor(a.copy(), requires_grad=False)
        z[idx] = lib.tensor(g, requires_grad=False)  # setitem without a graph
        v = lib.tensor(g, requires_grad=True)
        w = x * 1
        w[idx] = v * 2  # recorded setitem
        (w * lib.tensor(a)).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), z.numpy(), v.grad.numpy()))
    for u, v in zip(*res):
        np.testing.assert_array_equal(u, v)


def test_requires_grad_cannot_be_set_on_an_integer_tensor():
    for lib in (tg, torch):
        x = lib.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match='floating point'):
            x.requires_grad = True
        assert not x.requires_grad
    y = tg.tensor([1., 2.], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match='leaf'):
        y.requires_grad = False


def test_a_wrong_gradient_is_refused_at_assignment():
    p = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='shape'):
        p.grad = tg.zeros(4, requires_grad=False)
    with pytest.raises(TypeError, match='dtype'):
        p.grad = tg.zeros(3, dtype=tg.float64, requires_grad=False)
    with pytest.raises(TypeError, match='Tensor or None'):
        p.grad = np.zeros(3, np.float32)
    assert p.grad is None
    p.grad = tg.ones(3, requires_grad=False)
    p.grad = None
    assert p.grad is None
