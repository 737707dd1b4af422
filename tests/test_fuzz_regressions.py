"""Regressions found by the differential fuzzer (tests/fuzz), each the
minimal program it reported, checked against torch."""
import numpy as np
import pytest
import torch

import tensorgrad as tg


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('op', ['flip', 'cumsum', 'cumprod', 'softmax', 'log_softmax'])
@pytest.mark.parametrize('dim', [0, -1])
def test_zero_dim_tensor_takes_dim_0_and_minus_1(op, dim, dtype):
    """A 0-d tensor accepts dim 0 and -1 as in torch (flip raised), forward and backward."""
    a = np.array(-1.25, dtype=dtype)
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    arg = (dim,) if op == 'flip' else dim
    y, yt = getattr(x, op)(arg), getattr(xt, op)(arg)
    assert tuple(y.shape) == () and str(y.dtype) == dtype
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    (y * 1.7).backward()
    (yt * 1.7).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('op', ['flip', 'cumsum', 'cumprod', 'softmax', 'log_softmax'])
@pytest.mark.parametrize('dim', [1, -2])
def test_zero_dim_tensor_rejects_other_dims(op, dim):
    """Other dims raise IndexError for a 0-d tensor in both libraries (cumsum, cumprod and
    softmax accepted any dim)."""
    arg = (dim,) if op == 'flip' else dim
    with pytest.raises(IndexError):
        getattr(torch.tensor(1.0), op)(arg)
    with pytest.raises(IndexError, match=op):
        getattr(tg.tensor(np.array(1.0), requires_grad=False), op)(arg)


@pytest.mark.parametrize('make', [
    lambda lib, x: x.logical_not(),
    lambda lib, x: x.argmax(0),
    lambda lib, x: x.argmin(-1),
])
def test_zero_dim_results_are_tensors_usable_in_arithmetic(make):
    """logical_not of a 0-d tensor and argmax/argmin(dim) of a 1-d one held a NumPy
    scalar, so the next binary op raised 'expected all tensors on the same device'."""
    a = np.array([0.5, -1.5], dtype=np.float32)
    for src in (a, a[0]):
        if src.ndim == 0 and make.__code__.co_names[-1] != 'logical_not':
            continue
        y = make(tg, tg.tensor(np.array(src), requires_grad=False))
        yt = make(torch, torch.tensor(np.array(src)))
        other = np.array([True, False])
        out, ref = y + tg.tensor(other, requires_grad=False), yt + torch.tensor(other)
        assert str(out.dtype) == str(ref.dtype).replace('torch.', '')
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        np.testing.assert_array_equal((y * 3).numpy(), (yt * 3).numpy())


# ---------------------------------------------------------------------- logical / bitwise, bool sub, clamp,
# lerp, matmul dtypes, view strides, squeeze of 0-d (tests/fuzz/known.py entries fixed)
def _pair(a, b, requires_grad=False):
    """The same operands in both libraries (a float operand may require grad)."""
    def mk(lib, x):
        rg = requires_grad and x.dtype.kind == 'f'
        return tg.tensor(x, requires_grad=rg) if lib is tg else torch.tensor(x, requires_grad=rg)
    return (mk(tg, a), mk(tg, b)), (mk(torch, a), mk(torch, b))


def _same(y, yt):
    assert str(y.dtype).split('.')[-1] == str(yt.dtype).split('.')[-1], (y.dtype, yt.dtype)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(np.asarray(y.tolist()), np.asarray(yt.tolist()))


_TRUTH = [np.array(0.5478, dtype='float32'), np.array([3, 0], dtype='int64'), np.array([[0.0, np.nan], [2.5, 0.0]]),
          np.array([True, False]), np.zeros((0, 2), dtype='float32'), np.array([-2, 0], dtype='int32')]


@pytest.mark.parametrize('op', ['logical_and', 'logical_or', 'logical_xor'])
@pytest.mark.parametrize('i', range(len(_TRUTH)))
@pytest.mark.parametrize('j', range(len(_TRUTH)))
def test_logical_ops_take_truth_values_of_any_dtype(op, i, j):
    """logical_and/or/xor cast both operands to bool and return bool (they were bitwise:
    a float operand raised and int64 operands gave int64)."""
    a, b = _TRUTH[i], _TRUTH[j]
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        pytest.skip('shapes do not broadcast')
    (x, y), (xt, yt) = _pair(a, b, requires_grad=True)
    _same(getattr(tg, op)(x, y), getattr(torch, op)(xt, yt))
    _same(getattr(x, op)(y), getattr(xt, op)(yt))


def test_logical_ops_on_non_contiguous_operands():
    a = np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0]], dtype='float32')
    x, xt = tg.tensor(a, requires_grad=False), torch.tensor(a)
    i = np.array([0, 7], dtype='int64')
    _same(tg.logical_xor(x.T, tg.tensor(i)), torch.logical_xor(xt.T, torch.tensor(i)))
    _same(tg.logical_or(x[:, ::2], x[:1].expand(2, 3)[:, 1:]), torch.logical_or(xt[:, ::2], xt[:1].expand(2, 3)[:, 1:]))


_BITS = [np.array([3, 0, -5], dtype='int64'), np.array([True, False, True]), np.array(6, dtype='int32'),
         np.array([1, 2, 255], dtype='uint8'), np.array([0.5, 1.0, 2.0], dtype='float32')]


