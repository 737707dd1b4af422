"""Inputs PyTorch accepts (0-d, size-0, saved tensors the gradient never uses)
and bad inputs it refuses, compared with torch (issue 11, "Raises where torch
succeeds" and "Clear errors where torch raises")."""
import numpy as np
import pytest
import torch

import tensorgrad as tg


def _shape_or_error(fn):
    out = []
    for lib in (tg, torch):
        try:
            r = fn(lib)
            out.append(('ok', tuple(r.shape) if hasattr(r, 'shape') else r))
        except Exception as e:  # noqa: BLE001 - the error type is what is compared
            out.append(('error', type(e).__name__))
    return out


def _grad_flows(lib, **kw):
    return lib.tensor(np.ones((2, 3)), requires_grad=True, **kw)


SUCCEEDS = {
    'transpose of a 0-d tensor': lambda L: L.tensor(1.).transpose(0, -1),
    'split of a size-0 dim': lambda L: len(L.zeros(0, 3).split(2)),
    'split of a size-0 dim 1': lambda L: len(L.zeros(2, 0).split(2, dim=1)),
    'chunk of a size-0 dim': lambda L: len(L.zeros(0, 3).chunk(3)),
    'x[[]]': lambda L: L.ones(3, 2)[[]],
    'softmax of rows of length 0': lambda L: L.nn.functional.softmax(L.zeros(3, 0), -1),
    'log_softmax of rows of length 0': lambda L: L.nn.functional.log_softmax(L.zeros(3, 0), -1),
    'softmax of no rows': lambda L: L.nn.functional.softmax(L.zeros(0, 3), -1),
    'layer_norm over all dims': lambda L: L.nn.functional.layer_norm(L.ones(3, 4), (3, 4)),
    'log_softmax of a 0-d tensor': lambda L: L.nn.functional.log_softmax(L.tensor(1.), 0),
    'batch_norm of an empty batch': lambda L: L.nn.functional.batch_norm(
        L.zeros(0, 3), L.zeros(3), L.ones(3)),
    'batch_norm of an empty 3-d batch': lambda L: L.nn.functional.batch_norm(
        L.zeros(0, 3, 4), L.zeros(3), L.ones(3)),
    'linear of an empty batch': lambda L: L.nn.functional.linear(L.zeros(0, 3), L.ones(2, 3)),
    'max_pool2d ceil_mode, kernel larger than input': lambda L: L.nn.functional.max_pool2d(
        L.ones(1, 1, 2, 2), 3, stride=2, ceil_mode=True, padding=1),
    'avg_pool2d ceil_mode, kernel larger than input': lambda L: L.nn.functional.avg_pool2d(
        L.ones(1, 1, 2, 2), 3, stride=2, ceil_mode=True, padding=1),
}


@pytest.mark.parametrize('name', SUCCEEDS)
def test_succeeds_as_torch(name):
    ours, ref = _shape_or_error(SUCCEEDS[name])
    assert ref[0] == 'ok' and ours == ref


def test_empty_batch_norm_and_softmax_backward():
    x = tg.zeros(0, 3, requires_grad=True)
    w = tg.ones(3, requires_grad=True)
    y = tg.nn.functional.batch_norm(x, tg.zeros(3, requires_grad=False), tg.ones(3, requires_grad=False), weight=w)
    y.sum().backward()
    assert x.grad.shape == (0, 3) and w.grad.tolist() == [0., 0., 0.]
    x = tg.zeros(3, 0, requires_grad=True)
    tg.nn.functional.log_softmax(x, -1).sum().backward()
    assert x.grad.shape == (3, 0)


def _modify_after(lib, make, modify):
    """Build a graph with ``make``, modify one tensor in place with ``modify``, run backward."""
    tensors, y = make(lib)
    modify(tensors)
    y.sum().backward()


def _mm(L):
    h = L.tensor(np.arange(4.).reshape(2, 2), requires_grad=True) * 1
    c = L.tensor(np.eye(2), requires_grad=False)
    return (h, c), h @ c


def _mm_left(L):
    h = L.tensor(np.arange(4.).reshape(2, 2), requires_grad=True) * 1
    c = L.tensor(np.eye(2), requires_grad=False)
    return (h, c), c @ h


