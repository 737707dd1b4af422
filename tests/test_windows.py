"""Windowed ops (tensorgrad/ops/windows.py) against PyTorch: pad modes, sliding
windows, strided_windows, N-d convolution and pooling."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import compare, rand


# ---------------------------------------------------------------------- pad
@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
@pytest.mark.parametrize('pad', [(1, 2), (2, 1, 1, 2), (0, 3, 2, 0), (3, 3, 4, 4)])
def test_pad_vs_torch(mode, pad, device):
    x = rand(2, 3, 5, 6)
    if mode != 'constant' and len(pad) == 2:
        x = rand(2, 3, 6)  # torch's non-constant modes pad 1-3 trailing dims of a batched input
    kw = {'value': 0.5} if mode == 'constant' else {}
    compare(lambda t: tg.pad(t, pad, mode=mode, **kw), lambda t: F.pad(t, pad, mode=mode, **kw), x, device=device)


@pytest.mark.parametrize('mode', ['reflect', 'replicate', 'circular'])
def test_pad_three_dims(mode):
    compare(lambda t: tg.pad(t, (1, 2, 2, 1, 1, 1), mode=mode), lambda t: F.pad(t, (1, 2, 2, 1, 1, 1), mode=mode),
            rand(1, 2, 4, 5, 3))


def test_pad_negative_crops():
    compare(lambda t: tg.pad(t, (-1, 2, 1, -2)), lambda t: F.pad(t, (-1, 2, 1, -2)), rand(2, 5, 6))


def test_pad_numpy_pairs_and_int_match_numpy():
    x = rand(3, 4)
    t = tg.tensor(x, requires_grad=True)
    for pw, mode, np_mode in [(1, 'constant', 'constant'), (((1, 2), (0, 3)), 'reflect', 'reflect'),
                              (((2, 0), (1, 1)), 'replicate', 'edge'), (((1, 1),), 'circular', 'wrap'),
                              (((2, 1), (3, 2)), 'symmetric', 'symmetric')]:
        np.testing.assert_array_equal(tg.pad(t, pw, mode=mode).numpy(), np.pad(x, pw, mode=np_mode))


def test_reference_tensor_pad_method():
    x = tg.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    p = x.pad(pad_width=1, mode='constant', constant_values=0)
    np.testing.assert_array_equal(p.numpy(), [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]])
    p.backward(np.arange(16, dtype=np.float32).reshape(4, 4))
    np.testing.assert_array_equal(x.grad.numpy(), [[5., 6.], [9., 10.]])
    assert tg.pad(x, pad_width=(1, 0), constant_values=7.).numpy()[0, 0] == 7.


def test_pad_errors():
    x = tg.ones(2, 3)
    with pytest.raises(ValueError, match='reflect'):
        tg.pad(x, (3, 0), mode='reflect')
    with pytest.raises(ValueError, match='mode'):
        tg.pad(x, (1, 1), mode='bogus')
    with pytest.raises(ValueError, match='even length'):
        tg.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match='negative'):
        tg.pad(x, (-1, 0), mode='replicate')


def test_pad_keeps_float32_and_no_graph_under_no_grad():
    x = tg.tensor(rand(2, 3), requires_grad=True)
    assert tg.pad(x, (1, 1), mode='reflect')._data.dtype == np.float32
    with tg.no_grad():
        assert tg.pad(x, (1, 1)).grad_fn is None


# ---------------------------------------------------------------------- sliding windows
@pytest.mark.parametrize('shape,window,axis', [((7,), 3, None), ((5, 6), (2, 3), None), ((2, 5, 6), 3, -1),
                                               ((2, 5, 6), (3, 2), (2, 1)), ((4, 5), (2,), (0,))])
def test_sliding_window_view_matches_numpy(shape, window, axis):
    x = rand(*shape)
    t = tg.tensor(x, requires_grad=True)
    w = tg.sliding_window_view(t, window, axis)
    ref = np.lib.stride_tricks.sliding_window_view(x, window, axis)
    np.testing.assert_array_equal(w.numpy(), ref)
    assert np.shares_memory(w._data, t._data) and w._vc is t._vc
    # gradient: each input element receives the sum of upstream grads of every window holding it
    g = rand(*ref.shape)
    w.backward(g)
    idx = np.arange(x.size).reshape(shape)
    expect = np.bincount(np.lib.stride_tricks.sliding_window_view(idx, window, axis).ravel(), weights=g.ravel(),
                         minlength=x.size).reshape(shape)
    np.testing.assert_allclose(t.grad.numpy(), expect, rtol=1e-5, atol=1e-6)


def test_sliding_window_step_and_dilation_vs_torch_unfold():
    x = rand(2, 3, 9, 10)
    compare(lambda t: tg.sliding_window_view(t, (3, 2), axis=(2, 3), step=(2, 3)),
            lambda t: t.unfold(2, 3, 2).unfold(3, 2, 3), x)
    # dilation 2 along the last axis: windows x[..., i:i+5:2]
    t = tg.tensor(rand(8), requires_grad=True)
    w = tg.sliding_window_view(t, 3, step=2, dilation=2)
    np.testing.assert_array_equal(w.numpy(), np.stack([t.numpy()[i:i + 5:2] for i in (0, 2)]))


def test_sliding_window_errors():
    with pytest.raises(ValueError, match='sliding_window_view'):
        tg.sliding_window_view(tg.ones(3), 4)
    with pytest.raises(ValueError, match='sliding_window_view'):
        tg.sliding_window_view(tg.ones(3, 3), 2)  # needs one entry per dim when axis is None
    with pytest.raises(ValueError, match='repeats'):
        tg.sliding_window_view(tg.ones(5, 5), (2, 2), axis=(0, 0))


def test_strided_windows_reference_example():
    x = tg.tensor(rand(2, 3, 10, 10), requires_grad=True)
    windows = x.strided_windows(kernel_size=3, stride=1)
    assert windows.shape == (8, 8, 2, 3, 3, 3)
    assert x.strided_windows(x, kernel_size=3, stride=1).shape == (8, 8, 2, 3, 3, 3)  # the reference's call
    assert tg.strided_windows(x, 3).shape == (8, 8, 2, 3, 3, 3)
    compare(lambda t: t.strided_windows(3, 2), lambda t: t.unfold(2, 3, 2).unfold(3, 3, 2).permute(2, 3, 0, 1, 4, 5),
            rand(2, 3, 7, 8))


# ---------------------------------------------------------------------- conv_nd
CONV = [
    ((2, 3, 9), (4, 3, 3), dict(stride=2, padding=1, dilation=2), F.conv1d),
    ((2, 3, 7), (2, 3, 1), dict(), F.conv1d),
    ((2, 3, 7, 8), (4, 3, 3, 2), dict(stride=(1, 2), padding=(1, 0)), F.conv2d),
    ((1, 2, 6, 6), (3, 2, 3, 3), dict(stride=2, padding=2, dilation=(2, 1)), F.conv2d),
    ((1, 2, 5, 6, 4), (3, 2, 2, 3, 2), dict(stride=1, padding=1, dilation=(1, 2, 1)), F.conv3d),
    ((2, 1, 4, 4, 4), (2, 1, 3, 3, 3), dict(stride=(1, 2, 1)), F.conv3d),
]


@pytest.mark.parametrize('xs,ws,kw,tconv', CONV)
def test_conv_nd_vs_torch(xs, ws, kw, tconv, device):
    compare(lambda x, w: tg.conv_nd(x, w, **kw), lambda x, w: tconv(x, w, **kw), rand(*xs), rand(*ws),
            device=device, rtol=1e-4, atol=1e-5)


def test_conv_nd_constant_filter_and_errors():
    w = rand(2, 3, 3)
    compare(lambda x: tg.conv_nd(x, w), lambda x: F.conv1d(x, torch.tensor(w)), rand(1, 3, 6))
    with pytest.raises(ValueError, match='conv_nd'):
        tg.conv_nd(tg.ones(1, 3, 5), tg.ones(2, 4, 3))
    with pytest.raises(ValueError, match='conv_nd'):
        tg.conv_nd(tg.ones(1, 3, 2), tg.ones(2, 3, 3))
    with pytest.raises(ValueError, match='stride'):
        tg.conv_nd(tg.ones(1, 3, 5, 5), tg.ones(2, 3, 3, 3), stride=(1, 1, 1))


# ---------------------------------------------------------------------- pooling
def test_max_pool_mygrad_example():
    x = tg.tensor([[0., 10., 8.], [2., 7., 3.], [5., 7., 20.]], requires_grad=True)
    out = tg.max_pool(x, pool=(2, 2), stride=1)
    np.testing.assert_array_equal(out.numpy(), [[10., 10.], [7., 20.]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0., 2., 0.], [0., 1., 0.], [0., 0., 1.]])


POOL = [
    ((2, 3, 9), (3,), 2, F.max_pool1d, F.avg_pool1d),
    ((2, 3, 7, 8), (2, 3), (2, 1), F.max_pool2d, F.avg_pool2d),
    ((1, 2, 5, 6, 4), (2, 2, 2), 1, F.max_pool3d, F.avg_pool3d),
    ((1, 2, 6, 6, 4), (3, 2, 2), (3, 2, 2), F.max_pool3d, F.avg_pool3d),
]


@pytest.mark.parametrize('xs,pool,stride,tmax,tavg', POOL)
def test_pools_vs_torch(xs, pool, stride, tmax, tavg, device):
    compare(lambda t: tg.max_pool(t, pool, stride), lambda t: tmax(t, pool, stride), rand(*xs), device=device)
    compare(lambda t: tg.avg_pool(t, pool, stride), lambda t: tavg(t, pool, stride), rand(*xs), device=device)


def test_pool_over_unbatched_trailing_dims():
    x = rand(5, 6)
    out = tg.max_pool(tg.tensor(x), (2, 3), (1, 3))
    ref = np.lib.stride_tricks.sliding_window_view(x, (2, 3))[:, ::3].max(axis=(-1, -2))
    np.testing.assert_array_equal(out.numpy(), ref)


def test_pool_errors():
    with pytest.raises(ValueError, match='max_pool'):
        tg.max_pool(tg.ones(3), (4,), 1)
    with pytest.raises(ValueError, match='avg_pool'):
        tg.avg_pool(tg.ones(2, 2), (1, 1, 1), 1)


# ---------------------------------------------------------------------- property-based shape logic
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.data())
def test_sliding_window_view_shapes_match_numpy(shape, data):
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda a: a % nd))
    window = [data.draw(st.integers(1, shape[a % nd])) for a in axes]
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    ref = np.lib.stride_tricks.sliding_window_view(x, window, tuple(axes))
    out = tg.sliding_window_view(tg.tensor(x), window, tuple(axes))
    np.testing.assert_array_equal(out.numpy(), ref)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_pad_matches_numpy(shape, data):
    mode, np_mode = data.draw(st.sampled_from([('constant', 'constant'), ('reflect', 'reflect'),
                                               ('replicate', 'edge'), ('circular', 'wrap')]))
    limit = {'reflect': lambda n: n - 1, 'circular': lambda n: n}.get(mode, lambda n: 3)
    widths = [(data.draw(st.integers(0, limit(n))), data.draw(st.integers(0, limit(n)))) for n in shape]
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t = tg.tensor(x, requires_grad=True)
    out = tg.pad(t, widths, mode=mode)
    np.testing.assert_array_equal(out.numpy(), np.pad(x, widths, mode=np_mode))
    # gradient = adjoint of the padding: <pad(x), g> == <x, pad^T(g)> for the index map
    g = np.random.default_rng(0).normal(size=out.shape).astype(np.float32)
    out.backward(g)
    kw = {'constant_values': x.size} if np_mode == 'constant' else {}  # padding maps to a dropped bin
    idx = np.pad(np.arange(x.size).reshape(shape), widths, mode=np_mode, **kw)
    expect = np.bincount(idx.ravel(), weights=g.ravel(), minlength=x.size + 1)[:x.size].reshape(shape)
    np.testing.assert_allclose(t.grad.numpy(), expect, rtol=1e-5, atol=1e-5)