@pytest.mark.parametrize('op', ['&', '|', '^'])
@pytest.mark.parametrize('i', range(len(_BITS)))
@pytest.mark.parametrize('j', range(len(_BITS)))
def test_and_or_xor_operators_are_bitwise(op, i, j):
    """``&``, ``|``, ``^`` are torch's bitwise ops: integer/bool only (promoted as torch), a
    float operand raises in both libraries (they were logical ops that accepted floats)."""
    name = {'&': 'bitwise_and', '|': 'bitwise_or', '^': 'bitwise_xor'}[op]
    (x, y), (xt, yt) = _pair(_BITS[i], _BITS[j])
    f = {'&': lambda u, v: u & v, '|': lambda u, v: u | v, '^': lambda u, v: u ^ v}[op]
    try:
        want = f(xt, yt)
    except (RuntimeError, TypeError) as e:  # NotImplementedError is a RuntimeError
        with pytest.raises(type(e)):
            f(x, y)
        with pytest.raises(type(e)):
            getattr(tg, name)(x, y)
        return
    _same(f(x, y), want)
    _same(getattr(tg, name)(x, y), getattr(torch, name)(xt, yt))
    _same(getattr(x, name)(y), want)


@pytest.mark.parametrize('scalar', [True, False, 3, -1])
def test_bitwise_operators_with_python_numbers_on_either_side(scalar):
    for a in (np.array([True, False]), np.array([5, 2], dtype='int64'), np.array(4, dtype='int16')):
        x, xt = tg.tensor(a), torch.tensor(a)
        for f in (lambda u: u & scalar, lambda u: scalar | u, lambda u: u ^ scalar, lambda u: scalar ^ u):
            _same(f(x), f(xt))
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]) & 1.5
    with pytest.raises(RuntimeError, match='bitwise_and'):
        tg.tensor([1, 2]) & 1.5


def test_invert_and_bitwise_not():
    for a in (np.array([True, False]), np.array([[3, 0], [-1, 7]], dtype='int64'), np.array(5, dtype='int8')):
        x, xt = tg.tensor(a), torch.tensor(a)
        _same(~x, ~xt)
        _same(tg.bitwise_not(x), torch.bitwise_not(xt))
        _same(x.bitwise_not(), xt.bitwise_not())
        _same(~x.T if x.ndim == 2 else ~x, ~xt.T if xt.ndim == 2 else ~xt)
    f = tg.tensor([1.5], requires_grad=False)
    with pytest.raises(TypeError):
        ~torch.tensor([1.5])
    with pytest.raises(TypeError, match='invert'):
        ~f
    with pytest.raises(NotImplementedError):
        torch.bitwise_not(torch.tensor([1.5]))
    with pytest.raises(NotImplementedError, match='bitwise_not'):
        tg.bitwise_not(f)


def test_inplace_bitwise_and_logical_ops():
    """``&=`` and friends work in place with torch's cast rule (a result that needs a
    wider kind than the tensor raises before anything is written)."""
    i, b = np.array([6, 3, 0], dtype='int64'), np.array([True, False, True])
    for op in ('bitwise_and_', 'bitwise_or_', 'bitwise_xor_', 'logical_and_', 'logical_or_', 'logical_xor_'):
        for a, c in ((i, b), (b, b), (b, i), (i, i)):
            (x, y), (xt, yt) = _pair(a, c)
            try:
                want = getattr(xt, op)(yt)
            except RuntimeError:
                with pytest.raises(RuntimeError, match=op):
                    getattr(x, op)(y)
                np.testing.assert_array_equal(x.numpy(), a)  # unchanged
                continue
            data = x._data
            _same(getattr(x, op)(y), want)
            assert x._data is data
    x, xt = tg.tensor(i), torch.tensor(i)
    x &= tg.tensor(b)
    xt &= torch.tensor(b)
    _same(x, xt)
    x, xt = tg.tensor(b), torch.tensor(b)
    x.logical_not_()
    xt.logical_not_()
    _same(x, xt)


@pytest.mark.parametrize('make', [
    lambda lib, f, b: f - b, lambda lib, f, b: b - f, lambda lib, f, b: b - b, lambda lib, f, b: f - True,
    lambda lib, f, b: False - f, lambda lib, f, b: b - 1, lambda lib, f, b: 1.5 - b, lambda lib, f, b: lib.sub(f, b),
    lambda lib, f, b: f.sub(b), lambda lib, f, b: f.__rsub__(b), lambda lib, f, b: f.subtract(b),
    lambda lib, f, b: f.detach().sub_(b), lambda lib, f, b: f.detach().sub_(True),
    lambda lib, f, b: f.detach().__isub__(b), lambda lib, f, b: lib.tensor([3, 4]).sub_(b),
])
def test_subtraction_with_bool_raises(make):
    """Any bool operand of a subtraction raises in torch (it was accepted)."""
    f, ft = tg.tensor(np.array([0.5, 1.5], dtype='float32')), torch.tensor([0.5, 1.5], requires_grad=True)
    b, bt = tg.tensor([True, False]), torch.tensor([True, False])
    with pytest.raises(RuntimeError, match='Subtraction'):
        make(torch, ft, bt)
    before = f.detach().numpy().copy()
    with pytest.raises(RuntimeError, match='Subtraction'):
        make(tg, f, b)
    np.testing.assert_array_equal(f.detach().numpy(), before)


@pytest.mark.parametrize('bounds', [(-0.5, 0.7), (None, 0.5), (-0.5, None), (-1, 1), (0, 2.5)])
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'bool'])
def test_clamp_promotes_like_torch(bounds, dtype):
    """clamp of an integer (or bool) tensor takes the result type of the tensor and its
    bounds: float bounds give float32 (it stayed int64)."""
    a = np.array([[3, -2], [0, 1]]).astype(dtype)
    lo, hi = bounds
    for x, xt in ((tg.tensor(a), torch.tensor(a)), (tg.tensor(a).T, torch.tensor(a).T)):
        _same(x.clamp(min=lo, max=hi), xt.clamp(min=lo, max=hi))
        _same(tg.clamp(x, lo, hi), torch.clamp(xt, lo, hi))


