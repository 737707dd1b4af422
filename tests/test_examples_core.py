"""End-to-end examples: the micrograd-style README example gives PyTorch's
values and gradients, and a 2-layer network with manual SGD learns XOR."""
import numpy as np
import torch

import tensorgrad as tg
from helpers import assert_close


def _readme_example(lib):
    a = lib.tensor([[-4.0, -8.0], [-2.0, -4.0]], requires_grad=True)
    b = lib.tensor([[2.0, 6.0], [4.0, 8.0]], requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    if lib is tg:
        g.backward()  # as in the README: a non-scalar output is seeded with ones
    else:
        g.backward(torch.ones_like(g))
    return a, b, g


def test_micrograd_readme_example():
    a, b, g = _readme_example(tg)
    ta, tb, tgt = _readme_example(torch)
    assert g.shape == (2, 2) and g.dtype == tg.float32
    assert_close(g, tgt, rtol=1e-5)
    assert_close(a.grad, ta.grad, rtol=1e-5)
    assert_close(b.grad, tb.grad, rtol=1e-5)


def test_micrograd_readme_example_default_seed():
    """``g.backward()`` on a non-scalar seeds ones, as the reference README does."""
    a = tg.tensor([[-4.0, -8.0], [-2.0, -4.0]])
    b = tg.tensor([[2.0, 6.0], [4.0, 8.0]])
    c = a + b
    c += c + 1
    (c * b).backward()
    ta = torch.tensor([[-4.0, -8.0], [-2.0, -4.0]], requires_grad=True)
    tb = torch.tensor([[2.0, 6.0], [4.0, 8.0]], requires_grad=True)
    tc = ta + tb
    tc += tc + 1
    (tc * tb).sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)


def _log_softmax(x):
    try:
        from tensorgrad.ops.softmax import log_softmax
        return log_softmax(x, -1)
    except ImportError:
        return x - x.logsumexp(-1, keepdim=True)


def test_two_layer_net_learns_xor(device):
    tg.manual_seed(0)
    x = tg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], device=device, requires_grad=False)
    y = tg.tensor([0, 1, 1, 0], device=device)
    w1 = tg.tensor.randn(2, 16, sigma=1.0, device=device)
    b1 = tg.tensor.zeros(16, device=device)
    w2 = tg.tensor.randn(16, 2, sigma=0.25, device=device)
    b2 = tg.tensor.zeros(2, device=device)
    params = [w1, b1, w2, b2]
    onehot = tg.eye(2, device=device)[y]
    for step in range(300):
        logits = (x @ w1 + b1).relu() @ w2 + b2
        loss = -(_log_softmax(logits) * onehot).sum(-1).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in params:
                p -= 0.5 * p.grad
    assert loss.item() < 0.05
    pred = logits.argmax(-1)
    np.testing.assert_array_equal(pred.numpy(), [0, 1, 1, 0])
