"""Elementwise ops against PyTorch: forward, backward (non-uniform upstream),
broadcasting, scalars/array-likes on either side, dtypes, errors."""
import operator

import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import assert_close, compare, rand

SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((), (2, 3)),
               ((2, 3, 1), (1, 1, 5))]

BINARY = {
    'add': (lambda a, b: a + b, lambda a, b: a + b),
    'sub': (lambda a, b: a - b, lambda a, b: a - b),
    'mul': (lambda a, b: a * b, lambda a, b: a * b),
    'div': (lambda a, b: a / b, lambda a, b: a / b),
    'pow': (lambda a, b: a ** b, lambda a, b: a ** b),
    'maximum': (tg.maximum, torch.maximum),
    'minimum': (tg.minimum, torch.minimum),
    'fn_add': (tg.add, torch.add),
    'fn_mul': (tg.mul, torch.mul),
    'method_sub': (lambda a, b: a.sub(b), lambda a, b: a.sub(b)),
    'method_div': (lambda a, b: a.div(b), lambda a, b: a.div(b)),
}


def _operands(name, sa, sb):
    a, b = rand(*sa), rand(*sb)
    if name == 'pow':
        a, b = np.abs(a) + 0.5, np.abs(b) + 0.5
    if name == 'div':
        b = np.sign(b) * (np.abs(b) + 0.5)
    return a, b


@pytest.mark.parametrize('name', list(BINARY))
@pytest.mark.parametrize('shapes', SHAPE_PAIRS, ids=str)
def test_binary_broadcast(name, shapes, device):
    f, g = BINARY[name]
    a, b = _operands(name, *shapes)
    compare(f, g, a, b, device=device)
    compare(lambda x, y: f(y, x), lambda x, y: g(y, x), a, b, device=device)


@pytest.mark.parametrize('name', ['add', 'sub', 'mul', 'div', 'pow'])
@pytest.mark.parametrize('scalar', [2, 0.5, -1.5, True])
def test_scalar_either_side(name, scalar, device):
    if scalar is True and name in ('pow', 'sub'):
        pytest.skip('torch rejects this bool scalar')
    f, g = BINARY[name]
    a = np.abs(rand(3, 4)) + 0.5
    out = compare(lambda x: f(x, scalar), lambda x: g(x, scalar), a, device=device)
    assert out.dtype == tg.float32
    if name == 'pow':
        a = rand(3, 4)  # base is the scalar: exponent may be any sign
        if scalar <= 0:
            return
    out = compare(lambda x: f(scalar, x), lambda x: g(scalar, x), a, device=device)
    assert out.dtype == tg.float32


@pytest.mark.parametrize('name', ['add', 'sub', 'mul', 'div', 'maximum'])
def test_array_like_operands(name, device):
    f, g = BINARY[name]
    a = rand(2, 3)
    lst = [[1.0, 2.0, 3.0]]
    compare(lambda x: f(x, lst), lambda x: g(x, torch.tensor(lst)), a, device=device)
    compare(lambda x: f(tg.tensor(lst, device=device), x), lambda x: g(torch.tensor(lst), x), a, device=device)
    arr = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    compare(lambda x: f(x, arr), lambda x: g(x, torch.tensor(arr)), a, device=device)


def test_ndarray_on_left_defers_to_tensor(device):
    a = tg.tensor(rand(2, 3), device=device)
    arr = np.ones((2, 3), dtype=np.float32)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv):
        out = op(arr, a)
        assert isinstance(out, tg.Tensor), op
        assert_close(out, op(arr, a.numpy()))


def test_float32_not_upcast(device):
    a = tg.tensor(rand(3), device=device)
    for out in (a + 1.5, 2.5 * a, a / 3, a ** 2.0, a - np.float64(1.0), a * 2, 1 - a, 2 / a, 2 ** a):
        assert out.dtype == tg.float32


def test_dtype_promotion(device):
    i = tg.tensor([1, 2, 3], device=device)
    f = tg.tensor([0.5, 1.0, 1.5], device=device)
    b = tg.tensor([True, False, True], device=device)
    assert i.dtype == tg.int64 and f.dtype == tg.float32 and b.dtype == tg.bool
    assert (i + f).dtype == tg.float32
    assert (i + 1).dtype == tg.int64
    assert (i * 1.5).dtype == tg.float32
    assert (i / 2).dtype == tg.float32
    assert (b + i).dtype == tg.int64
    assert (f + f.double()).dtype == tg.float64
    assert_close(i / 2, torch.tensor([1, 2, 3]) / 2)