def test_clamp_promotes_with_tensor_bounds():
    i = np.array([3, -2, 0])
    _same(tg.tensor(i).clamp(tg.tensor(-0.5), None), torch.tensor(i).clamp(torch.tensor(-0.5), None))
    f = np.array([1.5, -0.25], dtype='float32')
    b64 = np.array([0.5, 0.0])
    _same(tg.tensor(f).clamp(tg.tensor(b64)), torch.tensor(f).clamp(torch.tensor(b64)))
    _same(tg.tensor(f).clamp(tg.tensor(np.float64(0.5))), torch.tensor(f).clamp(torch.tensor(0.5, dtype=torch.float64)))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_clamp_gradient_unchanged_by_promotion_rule(dtype):
    a = np.array([[-1.0, 0.2, 0.9], [0.3, -0.1, 2.0]], dtype=dtype)
    g = np.random.default_rng(0).uniform(0.5, 1.5, (3, 2)).astype(dtype)
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.T.clamp(-0.5, 1), xt.T.clamp(-0.5, 1)
    assert str(y.dtype) == dtype
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize('bounds', [(-0.3, 0.4), (-0.3, None), (None, 0.5), (0, 1)])
@pytest.mark.parametrize('dtype', ['int64', 'bool'])
def test_inplace_clamp_that_would_promote_raises(bounds, dtype):
    """int_tensor.clamp_(float, float) raises as torch (the float result cannot be stored);
    so does bool.clamp_(0, 1); nothing is written."""
    a = np.array([3, 0, -2]).astype(dtype)
    x, xt = tg.tensor(a), torch.tensor(a)
    try:
        xt.clamp_(*bounds)
    except RuntimeError:
        with pytest.raises(RuntimeError, match='clamp_'):
            x.clamp_(*bounds)
        np.testing.assert_array_equal(x.numpy(), a)
        return
    _same(x.clamp_(*bounds), xt)


@pytest.mark.parametrize('end, weight', [
    (np.array(3, dtype='int64'), 0.3), (np.array([1.0, 2.0]), 0.3), (np.array([1, 2], dtype='float32'), np.array([0.3, 0.5])),
    (np.array([1, 2], dtype='float32'), np.array([1, 0])),
])
def test_lerp_requires_matching_floating_dtypes(end, weight):
    """lerp's ``end`` (and a dimensioned ``weight``) must have the input's dtype (an
    integer ``end`` was accepted)."""
    a = np.array([0.5478, -0.92], dtype='float32')
    w, wt = (tg.tensor(weight), torch.tensor(weight)) if isinstance(weight, np.ndarray) else (weight, weight)
    with pytest.raises(RuntimeError):
        torch.lerp(torch.tensor(a, requires_grad=True), torch.tensor(end), wt)
    with pytest.raises(RuntimeError, match='lerp'):
        tg.lerp(tg.tensor(a, requires_grad=True), tg.tensor(end), w)
    with pytest.raises(RuntimeError, match='lerp'):
        tg.tensor(a, requires_grad=False).lerp_(tg.tensor(end), w)
    with pytest.raises(NotImplementedError):
        torch.lerp(torch.tensor([1, 2]), torch.tensor([1, 2]), 0.5)
    with pytest.raises(NotImplementedError, match='lerp'):
        tg.lerp(tg.tensor([1, 2]), tg.tensor([1, 2]), 0.5)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_lerp_accepts_a_zero_dim_weight_of_another_dtype(dtype):
    a, e = np.array([0.5, -1.0], dtype=dtype), np.array([2.0, 3.0], dtype=dtype)
    g = np.array([0.7, 1.3], dtype=dtype)
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = tg.lerp(x, tg.tensor(e), tg.tensor(np.float64(0.25)))
    yt = torch.lerp(xt, torch.tensor(e), torch.tensor(0.25, dtype=torch.float64))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    assert str(y.dtype) == dtype
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize('shapes', [((2,), (2,)), ((2, 3), (3, 2)), ((3, 2), (2,)), ((2,), (2, 3)),
                                    ((2, 2, 3), (2, 3, 2)), ((2, 2, 3), (3, 2)), ((0,), (0,))])
@pytest.mark.parametrize('dtypes', [('float32', 'int64'), ('float32', 'float64'), ('int64', 'float32'),
                                    ('int32', 'int64')])
def test_matmul_of_different_dtypes_raises(shapes, dtypes):
    """matmul / @ / mm / dot of two dtypes raise in torch (tensorgrad promoted)."""
    (sa, sb), (da, db) = shapes, dtypes
    a, b = np.ones(sa, dtype=da), np.ones(sb, dtype=db)
    with pytest.raises(RuntimeError):
        torch.matmul(torch.tensor(a), torch.tensor(b))
    x, y = tg.tensor(a, requires_grad=False), tg.tensor(b, requires_grad=False)
    with pytest.raises(RuntimeError, match='same dtype'):
        tg.matmul(x, y)
    with pytest.raises(RuntimeError, match='same dtype'):
        x @ y
    if len(sa) == len(sb) == 2:
        with pytest.raises(RuntimeError, match='same dtype'):
            tg.mm(x, y)


def test_matmul_of_bool_tensors_raises():
    with pytest.raises(NotImplementedError):
        torch.ones(2, 2, dtype=torch.bool) @ torch.ones(2, 2, dtype=torch.bool)
    with pytest.raises(NotImplementedError, match='matmul'):
        tg.ones(2, 2, dtype=tg.bool) @ tg.ones(2, 2, dtype=tg.bool)


def _layout(lib, a, layout):
    x = tg.tensor(a, requires_grad=False) if lib is tg else torch.tensor(a)
    return {'T': lambda: x.T, 'slice': lambda: x[:, ::3], 'expand': lambda: x[:1].expand(3, 4),
            'narrow': lambda: x[:, 1:]}[layout]()


