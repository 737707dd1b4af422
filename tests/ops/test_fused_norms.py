"""layer_norm and batch_norm (tensorgrad.ops.norms) against torch.
(Forward and every gradient, non-uniform upstream gradients.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import assert_close, compare, rand


@pytest.mark.parametrize('xs,ns', [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)), ((2, 2, 3, 4), (3, 4))],
                         ids=str)
@pytest.mark.parametrize('affine', ['both', 'weight', 'none'])
def test_layer_norm(xs, ns, affine, device):
    x = rand(*xs, low=-2, high=3)
    w, b = rand(*ns, low=0.5, high=1.5), rand(*ns)
    if affine == 'both':
        compare(lambda x, w, b: tg.layer_norm(x, ns, w, b), lambda x, w, b: F.layer_norm(x, ns, w, b), x, w, b,
                device=device, atol=1e-4)
    elif affine == 'weight':
        compare(lambda x, w: tg.layer_norm(x, ns, w), lambda x, w: F.layer_norm(x, ns, w), x, w, device=device,
                atol=1e-4)
    else:
        compare(lambda x: tg.layer_norm(x, ns, eps=1e-3), lambda x: F.layer_norm(x, ns, eps=1e-3), x,
                device=device, atol=1e-4)


def test_layer_norm_int_shape_and_error(device):
    x = rand(3, 4)
    compare(lambda x: tg.layer_norm(x, 4), lambda x: F.layer_norm(x, (4,)), x, device=device, atol=1e-4)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(5,\) does not match"):
        tg.layer_norm(tg.tensor(x), (5,))


@pytest.mark.parametrize('xs', [(8, 3), (4, 3, 5), (2, 3, 4, 4)], ids=str)
@pytest.mark.parametrize('affine', [True, False])
def test_batch_norm_training(xs, affine, device):
    C = xs[1]
    x = rand(*xs, low=-2, high=3)
    w, b = rand(C, low=0.5, high=1.5), rand(C)
    rm, rv = rand(C), rand(C, low=0.5, high=2)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    grm, grv = tg.tensor(rm.copy(), device=device, requires_grad=False), tg.tensor(rv.copy(), device=device,
                                                                                   requires_grad=False)
    if affine:
        compare(lambda x, w, b: tg.batch_norm(x, grm, grv, w, b, training=True, momentum=0.2),
                lambda x, w, b: F.batch_norm(x, trm, trv, w, b, training=True, momentum=0.2), x, w, b,
                device=device, atol=1e-4)
    else:
        compare(lambda x: tg.batch_norm(x, grm, grv, training=True), lambda x: F.batch_norm(x, trm, trv,
                                                                                          training=True),
                x, device=device, atol=1e-4)
    assert_close(grm, trm, what='running_mean')
    assert_close(grv, trv, what='running_var')


@pytest.mark.parametrize('xs', [(8, 3), (2, 3, 4, 4)], ids=str)
def test_batch_norm_eval_and_no_running_stats(xs, device):
    C = xs[1]
    x, w, b = rand(*xs, low=-2, high=3), rand(C, low=0.5, high=1.5), rand(C)
    rm, rv = rand(C), rand(C, low=0.5, high=2)
    compare(lambda x, w, b, m, v: tg.batch_norm(x, m, v, w, b, training=False),
            lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False), x, w, b, rm, rv, device=device,
            grad=[True, True, True, False, False], atol=1e-4)
    compare(lambda x, w, b: tg.batch_norm(x, None, None, w, b, training=True),
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b, device=device, atol=1e-4)


def test_batch_norm_errors():
    x = tg.tensor(rand(4, 3))
    with pytest.raises(ValueError, match=r"batch_norm: running_mean of shape \(4,\) must have one entry per channel"):
        tg.batch_norm(x, tg.tensor(rand(4)), tg.tensor(rand(3)), training=True)
    rm = tg.tensor(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel"):
        tg.batch_norm(tg.tensor(rand(1, 3)), rm, tg.tensor(np.ones(3, np.float32)), training=True)
    assert np.all(rm.numpy() == 0)  # no state change before the error


@pytest.mark.parametrize('need', ['x', 'w', 'b', 'wb'])
def test_layer_norm_partial_grads(need, threaded, device):
    x, w, b = rand(6, 4, 8), rand(8), rand(8)
    compare(lambda x, w, b: tg.layer_norm(x, (8,), w, b), lambda x, w, b: F.layer_norm(x, (8,), w, b),
            x, w, b, device=device, atol=1e-5, grad=['x' in need, 'w' in need, 'b' in need])
