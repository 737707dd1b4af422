"""conv2d, conv1d and the 2-D pools against torch.nn.functional: forward and
every input/weight/bias gradient with a non-uniform upstream gradient."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import assert_close, compare, rand

CONV2D = [
    # x shape, w shape, kwargs
    ((2, 3, 8, 8), (4, 3, 3, 3), {}),
    ((2, 3, 8, 8), (4, 3, 3, 3), {'padding': 1}),
    ((2, 3, 9, 7), (5, 3, 3, 2), {'stride': 2, 'padding': 1}),
    ((1, 2, 7, 9), (3, 2, 3, 3), {'stride': (2, 1), 'padding': (0, 2)}),
    ((2, 3, 8, 8), (4, 3, 3, 3), {'padding': 'same'}),
    ((2, 3, 8, 8), (4, 3, 2, 4), {'padding': 'same'}),
    ((2, 3, 8, 8), (4, 3, 3, 3), {'padding': 'valid'}),
    ((2, 3, 10, 10), (4, 3, 3, 3), {'dilation': 2, 'padding': 2}),
    ((2, 3, 10, 10), (2, 3, 3, 3), {'dilation': 2, 'padding': 'same'}),
    ((2, 4, 8, 8), (6, 2, 3, 3), {'groups': 2, 'padding': 1}),
    ((2, 4, 7, 7), (4, 1, 3, 3), {'groups': 4, 'stride': 2}),
    ((2, 3, 5, 5), (4, 3, 1, 1), {}),
    ((3, 2, 6, 6), (4, 2, 1, 1), {'stride': 2}),
    ((1, 1, 4, 4), (1, 1, 4, 4), {}),
    # >= 1024 output pixels: the per-sample GEMM path
    ((2, 3, 32, 33), (4, 3, 3, 3), {'padding': 1}),
    ((1, 4, 32, 32), (6, 2, 3, 3), {'groups': 2, 'padding': 'same'}),
]


@pytest.mark.parametrize('xs,ws,kw', CONV2D, ids=str)
@pytest.mark.parametrize('bias', [True, False])
def test_conv2d(xs, ws, kw, bias, device):
    x, w = rand(*xs), rand(*ws)
    if bias:
        b = rand(ws[0])
        compare(lambda x, w, b: tg.conv2d(x, w, b, **kw), lambda x, w, b: F.conv2d(x, w, b, **kw), x, w, b,
                device=device, atol=1e-5, rtol=1e-4)
    else:
        compare(lambda x, w: tg.conv2d(x, w, **kw), lambda x, w: F.conv2d(x, w, **kw), x, w, device=device,
                atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('xs,ws,kw', CONV2D, ids=str)
@pytest.mark.parametrize('flat', [True, False])
def test_conv2d_both_window_layouts(xs, ws, kw, flat, device, monkeypatch):
    # stride-1 convolutions of small images read their windows as flat rows (a heuristic
    # picks it): force each layout on every case so that both stay exact
    from tensorgrad.ops import conv
    monkeypatch.setattr(conv, '_use_flat_rows', lambda sh, sw, kh, kw_, Wo, Wp, L:
                        flat and sh == 1 and sw == 1 and kh * kw_ > 1)
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    # atol 1e-4: weight gradients sum ~2000 products (of gradients up to ~50) in float32
    compare(lambda x, w, b: tg.conv2d(x, w, b, **kw), lambda x, w, b: F.conv2d(x, w, b, **kw), x, w, b,
            device=device, atol=1e-4, rtol=1e-4)


def test_conv2d_flat_rows_heuristic():
    from tensorgrad.ops.conv import _use_flat_rows
    assert _use_flat_rows(1, 1, 3, 3, 14, 16, 14 * 14)        # CNN-sized 14x14 layer, padding 1
    assert not _use_flat_rows(2, 2, 3, 3, 14, 16, 14 * 14)    # strided
    assert not _use_flat_rows(1, 1, 1, 1, 14, 14, 14 * 14)    # 1x1 kernel: rows are already whole
    assert not _use_flat_rows(1, 1, 3, 3, 62, 64, 62 * 62)    # large image: long rows already


def test_chained_convs_single_sample(device):
    # every layer's backward reuses scratch memory: gradients must not alias it
    x, w1, w2, w3 = rand(1, 3, 6, 6), rand(4, 3, 1, 1), rand(5, 4, 1, 1), rand(2, 5, 3, 3)
    compare(lambda x, a, b, c: tg.conv2d(tg.conv2d(tg.conv2d(x, a), b), c, padding=1),
            lambda x, a, b, c: F.conv2d(F.conv2d(F.conv2d(x, a), b), c, padding=1), x, w1, w2, w3,
            device=device, atol=1e-5, rtol=1e-4)


def test_conv2d_partial_grads(device):
    x, w, b = rand(2, 3, 6, 6), rand(4, 3, 3, 3), rand(4)
    for grad in ([True, False, False], [False, True, False], [False, False, True]):
        compare(lambda x, w, b: tg.conv2d(x, w, b, padding=1), lambda x, w, b: F.conv2d(x, w, b, padding=1),
                x, w, b, device=device, grad=grad, atol=1e-5, rtol=1e-4)


def test_conv2d_method_reference_signature(device):
    x, w, b = rand(2, 3, 6, 6), rand(4, 3, 3, 3), rand(4)
    compare(lambda x, w, b: x.conv2d(w, b), lambda x, w, b: F.conv2d(x, w, b), x, w, b, device=device,
            atol=1e-5, rtol=1e-4)
    compare(lambda x, w: x.conv2d(w, None, 2, 1), lambda x, w: F.conv2d(x, w, stride=2, padding=1), x, w,
            device=device, atol=1e-5, rtol=1e-4)
    compare(lambda x, w: x.conv2d(w, padding='same'), lambda x, w: F.conv2d(x, w, padding='same'), x, w,
            device=device, atol=1e-5, rtol=1e-4)


CONV1D = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 3), {'stride': 2, 'padding': 1}),
    ((2, 3, 11), (4, 3, 4), {'padding': 'same'}),
    ((2, 4, 12), (6, 2, 3), {'groups': 2, 'dilation': 2, 'padding': 2}),
]


@pytest.mark.parametrize('xs,ws,kw', CONV1D, ids=str)
def test_conv1d(xs, ws, kw, device):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    compare(lambda x, w, b: tg.conv1d(x, w, b, **kw), lambda x, w, b: F.conv1d(x, w, b, **kw), x, w, b,
            device=device, atol=1e-5, rtol=1e-4)
    compare(lambda x, w: tg.conv1d(x, w, **kw), lambda x, w: F.conv1d(x, w, **kw), x, w, device=device,
            atol=1e-5, rtol=1e-4)


POOLS = [
    ((2, 3, 8, 8), {'kernel_size': 2}),
    ((2, 3, 9, 7), {'kernel_size': 2}),
    ((2, 3, 8, 8), {'kernel_size': 3, 'stride': 1}),
    ((2, 3, 9, 9), {'kernel_size': 3, 'stride': 2}),
    ((2, 3, 8, 8), {'kernel_size': 3, 'stride': 2, 'padding': 1}),
    ((1, 2, 7, 6), {'kernel_size': (3, 2), 'stride': (2, 1), 'padding': (1, 1)}),
    ((2, 2, 8, 8), {'kernel_size': 2, 'stride': 3}),
    ((2, 2, 8, 8), {'kernel_size': 2, 'padding': 1}),
]


@pytest.mark.parametrize('xs,kw', POOLS, ids=str)
def test_max_pool2d(xs, kw, device):
    compare(lambda x: tg.max_pool2d(x, **kw), lambda x: F.max_pool2d(x, **kw), rand(*xs), device=device)


def test_max_pool2d_ties_go_to_first(device):
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, :2, :2] = 1.0
    compare(lambda x: tg.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), x, device=device)
    compare(lambda x: tg.max_pool2d(x, 3, 1), lambda x: F.max_pool2d(x, 3, 1), x, device=device)


@pytest.mark.parametrize('xs,kw', POOLS, ids=str)
@pytest.mark.parametrize('include', [True, False])
def test_avg_pool2d(xs, kw, include, device):
    compare(lambda x: tg.avg_pool2d(x, count_include_pad=include, **kw),
            lambda x: F.avg_pool2d(x, count_include_pad=include, **kw), rand(*xs), device=device)


def test_pool_methods(device):
    x = rand(2, 3, 8, 8)
    compare(lambda x: x.max_pool2d(2), lambda x: F.max_pool2d(x, 2), x, device=device)
    compare(lambda x: x.max_pool2d(3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1), x, device=device)
    compare(lambda x: x.avg_pool2d(2), lambda x: F.avg_pool2d(x, 2), x, device=device)
    compare(lambda x: x.avg_pool2d(3, 1, 1), lambda x: F.avg_pool2d(x, 3, 1, 1), x, device=device)


@pytest.mark.parametrize('xs,out', [((2, 3, 8, 8), 4), ((2, 3, 8, 8), (2, 1)), ((2, 3, 8, 8), 1),
                                    ((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), (3, 2)), ((2, 3, 6, 7), (None, 3)),
                                    ((1, 1, 3, 3), 5)], ids=str)
def test_adaptive_avg_pool2d(xs, out, device):
    compare(lambda x: tg.adaptive_avg_pool2d(x, out), lambda x: F.adaptive_avg_pool2d(x, out), rand(*xs),
            device=device)


def test_no_graph_under_no_grad(device):
    x = tg.tensor(rand(1, 2, 5, 5), device=device, requires_grad=True)
    w = tg.tensor(rand(3, 2, 3, 3), device=device, requires_grad=True)
    with tg.no_grad():
        for y in (tg.conv2d(x, w), tg.max_pool2d(x, 2), tg.avg_pool2d(x, 2), tg.adaptive_avg_pool2d(x, 2)):
            assert y.grad_fn is None and not y.requires_grad


def test_float32_preserved(device):
    x = tg.tensor(rand(1, 2, 5, 5), device=device, requires_grad=True)
    w = tg.tensor(rand(3, 2, 3, 3), device=device, requires_grad=True)
    for y in (tg.conv2d(x, w, padding=1), tg.max_pool2d(x, 2), tg.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
              tg.adaptive_avg_pool2d(x, 3)):
        assert y.dtype == tg.float32


@pytest.mark.parametrize('fn,match', [
    (lambda: tg.conv2d(tg.tensor(rand(3, 8)), tg.tensor(rand(4, 3, 3, 3))),
     r"conv2d: input of shape \(3, 8\) must be 3-D \(C, H, W\) or 4-D \(B, C, H, W\)"),
    (lambda: tg.conv2d(tg.tensor(rand(2, 8, 8)), tg.tensor(rand(4, 3, 3, 3))),
     r"conv2d: input has 2 channels but weight expects 3"),
    (lambda: tg.conv2d(tg.tensor(rand(2, 3, 8, 8)), tg.tensor(rand(4, 4, 3, 3))),
     r"conv2d: input has 3 channels but weight expects 4"),
    (lambda: tg.conv2d(tg.tensor(rand(2, 3, 8, 8)), tg.tensor(rand(4, 3, 3, 3)), tg.tensor(rand(5))),
     r"conv2d: bias of shape \(5,\)"),
    (lambda: tg.conv2d(tg.tensor(rand(2, 3, 2, 2)), tg.tensor(rand(4, 3, 3, 3))),
     r"conv2d: kernel of size 3"),
    (lambda: tg.conv2d(tg.tensor(rand(2, 3, 8, 8)), tg.tensor(rand(4, 3, 3, 3)), stride=2, padding='same'),
     r"conv2d: padding='same' requires stride 1"),
    (lambda: tg.conv2d(tg.tensor(rand(2, 4, 8, 8)), tg.tensor(rand(3, 2, 3, 3)), groups=2),
     r"conv2d: 3 output channels are not divisible by groups=2"),
    (lambda: tg.conv1d(tg.tensor(rand(2, 3, 8, 8)), tg.tensor(rand(4, 3, 3))),
     r"conv1d: input of shape \(2, 3, 8, 8\) must be 2-D \(C, L\) or 3-D"),
    (lambda: tg.max_pool2d(tg.tensor(rand(8, 8)), 2), r"max_pool2d: input of shape \(8, 8\) must be 3-D"),
    (lambda: tg.max_pool2d(tg.tensor(rand(1, 3, 8, 8)), 2, padding=2),
     r"max_pool2d: padding \(2, 2\) must be non-negative and at most half"),
    (lambda: tg.avg_pool2d(tg.tensor(rand(1, 3, 2, 2)), 3), r"avg_pool2d: kernel of size 3"),
])
def test_errors(fn, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fn()


def test_exports():
    for name in ('conv2d', 'conv1d', 'max_pool2d', 'avg_pool2d', 'adaptive_avg_pool2d'):
        assert callable(getattr(tg, name))
        assert getattr(tg, name).__doc__


def test_inplace_change_of_saved_input_is_detected(device):
    x = tg.tensor(rand(1, 2, 4, 4), device=device, requires_grad=False)
    w = tg.tensor(rand(3, 2, 1, 1), device=device, requires_grad=True)
    y = tg.conv2d(x, w)
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match='modified by an in-place operation'):
        y.sum().backward()


def test_pooled_window_buffers_not_shared_between_live_graphs(device):
    # windows of >= 1 MiB come from a reuse pool: two live graphs must hold distinct buffers
    w = rand(3, 8, 3, 3)
    xs = [rand(4, 8, 32, 32) for _ in range(2)]
    W = tg.tensor(w, device=device, requires_grad=True)
    Wt = torch.tensor(w, requires_grad=True)
    outs = [tg.conv2d(tg.tensor(x, device=device), W, padding=1) for x in xs]
    refs = [F.conv2d(torch.tensor(x), Wt, padding=1) for x in xs]
    for o, r in zip(outs, refs):
        g = rand(*r.shape)
        o.backward(tg.tensor(g, device=device))
        r.backward(torch.tensor(g))
        assert_close(W.grad, Wt.grad, rtol=1e-4, atol=1e-4, what='weight grad')
