"""In-place ops: they differentiate like PyTorch or raise a clear error at
backward when a tensor the graph saved was modified (version counter);
never a silently wrong gradient."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import assert_close, rand


def _run_both(fn, *arrays, device='cpu', up=None):
    """fn(lib, *leaves) -> output, run with tensorgrad and torch; compare values and grads."""
    tgs = [tg.tensor(a, device=device) for a in arrays]
    ths = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn(tg, *tgs), fn(torch, *ths)
    assert_close(out, ref, what='forward')
    up = rand(*ref.shape) if up is None else up
    out.backward(tg.tensor(up, device=device))
    ref.backward(torch.tensor(up))
    for i, (t, r) in enumerate(zip(tgs, ths)):
        if r.grad is None:
            assert t.grad is None or np.allclose(t.grad.numpy(), 0)
        else:
            assert_close(t.grad, r.grad, what=f'grad {i}')
    return out


def test_exp_output_modified_raises(device):
    x = tg.tensor(rand(3), device=device)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match='exp.*modified by an in-place|Exp.*in-place'):
        y.sum().backward()


def test_saved_input_modified_raises(device):
    x = tg.tensor(rand(3), device=device)
    w = tg.tensor(rand(3), device=device, requires_grad=False)
    y = x * w
    w.mul_(2)
    with pytest.raises(RuntimeError, match='in-place'):
        y.sum().backward()
    x2 = tg.tensor(rand(3), device=device)
    h = x2 * 1
    z = h * h
    h += 1
    with pytest.raises(RuntimeError, match='Mul.*in-place'):
        z.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises(device):
    x = tg.tensor(rand(3), device=device)
    for fn in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(1.0),
               lambda: x.masked_fill_(tg.tensor([True, False, True], device=device), 0.0),
               lambda: x.__setitem__(0, 5.0), lambda: x.exp_()):
        before = x.numpy().copy()
        with pytest.raises(RuntimeError, match='leaf'):
            fn()
        np.testing.assert_array_equal(x.numpy(), before)
        assert x._version == 0
    with tg.no_grad():
        x.add_(1).mul_(2)  # allowed without recording (what optimizers do)


def test_inplace_under_no_grad_on_leaf(device):
    a = rand(3)
    x = tg.tensor(a.copy(), device=device)  # a NumPy array is shared, not copied
    with tg.no_grad():
        x += 1
        x *= 2
        x -= 0.5
        x /= 4
        x.clamp_(-0.4, 0.4)
    expected = np.clip((((a + 1) * 2) - 0.5) / 4, -0.4, 0.4)
    assert_close(x, expected)
    assert x.is_leaf and x.requires_grad and x._version == 5


@pytest.mark.parametrize('name', ['add', 'sub', 'mul', 'div'])
def test_arith_inplace_on_non_leaf(name, device):
    def fn(lib, x, w):
        y = x * 1.5
        getattr(y, name + '_')(w)
        return y * x
    _run_both(fn, rand(2, 3), np.abs(rand(3)) + 0.5, device=device)


def test_augmented_assignment_chain(device):
    def fn(lib, a, b):
        c = a + b
        c += c + 1
        c += 1 + c + (-a)
        c *= b
        c -= a
        c /= 2.0
        return c
    _run_both(fn, rand(2, 2), rand(2, 2), device=device)


def test_inplace_unary_on_non_leaf(device):
    for name in ('exp', 'tanh', 'sigmoid', 'relu', 'neg', 'sqrt'):
        def fn(lib, x, name=name):
            y = x * 2 + 3
            getattr(y, name + '_')()
            return y * y
        _run_both(fn, rand(2, 3), device=device)


def test_setitem_on_non_leaf(device):
    def fn(lib, x, v):
        y = x * 2
        y[0] = v
        y[1, 1:] = 7.0
        return y.exp()
    _run_both(fn, rand(3, 3), rand(3), device=device)


def test_setitem_with_advanced_and_mask_index(device):
    def fn(lib, x, v):
        y = x * 1
        y[[0, 2]] = v
        y[y > 0.5] = 0.0
        return y * x
    _run_both(fn, rand(3, 2), rand(2), device=device)


def test_setitem_into_buffer_without_grad(device):
    def fn(lib, x):
        out = lib.zeros(3, 2, **({'device': device} if lib is tg else {}))
        for i in range(3):
            out[i] = x[i] * (i + 1)
        return out
    _run_both(fn, rand(3, 2), device=device)


def test_setitem_value_broadcast_gradient(device):
    def fn(lib, x, v):
        y = x + 0
        y[:, 1:] = v
        return y
    _run_both(fn, rand(3, 4), rand(1), device=device)


def test_masked_fill_inplace_and_fill_zero(device):
    m = np.array([[True, False], [False, True]])

    def fn(lib, x):
        y = x * 3
        y.masked_fill_(lib.tensor(m, **({'device': device} if lib is tg else {})), -1.0)
        z = x * 2
        z.zero_()
        w = x * 1
        w.fill_(2.0)
        return y + z + w * x
    _run_both(fn, rand(2, 2), device=device)


def test_fill_of_inf_does_not_give_nan(device):
    x = tg.tensor(rand(3), device=device)
    y = x * 0 + float('inf')
    y.fill_(1.0)
    assert_close(y, np.ones(3))
    (y * x).sum().backward()
    assert_close(x.grad, np.ones(3))


def test_copy_(device):
    def fn(lib, x, s):
        y = x * 2
        y.copy_(s * 3)
        return y * x
    _run_both(fn, rand(2, 3), rand(3), device=device)


def test_view_taken_before_inplace_on_base_reads_the_new_values(device):
    x = tg.tensor(rand(2, 3), device=device)
    y = x * 2
    v = y[0]
    y.mul_(3)  # v now reads 6 * x[0], as in PyTorch
    v.sum().backward()
    assert_close(x.grad, [[6.0] * 3, [0.0] * 3])


def test_inplace_on_view_of_leaf_raises_clearly(device):
    x = tg.tensor(rand(2, 3), device=device)
    v = x[0]
    with pytest.raises(RuntimeError, match='view of a leaf'):
        v.add_(1)
    np.testing.assert_array_equal(v.numpy(), x.numpy()[0])


def test_inplace_shape_and_dtype_errors_before_change(device):
    a = tg.tensor(rand(2, 3), device=device, requires_grad=False)
    before = a.numpy().copy()
    with pytest.raises(ValueError, match=r'add_.*\(2, 3\)'):
        a.add_(tg.tensor(rand(4, 2, 3), device=device))
    i = tg.tensor([1, 2], device=device)
    with pytest.raises(TypeError, match='add_'):
        i += 1.5
    with pytest.raises((ValueError, IndexError), match='setitem'):
        a[0] = tg.tensor(rand(4), device=device)
    np.testing.assert_array_equal(a.numpy(), before)
    assert a._version == 0 and i._version == 0
    y = tg.tensor(rand(2, 3), device=device) * 1
    fn = y.grad_fn
    with pytest.raises(ValueError, match='add_'):
        y.add_(tg.tensor(rand(4, 2, 3), device=device, requires_grad=True))
    assert y.grad_fn is fn and y._version == 0


def test_version_counter_shared_with_views(device):
    x = tg.tensor(rand(4), device=device, requires_grad=False)
    v = x[1:]
    x.add_(1)
    assert v._version == 1 and x._version == 1
    v.mul_(2)
    assert x._version == 2


def test_setitem_from_own_slice_idiom(device):
    def fn(lib, x):
        out = x * 1
        out[:, 0] = out[:, 0] * 2
        out[1:] = out[1:].exp()
        return out
    _run_both(fn, rand(3, 2), device=device)


def test_chunk_views_follow_inplace_on_base(device):
    x = tg.tensor(rand(4), device=device)
    y = x * 2
    a, b = y.chunk(2)
    s = (a * 3).sum()  # consumed before the in-place op: keeps its (correct) graph
    y.mul_(5)
    s.backward(retain_graph=True)
    assert_close(x.grad, [6.0, 6.0, 0.0, 0.0])
    x.grad = None
    b.sum().backward()  # b taken before, used after: reads 10 * x[2:]
    assert_close(x.grad, [0.0, 0.0, 10.0, 10.0])
