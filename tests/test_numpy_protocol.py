"""NumPy drop-in autodiff (tensorgrad/ops/numpy_protocol.py): MyGrad's
front-page examples, ufuncs and functions on tensors vs PyTorch, mixed
operands, views, ``out=``/``where=``, unsupported functions and memory guarding."""
import gc

import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import compare, rand


# ---------------------------------------------------------------------- MyGrad's documented examples
def test_front_page_sum_of_squares():
    x = tg.tensor([1., 2., 3.], requires_grad=True)
    f = np.sum(x * x)
    assert isinstance(f, tg.Tensor)
    f.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2., 4., 6.])


def test_square_at_three():
    x = tg.tensor([3.0], requires_grad=True)
    f = np.square(x)
    assert isinstance(f, tg.Tensor) and f.item() == 9.0
    f.backward()
    assert x.grad.numpy()[0] == 6.0


def test_ndarray_exponent_is_a_constant():
    x = tg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = np.array([1.0, 2.0, 3.0])
    f = x ** y
    f.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1., 4., 12.])


def test_array_likes_are_constants():
    x = tg.tensor([1., 2., 3.], requires_grad=True)
    constant = [-1., 0., 10]
    (x * constant).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1., 0., 10.])


def test_ufunc_with_where_and_out():
    x = tg.tensor([1., 2., 3.], requires_grad=True)
    y = tg.zeros_like(x)
    np.multiply(x, x, where=[True, False, True], out=y)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2., 0., 6.])
    np.testing.assert_array_equal(y.numpy(), [1., 0., 9.])


def test_einsum_diagonal_view_example():
    x = tg.arange(9.).reshape(3, 3)
    diag_view = np.einsum('ii->i', x)
    np.testing.assert_array_equal(diag_view.numpy(), [0., 4., 8.])
    assert np.shares_memory(x, diag_view)
    diag_view *= -1  # mutates x in place
    np.testing.assert_array_equal(x.numpy(), [[-0., 1., 2.], [3., -4., 5.], [6., 7., -8.]])
    x.requires_grad_()
    (x ** 2).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[-0., 2., 4.], [6., -8., 10.], [12., 14., -16.]])


def test_masked_indexing_example():
    x = tg.tensor([[-0., 1., 2.], [3., -4., 5.], [6., 7., -8.]], requires_grad=True)
    (x[x < 4] ** 2).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0., 2., 4.], [6., -8., 0.], [0., 0., -16.]])


def test_drop_in_third_party_function():
    def some_numpy_func(a, b):  # written for NumPy only
        return np.mean(np.exp(a) * np.tanh(b) + np.einsum('ij,ij->i', a, b)[:, None])

    a, b = rand(3, 4), rand(3, 4)
    compare(some_numpy_func, lambda s, t: torch.mean(torch.exp(s) * torch.tanh(t) +
                                                     torch.einsum('ij,ij->i', s, t)[:, None]), a, b)


# ---------------------------------------------------------------------- ufuncs vs torch
UFUNCS = [
    (np.exp, torch.exp, (-2, 2)), (np.log, torch.log, (0.1, 3)), (np.sqrt, torch.sqrt, (0.1, 3)),
    (np.sin, torch.sin, (-3, 3)), (np.cos, torch.cos, (-3, 3)), (np.tan, torch.tan, (-1, 1)),
    (np.tanh, torch.tanh, (-3, 3)), (np.square, torch.square, (-2, 2)), (np.negative, torch.neg, (-2, 2)),
    (np.absolute, torch.abs, (0.1, 2)), (np.arcsin, torch.asin, (-0.9, 0.9)), (np.arctan, torch.atan, (-2, 2)),
    (np.sinh, torch.sinh, (-2, 2)), (np.log1p, torch.log1p, (0, 2)), (np.expm1, torch.expm1, (-1, 1)),
    (np.log2, torch.log2, (0.1, 3)), (np.log10, torch.log10, (0.1, 3)), (np.exp2, torch.exp2, (-2, 2)),
    (np.reciprocal, torch.reciprocal, (0.5, 2)), (np.positive, torch.positive, (-1, 1)),
]


@pytest.mark.parametrize('uf,tf,dom', UFUNCS, ids=[u[0].__name__ for u in UFUNCS])
def test_unary_ufuncs(uf, tf, dom):
    compare(uf, tf, rand(3, 4, low=dom[0], high=dom[1]), rtol=1e-4)