@pytest.mark.parametrize('shape', [(5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize('name', ['exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'abs', 'neg',
                                  'sign'])
def test_unary(name, shape, device):
    a = rand(*shape, low=-3, high=3)
    if name in ('log', 'sqrt'):
        a = np.abs(a) + 0.1
    if name == 'neg':
        compare(lambda x: -x, lambda x: -x, a, device=device)
    compare(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a, device=device)
    compare(lambda x: getattr(tg, name)(x), lambda x: getattr(torch, name)(x), a, device=device)


def test_unary_on_ints_gives_float(device):
    i = tg.tensor([1, 2, 3], device=device)
    assert i.exp().dtype == tg.float32
    assert i.sqrt().dtype == tg.float32
    assert (-i).dtype == tg.int64
    assert i.abs().dtype == tg.int64


def test_sigmoid_extreme_values(device):
    x = tg.tensor([-100.0, -20.0, 0.0, 20.0, 100.0], device=device)
    assert_close(x.sigmoid(), torch.tensor([-100.0, -20.0, 0.0, 20.0, 100.0]).sigmoid())
    assert x.sigmoid().dtype == tg.float32


@pytest.mark.parametrize('lo,hi', [(-0.5, 0.5), (None, 0.2), (-0.2, None), (0.0, 0.0)])
def test_clamp(lo, hi, device):
    a = rand(4, 5)
    compare(lambda x: x.clamp(lo, hi), lambda x: x.clamp(lo, hi), a, device=device)
    compare(lambda x: tg.clamp(x, min=lo, max=hi), lambda x: torch.clamp(x, min=lo, max=hi), a, device=device)


def test_clamp_needs_a_bound(device):
    with pytest.raises(ValueError, match='clamp'):
        tg.tensor([1.0], device=device).clamp()


def test_relu_at_zero_and_abs_at_zero(device):
    a = np.array([-1.0, 0.0, 1.0], dtype=np.float32)
    compare(lambda x: x.relu(), lambda x: x.relu(), a, device=device)
    compare(lambda x: x.abs(), lambda x: x.abs(), a, device=device)


def test_pow_tensor_exponent_with_zero_base(device):
    a = np.array([0.0, 1.0, 2.0], dtype=np.float32)
    b = np.array([2.0, 3.0, 0.5], dtype=np.float32)
    compare(lambda x, y: x ** y, lambda x, y: x ** y, a, b, device=device)


def test_maximum_ties(device):
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b = np.array([1.0, 1.0, 4.0], dtype=np.float32)
    compare(tg.maximum, torch.maximum, a, b, device=device)
    compare(tg.minimum, torch.minimum, a, b, device=device)


@pytest.mark.parametrize('op', ['eq', 'ne', 'lt', 'le', 'gt', 'ge'])
def test_comparisons(op, device):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=np.float32)
    b = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    ta, tb = tg.tensor(a, device=device), tg.tensor(b, device=device)
    fn = getattr(operator, op)
    for out, ref in ((fn(ta, tb), fn(torch.tensor(a), torch.tensor(b))),
                     (fn(ta, 2.0), fn(torch.tensor(a), 2.0)),
                     (fn(2, ta), fn(2, torch.tensor(a))),
                     (getattr(ta, op)(tb), getattr(torch.tensor(a), op)(torch.tensor(b)))):
        assert out.dtype == tg.bool
        assert not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_equality_is_elementwise_but_hashable(device):
    a = tg.tensor([1.0, 2.0], device=device)
    assert (a == a).all()
    assert len({a, a}) == 1


def test_invert_and_logical(device):
    m = tg.tensor([True, False, True], device=device)
    n = tg.tensor([True, True, False], device=device)
    np.testing.assert_array_equal((~m).numpy(), [False, True, False])
    np.testing.assert_array_equal((m & n).numpy(), [True, False, False])
    np.testing.assert_array_equal((m | n).numpy(), [True, True, True])
    np.testing.assert_array_equal((m ^ n).numpy(), [False, True, True])
    np.testing.assert_array_equal(tg.logical_not(m).numpy(), [False, True, False])
    with pytest.raises(TypeError, match='invert'):
        ~tg.tensor([1.0], device=device)


def test_broadcast_error_names_op_and_shapes(device):
    a, b = tg.tensor(rand(3, 4), device=device), tg.tensor(rand(5,), device=device)
    for fn, name in ((operator.add, 'add'), (operator.mul, 'mul'), (operator.sub, 'sub'),
                     (operator.truediv, 'div'), (tg.maximum, 'maximum'), (operator.lt, 'lt')):
        with pytest.raises(ValueError, match=rf"{name}.*\(3, 4\).*\(5,\)"):
            fn(a, b)


def test_error_before_state_change(device):
    a = tg.tensor(rand(3, 4), device=device)
    before = a.numpy().copy()
    with pytest.raises(ValueError):
        with tg.no_grad():
            a += tg.tensor(rand(5), device=device)
    np.testing.assert_array_equal(a.numpy(), before)
    assert a._version == 0


@pytest.mark.parametrize('method,dtype', [('float', 'float32'), ('double', 'float64'), ('long', 'int64'),
                                          ('int', 'int32'), ('bool', 'bool'), ('half', 'float16')])
def test_casts(method, dtype, device):
    a = tg.tensor([[0.0, 1.5], [-2.5, 3.0]], device=device)
    out = getattr(a, method)()
    ref = getattr(torch.tensor([[0.0, 1.5], [-2.5, 3.0]]), method)()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert a.dtype == tg.float32  # not in place by default


def test_cast_inplace(device):
    a = tg.tensor([1.5, 2.5], device=device, requires_grad=False)
    assert a.long(inplace=True) is a
    assert a.dtype == tg.int64


def test_cast_differentiable(device):
    a = rand(3)
    compare(lambda x: x.double() * 2, lambda x: x.double() * 2, a, device=device)
    compare(lambda x: x.to(tg.float64), lambda x: x.to(torch.float64), a, device=device)
    compare(lambda x: x.to('float64'), lambda x: x.to(torch.float64), a, device=device)


def test_clone(device):
    a = rand(2, 3)
    compare(lambda x: x.clone() * 2, lambda x: x.clone() * 2, a, device=device)
    t = tg.tensor(a, device=device)
    c = t.clone()
    assert c.data is not t.data and not np.shares_memory(c.numpy(), t.numpy())


def test_remainder_and_floor_divide(device):
    a = np.array([5.5, -3.0, 7.0, -7.5], dtype=np.float32)
    b = np.array([2.0, 2.0, -3.0, 2.5], dtype=np.float32)
    # torch has no derivative of remainder w.r.t. the divisor: checked by hand below
    compare(lambda x, y: x % y, lambda x, y: x % y, a, b, device=device, grad=[True, False])
    compare(lambda x: x % 2.0, lambda x: x % 2.0, a, device=device)
    compare(lambda x: 7.0 % x, lambda x: 7.0 % x, b, device=device, grad=[False])
    compare(tg.remainder, torch.remainder, a, b, device=device, grad=[True, False])
    y = tg.tensor(b, device=device)
    (tg.tensor(a, device=device, requires_grad=False) % y).sum().backward()
    assert_close(y.grad, -np.floor(a / b))
    for out, ref in ((tg.tensor(a) // tg.tensor(b), torch.tensor(a) // torch.tensor(b)),
                     (tg.tensor([7, -7]) // 2, torch.tensor([7, -7]) // 2), (7 // tg.tensor([2, 3]), 7 // torch.tensor([2, 3]))):
        assert_close(out, ref)
        assert str(out.dtype) == str(ref.dtype).replace('torch.', '')


def test_pow_int_negative_exponent_raises(device):
    with pytest.raises(ValueError, match='pow.*negative'):
        tg.tensor([1, 2], device=device) ** -1


def test_compare_with_none():
    t = tg.tensor([1.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711


def test_numpy_scalars_act_as_python_scalars(device):
    a = tg.tensor(rand(3), device=device)
    for s in (np.float64(2.0), np.float32(2.0), np.int64(2), np.int32(2)):
        assert (a * s).dtype == tg.float32 and (s * a).dtype == tg.float32 and (a + s).dtype == tg.float32
    i = tg.tensor([1, 2], dtype='int32', device=device)
    assert (i + np.int64(1)).dtype == tg.int32


def test_clamp_with_tensor_bounds_requiring_grad(device):
    a, lo, hi = rand(3, 4), rand(4, low=-0.6, high=-0.1), rand(3, 1, low=0.1, high=0.6)
    compare(lambda x, l, h: x.clamp(l, h), lambda x, l, h: x.clamp(l, h), a, lo, hi, device=device)
    compare(lambda x, l: x.clamp(min=l), lambda x, l: x.clamp(min=l), a, lo, device=device)
