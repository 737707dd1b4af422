"""Graph semantics against PyTorch: seeding, accumulation, retain_graph,
freed buffers, grad modes, detach, hooks, retain_grad, autograd.grad."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.autograd.node import RELEASED
from helpers import assert_close, rand


def _pair(arr, device):
    return tg.tensor(arr, device=device), torch.tensor(arr, requires_grad=True)


def test_non_scalar_backward_seeds_ones(device):
    a = rand(2, 3)
    x, tx = _pair(a, device)
    (x * x).backward()
    (tx * tx).backward(torch.ones(2, 3))
    assert_close(x.grad, tx.grad)


def test_backward_gradient_and_upstream_alias(device):
    a, g = rand(2, 3), rand(2, 3)
    for kw in ('gradient', 'upstream'):
        x, tx = _pair(a, device)
        (x.exp() * 2).backward(**{kw: tg.tensor(g, device=device)})
        (tx.exp() * 2).backward(torch.tensor(g))
        assert_close(x.grad, tx.grad)
    x, tx = _pair(a, device)
    (x * 3).backward(g)  # a NumPy array works too
    assert_close(x.grad, 3 * g)
    with pytest.raises(RuntimeError, match=r'backward.*\(3, 2\).*\(2, 3\)'):
        (x * 3).backward(np.ones((3, 2), np.float32))


def test_gradients_accumulate(device):
    a = rand(3)
    x, tx = _pair(a, device)
    for _ in range(3):
        (x * x).sum().backward()
        (tx * tx).sum().backward()
    assert_close(x.grad, tx.grad)


def test_grad_none_until_backward_reaches(device):
    x = tg.tensor(rand(3), device=device)
    y = tg.tensor(rand(3), device=device)
    assert x.grad is None and y.grad is None
    (x * 2).sum().backward()
    assert x.grad is not None and y.grad is None


def test_shared_subexpression_diamond(device):
    a = rand(3, 3)
    x, tx = _pair(a, device)
    outs = []
    for v, lib in ((x, tg), (tx, torch)):
        h = v.tanh()
        z = (h * h.sigmoid() + h @ h).sum(0)
        z.backward(torch.arange(3.0).numpy() if lib is tg else torch.arange(3.0))
        outs.append(v.grad)
    assert_close(outs[0], outs[1])


def test_backward_without_requires_grad_raises(device):
    x = tg.tensor(rand(3), device=device, requires_grad=False)
    with pytest.raises(RuntimeError, match='backward.*require grad'):
        (x * 2).sum().backward()


def test_retain_graph_and_second_backward_error(device):
    x, tx = _pair(rand(3), device)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    y.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_close(x.grad, tx.grad)
    with pytest.raises(RuntimeError, match='retain_graph'):
        y.backward()


def test_saved_buffers_are_released(device):
    x = tg.tensor(rand(3), device=device)
    y = x.exp()
    node = y.grad_fn
    assert node.saved is not None and node.saved is not RELEASED
    y.sum().backward()
    assert node.saved is RELEASED
    x2 = tg.tensor(rand(3), device=device)
    y2 = x2 * x2
    y2.sum().backward(retain_graph=True)
    assert y2.grad_fn.saved is not RELEASED


def test_graph_without_saved_buffers_can_rerun(device):
    x = tg.tensor(rand(3), device=device)
    y = (x + 1).sum()
    y.backward()
    y.backward()  # add and sum save nothing the second pass needs, as in PyTorch
    assert_close(x.grad, 2 * np.ones(3))


def test_no_grad_context_and_decorator(device):
    x = tg.tensor(rand(3), device=device)
    with tg.no_grad():
        y = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @tg.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad

    @tg.no_grad
    def g(t):
        return t * 2
    assert not g(x).requires_grad and tg.is_grad_enabled()


def test_enable_grad_and_set_grad_enabled(device):
    x = tg.tensor(rand(3), device=device)
    with tg.no_grad():
        with tg.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def f(t):
        return t * 2
    assert tg.is_grad_enabled()
    assert not f(x).requires_grad

    @tg.enable_grad()
    def h(t):
        return t * 2
    with tg.no_grad():
        assert h(x).requires_grad
    tg.set_grad_enabled(False)
    assert not tg.is_grad_enabled()
    tg.set_grad_enabled(True)
    assert tg.ctx.is_grad_enabled()
    with tg.ctx.no_grad():
        assert not tg.is_grad_enabled()


def test_no_grad_restores_on_exception():
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()


def test_detach(device):
    x = tg.tensor(rand(3), device=device)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y.numpy())
    z = (d * x).sum()
    z.backward()
    assert_close(x.grad, y.numpy())


def test_requires_grad_and_is_leaf(device):
    x = tg.tensor(rand(3), device=device, requires_grad=False)
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    assert y.grad_fn.next_functions[0] is x or y.grad_fn.next_functions[0] is not None
    with pytest.raises(RuntimeError, match='requires_grad'):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match='floating'):
        tg.tensor([1, 2], device=device).requires_grad_()
    x.requires_grad_(False)
    assert not (x * 2).requires_grad


def test_hooks_on_leaf_and_non_leaf(device):
    a = rand(3)
    x, tx = _pair(a, device)
    seen = []
    hx = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y, ty = x * 3, tx * 3
    y.register_hook(lambda g: g * 2)  # replaces the gradient flowing on
    ty.register_hook(lambda g: g * 2)
    tx.register_hook(lambda g: None)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, tx.grad)
    assert len(seen) == 1
    hx.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1
    assert_close(x.grad, np.ones(3))


def test_leaf_hook_replacing_grad(device):
    x = tg.tensor(rand(3), device=device)
    h = x.register_hook(lambda g: g * 0 + 5)
    x.sum().backward()
    assert_close(x.grad, 5 * np.ones(3))
    h.remove()
    x.grad = None
    x.sum().backward()
    assert_close(x.grad, np.ones(3))
    with pytest.raises(RuntimeError, match='hook'):
        tg.tensor(rand(3), requires_grad=False).register_hook(lambda g: g)


def test_retain_grad(device):
    a = rand(3)
    x, tx = _pair(a, device)
    y, ty = x.exp(), tx.exp()
    y.retain_grad()
    ty.retain_grad()
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(y.grad, ty.grad)
    z = x * 2
    (z * z).sum().backward()
    assert z.grad is None  # non-leaf without retain_grad


def test_autograd_grad_does_not_touch_grad(device):
    a = rand(3)
    x, tx = _pair(a, device)
    w, tw = _pair(rand(3), device)
    y, ty = (x * x * w).sum(), (tx * tx * tw).sum()
    gx, gw = tg.autograd.grad(y, [x, w], retain_graph=True)
    rx, rw = torch.autograd.grad(ty, [tx, tw], retain_graph=True)
    assert_close(gx, rx)
    assert_close(gw, rw)
    assert x.grad is None and w.grad is None
    (gx2,) = tg.autograd.grad([y], [x])
    assert_close(gx2, rx)
    z = x * 2
    g = rand(3)
    (gz,) = tg.autograd.grad(z, x, grad_outputs=tg.tensor(g, device=device))
    assert_close(gz, 2 * g)
    u = tg.tensor(rand(3), device=device)
    with pytest.raises(RuntimeError, match='allow_unused'):
        tg.autograd.grad((x * 2).sum(), [x, u])
    assert tg.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)[1] is None


def test_autograd_grad_of_non_leaf(device):
    x, tx = _pair(rand(3), device)
    h, th = x.sin(), tx.sin()
    (gh,) = tg.autograd.grad((h * h).sum(), h)
    (rh,) = torch.autograd.grad((th * th).sum(), th)
    assert_close(gh, rh)


def test_intermediate_grad_dtype_and_leaf_grad_independent(device):
    x = tg.tensor(rand(3), device=device)
    y = tg.tensor(rand(3), device=device)
    (x + y).sum().backward()
    x.grad.data += 1  # editing one .grad must not change the other
    assert_close(y.grad, np.ones(3))


def test_float64_graph_keeps_float64(device):
    x = tg.tensor(rand(3).astype(np.float64), device=device)
    y = (x * 2.5 + 1).exp().sum()
    y.backward()
    assert x.grad.dtype == tg.float64 and y.dtype == tg.float64


def test_deep_graph_no_recursion_limit(device):
    x = tg.tensor(rand(2), device=device)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    assert_close(x.grad, np.full(2, 1.0001 ** 5000, np.float32), rtol=1e-3)


def test_leaf_grad_does_not_alias_the_given_gradient(device):
    x = tg.tensor(rand(3), device=device)
    g = tg.tensor(rand(3), device=device, requires_grad=False)
    x.backward(g)
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    y = tg.tensor(rand(3), device=device)
    (y + 0).backward(g)
    assert not np.shares_memory(y.grad.numpy(), g.numpy())


def test_backward_under_no_grad_still_works(device):
    x = tg.tensor(rand(3), device=device)
    y = (x * x).sum()
    with tg.no_grad():
        y.backward()
    assert_close(x.grad, 2 * x.numpy())


def test_backward_inputs_and_create_graph(device):
    x, tx = _pair(rand(3), device)
    w, tw = _pair(rand(3), device)
    (x * w).sum().backward(inputs=[x])
    (tx * tw).sum().backward(inputs=[tx])
    assert_close(x.grad, tx.grad)
    assert w.grad is None and tw.grad is None
    (x * w).sum().backward(create_graph=True, inputs=[x])
    (tx * tw).sum().backward(create_graph=True, inputs=[tx])
    assert_close(x.grad, tx.grad)
    assert x.grad.requires_grad and tx.grad.requires_grad and w.grad is None


def test_mixed_dtype_ops_give_grads_in_each_inputs_dtype(device):
    x = tg.tensor([1.0, 2.0], device=device)
    y = tg.tensor([3.0, 4.0], dtype='float64', device=device)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    for f in (lambda a, b: (a + b).sum(), lambda a, b: (a * b).sum(), lambda a, b: (b / a).sum(),
              lambda a, b: a.double() @ b, lambda a, b: a.__class__.cat([a, b]).sum() if a.__class__ is tg.Tensor
              else torch.cat([a, b]).sum(), lambda a, b: (tg if isinstance(a, tg.Tensor) else torch).stack([a, b]).sum(),
              lambda a, b: (tg if isinstance(a, tg.Tensor) else torch).where(a > 1, a, b).sum()):
        x.grad = y.grad = tx.grad = ty.grad = None
        f(x, y).backward()
        f(tx, ty).backward()
        assert x.grad.dtype == tg.float32 and y.grad.dtype == tg.float64
        assert_close(x.grad, tx.grad)
        assert_close(y.grad, ty.grad)


def test_inference_mode(device):
    x = tg.tensor(rand(3), device=device)
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    assert tg.is_grad_enabled()

    @tg.inference_mode()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_hook_returning_array_keeps_dtype(device):
    x = tg.tensor(rand(3), device=device)
    y = x * 2
    y.register_hook(lambda g: g.numpy().astype(np.float64) * 3 if device == 'cpu' else g * 3)
    y.sum().backward()
    assert x.grad.dtype == tg.float32
    assert_close(x.grad, np.full(3, 6.0))