BINARY = [
    (np.add, torch.add), (np.subtract, torch.sub), (np.multiply, torch.mul), (np.divide, torch.div),
    (np.maximum, torch.maximum), (np.minimum, torch.minimum), (np.arctan2, torch.atan2),
    (np.logaddexp, torch.logaddexp), (np.power, torch.pow),
]


@pytest.mark.parametrize('uf,tf', BINARY, ids=[u[0].__name__ for u in BINARY])
@pytest.mark.parametrize('shapes', [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4))])
def test_binary_ufuncs(uf, tf, shapes):
    compare(uf, tf, rand(*shapes[0], low=0.5, high=2), rand(*shapes[1], low=0.5, high=2), rtol=1e-4)


def test_matmul_ufunc_and_operator_with_ndarray():
    a, b = rand(3, 4), rand(4, 2)
    compare(np.matmul, torch.matmul, a, b)
    t = tg.tensor(b, requires_grad=True)
    out = a @ t  # ndarray @ Tensor
    assert isinstance(out, tg.Tensor)
    out.backward(np.ones((3, 2), np.float32))
    np.testing.assert_allclose(t.grad.numpy(), a.T @ np.ones((3, 2), np.float32), rtol=1e-6)


@pytest.mark.parametrize('op', ['+', '-', '*', '/', '**'])
def test_ndarray_op_tensor_returns_tensor(op):
    a = rand(3, low=0.5, high=2)
    t = tg.tensor(rand(3, low=0.5, high=2), requires_grad=True)
    out = eval(f'a {op} t', {'a': a, 't': t})
    assert isinstance(out, tg.Tensor) and out.requires_grad
    tt = torch.tensor(t.numpy(), requires_grad=True)
    ref = eval(f'a {op} tt', {'a': torch.tensor(a), 'tt': tt})
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    g = rand(3)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-5)


def test_comparisons_and_nondifferentiable_ufuncs():
    t = tg.tensor([1., -2., 3.5], requires_grad=True)
    assert isinstance(np.greater(t, 0), tg.Tensor)
    np.testing.assert_array_equal(np.less(t, 0).numpy(), [False, True, False])
    fl = np.floor(t)
    assert isinstance(fl, tg.Tensor) and not fl.requires_grad
    np.testing.assert_array_equal(fl.numpy(), [1., -2., 3.])
    np.testing.assert_array_equal(np.isfinite(t).numpy(), [True, True, True])


def test_ufunc_reduce():
    compare(lambda t: np.add.reduce(t, axis=1), lambda t: t.sum(1), rand(3, 4))
    compare(lambda t: np.maximum.reduce(t, axis=0), lambda t: t.amax(0), rand(3, 4))