@pytest.mark.parametrize('layout, shape, ok', [
    ('T', (12,), False), ('T', (-1,), False), ('T', (2, 2, 3), True), ('T', (4, 3, 1), True),
    ('slice', (6,), False), ('slice', (3, 1, 2), True), ('expand', (12,), False), ('expand', (3, 2, 2), True),
    ('narrow', (9,), False), ('narrow', (-1, 1, 3), True),
])
def test_view_raises_when_strides_cannot_express_the_shape(layout, shape, ok):
    """view() of a non-contiguous tensor works only where torch's does (it silently copied);
    reshape() keeps copying."""
    a = np.arange(12, dtype='int64').reshape(3, 4)
    x, xt = _layout(tg, a, layout), _layout(torch, a, layout)
    if not ok:
        with pytest.raises(RuntimeError, match='view size is not compatible'):
            xt.view(shape)
        with pytest.raises(RuntimeError, match=r'view.*reshape'):
            x.view(shape)
        _same(x.reshape(shape), xt.reshape(shape))
        return
    y, yt = x.view(shape), xt.view(shape)
    _same(y, yt)
    assert np.shares_memory(y._data, x._data)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_view_of_a_viewable_non_contiguous_tensor_differentiates(dtype):
    a = np.random.default_rng(1).normal(size=(3, 4)).astype(dtype)
    g = np.random.default_rng(2).uniform(0.5, 1.5, (2, 1, 2, 3)).astype(dtype)
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.T.view(2, 1, 2, 3), xt.T.view(2, 1, 2, 3)  # splits the (non-contiguous) leading dim only
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy())
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    with pytest.raises(RuntimeError, match='view'):
        x.T.view(12)


@pytest.mark.parametrize('shape', [(0,), (0, 3), (3, 0, 2), (-1,), (2, -1)])
def test_view_of_empty_and_scalar_tensors(shape):
    a = np.zeros((2, 0, 3), dtype='float32')
    x, xt = tg.tensor(a, requires_grad=False).transpose(0, 2), torch.tensor(a).transpose(0, 2)
    try:
        want = xt.view(shape)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            x.view(shape)
    else:
        _same(x.view(shape), want)
    s, st = tg.tensor(np.float32(2.5), requires_grad=False), torch.tensor(2.5)
    _same(s.view(1, 1), st.view(1, 1))
    _same(s.view(-1), st.view(-1))


@pytest.mark.parametrize('dim', [1, -2, (1,), (0, 2)])
def test_squeeze_of_zero_dim_tensor_rejects_other_dims(dim):
    """squeeze(dim) of a 0-d tensor accepts only 0 and -1 (it accepted any dim)."""
    with pytest.raises(IndexError):
        torch.tensor(3).squeeze(dim)
    with pytest.raises(IndexError, match='squeeze'):
        tg.tensor(3).squeeze(dim)
    _same(tg.tensor(3).squeeze(0), torch.tensor(3).squeeze(0))
    _same(tg.tensor(3).squeeze((-1,)), torch.tensor(3).squeeze((-1,)))


def test_squeeze_with_a_repeated_dim_raises():
    with pytest.raises(RuntimeError):
        torch.ones(1, 2, 1).squeeze((0, -3))
    with pytest.raises(RuntimeError, match='squeeze'):
        tg.ones(1, 2, 1).squeeze((0, -3))


def test_zero_dim_comparisons_and_invert_give_arrays():
    """A 0-d comparison (or ~) held a NumPy scalar, which in-place ops cannot write into."""
    x = tg.tensor(3)
    for m in (x == 3, x > 2, ~(x > 2), ~x, x & 1):
        assert isinstance(m._data, np.ndarray), type(m._data)
    m = x > 2
    m.logical_not_()
    assert m.item() is False


# ---------------------------------------------------------------------- detach + in-place, re-derived views,
# gather of 0-d, in-place on expanded views, nan/inf upstream gradients, output guards, hypot
# (tests/fuzz/known.py entries fixed)
def _both(a, requires_grad=True):
    return tg.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _close(x, xt, **kw):
    got, want = (x.detach().numpy() if isinstance(x, tg.Tensor) else x), xt.detach().numpy()
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, **kw)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('op', ['add_', 'mul_', 'sub_', 'div_'])
def test_inplace_on_detached_leaf_is_recorded_on_the_detached_tensor(op, dtype):
    """``x.detach().add_(y)`` with x a leaf that requires grad raised (detach counted as a
    view of x); in torch it is allowed, records on the detached tensor only, and bumps x's
    version (shared memory and counter)."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.5, (2, 3)).astype(dtype), rng.uniform(0.5, 1.5, (3,)).astype(dtype)
    g = rng.uniform(0.5, 1.5, (2, 3)).astype(dtype)
    (x, xt), (y, yt) = _both(a), _both(b)
    d, dt = x.detach(), xt.detach()
    assert d.base is None and dt._base is None
    getattr(d, op)(y)
    getattr(dt, op)(yt)
    assert d.requires_grad and dt.requires_grad and x.grad_fn is None and x.is_leaf
    assert x._version == xt._version == 1
    _close(x, xt)  # shared memory: x sees the change, as in torch
    (d * tg.tensor(g)).sum().backward()
    (dt * torch.tensor(g)).sum().backward()
    _close(y.grad, yt.grad)
    assert x.grad is None and xt.grad is None


def test_view_of_detached_tensor_modified_in_place():
    """In-place through a view of ``x.detach()`` gives the detached tensor (not x) a graph."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    (x, xt), (y, yt) = _both(a), _both(np.ones(3, np.float32))
    d, dt = x.detach(), xt.detach()
    d[0].mul_(y)
    dt[0].mul_(yt)
    assert d.requires_grad and dt.requires_grad and x.grad_fn is None
    (d * 2).sum().backward()
    (dt * 2).sum().backward()
    _close(y.grad, yt.grad)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('make', [lambda t: t.t(), lambda t: t.permute(1, 0), lambda t: t[1:], lambda t: t[:, ::2],
                                  lambda t: t.t()[0], lambda t: t.reshape(3, 2), lambda t: t.unsqueeze(0)])