def _einsum(L):
    h = L.tensor(np.arange(4.).reshape(2, 2), requires_grad=True) * 1
    c = L.tensor(np.eye(2), requires_grad=False)
    return (h, c), L.einsum('ij,jk->ik', h, c)


def _activation(name):
    def make(L):
        h = L.tensor([1., -2., 3.], requires_grad=True) * 1
        y = getattr(L.nn.functional, name)(h)
        return (y,), y * 1
    return make


def _attention_only_v(L):
    q = L.tensor(np.ones((1, 2, 3)), requires_grad=False) * 1
    k = L.tensor(np.ones((1, 2, 3)), requires_grad=False) * 1
    v = L.tensor(np.ones((1, 2, 3)), requires_grad=True)
    return (q, k), L.nn.functional.scaled_dot_product_attention(q, k, v)


UNUSED_SAVED = {
    'matmul, the operand needing grad changed': (_mm, lambda t: t[0].add_(1)),
    'matmul (left constant), the operand needing grad changed': (_mm_left, lambda t: t[0].add_(1)),
    'einsum, the operand needing grad changed': (_einsum, lambda t: t[0].add_(1)),
    'elu output changed': (_activation('elu'), lambda t: t[0].add_(1)),
    'selu output changed': (_activation('selu'), lambda t: t[0].add_(1)),
    'celu output changed': (_activation('celu'), lambda t: t[0].add_(1)),
    'attention, only value needs grad, query and key changed': (
        _attention_only_v, lambda t: (t[0].add_(1), t[1].add_(1))),
}


@pytest.mark.parametrize('name', UNUSED_SAVED)
def test_backward_ignores_changes_to_tensors_the_gradients_never_use(name):
    make, modify = UNUSED_SAVED[name]
    for lib in (torch, tg):
        _modify_after(lib, make, modify)


def test_backward_still_refuses_changes_to_tensors_it_uses():
    for lib in (torch, tg):
        with pytest.raises(RuntimeError, match='in-?place'):
            _modify_after(lib, _mm, lambda t: t[1].add_(1))  # the constant is needed for h's gradient


@pytest.mark.parametrize('name', ['elu', 'selu', 'celu'])
def test_elu_family_gradient_from_the_input(name):
    a = np.array([1.5, -2., 0.3, -0.01, 4.])
    g = np.array([0.5, -1., 2., 3., 0.25])
    res = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        (getattr(lib.nn.functional, name)(x) * lib.tensor(g)).sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12, atol=1e-15)


def test_clear_errors():
    with pytest.raises(RuntimeError, match='copy_'):
        tg.zeros(2, 3).copy_(tg.ones(4))
    with pytest.raises(RuntimeError, match='Linear'):
        tg.nn.Linear(-1, 2)


def _dtype_name(t):
    return str(t.dtype).replace('torch.', '')


DTYPES = {
    '0-d float64 does not promote a float32 tensor': lambda L: L.tensor(.5, dtype=L.float64) + L.tensor([1., 2.]),
    '0-d int64 does not promote an int8 tensor': lambda L: L.tensor(5) + L.tensor([1, 2], dtype=L.int8),
    '0-d float64 promotes an int tensor (higher category)': lambda L: L.tensor([1, 2]) + L.tensor(
        1.5, dtype=L.float64),
    'where with a 0-d float64 branch': lambda L: L.where(L.tensor([True, False]), L.tensor([1., 2.]),
                                                         L.tensor(3., dtype=L.float64)),
    'clamp with tensor bounds': lambda L: L.tensor([1., 2.]).clamp(L.tensor(0., dtype=L.float64),
                                                                  L.tensor([1.5, 1.5], dtype=L.float64)),
    'masked_fill with a 0-d float64 value': lambda L: L.tensor([1., 2.]).masked_fill(
        L.tensor([True, False]), L.tensor(5., dtype=L.float64)),
    'square of bool': lambda L: L.square(L.tensor([True, False])),
    'square of int': lambda L: L.square(L.tensor([1, 2])),
    'bool ** 2': lambda L: L.tensor([True, False]) ** 2,
    'sign of bool': lambda L: L.sign(L.tensor([True, False])),
    'minimum of bools': lambda L: L.minimum(L.tensor([True, False]), L.tensor([False, True])),
    'relu6 of int': lambda L: L.nn.functional.relu6(L.tensor([1, 7, -3])),
    'hardtanh of int': lambda L: L.nn.functional.hardtanh(L.tensor([1, 7, -3])),
    'argmax of a 0-d tensor with keepdim': lambda L: L.tensor(1.).argmax(0, keepdim=True),
    'logsumexp over an empty dim': lambda L: L.zeros(3, 0).logsumexp(1),
}