# ---------------------------------------------------------------------- functions vs torch
FUNCS = [
    ('sum_axis', lambda t: np.sum(t, axis=0), lambda t: t.sum(0)),
    ('sum_keepdims', lambda t: np.sum(t, axis=(0, 2), keepdims=True), lambda t: t.sum((0, 2), keepdim=True)),
    ('mean', lambda t: np.mean(t, axis=0), lambda t: t.mean(0)),
    ('mean_all', lambda t: np.mean(t), lambda t: t.mean()),
    ('var_ddof', lambda t: np.var(t, axis=1, ddof=1), lambda t: t.var(1, correction=1)),
    ('std', lambda t: np.std(t, axis=-1), lambda t: t.std(-1, correction=0)),
    ('max', lambda t: np.max(t, axis=1), lambda t: t.amax(1)),
    ('amin', lambda t: np.amin(t, axis=(0, 1)), lambda t: t.amin((0, 1))),
    ('prod', lambda t: np.prod(t, axis=2), lambda t: t.prod(2)),
    ('cumsum', lambda t: np.cumsum(t, axis=1), lambda t: t.cumsum(1)),
    ('cumprod', lambda t: np.cumprod(t, axis=2), lambda t: t.cumprod(2)),
    ('reshape', lambda t: np.reshape(t, (4, 6)), lambda t: t.reshape(4, 6)),
    ('reshape_kw', lambda t: np.reshape(t, shape=(-1,)), lambda t: t.reshape(-1)),
    ('ravel', np.ravel, lambda t: t.reshape(-1)),
    ('transpose', np.transpose, lambda t: t.permute(2, 1, 0)),
    ('transpose_axes', lambda t: np.transpose(t, (1, 0, 2)), lambda t: t.permute(1, 0, 2)),
    ('moveaxis', lambda t: np.moveaxis(t, 0, -1), lambda t: t.moveaxis(0, -1)),
    ('swapaxes', lambda t: np.swapaxes(t, 0, 2), lambda t: t.swapaxes(0, 2)),
    ('expand_dims', lambda t: np.expand_dims(t, (0, 2)), lambda t: t.unsqueeze(0).unsqueeze(2)),
    ('squeeze', lambda t: np.squeeze(np.expand_dims(t, 1)), lambda t: t),
    ('clip', lambda t: np.clip(t, -0.3, 0.4), lambda t: t.clamp(-0.3, 0.4)),
    ('flip', lambda t: np.flip(t, 1), lambda t: t.flip(1)),
    ('roll', lambda t: np.roll(t, 2, axis=2), lambda t: t.roll(2, 2)),
    ('repeat', lambda t: np.repeat(t, 2, axis=1), lambda t: t.repeat_interleave(2, 1)),
    ('repeat_flat', lambda t: np.repeat(t, 2), lambda t: t.reshape(-1).repeat_interleave(2)),
    ('tile', lambda t: np.tile(t, (2, 1, 1)), lambda t: t.tile(2, 1, 1)),
    ('broadcast_to', lambda t: np.broadcast_to(t, (2, 2, 3, 4)), lambda t: t.broadcast_to(2, 2, 3, 4)),
    ('norm', lambda t: np.linalg.norm(t), lambda t: torch.linalg.norm(t)),
    ('norm_axis', lambda t: np.linalg.norm(t, axis=-1, keepdims=True),
     lambda t: torch.linalg.norm(t, dim=-1, keepdim=True)),
    ('einsum', lambda t: np.einsum('ijk->kj', t), lambda t: torch.einsum('ijk->kj', t)),
    ('tensordot', lambda t: np.tensordot(t, t, axes=([0, 1], [0, 1])),
     lambda t: torch.tensordot(t, t, dims=([0, 1], [0, 1]))),
    ('trace', lambda t: np.trace(t[0]), lambda t: torch.trace(t[0])),
    ('diagonal', lambda t: np.diagonal(t, 0, 1, 2), lambda t: torch.diagonal(t, 0, 1, 2)),
    ('tril', lambda t: np.tril(t, -1), lambda t: torch.tril(t, -1)),
    ('triu', lambda t: np.triu(t), lambda t: torch.triu(t)),
    ('pad', lambda t: np.pad(t, ((0, 0), (1, 2), (2, 1))),
     lambda t: torch.nn.functional.pad(t, (2, 1, 1, 2))),
    ('pad_reflect', lambda t: np.pad(t, ((0, 0), (1, 2), (2, 1)), mode='reflect'),
     lambda t: torch.nn.functional.pad(t, (2, 1, 1, 2), mode='reflect')),
    ('copy', np.copy, lambda t: t.clone()),
    ('atleast_3d', np.atleast_3d, lambda t: t),
    ('split', lambda t: np.split(t, 2, axis=2)[1], lambda t: t.split(2, 2)[1]),
]


@pytest.mark.parametrize('name,f,tf', FUNCS, ids=[f[0] for f in FUNCS])
def test_numpy_functions(name, f, tf):
    out = compare(f, tf, rand(2, 3, 4))
    assert isinstance(out, tg.Tensor)


def test_joins_and_where_with_mixed_operands():
    a, b = rand(2, 3), rand(2, 3)
    compare(lambda s, t: np.concatenate([s, t, np.ones((1, 3), np.float32)]),
            lambda s, t: torch.cat([s, t, torch.ones(1, 3)]), a, b)
    compare(lambda s, t: np.stack([s, t], axis=1), lambda s, t: torch.stack([s, t], 1), a, b)
    compare(lambda s, t: np.where(s > 0, s, t), lambda s, t: torch.where(s > 0, s, t), a, b)
    compare(lambda s: np.where(s > 0, s, 0.5), lambda s: torch.where(s > 0, s, torch.tensor(0.5)), a)
    compare(lambda s, t: np.dot(s, t.T), lambda s, t: s @ t.T, a, b)
    compare(lambda s, t: np.outer(s[0], t[1]), lambda s, t: torch.outer(s[0], t[1]), a, b)
    compare(lambda s, t: np.inner(s, t), lambda s, t: torch.inner(s, t), a, b)


def test_non_differentiable_queries_run_on_data():
    t = tg.tensor(rand(2, 3), requires_grad=True)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6
    assert np.allclose(t, t.numpy())
    assert not np.shares_memory(t, t.clone())
    z = np.zeros_like(t)
    assert isinstance(z, tg.Tensor) and z.shape == (2, 3) and not z.requires_grad


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize('call,name', [(lambda t: np.fft.fft(t), 'numpy.fft.fft'),
                                       (lambda t: np.sort(t), 'numpy.sort'),
                                       (lambda t: np.linalg.inv(t), 'numpy.linalg.inv'),
                                       (lambda t: np.hypot(t, t), 'numpy.hypot')])
