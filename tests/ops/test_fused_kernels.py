"""Checks across the fused nn kernels: dtypes, no_grad, exports, and the
row-parallel thread pool (tensorgrad.ops._parallel).
(Forward and every gradient, non-uniform upstream gradients.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import RNG, compare, rand


def test_float32_and_no_grad(device):
    x = tg.tensor(rand(4, 5), device=device, requires_grad=True)
    t = tg.tensor(np.array([0, 1, 2, 3]), device=device)
    w = tg.tensor(rand(3, 5), device=device, requires_grad=True)
    outs = [tg.softmax(x, 1), tg.log_softmax(x, 1), tg.cross_entropy(x, t), tg.linear(x, w), tg.gelu(x), tg.erf(x),
            tg.layer_norm(x, (5,))]
    assert all(o.dtype == tg.float32 for o in outs)
    with tg.no_grad():
        outs = [tg.softmax(x, 1), tg.cross_entropy(x, t), tg.linear(x, w), tg.layer_norm(x, 5), tg.dropout(x)]
    assert all(o.grad_fn is None for o in outs)


def test_exports():
    for name in ('softmax', 'log_softmax', 'linear', 'cross_entropy', 'nll_loss', 'layer_norm', 'batch_norm', 'gelu',
                 'erf', 'dropout', 'embedding', 'scaled_dot_product_attention'):
        assert callable(getattr(tg, name)) and getattr(tg, name).__doc__


def _targets(shape, C, ignore=False):
    t = RNG.integers(0, C, size=shape)
    if ignore:
        t.reshape(-1)[::3] = -100
    return t.astype(np.int64)


def test_threaded_kernels_match_torch(threaded, device):
    x = rand(7, 5, 3, low=-3, high=3)
    compare(lambda x: tg.softmax(x, 1), lambda x: F.softmax(x, 1), x, device=device)
    compare(lambda x: tg.log_softmax(x, -1), lambda x: F.log_softmax(x, -1), x, device=device)
    compare(lambda x: tg.layer_norm(x, (5, 3)), lambda x: F.layer_norm(x, (5, 3)), x, device=device, atol=1e-4)
    compare(tg.erf, torch.erf, x, device=device, atol=1e-6)
    t = _targets((7, 3), 5, ignore=True)
    w = rand(5, low=0.2, high=2.0)
    for opts in ({}, {'label_smoothing': 0.2, 'reduction': 'none'}):
        compare(lambda x, t, w, o=opts: tg.cross_entropy(x, t, w, **o),
                lambda x, t, w, o=opts: F.cross_entropy(x, t, w, **o), x, t, w, device=device,
                grad=[True, False, False])
    p = rand(7, 5, 3, low=0, high=1)
    compare(lambda x, t: tg.cross_entropy(x, t, label_smoothing=0.1),
            lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), x, p, device=device)
    x4 = rand(3, 4, 7, 7)
    compare(lambda x: tg.max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1), x4, device=device)
    compare(lambda x: tg.avg_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2), x4, device=device)
    wc = rand(5, 4, 3, 3)
    compare(lambda x, w: tg.conv2d(x, w, padding=1), lambda x, w: F.conv2d(x, w, padding=1), x4, wc,
            device=device, atol=1e-5, rtol=1e-4)


def test_num_threads_setting():
    old = tg.get_num_threads()
    # set_num_threads also sets BLAS threads: keep the suite's single-threaded BLAS afterwards
    threadpoolctl = pytest.importorskip('threadpoolctl')
    try:
        tg.set_num_threads(3)
        assert tg.get_num_threads() == 3
        x = rand(600, 300)  # big enough for the threaded path
        compare(lambda x: tg.softmax(x, 1), lambda x: F.softmax(x, 1), x)
        with pytest.raises(ValueError, match='set_num_threads: expected a positive number'):
            tg.set_num_threads(0)
    finally:
        tg.set_num_threads(old)
        threadpoolctl.threadpool_limits(limits=1, user_api='blas')
