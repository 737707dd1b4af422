"""Sorting and selection (sort, argsort, msort, topk, kthvalue, median, nanmedian,
mode, max/min over a dim) against PyTorch: values, indices, gradients with a
non-uniform upstream, float32/float64, negative dims, keepdim, 0-d, size-0 and
non-contiguous inputs, ties and NaN where PyTorch's choice is deterministic."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import RNG, assert_close, rand

NAN = float('nan')
DTYPES = [np.float32, np.float64]


def _pair(r):
    return (r[0], r[1]) if isinstance(r, tuple) else (r, None)


def check(fn, a, device, *, indices=True, grad=True, rtol=1e-6):
    """Run ``fn(x, lib)`` with lib = tensorgrad and torch on copies of ``a``; check
    the values (and dtype), the indices (when ``indices``), and the input gradient
    of ``(values * g).sum()`` for a random ``g`` (when ``a`` is float and ``grad``)."""
    a = np.asarray(a)
    req = grad and a.dtype.kind == 'f'
    x = tg.tensor(a.copy(), device=device, requires_grad=req)
    t = torch.tensor(a.copy(), requires_grad=req)
    out, ref = fn(x, tg), fn(t, torch)
    assert isinstance(out, tuple) == isinstance(ref, tuple)
    (v, i), (rv, ri) = _pair(out), _pair(ref)
    assert_close(v, rv, rtol=rtol, atol=0, what='values')
    assert str(v.dtype) == str(rv.dtype).replace('torch.', ''), f"dtype {v.dtype} != {rv.dtype}"
    if ri is not None:
        assert i.dtype == tg.int64 and not i.requires_grad and i.shape == tuple(ri.shape)
        if indices:
            np.testing.assert_array_equal(i.numpy(), ri.numpy(), err_msg='indices')
    if req and rv.requires_grad:
        g = RNG.uniform(0.5, 1.5, size=tuple(rv.shape)).astype(a.dtype)
        (v * tg.tensor(g, device=device)).sum().backward()
        (rv * torch.tensor(g)).sum().backward()
        assert x.grad is not None and x.grad.dtype == x.dtype
        assert_close(x.grad, t.grad, rtol=rtol, atol=1e-7, what='grad')
    return out


# ---------------------------------------------------------------- sort / argsort / msort
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape,dim', [((7,), 0), ((7,), -1), ((3, 5), 0), ((3, 5), -1), ((2, 3, 4), 1),
                                       ((2, 3, 4), -3)], ids=str)
@pytest.mark.parametrize('descending', [False, True])
def test_sort(shape, dim, descending, dtype, device):
    a = rand(*shape, dtype=dtype)
    check(lambda x, L: x.sort(dim, descending), a, device)
    check(lambda x, L: L.sort(x, dim=dim, descending=descending), a, device)
    out = tg.argsort(tg.tensor(a, device=device), dim, descending)
    np.testing.assert_array_equal(out.numpy(), torch.argsort(torch.tensor(a), dim, descending).numpy())
    assert out.dtype == tg.int64


@pytest.mark.parametrize('descending', [False, True])
def test_sort_stable_ties(descending, device):
    a = RNG.integers(0, 4, size=(3, 40))
    check(lambda x, L: L.sort(x, dim=-1, descending=descending, stable=True), a, device)
    check(lambda x, L: x.argsort(dim=0, descending=descending, stable=True), a.T.copy(), device)
    # ties of a float tensor: the gradient follows the (stable) indices
    f = a.astype(np.float64)
    check(lambda x, L: L.sort(x, dim=1, descending=descending, stable=True), f, device)


@pytest.mark.parametrize('descending', [False, True])
def test_sort_nan_is_largest(descending, device):
    a = np.array([[3.0, NAN, 1.0, NAN, 2.0], [NAN, -1.0, 0.5, 4.0, -2.0]], dtype=np.float32)
    check(lambda x, L: L.sort(x, descending=descending, stable=True), a, device)


def test_msort_and_bool_sort(device):
    a = rand(4, 3)
    check(lambda x, L: L.msort(x), a, device)
    check(lambda x, L: x.msort(), a, device)
    b = np.array([True, False, True, False])
    check(lambda x, L: L.sort(x, stable=True), b, device)


def test_sort_non_contiguous(device):
    a = rand(4, 6, dtype=np.float64)
    check(lambda x, L: x.transpose(0, 1).sort(-1), a, device)
    check(lambda x, L: x[:, ::2].sort(0, descending=True), a, device)
    b = rand(1, 5)
    check(lambda x, L: x.expand(3, 5).sort(1), b, device)


# ---------------------------------------------------------------- topk
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('k,dim', [(1, -1), (3, -1), (5, 1), (2, 0), (0, -1)], ids=str)
@pytest.mark.parametrize('largest', [True, False])
def test_topk(k, dim, largest, dtype, device):
    a = rand(3, 5, dtype=dtype)
    check(lambda x, L: x.topk(k, dim, largest), a, device)
    check(lambda x, L: L.topk(x, k, dim=dim, largest=largest, sorted=True), a, device)


@pytest.mark.parametrize('largest', [True, False])
def test_topk_long_dim_partition(largest, device):
    a = rand(4, 600, dtype=np.float64)
    a[1, 17] = a[2, 590] = NAN
    check(lambda x, L: x.topk(7, largest=largest), a, device)
    check(lambda x, L: x.transpose(0, 1).topk(9, 0, largest), a, device)


def test_topk_sorted_false_gives_the_same_set(device):
    a = rand(3, 8)
    out = tg.tensor(a, device=device).topk(3, sorted=False)
    ref = torch.tensor(a).topk(3, sorted=False)
    np.testing.assert_array_equal(np.sort(out.indices.numpy(), -1), np.sort(ref.indices.numpy(), -1))


def test_topk_non_contiguous_and_ints(device):
    a = rand(5, 6)
    check(lambda x, L: x[::2, 1:].topk(2, 0), a, device)
    check(lambda x, L: x.transpose(0, 1).topk(3), a, device)
    check(lambda x, L: x.topk(2), RNG.permutation(12).reshape(3, 4), device)


# ---------------------------------------------------------------- kthvalue
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('k,dim', [(1, -1), (3, -1), (5, 1), (2, 0), (3, -2)], ids=str)
@pytest.mark.parametrize('keepdim', [False, True])
def test_kthvalue(k, dim, keepdim, dtype, device):
    a = rand(3, 5, dtype=dtype)
    check(lambda x, L: x.kthvalue(k, dim, keepdim), a, device)
    check(lambda x, L: L.kthvalue(x, k, dim=dim, keepdim=keepdim), a, device)


def test_kthvalue_nan_and_non_contiguous(device):
    a = np.array([[1.0, NAN, 3.0, 2.0], [NAN, 1.0, 2.0, 3.0]], dtype=np.float32)
    for k in (1, 3, 4):
        check(lambda x, L: x.kthvalue(k), a, device)
    b = rand(4, 5, dtype=np.float64)
    check(lambda x, L: x.transpose(0, 1).kthvalue(2, 1, True), b, device)


# ---------------------------------------------------------------- median / nanmedian
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', [(7,), (6,), (3, 4), (2, 3, 5)], ids=str)
def test_median_global(shape, dtype, device):
    a = rand(*shape, dtype=dtype)
    out = check(lambda x, L: x.median(), a, device)
    assert out.shape == ()
    check(lambda x, L: L.median(x), a, device)


def test_median_global_ties_share_gradient_and_nan(device):
    check(lambda x, L: x.median(), np.array([[2.0, 2.0, 1.0], [2.0, 3.0, 0.0]], np.float32), device)
    check(lambda x, L: x.median(), np.array([1.0, 2.0, 2.0, 3.0]), device)
    check(lambda x, L: x.median(), np.array([1.0, NAN, 3.0, NAN]), device)
    check(lambda x, L: x.median(), np.array([4, 1, 3, 2]), device)
    check(lambda x, L: x.median(), np.zeros((0, 3), np.float32), device)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1, -2])
@pytest.mark.parametrize('keepdim', [False, True])
def test_median_dim(dim, keepdim, dtype, device):
    a = rand(4, 5, dtype=dtype)
    check(lambda x, L: x.median(dim, keepdim), a, device)
    check(lambda x, L: L.median(x, dim=dim, keepdim=keepdim), a, device)


def test_median_dim_ties_and_nan(device):
    a = RNG.integers(0, 4, size=(4, 30)).astype(np.float64)  # PyTorch: the stable sort's lower middle
    check(lambda x, L: x.median(1), a, device)
    check(lambda x, L: x.transpose(0, 1).median(0), a, device)
    n = np.array([[1.0, NAN, 3.0, NAN, 2.0], [NAN, 1.0, 2.0, 3.0, 4.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
    check(lambda x, L: x.median(-1), n, device)


def test_nanmedian(device):
    a = np.array([[1.0, NAN, 3.0, NAN, 2.0], [NAN, 1.0, 2.0, 3.0, 4.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
    check(lambda x, L: x.nanmedian(1), a, device)
    check(lambda x, L: L.nanmedian(x, 0, keepdim=True), a, device)
    check(lambda x, L: x.nanmedian(), a, device)
    check(lambda x, L: x.nanmedian(), rand(3, 4), device)


# ---------------------------------------------------------------- mode
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_mode(dim, keepdim, dtype, device):
    # slices of up to 16 elements, where PyTorch returns the last occurrence
    a = RNG.integers(0, 4, size=(6, 9)).astype(dtype)
    check(lambda x, L: x.mode(dim, keepdim), a, device)
    check(lambda x, L: L.mode(x, dim=dim, keepdim=keepdim), a, device)


def test_mode_long_rows_values_and_ints(device):
    a = RNG.integers(0, 5, size=(5, 40))
    check(lambda x, L: x.mode(), a, device, indices=False)
    out = tg.tensor(a, device=device).mode()
    rows = np.arange(5)
    assert (a[rows, out.indices.numpy()] == out.values.numpy()).all()
    last = [np.nonzero(a[r] == out.values.numpy()[r])[0][-1] for r in rows]
    np.testing.assert_array_equal(out.indices.numpy(), last)
    check(lambda x, L: x.transpose(0, 1).mode(0), RNG.integers(0, 3, size=(4, 7)).astype(np.float32), device)


# ---------------------------------------------------------------- max / min over a dim
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('dim', [0, 1, -1, -2])
@pytest.mark.parametrize('keepdim', [False, True])
@pytest.mark.parametrize('name', ['max', 'min'])
def test_max_min_dim(name, dim, keepdim, dtype, device):
    a = rand(3, 4, dtype=dtype)
    check(lambda x, L: getattr(x, name)(dim, keepdim), a, device)
    check(lambda x, L: getattr(x, name)(dim=dim, keepdim=keepdim), a, device)
    check(lambda x, L: getattr(L, name)(x, dim, keepdim=keepdim), a, device)


@pytest.mark.parametrize('name', ['max', 'min'])
def test_max_min_dim_ties_nan_and_views(name, device):
    a = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [0.0, 3.0, 0.0, 3.0]], np.float32)
    check(lambda x, L: getattr(x, name)(1), a if name == 'max' else -a, device)  # first index, grad there
    n = np.array([[1.0, NAN, 3.0, NAN], [2.0, 1.0, 0.0, 4.0]], np.float32)
    check(lambda x, L: getattr(x, name)(-1), n, device)
    b = rand(4, 5, dtype=np.float64)
    check(lambda x, L: getattr(x.transpose(0, 1), name)(1), b, device)
    check(lambda x, L: getattr(x[1:, ::2], name)(0, keepdim=True), b, device)
    check(lambda x, L: getattr(x[:1].expand(3, 5), name)(1), b, device)
    check(lambda x, L: getattr(x, name)(0), RNG.permutation(12).reshape(3, 4), device)
    check(lambda x, L: getattr(x, name)(0), np.array([[True, False], [False, False]]), device)


@pytest.mark.parametrize('name', ['max', 'min'])
def test_max_min_global_and_elementwise_forms(name, device):
    a = np.array([[1.0, NAN, NAN], [2.0, 3.0, 1.0]], np.float32)
    check(lambda x, L: getattr(x, name)(), a, device)  # NaNs share the gradient
    b, c = rand(3, 4), rand(3, 4)
    x, y = tg.tensor(b, device=device), tg.tensor(c, device=device)
    ref = getattr(torch, name)(torch.tensor(b), torch.tensor(c))
    assert_close(getattr(tg, name)(x, y), ref)
    assert_close(getattr(x, name)(y), ref)


# ---------------------------------------------------------------- 0-d and size-0 inputs
@pytest.mark.parametrize('op', [
    lambda x, L: x.sort(), lambda x, L: x.sort(0, True), lambda x, L: x.topk(1), lambda x, L: x.topk(0, -1),
    lambda x, L: x.kthvalue(1), lambda x, L: x.kthvalue(1, 0, True), lambda x, L: x.median(0),
    lambda x, L: x.median(-1, True), lambda x, L: x.mode(), lambda x, L: x.max(0), lambda x, L: x.min(-1, True),
    lambda x, L: x.median(), lambda x, L: x.msort(), lambda x, L: x.nanmedian(0)])
def test_zero_dim(op, device):
    check(op, np.array(2.5, np.float32), device)


@pytest.mark.parametrize('op', [
    lambda x, L: x.sort(0), lambda x, L: x.sort(1, True), lambda x, L: x.topk(0, 0), lambda x, L: x.topk(2, 1),
    lambda x, L: x.kthvalue(2, 1), lambda x, L: x.median(1, True), lambda x, L: x.mode(1), lambda x, L: x.max(1),
    lambda x, L: x.min(-1, True), lambda x, L: L.argsort(x, 0)])
def test_size_zero(op, device):
    check(op, np.zeros((0, 3), np.float32), device)


@pytest.mark.parametrize('op,name', [
    (lambda x: x.max(0), 'max'), (lambda x: x.min(0), 'min'), (lambda x: x.median(0), 'median'),
    (lambda x: x.mode(0), 'mode'), (lambda x: x.kthvalue(1, 0), 'kthvalue'),
    (lambda x: x.nanmedian(-2), 'nanmedian')])
def test_empty_reduction_dim_raises(op, name, device):
    with pytest.raises(IndexError, match=rf"{name}\(\).*non-zero size.*\(0, 3\)"):
        op(tg.zeros(0, 3, device=device))
    with pytest.raises(IndexError):
        op(torch.zeros(0, 3))


# ---------------------------------------------------------------- errors and return types
@pytest.mark.parametrize('call,exc,match', [
    (lambda x: x.sort(2), IndexError, 'sort: dim 2'),
    (lambda x: x.topk(1, -3), IndexError, 'topk: dim -3'),
    (lambda x: x.max(2), IndexError, 'max: dim 2'),
    (lambda x: x.median(5), IndexError, 'median: dim 5'),
    (lambda x: x.topk(4), RuntimeError, r'topk\(\).*k=4.*size 3'),
    (lambda x: x.topk(-1), RuntimeError, r'topk\(\).*k=-1'),
    (lambda x: x.kthvalue(0), RuntimeError, r'kthvalue\(\).*k=0'),
    (lambda x: x.kthvalue(4), RuntimeError, r'kthvalue\(\).*k=4'),
    (lambda x: x.topk(1.5), TypeError, "topk.*'k' must be int"),
    (lambda x: x.kthvalue(True), TypeError, "kthvalue.*'k' must be int"),
    (lambda x: x.sort(0.0), TypeError, 'sort: dim must be an int'),
    (lambda x: x.max((0, 1)), TypeError, r'max: dim must be an int.*amax'),
    (lambda x: x.min([0]), TypeError, r'min: dim must be an int.*amin'),
])
def test_bad_arguments_raise(call, exc, match, device):
    x = tg.tensor(rand(2, 3), device=device)
    with pytest.raises(exc, match=match):
        call(x)
    with pytest.raises(exc):
        call(torch.tensor(rand(2, 3)))


@pytest.mark.parametrize('call,exc', [(lambda x: x.median(), NotImplementedError),
                                      (lambda x: x.median(0), NotImplementedError),
                                      (lambda x: x.kthvalue(1), NotImplementedError),
                                      (lambda x: x.topk(1), RuntimeError)])
def test_bool_inputs_raise_as_torch(call, exc, device):
    with pytest.raises(exc, match='bool'):
        call(tg.tensor([True, False], device=device))
    with pytest.raises(exc):
        call(torch.tensor([True, False]))


def test_return_types(device):
    x = tg.tensor(rand(3, 4), device=device, requires_grad=True)
    for name, r in [('sort', x.sort()), ('topk', x.topk(2)), ('kthvalue', x.kthvalue(2)),
                    ('median', x.median(0)), ('nanmedian', x.nanmedian(0)), ('mode', x.mode()),
                    ('max', x.max(1)), ('min', tg.min(x, 0))]:
        assert type(r) is getattr(tg.return_types, name) and isinstance(r, tuple) and len(r) == 2
        values, indices = r
        assert values is r.values is r[0] and indices is r.indices is r[1]
        assert values.requires_grad and not indices.requires_grad and indices.dtype == tg.int64
        assert repr(r).startswith(f'tensorgrad.return_types.{name}(\nvalues=tensor(')


def test_indices_do_not_track_and_no_grad_mode(device):
    x = tg.tensor(rand(3, 4), device=device, requires_grad=True)
    with tg.no_grad():
        v, i = x.sort()
    assert not v.requires_grad and v.grad_fn is None
    v, i = x.topk(2)
    (x.gather(1, i) * 2 + v).sum().backward()  # indices usable to gather; grad 3 at the top 2
    expect = np.zeros((3, 4), np.float32)
    np.put_along_axis(expect, i.numpy(), 3.0, axis=1)
    assert_close(x.grad, expect)


def test_kth_index_is_the_stable_sorts_element():
    from tensorgrad.ops.sorting import kth_index, stable_argsort
    a = RNG.integers(0, 4, size=(5, 23)).astype(np.float64)
    a[RNG.random(a.shape) < 0.2] = NAN
    order = stable_argsort(a, 1)
    for kth in range(23):
        np.testing.assert_array_equal(kth_index(a, 1, kth)[:, 0], order[:, kth])
    b = RNG.integers(0, 3, size=(11, 4))
    order = stable_argsort(b, 0)
    for kth in range(11):
        np.testing.assert_array_equal(kth_index(b, 0, kth)[0], order[kth])