def test_views_taken_before_inplace_on_their_base_require_grad_after(make, dtype):
    """A view of a tensor without grad kept requires_grad=False after its base was modified
    in place by a tensor that requires grad; in torch the view is re-derived from the base's
    new graph, and its gradient flows to that tensor."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)).astype(dtype), rng.standard_normal((2, 3)).astype(dtype)
    (x, xt), (y, yt) = _both(a, False), _both(b)
    v, vt = make(x), make(xt)
    x.add_(y)
    xt.add_(yt)
    assert v.requires_grad and vt.requires_grad
    _close(v, vt)
    g = rng.uniform(0.5, 1.5, vt.shape).astype(dtype)
    (v * tg.tensor(g)).sum().backward()
    (vt * torch.tensor(g)).sum().backward()
    _close(y.grad, yt.grad)


@pytest.mark.parametrize('make', [lambda t: t.permute(()), lambda t: t.t(), lambda t: t[...]])
def test_zero_dim_view_before_inplace_requires_grad_after(make):
    """The fuzzer's programs: permute(x, ()) / t(x) of a 0-d x, then x.add_(y)."""
    (x, xt), (y, yt) = _both(np.float32(0.5478), False), _both(np.float32(0.5478))
    v, vt = make(x), make(xt)
    x.add_(y)
    xt.add_(yt)
    assert v.requires_grad == vt.requires_grad is True
    (v * 1.5).backward()
    (vt * 1.5).backward()
    _close(y.grad, yt.grad)


def test_sibling_view_requires_grad_after_inplace_on_another_view():
    """``x[0].add_(y)`` with x without grad: x and its other views then require grad."""
    (x, xt), (y, yt) = _both(np.zeros((2, 3), np.float32), False), _both(np.ones(3, np.float32))
    w, wt = x[1], xt[1]
    x[0].add_(y)
    xt[0].add_(yt)
    assert w.requires_grad and wt.requires_grad and x.requires_grad and xt.requires_grad
    (x * 3).sum().backward()
    (xt * 3).sum().backward()
    _close(y.grad, yt.grad)


def test_views_of_a_base_without_grad_stay_plain_without_inplace():
    """Only an in-place op by a tensor that requires grad gives the views a graph."""
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=False)
    v = x.t()
    x.add_(1.0)
    x.add_(tg.tensor(np.ones((2, 3), np.float32), requires_grad=False))
    assert not v.requires_grad and v.grad_fn is None
    np.testing.assert_array_equal(v.numpy(), np.full((3, 2), 3, np.float32))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('xshape, index, dim', [
    ((), 0, 0), ((), 0, -1), ((), [0, 0], 0), ((3,), 2, 0), ((3,), -1 + 1, -1),
])
def test_gather_with_zero_dim_tensor_or_index(xshape, index, dim, dtype):
    """gather on a 0-d tensor with a 0-d index raised IndexError; torch takes a 0-d tensor
    or index as 1-d of size 1 (the result has the index's shape)."""
    rng = np.random.default_rng(2)
    (x, xt) = _both(rng.standard_normal(xshape).astype(dtype))
    idx = np.array(index, dtype=np.int64)
    y, yt = tg.gather(x, dim, tg.tensor(idx)), torch.gather(xt, dim, torch.tensor(idx))
    _close(y, yt)
    g = rng.uniform(0.5, 1.5, yt.shape).astype(dtype)
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(x.grad, xt.grad)


def test_gather_zero_dim_rejects_bad_dim_and_index():
    x, xt = _both(np.float32(0.5))
    with pytest.raises(IndexError):
        torch.gather(xt, 1, torch.tensor(0))
    with pytest.raises(IndexError, match='gather'):
        tg.gather(x, 1, tg.tensor(0))
    with pytest.raises(RuntimeError):
        torch.gather(xt, 0, torch.tensor(1))
    with pytest.raises(IndexError, match='gather'):
        tg.gather(x, 0, tg.tensor(1))


@pytest.mark.parametrize('shape, target', [((), ()), ((1,), (1, 1)), ((2,), (1, 2)), ((2, 1), (2, 1))])
@pytest.mark.parametrize('op', ['div_', 'add_', 'exp_'])
def test_inplace_on_expanded_view_without_repeats(shape, target, op):
    """div_ on ``x.expand(())`` raised 'operand of shape () cannot be applied in place':
    an expand that repeats no element is writable in torch, and writes through to x."""
    a = np.arange(1, 1 + int(np.prod(shape)), dtype=np.float32).reshape(shape)
    (x, xt) = _both(a, False)
    v, vt = x.expand(target), xt.expand(target)
    args = () if op == 'exp_' else (tg.tensor(np.int64(3)),)
    targs = () if op == 'exp_' else (torch.tensor(3),)
    getattr(v, op)(*args)
    getattr(vt, op)(*targs)
    _close(v, vt)
    _close(x, xt)


def test_inplace_on_expanded_view_with_repeats_raises_runtime_error():
    """As torch: writing into an expand that repeats elements raises RuntimeError."""
    for op, args in (('add_', (1.0,)), ('exp_', ()), ('mul_', (np.ones(3, np.float32),))):
        with pytest.raises(RuntimeError):
            getattr(torch.ones(1).expand(3), op)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a
                                                    for a in args])
        with pytest.raises(RuntimeError, match=f'{op}.*single memory location'):
            getattr(tg.tensor(np.ones(1, np.float32), requires_grad=False).expand(3), op)(
                *[tg.tensor(a, requires_grad=False) if isinstance(a, np.ndarray) else a for a in args])


