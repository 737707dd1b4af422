"""PyTorch's small Tensor API, checked against torch: the ``Tensor`` class
constructor vs ``tensorgrad.tensor`` (copy semantics, ``from_numpy`` /
``as_tensor`` sharing), ``.data``, ``contiguous``/``is_contiguous``,
``view_as``/``reshape_as``/``narrow``/``t``, the ``new_*`` factories,
``type_as``, ``Tensor.where``, ``__format__``, ``add``/``sub`` with ``alpha``
and ``softmax``/``log_softmax`` with ``dtype``."""
import inspect

import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from helpers import RNG, assert_close, compare, rand

FLOATS = [np.float32, np.float64]


def _err(fn):
    """The exception type ``fn()`` raises (None when it returns)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e)
    return None


# ---------------------------------------------------------------------- Tensor(...): PyTorch's legacy constructor
@pytest.mark.parametrize('data', [[1, 2], [[1, 2], [3, 4]], [True, False], [1.5, 2], [], [[]], (3, 4), range(3)])
def test_class_constructor_data_is_float32_like_torch(data):
    t, r = tg.Tensor(data), torch.Tensor(data)
    assert t.dtype == tg.float32 and t.shape == tuple(r.shape)
    np.testing.assert_array_equal(t.numpy(), r.numpy())
    assert not t.requires_grad and t.grad_fn is None


def test_class_constructor_sizes_and_empty():
    for args in [(2, 3), (4,), (0,), (np.int64(3),), (2, 0, 1)]:
        t, r = tg.Tensor(*args), torch.Tensor(*args)
        assert t.shape == tuple(r.shape) and t.dtype == tg.float32 and not t.requires_grad
    assert tg.Tensor().shape == tuple(torch.Tensor().shape) == (0,)
    assert tg.Tensor(2, 3, device='cpu').shape == (2, 3)
    assert tg.Tensor([1, 2], device='cpu').dtype == tg.float32


def test_class_constructor_from_arrays_like_torch():
    for dt in (np.float64, np.int64, np.bool_, np.float16):
        a = np.ones((2, 3), dt)
        t, r = tg.Tensor(a), torch.Tensor(a)
        assert t.dtype == tg.float32 == str(r.dtype).replace('torch.', '')
        assert not np.shares_memory(t.numpy(), a)
    a = np.ones(3, np.float32)
    t = tg.Tensor(a)
    assert np.shares_memory(t.numpy(), a) and np.shares_memory(torch.Tensor(a).numpy(), a)
    assert tg.Tensor(np.array(3.0)).shape == () == tuple(torch.Tensor(np.array(3.0)).shape)


@pytest.mark.parametrize('args,kwargs', [
    ((3.5,), {}), ((True,), {}), (('ab',), {}), ((None,), {}), (({1: 2},), {}), ((2, 3.0), {}), ((2, [3]), {}),
    (([1, 2], [3]), {}), ((-1,), {}), (([[1, 2], [3]],), {}), ((np.float64(3.0),), {}),
])
def test_class_constructor_errors_like_torch(args, kwargs):
    expected = _err(lambda: torch.Tensor(*args, **kwargs))
    assert expected is not None
    with pytest.raises(expected, match='Tensor|tensor'):
        tg.Tensor(*args, **kwargs)


def test_class_constructor_from_a_tensor_is_an_alias():
    a = rand(2, 3)
    x, xt = tg.tensor(a), torch.tensor(a, requires_grad=True)
    y, yt = x * 2, xt * 2
    b, bt = tg.Tensor(y), torch.Tensor(yt)
    assert b is not y and np.shares_memory(b.numpy(), y.numpy()) and b._vc is y._vc
    assert b.requires_grad == bt.requires_grad and b.grad_fn is not None and not b.is_leaf
    g = rand(2, 3)
    (b * tg.tensor(g)).sum().backward()
    (bt * torch.tensor(g)).sum().backward()
    assert_close(x.grad, xt.grad)
    i = tg.tensor([1, 2])
    ai = tg.Tensor(i)
    assert ai.dtype == tg.int64 and torch.Tensor(torch.tensor([1, 2])).dtype == torch.int64
    v0 = i._version
    ai.add_(1)
    assert i.tolist() == [2, 3] and i._version == v0 + 1
    with pytest.raises(RuntimeError, match='device'):
        tg.Tensor(i, device='cpu')
    with pytest.raises(_err(lambda: torch.Tensor(torch.ones(2), device='cpu'))):
        tg.Tensor(i, device='cpu')


def test_class_constructor_keyword_form_keeps_dtype_and_shares():
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    t = tg.Tensor(a, requires_grad=False)
    assert t.dtype == tg.int64 and np.shares_memory(t.numpy(), a)
    w = tg.Tensor(np.ones(3), requires_grad=True)
    assert w.dtype == tg.float64 and w.requires_grad and w.is_leaf
    assert tg.Tensor([1, 2], dtype='float64').dtype == tg.float64
    assert tg.Tensor([1, 2], name='n').dtype == tg.int64  # tensorgrad.tensor's dtype rules
    assert not tg.Tensor([1.0], dtype='float32').requires_grad  # the class's default
    with pytest.raises(TypeError, match='one data argument'):
        tg.Tensor(2, 3, dtype='float64')


def test_micrograd_sanity_check_with_the_class_constructor():
    def run(lib):
        x = lib.Tensor([-4.0]).double()
        x.requires_grad = True
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y = h + q + q * x
        y.backward()
        return x, y
    xm, ym = run(tg)
    xt, yt = run(torch)
    assert ym.dtype == tg.float64
    assert_close(ym, yt.detach(), rtol=1e-12)
    assert_close(xm.grad, xt.grad, rtol=1e-12)


# ---------------------------------------------------------------------- tensorgrad.tensor: copies, reference defaults
def test_tensor_copies_arrays_and_tensors():
    a = np.ones(3, np.float32)
    t = tg.tensor(a)
    assert not np.shares_memory(t.numpy(), a) and t.requires_grad  # the reference's default
    a[0] = 5
    assert t.tolist() == [1.0, 1.0, 1.0]
    assert not np.shares_memory(torch.tensor(a).numpy(), a)
    y = t * 2
    c = tg.tensor(y, requires_grad=False)
    assert not np.shares_memory(c.numpy(), y.numpy()) and c.grad_fn is None and c.is_leaf
    assert tg.tensor(np.ones(2, np.int64)).dtype == tg.int64  # arrays keep their dtype, as torch.tensor
    assert tg.tensor(np.ones(2), dtype='float32').dtype == tg.float32


def test_tensor_stands_for_the_class():
    t = tg.tensor([1.0])
    assert type(t) is tg.Tensor and isinstance(t, tg.tensor) and issubclass(tg.Tensor, tg.tensor)
    assert not isinstance(np.ones(1), tg.tensor)
    assert tg.tensor.zeros(2, 3).requires_grad and tg.tensor.zeros(2, 3).shape == (2, 3)
    assert tg.tensor.cat([tg.tensor([1.0]), tg.tensor([2.0])], 0).tolist() == [1.0, 2.0]
    assert 'zeros' in dir(tg.tensor) and 'backward' in dir(tg.tensor)
    params = list(inspect.signature(tg.tensor.__init__).parameters)
    assert params[:5] == ['self', 'data', 'dtype', 'device', 'requires_grad']
    assert list(inspect.signature(tg.tensor).parameters)[:4] == ['data', 'dtype', 'device', 'requires_grad']


def test_from_numpy_and_as_tensor_share_memory():
    a = np.arange(4, dtype=np.int32)
    t, r = tg.from_numpy(a), torch.from_numpy(a)
    assert np.shares_memory(t.numpy(), a) and t.dtype == tg.int32 and not t.requires_grad
    assert np.shares_memory(r.numpy(), a)
    with pytest.raises(TypeError, match='from_numpy'):
        tg.from_numpy([1, 2])
    f = np.ones(3, np.float32)
    assert np.shares_memory(tg.as_tensor(f).numpy(), f) and np.shares_memory(torch.as_tensor(f).numpy(), f)
    assert not np.shares_memory(tg.as_tensor(f, dtype='float64').numpy(), f)
    x = tg.tensor([1.0, 2.0])
    assert tg.as_tensor(x) is x
    d, xt = tg.as_tensor(x, dtype='float64'), torch.tensor([1.0, 2.0], requires_grad=True)
    dt = torch.as_tensor(xt, dtype=torch.float64)
    assert d.dtype == tg.float64 and d.requires_grad == dt.requires_grad and d.grad_fn is not None
    assert tg.as_tensor([1, 2]).dtype == tg.int64 == str(torch.as_tensor([1, 2]).dtype).replace('torch.', '')


# ---------------------------------------------------------------------- .data
def test_data_is_a_graphless_alias_and_skips_the_version_counter():
    x, xt = tg.tensor(rand(3)), torch.tensor(rand(3), requires_grad=True)
    for lib_x in (x, xt):
        d = lib_x.data
        assert not d.requires_grad and d.grad_fn is None
    v, vt = x._version, xt._version
    x.data.mul_(2.0)
    xt.data.mul_(2.0)
    assert x._version == v and xt._version == vt
    y, yt = x * 3, xt * 3
    assert not y.data.requires_grad and y.data.grad_fn is None and yt.data.grad_fn is None
    assert np.shares_memory(y.data.numpy(), y.numpy())


def test_data_updates_like_an_optimizer_step():
    w0, g0, lr = rand(4, 3), rand(4, 3), 0.1
    p, pt = tg.tensor(w0), torch.tensor(w0, requires_grad=True)
    for lib_p, gg in ((p, tg.tensor(g0)), (pt, torch.tensor(g0))):
        (lib_p * gg).sum().backward()
        lib_p.data.add_(lib_p.grad, alpha=-lr)
        lib_p.data.sub_(lib_p.grad, alpha=0.5)
    assert_close(p, pt.detach())
    assert p.requires_grad and p.is_leaf and p._version == 0
    lin = tg.nn.Linear(3, 2)
    lin.weight.data.fill_(0.5)
    lin.weight.data.mul_(0.02)
    assert_close(lin.weight, np.full((2, 3), 0.01, np.float32))
    assert lin.weight.requires_grad and lin.weight.is_leaf


def test_data_assignment_shares_memory_like_torch():
    x, xt = tg.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    o, ot = np.zeros(2, np.float64), np.zeros(2, np.float64)
    x.data = tg.from_numpy(o)
    xt.data = torch.from_numpy(ot)
    assert x.shape == tuple(xt.shape) and x.dtype == tg.float64 and x.requires_grad == xt.requires_grad
    x.data[0] = 5
    xt.data[0] = 5
    assert o[0] == ot[0] == 5
    with pytest.raises(TypeError, match='data'):
        x.data = [1, 2]


# ---------------------------------------------------------------------- contiguous / is_contiguous
def _layouts(lib, a):
    x = lib.tensor(a)
    return {
        'plain': x, 'transposed': x.t(), 'sliced_rows': x[1:], 'sliced_step': x[:, ::2],
        'expanded': x[:1].expand(3, 4), 'col': x[:, :1], 'col_t': x[:, :1].t(), 'row_t': x[:1].t(),
        'empty_t': x[:0].t(), 'scalar': x[0, 0], 'reversed_cols': lib.flip(x, [1]),
    }


def test_is_contiguous_matches_torch():
    a = rand(3, 4)
    ours, ref = _layouts(tg, a), _layouts(torch, a)
    for k in ours:
        assert ours[k].is_contiguous() == ref[k].is_contiguous(), k


@pytest.mark.parametrize('dtype', FLOATS)
@pytest.mark.parametrize('view', [lambda x: x.t(), lambda x: x[:, ::2], lambda x: x[:1].expand(3, 4),
                                  lambda x: x[1:, 1:3]])
def test_contiguous_copies_non_contiguous_views(view, dtype):
    a = rand(3, 4, dtype=dtype)

    def run(lib_view):
        c = lib_view.contiguous()
        assert c.is_contiguous()
        return c
    out = compare(lambda x: run(view(x)), lambda x: run(view(x)), a)
    assert out.dtype == np.dtype(dtype).name


def test_contiguous_returns_self_when_contiguous():
    x = tg.tensor(rand(2, 3))
    assert x.contiguous() is x
    xt = torch.tensor(rand(2, 3))
    assert xt.contiguous() is xt
    assert tg.tensor(rand(0, 3)).contiguous().shape == (0, 3)
    s = tg.tensor(2.0)
    assert s.contiguous() is s


# ---------------------------------------------------------------------- view_as / reshape_as / narrow / t
@pytest.mark.parametrize('dtype', FLOATS)
def test_view_as_and_reshape_as(dtype):
    a, other = rand(2, 6, dtype=dtype), np.zeros((3, 4), dtype)
    compare(lambda x: x.view_as(tg.tensor(other)), lambda x: x.view_as(torch.tensor(other)), a)
    compare(lambda x: x.t().reshape_as(tg.tensor(other)), lambda x: x.t().reshape_as(torch.tensor(other)), a)
    compare(lambda x: x[0, 0].reshape_as(tg.tensor(np.zeros((1, 1)))),
            lambda x: x[0, 0].reshape_as(torch.tensor(np.zeros((1, 1)))), a)
    v = tg.tensor(a).view_as(tg.tensor(other))
    assert v._vc is not None and np.shares_memory(v.numpy(), v._base.numpy())


@pytest.mark.parametrize('dtype', FLOATS)
@pytest.mark.parametrize('dim,start,length', [(0, 0, 2), (1, 1, 3), (-1, -4, 2), (1, 5, 0), (0, 1, 2), (2, 2, 1)])
def test_narrow_like_torch(dim, start, length, dtype):
    a = rand(3, 5, 4, dtype=dtype)
    compare(lambda x: x.narrow(dim, start, length), lambda x: x.narrow(dim, start, length), a)
    compare(lambda x: tg.narrow(x.transpose(0, 2), dim, 0, 1),
            lambda x: torch.narrow(x.transpose(0, 2), dim, 0, 1), a)


def test_narrow_is_a_view_and_accepts_a_tensor_start():
    x = tg.tensor(np.arange(10.0, dtype=np.float32).reshape(2, 5), requires_grad=False)
    n = x.narrow(1, tg.tensor(1), 2)
    assert n.tolist() == [[1.0, 2.0], [6.0, 7.0]]
    n.mul_(0)
    assert x.tolist()[0] == [0.0, 0.0, 0.0, 3.0, 4.0]


@pytest.mark.parametrize('args', [(1, 6, 1), (1, -6, 1), (1, 2, 4), (2, 0, 1), (1, 1, -1), (-3, 0, 1)])
def test_narrow_errors_like_torch(args):
    expected = _err(lambda: torch.zeros(2, 5).narrow(*args))
    assert expected is not None
    with pytest.raises(expected, match='narrow'):
        tg.zeros(2, 5).narrow(*args)
    with pytest.raises(_err(lambda: torch.tensor(1.0).narrow(0, 0, 1)), match='narrow'):
        tg.tensor(1.0).narrow(0, 0, 1)


@pytest.mark.parametrize('dtype', FLOATS)
@pytest.mark.parametrize('shape', [(), (4,), (3, 4), (0, 2)])
def test_t_like_torch(shape, dtype):
    a = rand(*shape, dtype=dtype)
    out = compare(lambda x: x.t(), lambda x: x.t(), a)
    compare(lambda x: tg.t(x) * 2, lambda x: torch.t(x) * 2, a)
    assert out.shape == tuple(torch.tensor(a).t().shape)


def test_t_of_3d_raises_like_torch():
    with pytest.raises(_err(lambda: torch.ones(2, 3, 4).t()), match='t: expects'):
        tg.ones(2, 3, 4).t()


# ---------------------------------------------------------------------- new_* factories / type_as
@pytest.mark.parametrize('src_dtype', ['float64', 'int64', 'float32'])
def test_new_factories_take_dtype_and_device_from_self(src_dtype):
    x, xt = tg.tensor([1, 2], dtype=src_dtype), torch.tensor([1, 2], dtype=getattr(torch, src_dtype))
    for name in ('new_zeros', 'new_ones', 'new_empty'):
        for args in ((2, 3), ((2, 3),), ([],), ((),)):
            out, ref = getattr(x, name)(*args), getattr(xt, name)(*args)
            assert out.shape == tuple(ref.shape) and str(out.dtype) == src_dtype and not out.requires_grad
            assert out.device == x.device
        if name != 'new_empty':
            assert_close(getattr(x, name)(2), getattr(xt, name)(2))
    assert_close(x.new_full((2, 2), 2.5), xt.new_full((2, 2), 2.5))
    assert x.new_full((2,), 2.5).dtype == src_dtype
    assert_close(x.new_tensor([1.5, 2.5]), xt.new_tensor([1.5, 2.5]))
    assert x.new_tensor([1.5]).dtype == src_dtype and not x.new_tensor([1.5]).requires_grad
    d = x.new_ones(2, dtype='float64', requires_grad=True)
    assert d.dtype == tg.float64 and d.requires_grad and d.is_leaf


def test_new_factory_errors_like_torch():
    i, it = tg.tensor([1, 2]), torch.tensor([1, 2])
    with pytest.raises(_err(lambda: it.new_zeros(2, requires_grad=True)), match='new_zeros'):
        i.new_zeros(2, requires_grad=True)
    with pytest.raises(_err(lambda: it.new_tensor([1], requires_grad=True)), match='new_tensor'):
        i.new_tensor([1], requires_grad=True)
    with pytest.raises(_err(lambda: it.new_full(3, 1)), match='new_full'):
        i.new_full(3, 1)
    with pytest.raises(_err(lambda: it.new_ones()), match='new_ones'):
        i.new_ones()


def test_new_tensor_copies():
    x = tg.tensor([1.0, 2.0])
    a = np.ones(2, np.float32)
    n = x.new_tensor(a)
    assert not np.shares_memory(n.numpy(), a)
    m = x.new_tensor(x * 2)
    assert m.grad_fn is None and not m.requires_grad and m.tolist() == [2.0, 4.0]


@pytest.mark.parametrize('dtype', FLOATS)
def test_type_as(dtype):
    a, o = rand(2, 3, dtype=dtype), np.zeros(1, np.float64 if dtype == np.float32 else np.float32)
    compare(lambda x: x.type_as(tg.tensor(o)) * 2, lambda x: x.type_as(torch.tensor(o)) * 2, a)
    x = tg.tensor(a)
    assert x.type_as(tg.tensor(np.zeros(1, dtype))) is x
    assert x.type_as(tg.tensor([1])).dtype == tg.int64 == str(torch.tensor(a).type_as(torch.tensor([1])).dtype)[6:]
    with pytest.raises(TypeError, match='type_as'):
        x.type_as('float64')


# ---------------------------------------------------------------------- Tensor.where
@pytest.mark.parametrize('dtype', FLOATS)
def test_where_method(dtype):
    a, b = rand(3, 4, dtype=dtype), rand(4, dtype=dtype)
    c = rand(3, 4) > 0
    compare(lambda x, y: x.t().where(tg.tensor(c.T), y[:3]),
            lambda x, y: x.t().where(torch.tensor(c.T), y[:3]), a, b)
    compare(lambda x: x.where(tg.tensor(c), 0.0), lambda x: x.where(torch.tensor(c), 0.0), a)


# ---------------------------------------------------------------------- __format__
def test_format_like_torch():
    for v in (1.23456, 3, True):
        ours, ref = tg.tensor(v), torch.tensor(v)
        for spec in ('', '.3f' if not isinstance(v, bool) else '', '>8'):
            assert format(ours, spec) == format(ref, spec), (v, spec)
    loss = (tg.tensor([0.5, 1.5]) * 2).mean()
    assert f"{loss:.4f}" == '2.0000'
    one, one_t = tg.tensor([1.5]), torch.tensor([1.5])
    assert format(one, '') == str(one)
    with pytest.raises(_err(lambda: format(one_t, '.2f')), match='format'):
        format(one, '.2f')
    with pytest.raises(_err(lambda: format(torch.ones(2, 2), '.2f')), match='format'):
        format(tg.ones(2, 2), '.2f')


# ---------------------------------------------------------------------- add / sub with alpha
@pytest.mark.parametrize('dtype', FLOATS)
@pytest.mark.parametrize('alpha', [2, -0.5, 0])
def test_add_sub_alpha_forward_backward(alpha, dtype):
    a, b = rand(4, 3, dtype=dtype), rand(3, dtype=dtype)
    compare(lambda x, y: tg.add(x, y, alpha=alpha), lambda x, y: torch.add(x, y, alpha=alpha), a, b)
    compare(lambda x, y: x.t().sub(y[:, None].expand(3, 4), alpha=alpha),
            lambda x, y: x.t().sub(y[:, None].expand(3, 4), alpha=alpha), a, b)
    compare(lambda x, y: tg.subtract(x[::2], y, alpha=alpha), lambda x, y: torch.subtract(x[::2], y, alpha=alpha),
            a, b)
    compare(lambda x: x.add(1.5, alpha=alpha), lambda x: x.add(1.5, alpha=alpha), a)
    compare(lambda x: tg.sub(x, 2, alpha=alpha), lambda x: torch.sub(x, 2, alpha=alpha), a)
    compare(lambda x, y: x[0, 0].add(y[1], alpha=alpha), lambda x, y: x[0, 0].add(y[1], alpha=alpha), a, b)
    compare(lambda x, y: x[:0].add(y, alpha=alpha), lambda x, y: x[:0].add(y, alpha=alpha), a, b)


def test_add_alpha_mixed_dtypes_like_torch():
    a, i = rand(2, 3, dtype=np.float64), np.arange(3)
    compare(lambda x, y: x.add(y, alpha=0.1), lambda x, y: x.add(y, alpha=0.1), a, i)
    compare(lambda x, y: y.add(x, alpha=3), lambda x, y: y.add(x, alpha=3), a, i)
    it, ii = torch.tensor([1, 2]), tg.tensor([1, 2])
    for fn in (lambda lib, t: lib.add(t, t, alpha=2), lambda lib, t: lib.sub(t, 5, alpha=-3),
               lambda lib, t: lib.add(t, 2.5, alpha=1.5)):
        out, ref = fn(tg, ii), fn(torch, it)
        assert_close(out, ref)
        assert str(out.dtype) == str(ref.dtype)[6:]
    b, bt = tg.tensor([True, False]), torch.tensor([True, False])
    for al in (2, 0, True, False):
        assert tg.add(b, tg.tensor([False, True]), alpha=al).tolist() == \
            torch.add(bt, torch.tensor([False, True]), alpha=al).tolist()


@pytest.mark.parametrize('fn', [
    lambda lib, i, f: lib.add(i, i, alpha=2.5), lambda lib, i, f: lib.add(i, 2, alpha=1.5),
    lambda lib, i, f: lib.add(f, f, alpha=True), lambda lib, i, f: f.sub(f, alpha=False),
    lambda lib, i, f: i.add_(i, alpha=0.5), lambda lib, i, f: f.add_(f, alpha=True),
])
def test_alpha_errors_like_torch(fn):
    expected = _err(lambda: fn(torch, torch.tensor([1, 2]), torch.tensor([1.0, 2.0])))
    assert expected is not None
    i, f = tg.tensor([1, 2]), tg.tensor([1.0, 2.0], requires_grad=False)
    with pytest.raises(expected, match='alpha'):
        fn(tg, i, f)
    assert i.tolist() == [1, 2] and f.tolist() == [1.0, 2.0]


@pytest.mark.parametrize('dtype', FLOATS)
def test_inplace_alpha_recorded_like_torch(dtype):
    a, b = rand(3, 4, dtype=dtype), rand(4, dtype=dtype)

    def prog(x, y):
        z = x * 1.0
        z.add_(y, alpha=-2.0)
        z.sub_(y.exp(), alpha=0.5)
        return z
    compare(prog, prog, a, b)
    compare(lambda x, y: (x * 1).t().add_(y[:3], alpha=3), lambda x, y: (x * 1).t().add_(y[:3], alpha=3), a, b)


def test_inplace_alpha_without_graph():
    w = rand(5)
    x, xt = tg.tensor(w, requires_grad=False), torch.tensor(w)
    g = rand(5)
    v = x._version
    assert x.add_(tg.tensor(g), alpha=-0.3) is x and x._version == v + 1
    xt.add_(torch.tensor(g), alpha=-0.3)
    x.sub_(2, alpha=0.25)
    xt.sub_(2, alpha=0.25)
    assert_close(x, xt)
    i, it = tg.tensor([1, 2]), torch.tensor([1, 2])
    i.add_(tg.tensor([3, 4]), alpha=2)
    it.add_(torch.tensor([3, 4]), alpha=2)
    assert i.tolist() == it.tolist() and i.dtype == tg.int64


# ---------------------------------------------------------------------- softmax / log_softmax with dtype
@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('form', ['method', 'functional', 'top'])
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_softmax_dtype_casts_first(name, form, dtype):
    a = rand(3, 5)
    ours = {'method': lambda x, **k: getattr(x.t(), name)(0, **k), 'functional': lambda x, **k:
            getattr(F, name)(x.t(), 0, **k), 'top': lambda x, **k: getattr(tg, name)(x.t(), 0, **k)}[form]
    theirs = {'method': lambda x, **k: getattr(x.t(), name)(0, **k), 'functional': lambda x, **k:
              getattr(torch.nn.functional, name)(x.t(), 0, **k),
              'top': lambda x, **k: getattr(torch, name)(x.t(), 0, **k)}[form]
    out = compare(lambda x: ours(x, dtype=getattr(tg, dtype)), lambda x: theirs(x, dtype=getattr(torch, dtype)), a)
    assert out.dtype == dtype
    i = np.arange(6).reshape(2, 3)
    assert_close(ours(tg.tensor(i), dtype=tg.float64), theirs(torch.tensor(i), dtype=torch.float64))
    assert ours(tg.tensor(i), dtype=tg.float64).dtype == tg.float64


def test_softmax_dtype_positional_method():
    a = RNG.standard_normal((2, 3)).astype(np.float32)
    out, ref = tg.tensor(a).softmax(1, tg.float64), torch.tensor(a).softmax(1, torch.float64)
    assert out.dtype == tg.float64
    assert_close(out, ref, rtol=1e-12)
