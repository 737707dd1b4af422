"""The torch pooling options (dilation, ceil_mode, return_indices, count_include_pad,
divisor_override) of max/avg pooling, 2-D and 1-D, functional and module forms,
against PyTorch: forward, indices and the input gradient for a non-uniform
upstream gradient."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorgrad as tg
from helpers import compare, rand, to_np

F = tg.nn.functional
nn = tg.nn
tnn = torch.nn

MAX2D = [
    # x shape, kwargs
    ((2, 3, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 7, 8), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((2, 2, 9, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),  # last window would start in padding
    ((2, 2, 8, 9), dict(kernel_size=3, stride=1, dilation=2)),
    ((2, 2, 9, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    ((2, 2, 10, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 3), ceil_mode=True)),
    ((2, 2, 11, 11), dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),  # disjoint with gaps
    ((1, 3, 5, 5), dict(kernel_size=3, stride=1, padding=1)),
    ((2, 3, 8, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize('xs,kw', MAX2D, ids=str)
@pytest.mark.parametrize('indices', [False, True])
def test_max_pool2d(xs, kw, indices, device):
    x = rand(*xs)
    if indices:
        out = compare(lambda t: F.max_pool2d(t, **kw, return_indices=True)[0],
                      lambda t: TF.max_pool2d(t, **kw, return_indices=True)[0], x, device=device)
        _, idx = F.max_pool2d(tg.tensor(x, device=device), **kw, return_indices=True)
        _, ref = TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)
        assert idx.dtype == tg.int64 and not idx.requires_grad
        np.testing.assert_array_equal(to_np(idx), ref.numpy())
    else:
        out = compare(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x, device=device)
    assert out.dtype == tg.float32


def test_max_pool2d_positional_and_tuple_grad(device):
    x = rand(2, 3, 9, 9)
    args = (3, 2, 1, 2, True)
    compare(lambda t: F.max_pool2d(t, *args), lambda t: TF.max_pool2d(t, *args), x, device=device)
    # the output of the (output, indices) pair differentiates; indices carry no graph
    t = tg.tensor(x, device=device, requires_grad=True)
    out, idx = F.max_pool2d(t, *args, True)
    assert out.requires_grad and out.grad_fn is not None and idx.grad_fn is None
    with tg.no_grad():
        out2, idx2 = F.max_pool2d(t, *args, True)
    assert out2.grad_fn is None
    np.testing.assert_array_equal(to_np(idx2), to_np(idx))


def test_max_pool_ties_first(device):
    x = np.zeros((1, 1, 5, 5), np.float32)
    for kw in (dict(kernel_size=3, stride=1, ceil_mode=True), dict(kernel_size=2, stride=2, dilation=2)):
        compare(lambda t, kw=kw: F.max_pool2d(t, **kw), lambda t, kw=kw: TF.max_pool2d(t, **kw), x, device=device)
        _, idx = F.max_pool2d(tg.tensor(x, device=device), **kw, return_indices=True)
        np.testing.assert_array_equal(to_np(idx), TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)[1])


AVG2D = [
    ((2, 3, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 7, 8), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((2, 2, 9, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ((2, 2, 8, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    ((2, 2, 10, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 8, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize('xs,kw', AVG2D, ids=str)
@pytest.mark.parametrize('extra', [{}, dict(count_include_pad=False), dict(divisor_override=5),
                                   dict(count_include_pad=False, divisor_override=3)], ids=str)
def test_avg_pool2d(xs, kw, extra, device):
    kw = {**kw, **extra}
    out = compare(lambda t: F.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw), rand(*xs), device=device)
    assert out.dtype == tg.float32


def test_avg_pool2d_torch_positional_order(device):
    # torch: (input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    x = rand(2, 2, 7, 7)
    for args in [(3, 2, 1, True, False), (3, 2, 1, False, False), (3, 2, 1, True, True, 4), (2, None, 0, True)]:
        compare(lambda t, a=args: F.avg_pool2d(t, *a), lambda t, a=args: TF.avg_pool2d(t, *a), x, device=device)
        compare(lambda t, a=args: tg.avg_pool2d(t, *a), lambda t, a=args: TF.avg_pool2d(t, *a), x, device=device)


MAX1D = [
    ((2, 3, 9), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 11), dict(kernel_size=3, stride=1, dilation=2)),
    ((2, 3, 12), dict(kernel_size=3, stride=2, padding=1, dilation=3, ceil_mode=True)),
    ((1, 2, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize('xs,kw', MAX1D, ids=str)
def test_max_pool1d(xs, kw, device):
    x = rand(*xs)
    compare(lambda t: F.max_pool1d(t, **kw), lambda t: TF.max_pool1d(t, **kw), x, device=device)
    compare(lambda t: F.max_pool1d(t, **kw, return_indices=True)[0],
            lambda t: TF.max_pool1d(t, **kw, return_indices=True)[0], x, device=device)
    _, idx = F.max_pool1d(tg.tensor(x, device=device), **kw, return_indices=True)
    _, ridx = TF.max_pool1d(torch.tensor(x), **kw, return_indices=True)
    assert idx.dtype == tg.int64 and idx.shape == tuple(ridx.shape)
    np.testing.assert_array_equal(to_np(idx), ridx.numpy())


AVG1D = [
    ((2, 3, 9), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ((2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ((1, 2, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize('xs,kw', AVG1D, ids=str)
def test_avg_pool1d(xs, kw, device):
    compare(lambda t: F.avg_pool1d(t, **kw), lambda t: TF.avg_pool1d(t, **kw), rand(*xs), device=device)


def test_avg_pool1d_torch_positional_order(device):
    x = rand(2, 2, 9)
    for args in [(3, 2, 1, True, False), (3, 2, 1, False, False), (2, None, 0, True)]:
        compare(lambda t, a=args: F.avg_pool1d(t, *a), lambda t, a=args: TF.avg_pool1d(t, *a), x, device=device)


MODULES = [
    (nn.MaxPool2d, tnn.MaxPool2d, dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 9, 8)),
    (nn.MaxPool1d, tnn.MaxPool1d, dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True), (2, 3, 10)),
    (nn.AvgPool2d, tnn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 9)),
    (nn.AvgPool2d, tnn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 3, 8, 9)),
    (nn.AvgPool2d, tnn.AvgPool2d, dict(kernel_size=2, divisor_override=3), (2, 3, 8, 8)),
    (nn.AvgPool1d, tnn.AvgPool1d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
]


@pytest.mark.parametrize('cls,tcls,kw,xs', MODULES, ids=str)
def test_modules(cls, tcls, kw, xs, device):
    m, tm = cls(**kw), tcls(**kw)
    compare(lambda t: m(t), lambda t: tm(t), rand(*xs), device=device)


@pytest.mark.parametrize('cls,tcls,xs', [(nn.MaxPool2d, tnn.MaxPool2d, (2, 3, 9, 9)),
                                         (nn.MaxPool1d, tnn.MaxPool1d, (2, 3, 9))], ids=str)
def test_module_return_indices(cls, tcls, xs, device):
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    m, tm = cls(**kw), tcls(**kw)
    x = rand(*xs)
    compare(lambda t: m(t)[0], lambda t: tm(t)[0], x, device=device)
    np.testing.assert_array_equal(to_np(m(tg.tensor(x, device=device))[1]), tm(torch.tensor(x))[1].numpy())


def test_reprs():
    for kw in (dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
               dict(kernel_size=(3, 2), stride=1, return_indices=True)):
        assert repr(nn.MaxPool2d(**kw)) == repr(tnn.MaxPool2d(**kw))
        if not isinstance(kw['kernel_size'], tuple):
            assert repr(nn.MaxPool1d(**kw)) == repr(tnn.MaxPool1d(**kw))
    assert repr(nn.AvgPool2d(3, 2, 1)) == repr(tnn.AvgPool2d(3, 2, 1))
    assert repr(nn.AvgPool2d(3, ceil_mode=True, count_include_pad=False, divisor_override=4)) == \
        'AvgPool2d(kernel_size=3, stride=3, padding=0, ceil_mode=True, count_include_pad=False, divisor_override=4)'
    assert repr(nn.AvgPool1d(3, 2, 1, True)) == 'AvgPool1d(kernel_size=3, stride=2, padding=1, ceil_mode=True)'
    m = nn.MaxPool2d(2, dilation=2, return_indices=True, ceil_mode=True)
    assert (m.dilation, m.return_indices, m.ceil_mode) == (2, True, True)


def _x4():
    return tg.tensor(rand(1, 2, 7, 7))


@pytest.mark.parametrize('fn,match', [
    (lambda: F.max_pool2d(_x4(), 3, padding=2), r"max_pool2d: padding \(2, 2\) must be .* at most half"),
    (lambda: F.max_pool2d(_x4(), 3, dilation=0), r"max_pool2d: dilation must be positive, got 0"),
    (lambda: F.max_pool2d(_x4(), 3, stride=1, dilation=4), r"max_pool2d: kernel of size 3 \(dilation 4\)"),
    (lambda: F.max_pool2d(_x4(), 8, ceil_mode=True), r"max_pool2d: kernel of size 8"),
    (lambda: F.max_pool2d(_x4(), 0), r"max_pool2d: kernel_size and stride must be positive"),
    (lambda: F.avg_pool2d(_x4(), 3, divisor_override=0), r"avg_pool2d: divisor_override must be a non-zero int"),
    (lambda: F.avg_pool2d(_x4(), 3, padding=2, ceil_mode=True), r"avg_pool2d: padding \(2, 2\)"),
    (lambda: F.max_pool1d(tg.tensor(rand(2, 3, 4, 4)), 2), r"max_pool1d: input of shape \(2, 3, 4, 4\) must be 2-D \(C, L\) or 3-D"),
    (lambda: F.avg_pool1d(tg.tensor(rand(2, 3, 4)), 2, padding=2), r"avg_pool2d: padding \(0, 2\)"),
    (lambda: F.max_pool1d(tg.tensor(rand(2, 3, 4)), 2, stride=-1), r"max_pool2d: kernel_size and stride must be"),
])
def test_errors(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()