_X_EDGES = np.array([-5., -3., -1., -0.5, 0., 0.5, 1., 3., 5., 6., 7., np.nan])
_PIECEWISE = {
    'relu': lambda lib, t: lib.relu(t),
    'F.relu': lambda lib, t: _nnf(lib).relu(t),
    'sign': lambda lib, t: lib.sign(t),
    'clamp': lambda lib, t: t.clamp(-1, 1),
    'clamp_min': lambda lib, t: t.clamp(min=0),
    'clamp_max': lambda lib, t: t.clamp(max=0.5),
    'hardtanh': lambda lib, t: _nnf(lib).hardtanh(t),
    'relu6': lambda lib, t: _nnf(lib).relu6(t),
    'hardsigmoid': lambda lib, t: _nnf(lib).hardsigmoid(t),
    'hardswish': lambda lib, t: _nnf(lib).hardswish(t),
    'maximum': lambda lib, t: lib.maximum(t, t.flip(0)),
    'minimum': lambda lib, t: lib.minimum(t, t.flip(0)),
    'maximum_scalar_tensor': lambda lib, t: lib.maximum(t, lib.zeros_like(t)),
}


def _nnf(lib):
    return torch.nn.functional if lib is torch else tg.nn.functional


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('op', sorted(_PIECEWISE))
@pytest.mark.parametrize('upstream', ['nan', 'inf', 'finite'])
def test_piecewise_gradients_with_nan_and_inf_upstream(op, upstream, dtype):
    """A nan (or inf) upstream gradient through the cut-off part of sign, relu, clamp,
    hardtanh, relu6, hardsigmoid, maximum/minimum gave nan (``g * mask``); torch's backward
    is a where(), so 0 there. Also nan inputs and the bounds themselves match torch
    (hardswish's gradient at -3 and 3 was off; sign(nan) was nan, torch 0)."""
    fill = {'nan': np.nan, 'inf': np.inf, 'finite': 1.25}[upstream]
    g = np.where(np.arange(_X_EDGES.size) % 3 == 0, fill, 0.75).astype(dtype)
    (x, xt) = _both(_X_EDGES.astype(dtype))
    y, yt = _PIECEWISE[op](tg, x), _PIECEWISE[op](torch, xt)
    _close(y, yt, equal_nan=True)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    _close(x.grad, xt.grad, equal_nan=True)