@pytest.mark.parametrize('name', DTYPES)
def test_result_dtype_and_value_as_torch(name):
    ours, ref = (DTYPES[name](lib) for lib in (tg, torch))
    assert _dtype_name(ours) == _dtype_name(ref) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize('op', ['sum', 'mean'])
def test_gradient_keeps_the_input_dtype_under_a_reduction_dtype(op):
    x = tg.ones(3, dtype=tg.float32, requires_grad=True)
    getattr(x, op)(dtype=tg.float64).backward()
    assert x.grad._data.dtype == np.float32


def test_masked_fill_value_gradient_comes_back_in_its_dtype():
    x = tg.tensor([1., 2.], requires_grad=True)
    v = tg.tensor(5., dtype=tg.float64, requires_grad=True)
    y = x.masked_fill(tg.tensor([True, False]), v)
    assert y.dtype == tg.float32
    (y * tg.tensor([2., 3.])).sum().backward()
    assert v.grad.item() == 2.0 and v.grad._data.dtype == np.float64


@pytest.mark.parametrize('op', ['var', 'std'])
def test_var_std_of_one_element_warn_as_torch(op):
    with pytest.warns(UserWarning, match='degrees of freedom'):
        assert np.isnan(getattr(tg.ones(1), op)().item())


def test_amax_of_an_empty_tensor_names_amax():
    with pytest.raises(IndexError, match='amax'):
        tg.zeros(0).amax()


@pytest.mark.parametrize('call,error', [
    (lambda L: L.zeros(2.5), TypeError),
    (lambda L: L.ones((2, 1.5)), TypeError),
    (lambda L: L.arange(0, 10, 0), RuntimeError),
    (lambda L: L.arange(5, 0, 1), RuntimeError),
])
def test_factories_refuse_what_torch_refuses(call, error):
    for lib in (tg, torch):
        with pytest.raises(error):
            call(lib)


def test_factories_take_integer_tensors_as_sizes():
    assert tg.zeros(tg.tensor(2), 3).shape == torch.zeros(torch.tensor(2), 3).shape


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
def test_softmax_of_a_scalar_has_zero_gradient(fn):
    grads = []
    for lib in (tg, torch):
        s = lib.tensor(2., requires_grad=True)
        (getattr(lib, fn)(s, 0) * 3).backward()
        grads.append(s.grad.item())
    assert grads == [0.0, 0.0]


def _values_and_grads(lib, fn):
    return [t.detach().numpy() for t in fn(lib)]


def _inplace_on_same_shape_expand(L):
    x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    h = x * 1
    v = h.expand(2, 2)
    v.mul_(2)
    (v * L.tensor([[1., 2.], [3., 4.]])).sum().backward()
    return h, x.grad


def _inplace_on_transpose_of_non_contiguous_non_leaf(L):
    x = L.tensor(np.arange(6.).reshape(2, 3), requires_grad=True)
    h = x.t() * 1  # NumPy keeps the transposed (non-C) layout of the input here
    h.t().mul_(2.)
    h[1:, ::2].mul_(L.tensor([[2.], [3.]]))
    (h * L.tensor(np.arange(6.).reshape(3, 2))).sum().backward()
    return h, x.grad


@pytest.mark.parametrize('fn', [_inplace_on_same_shape_expand, _inplace_on_transpose_of_non_contiguous_non_leaf],
                         ids=['expand', 'transpose'])
def test_inplace_ops_on_views_torch_accepts(fn):
    for ours, ref in zip(_values_and_grads(tg, fn), _values_and_grads(torch, fn)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_index_select_names_itself_for_an_out_of_range_index():
    with pytest.raises(IndexError, match='index_select'):
        tg.tensor([1., 2.]).index_select(0, tg.tensor([5]))