def test_unsupported_numpy_function_raises(call, name):
    t = tg.tensor(rand(3, 3), requires_grad=True)
    with pytest.raises(TypeError, match=name.replace('.', r'\.')) as e:
        call(t)
    assert 't.numpy()' in str(e.value)


def test_out_ndarray_with_grad_raises():
    t = tg.tensor(rand(3), requires_grad=True)
    with pytest.raises(TypeError, match='out='):
        np.exp(t, out=np.empty(3, np.float32))


def test_out_ndarray_without_grad_is_allowed():
    t = tg.tensor([0., 1.], requires_grad=False)
    out = np.empty(2, np.float32)
    res = np.exp(t, out=out)
    assert res is out
    np.testing.assert_allclose(out, np.exp([0., 1.]), rtol=1e-6)


def test_where_without_out_zeros_the_rest():
    t = tg.tensor([1., 2., 3.], requires_grad=True)
    y = np.exp(t, where=np.array([True, False, True]))
    np.testing.assert_allclose(y.numpy(), [np.e, 0., np.e ** 3], rtol=1e-6)
    y.backward()
    np.testing.assert_allclose(t.grad.numpy(), [np.e, 0., np.e ** 3], rtol=1e-6)


# ---------------------------------------------------------------------- __array__
def test_asarray_returns_data():
    t = tg.tensor([1., 2.])
    a = np.asarray(t)
    assert a.dtype == np.float32 and np.shares_memory(a, t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    c = np.array(t, copy=True)
    assert not np.shares_memory(c, t.data)
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)


# ---------------------------------------------------------------------- views
def test_views_share_memory():
    x = tg.tensor(rand(3, 4), requires_grad=True)
    for v in (x[1], x[:, 1:3], np.reshape(x, (4, 3)), np.transpose(x), x.T, np.einsum('ij->ji', x)):
        assert np.shares_memory(v, x)
        assert v._vc is x._vc


# ---------------------------------------------------------------------- memory guarding
def test_raw_array_used_as_constant_is_locked_until_backward():
    x = np.arange(3.)
    y = tg.ones(3, requires_grad=True)
    z = x * y  # ndarray * Tensor goes through __array_ufunc__
    with pytest.raises(ValueError, match='read-only'):
        x[:] = 0  # would corrupt the gradient of y
    z.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0., 1., 2.])  # the correct gradient
    x[:] = 0  # writeable again once backprop passed the op
    assert x.flags.writeable


def test_lock_released_when_graph_is_freed():
    x = np.arange(3.)
    z = np.multiply(x, tg.ones(3, requires_grad=True))
    assert not x.flags.writeable
    del z
    gc.collect()
    assert x.flags.writeable


def test_mem_guard_off_skips_locking():
    x = np.arange(3.)
    with tg.mem_guard_off():
        z = x * tg.ones(3, requires_grad=True)
    assert x.flags.writeable
    del z


def test_already_readonly_arrays_stay_readonly():
    x = np.arange(3.)
    x.flags.writeable = False
    z = x * tg.ones(3, requires_grad=True)
    z.backward()
    assert not x.flags.writeable


def test_asarray_of_graph_tensor_is_read_only():
    w = tg.tensor([1., 2., 3.], requires_grad=True)
    y = w * w  # MulBackward saved w's array
    view = np.asarray(w)
    with pytest.raises(ValueError, match='read-only'):
        view[0] = 100.  # would silently corrupt the saved array and the gradient
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2., 4., 6.])
    assert np.asarray(tg.tensor([1., 2.], requires_grad=False)).flags.writeable  # outside autograd: writeable


def test_version_counter_catches_inplace_tensor_ops():
    a = tg.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    c = np.exp(b)
    b.add_(1)  # exp saved its output, not b; but mul of b would see the change
    d = np.multiply(b, b)
    b.mul_(2)
    with pytest.raises(RuntimeError, match='modified by an in-place operation'):
        d.backward(np.ones(3, np.float32))
    del c


def test_global_memory_guard_switches():
    try:
        tg.turn_memory_guarding_off()
        x = np.arange(3.)
        z = x * tg.ones(3, requires_grad=True)
        assert x.flags.writeable
        with tg.mem_guard_on():
            z2 = x * tg.ones(3, requires_grad=True)
            assert not x.flags.writeable
        z2.backward()
        assert x.flags.writeable
    finally:
        tg.turn_memory_guarding_on()
    del z