@pytest.mark.parametrize('op', ['relu', 'clamp', 'hardtanh', 'maximum', 'sign'])
def test_piecewise_gradients_nan_upstream_non_contiguous_and_create_graph(op):
    """The same on a transposed input, and with ``create_graph=True`` (the second-order
    rule builds the gradient with where() too)."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 3)).astype(np.float32).T
    g = np.where(rng.random((3, 4)) < 0.4, np.nan, 1.0).astype(np.float32)
    (x, xt) = _both(a)
    y, yt = _PIECEWISE[op](tg, x), _PIECEWISE[op](torch, xt)
    (gx,) = tg.autograd.grad(y, x, tg.tensor(g), create_graph=True)
    (gxt,) = torch.autograd.grad(yt, xt, torch.tensor(g), create_graph=True)
    _close(gx, gxt, equal_nan=True)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shapes', [((3,), (3,), None), ((2, 3), (3,), (2, 1)), ((), (), ()), ((0, 3), (3,), None),
                                    ((2, 3), (2, 3), ()), ((3, 2), (2,), (3, 2))])
def test_lerp_inf_upstream_and_gradients_match_torch(shapes, dtype):
    """An inf upstream gradient through lerp gave nan (inf - inf from its composed backward);
    lerp is now one node with torch's gradients (and forward), also for broadcasting and a
    tensor weight; a transposed input exercises non-contiguous operands."""
    rng = np.random.default_rng(4)
    xs, es, ws = shapes
    a = rng.standard_normal(xs[::-1]).astype(dtype).T
    e = rng.standard_normal(es).astype(dtype)
    w = rng.uniform(-0.5, 1.5, ws).astype(dtype) if ws is not None else 0.7
    g = rng.uniform(0.5, 1.5, np.broadcast_shapes(xs, es, ws or ())).astype(dtype)
    if g.size:
        g.reshape(-1)[0] = np.inf
    (x, xt), (en, ent) = _both(a), _both(e)
    (wn, wnt) = _both(w) if ws is not None else (w, w)
    y, yt = tg.lerp(x, en, wn), torch.lerp(xt, ent, wnt)
    _close(y, yt)
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for t, tt in [(x, xt), (en, ent)] + ([(wn, wnt)] if ws is not None else []):
        _close(t.grad, tt.grad)


def test_lerp_second_order_matches_torch():
    rng = np.random.default_rng(5)
    a, e, w = (rng.standard_normal(4) for _ in range(3))
    (x, xt), (en, ent), (wn, wnt) = _both(a), _both(e), _both(w)
    y, yt = (tg.lerp(x, en, wn) ** 2).sum(), (torch.lerp(xt, ent, wnt) ** 2).sum()
    gs = tg.autograd.grad(y, (x, en, wn), create_graph=True)
    gts = torch.autograd.grad(yt, (xt, ent, wnt), create_graph=True)
    h = tg.autograd.grad(sum((gi * gi).sum() for gi in gs), (x, en, wn))
    ht = torch.autograd.grad(sum((gi * gi).sum() for gi in gts), (xt, ent, wnt))
    for p, q in zip(gs + h, gts + ht):
        _close(p, q)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape, dim', [((1, 2, 2), 0), ((2, 1), 1), ((), 0), ((3,), 0)])
def test_cumprod_with_infinite_input(shape, dim, dtype):
    """An inf input (so an inf product) through cumprod over a dim of size 1 gave a nan
    gradient (out / x = inf / inf); torch passes the gradient through there."""
    a = np.full(shape, np.inf, dtype=dtype)
    if a.ndim:
        a.reshape(-1)[-1] = -np.inf
    g = np.random.default_rng(6).uniform(0.5, 1.5, shape).astype(dtype)
    (x, xt) = _both(a)
    y, yt = x.cumprod(dim), xt.cumprod(dim)
    _close(y, yt)
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(x.grad, xt.grad, equal_nan=True)


_GUARDED = {
    'norm': lambda t: t.norm(),
    'norm_p1': lambda t: t.norm(1),
    'norm_p3': lambda t: t.norm(3),
    'norm_inf': lambda t: t.norm(float('inf')),
    'logsumexp_empty': lambda t: t[:0].logsumexp(0),
    'softmax_0d': lambda t: t.sum().softmax(0),
    'log_softmax_0d': lambda t: t.sum().log_softmax(0),
    'softmax_empty': lambda t: t[:0].softmax(0),
    'log_softmax': lambda t: t.log_softmax(0),
}


@pytest.mark.parametrize('op', sorted(_GUARDED))
@pytest.mark.parametrize('inplace', ['add_', 'clamp_', 'exp_'])
def test_inplace_change_of_a_saved_output_raises_at_backward(op, inplace):
    """norm (whose 2-norm gradient reads its output: it was silently wrong), logsumexp over
    a size-0 dim, and softmax/log_softmax (0-d, empty, log) did not guard their output
    against in-place changes; torch raises at backward."""
    a = np.array([0.5478, -0.92, 1.3], dtype=np.float32)
    (x, xt) = _both(a)
    y, yt = _GUARDED[op](x), _GUARDED[op](xt)
    args = {'add_': (1.0,), 'clamp_': (0.0,), 'exp_': ()}[inplace]
    getattr(y, inplace)(*args)
    getattr(yt, inplace)(*args)
    with pytest.raises(RuntimeError):
        yt.sum().backward()
    with pytest.raises(RuntimeError, match='modified by an in-place operation'):
        y.sum().backward()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_hypot_does_not_check_an_operand_that_needs_no_grad(dtype):
    """hypot saved and version-checked an operand without grad, so modifying it in place
    raised at backward; torch saves (and checks) only what the needed gradients use."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 2, 2)).astype(dtype), np.array([[0.5478]], dtype=dtype)
    g = rng.uniform(0.5, 1.5, (2, 2, 2)).astype(dtype)
    (x, xt), (c, ct) = _both(a), _both(b, False)
    y, yt = tg.hypot(x, c), torch.hypot(xt, ct)
    c.mul_(1.0)
    ct.mul_(1.0)
    (y * tg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(x.grad, xt.grad)
    # the operand that needs grad is still checked, in both libraries
    (x, xt), (c, ct) = _both(a), _both(b, False)
    y, yt = tg.hypot(c, x), torch.hypot(ct, xt)
    x.detach().mul_(2.0)
    xt.detach().mul_(2.0)
    with pytest.raises(RuntimeError):
        yt.sum().backward()
    with pytest.raises(RuntimeError, match='Hypot'):
        y.sum().backward()


@pytest.mark.parametrize('make', [
    lambda L, x: x[:, L.tensor([0, 2])], lambda L, x: x[..., L.tensor([1, 0])], lambda L, x: x.index_select(1, L.tensor([1])),
    lambda L, x: x.transpose(0, 2).tril(), lambda L, x: x.permute(1, 0, 2).triu(), lambda L, x: x[:1].expand(3, 4, 2).double(),
    lambda L, x: x[:1].expand(3, 4, 2).clone(), lambda L, x: x.transpose(0, 2).clone().transpose(0, 2),
    lambda L, x: x.transpose(0, 2).amax(1), lambda L, x: L.cat([x.transpose(0, 2)] * 2, 0),
    lambda L, x: x.transpose(0, 2).var(1), lambda L, x: x.permute(1, 0, 2).roll(1, 1),
])
def test_view_of_op_results_that_are_contiguous_in_torch(make):
    """Where torch's result is contiguous, view(-1) works on tensorgrad's too (fancy
    indexing, tril and a cast of an expanded tensor now give contiguous arrays; other op
    results whose layout NumPy chose are viewed as if contiguous)."""
    a = np.random.default_rng(3).normal(size=(3, 4, 2)).astype('float32')
    y, yt = make(tg, tg.tensor(a, requires_grad=False)), make(torch, torch.tensor(a))
    np.testing.assert_allclose(y.view(-1).numpy(), yt.view(-1).numpy(), rtol=1e-6)


# ---------------------------------------------------------------- found by the final 10-minute run
def test_matmul_and_linear_backward_with_size_zero_dims():
    for L in (tg, torch):
        a = L.tensor(np.ones((1, 1, 1), np.float32), requires_grad=True)
        b = L.tensor(np.ones((1, 0), np.float32), requires_grad=True)
        (a @ b).sum().backward()
        x = L.tensor(np.ones((3, 0), np.float32), requires_grad=True)
        w = L.tensor(np.ones((0, 0), np.float32), requires_grad=True)
        L.nn.functional.linear(x, w).sum().backward()
        assert tuple(a.grad.shape) == (1, 1, 1) and tuple(b.grad.shape) == (1, 0)
        assert tuple(x.grad.shape) == (3, 0) and tuple(w.grad.shape) == (0, 0)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_softmax_over_a_dim_of_one_is_exact(dtype):
    a = (np.random.default_rng(0).standard_normal((200, 1)) * 10).astype(dtype)
    assert (tg.nn.functional.log_softmax(tg.tensor(a), 1)._data == 0).all()
    assert (tg.nn.functional.softmax(tg.tensor(a), 1)._data == 1).all()
    assert not tg.nn.functional.log_softmax(tg.tensor(a), 1).any().item()


def test_fill_and_zero_write_an_expanded_view_as_torch():
    for L in (tg, torch):
        w = L.tensor(np.arange(6.).reshape(2, 3), requires_grad=False)
        w[:, :1].expand(2, 4).fill_(7.)
        v = L.tensor(np.array([1., 2.]), requires_grad=False)
        v.expand(2, 2).zero_()
        assert w.tolist() == [[7., 1., 2.], [7., 4., 5.]] and v.tolist() == [0., 0.]


def test_views_of_empty_tensors_follow_an_inplace_op_on_their_base():
    for L in (tg, torch):
        base = L.tensor(np.zeros((2, 0), np.float32), requires_grad=False)
        t, sq = base.t(), base.squeeze()
        y = L.tensor(np.array([0.5], np.float32), requires_grad=True)
        base.add_(y)
        (t.sum() + sq.sum() + base.sum() + y.sum()).backward()
        assert y.grad.tolist() == [1.0] and t.requires_grad


@pytest.mark.parametrize('value', [np.nan, np.inf, -np.inf, 2.0])
def test_softmax_of_a_single_entry_is_nan_where_torch_is(value):
    a = np.array([[value], [1.0]], np.float32)
    for fn in ('softmax', 'log_softmax'):
        ours = getattr(tg, fn)(tg.tensor(a, requires_grad=False), 1).numpy()
        ref = getattr(torch, fn)(torch.tensor(a), 1).numpy()
        np.testing.assert_array_equal(ours, ref)
        ours0 = getattr(tg, fn)(tg.tensor(np.float32(value), requires_grad=False), 0).numpy()
        np.testing.assert_array_equal(ours0, getattr(torch, fn)(torch.tensor(np.float32(value)), 0).numpy())


def test_number_divided_by_a_tensor_rounds_and_saves_as_torch():
    a = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert (2 / tg.tensor(a, requires_grad=False)).numpy().tobytes() == (2 / torch.tensor(a)).numpy().tobytes()
    grads = []
    for L in (tg, torch):
        x = L.tensor(np.array([1., 2., 4.]), requires_grad=True)
        h = x * 1
        y = 3 / h
        h.add_(1)  # torch saves only the reciprocal: the divisor may change afterwards
        y.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_softmax_of_a_scalar_passes_a_nan_gradient_through_as_torch():
    for fn in ('softmax', 'log_softmax'):
        grads = []
        for L in (tg, torch):
            x = L.tensor(np.float32(0.5), requires_grad=True)
            (getattr(L, fn)(x, 0) * float('nan')).backward()
            grads.append(x.grad.item())
        assert np.isnan(grads[0]) and np.isnan(grads[1])


@pytest.mark.parametrize('op', ['mul', 'div', 'maximum', 'minimum', 'atan2', 'add', 'sub', 'pow'])
@pytest.mark.parametrize('change', ['add_', 'mul_', 'zero_'])
@pytest.mark.parametrize('other', [np.array([1, 2, 3]), np.array(3), np.array([1., 2., 3.])], ids=['int', 'int0d', 'f64'])
def test_inplace_change_of_a_promoted_operand_raises_at_backward_as_torch(op, change, other):
    """A mixed-dtype op saves its operand promoted (a copy); an in-place change of the
    original afterwards now invalidates the graph, as torch (which saves the original)."""
    a = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    outcomes = []
    for L in (torch, tg):
        x = L.tensor(a, requires_grad=True)
        o = L.tensor(other.copy(), requires_grad=False)
        y = getattr(L, op)(x, o)
        getattr(o, change)(*(() if change == 'zero_' else (2,)))
        try:
            y.sum().backward()
            outcomes.append('ok')
        except RuntimeError as e:
            outcomes.append('raised')
            if L is tg:
                assert 'modified by an in-place operation' in str(e)
    assert outcomes[1] == outcomes[0], outcomes


@pytest.mark.parametrize('op', ['mul_', 'div_', 'add_'])
def test_inplace_op_with_a_promoted_operand_then_changing_it_raises_as_torch(op):
    """y.div_(int_tensor) saves the operand promoted; zeroing the operand afterwards
    invalidates the graph in both libraries."""
    a = np.array([[0.5, -1.5], [2.5, 1.0]], dtype=np.float32)
    outcomes = []
    for L in (torch, tg):
        x = L.tensor(a, requires_grad=True)
        o = L.tensor(np.array(3), requires_grad=False)
        y = getattr(x.abs() + 0.5, op)(o)
        o.zero_()
        try:
            y.sum().backward()
            outcomes.append('ok')
        except RuntimeError:
            outcomes.append('raised')
    assert outcomes[1] == outcomes[0], outcomes


@pytest.mark.parametrize('op', ['var', 'std'])
@pytest.mark.parametrize('change', ['add_', 'mul_', 'clamp_'])
def test_inplace_change_of_the_input_of_var_or_std_raises_as_torch(op, change):
    """var / std keep the centred input (a copy), but torch saves the input itself: an
    in-place change of it before backward raises in both."""
    a = np.array([0.5, -1.5, 2.5, 1.0], dtype=np.float32)
    for L in (torch, tg):
        x = L.tensor(a, requires_grad=True)
        h = -x
        y = getattr(h, op)()
        getattr(h, change)(*((-0.3, 0.4) if change == 'clamp_' else (2.0,)))
        with pytest.raises(RuntimeError, match='modified by an in-?place operation'):
            y.backward()


@pytest.mark.parametrize('op', ['fill_', 'zero_'])
def test_fill_an_expanded_view_of_a_sliced_array_as_torch(op):
    """fill_/zero_ of an expanded view whose base is a slice of a larger array (not one
    dense block) raised NumPy's 'assignment destination is read-only'; torch writes it."""
    results = []
    for L in (torch, tg):
        a = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
        base = L.from_numpy(a[:, :, :1])
        view = base.expand(2, 2, 2)
        getattr(view, op)(*((0.25,) if op == 'fill_' else ()))
        results.append((view.tolist(), base.tolist(), a.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize('shape,index', [((), 0), ((3,), [0, 2])], ids=['0d', '1d'])
def test_inplace_change_of_a_gathered_input_raises_as_torch(shape, index):
    """torch's gather saves its input: an in-place change of it before backward raises in both."""
    for L in (torch, tg):
        x = L.tensor(np.ones(shape, np.float32), requires_grad=True)
        h = -x
        y = L.gather(h, 0, L.tensor(np.array(index)))
        h.add_(1.0)
        with pytest.raises(RuntimeError, match='modified by an in-?place operation'):
            y.sum().backward()
