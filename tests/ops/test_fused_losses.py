"""cross_entropy and nll_loss (tensorgrad.ops.losses) against torch.
(Forward and every gradient, non-uniform upstream gradients.)"""
import numpy as np
import pytest
import torch.nn.functional as F

import tensorgrad as tg
from helpers import RNG, compare, rand


def _targets(shape, C, ignore=False):
    t = RNG.integers(0, C, size=shape)
    if ignore:
        t.reshape(-1)[::3] = -100
    return t.astype(np.int64)


CE_OPTIONS = [
    {},
    {'reduction': 'sum'},
    {'reduction': 'none'},
    {'label_smoothing': 0.1},
    {'label_smoothing': 0.2, 'reduction': 'none'},
    {'label_smoothing': 0.3, 'reduction': 'sum'},
]


@pytest.mark.parametrize('opts', CE_OPTIONS, ids=str)
@pytest.mark.parametrize('xs', [(6, 5), (2, 4, 3, 3), (2, 4, 5)], ids=str)
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('ignore', [False, True])
def test_cross_entropy_class_indices(xs, opts, weighted, ignore, device):
    C = xs[1]
    x = rand(*xs, low=-3, high=3)
    t = _targets((xs[0],) + xs[2:], C, ignore)
    w = rand(C, low=0.2, high=2.0)
    if weighted:
        compare(lambda x, t, w: tg.cross_entropy(x, t, w, **opts), lambda x, t, w: F.cross_entropy(x, t, w, **opts),
                x, t, w, device=device, grad=[True, False, False])
    else:
        compare(lambda x, t: tg.cross_entropy(x, t, **opts), lambda x, t: F.cross_entropy(x, t, **opts), x, t,
                device=device)


def test_cross_entropy_custom_ignore_index(device):
    x, t = rand(8, 4), _targets((8,), 4)
    compare(lambda x, t: tg.cross_entropy(x, t, ignore_index=2), lambda x, t: F.cross_entropy(x, t, ignore_index=2),
            x, t, device=device)


def test_cross_entropy_unbatched(device):
    x = rand(5)
    t = np.array(3, dtype=np.int64)
    for opts in ({}, {'reduction': 'none'}, {'label_smoothing': 0.1}):
        compare(lambda x, t, o=opts: tg.cross_entropy(x, t, **o), lambda x, t, o=opts: F.cross_entropy(x, t, **o),
                x, t, device=device)
    p = rand(5, low=0, high=1)
    p /= p.sum()
    compare(lambda x, t: tg.cross_entropy(x, t), lambda x, t: F.cross_entropy(x, t), x, p, device=device)


@pytest.mark.parametrize('opts', [{}, {'reduction': 'sum'}, {'reduction': 'none'}, {'label_smoothing': 0.2}],
                         ids=str)
@pytest.mark.parametrize('xs', [(6, 5), (2, 4, 3, 3)], ids=str)
@pytest.mark.parametrize('weighted', [False, True])
def test_cross_entropy_probabilities(xs, opts, weighted, device):
    x = rand(*xs, low=-3, high=3)
    p = rand(*xs, low=0, high=1)
    p /= p.sum(axis=1, keepdims=True)
    w = rand(xs[1], low=0.2, high=2.0)
    if weighted:
        compare(lambda x, t, w: tg.cross_entropy(x, t, w, **opts), lambda x, t, w: F.cross_entropy(x, t, w, **opts),
                x, p, w, device=device, grad=[True, True, False])
    else:
        compare(lambda x, t: tg.cross_entropy(x, t, **opts), lambda x, t: F.cross_entropy(x, t, **opts), x, p,
                device=device)


@pytest.mark.parametrize('opts', [{}, {'reduction': 'sum'}, {'reduction': 'none'}, {'ignore_index': 1}], ids=str)
@pytest.mark.parametrize('xs', [(6, 5), (2, 4, 3, 3)], ids=str)
@pytest.mark.parametrize('weighted', [False, True])
def test_nll_loss(xs, opts, weighted, device):
    C = xs[1]
    x = np.log(rand(*xs, low=0.05, high=1))
    t = _targets((xs[0],) + xs[2:], C, ignore='ignore_index' not in opts)
    w = rand(C, low=0.2, high=2.0)
    if weighted:
        compare(lambda x, t, w: tg.nll_loss(x, t, w, **opts), lambda x, t, w: F.nll_loss(x, t, w, **opts),
                x, t, w, device=device, grad=[True, False, False])
    else:
        compare(lambda x, t: tg.nll_loss(x, t, **opts), lambda x, t: F.nll_loss(x, t, **opts), x, t, device=device)


def test_cross_entropy_composes_with_log_softmax(device):
    x, t = rand(6, 5), _targets((6,), 5)
    compare(lambda x, t: tg.nll_loss(tg.log_softmax(x, 1), t), lambda x, t: F.cross_entropy(x, t), x, t,
            device=device)


@pytest.mark.parametrize('fn,err,match', [
    (lambda: tg.cross_entropy(tg.tensor(rand(4, 3)), tg.tensor(np.zeros(5, np.int64))), ValueError,
     r"cross_entropy: target of shape \(5,\) does not match input of shape \(4, 3\)"),
    (lambda: tg.cross_entropy(tg.tensor(rand(4, 3)), tg.tensor(np.array([0, 1, 3, 0]))), IndexError,
     r"cross_entropy: target values must lie in \[0, 3\)"),
    (lambda: tg.cross_entropy(tg.tensor(rand(4, 3)), tg.tensor(np.zeros(4, np.int64)), tg.tensor(rand(4))),
     ValueError, r"cross_entropy: weight of shape \(4,\) must have one entry per class"),
    (lambda: tg.cross_entropy(tg.tensor(rand(4, 3)), tg.tensor(np.zeros(4, np.int64)), reduction='avg'),
     ValueError, r"cross_entropy: reduction must be one of"),
    (lambda: tg.cross_entropy(tg.tensor(rand(4, 3)), tg.tensor(rand(4, 2))), ValueError,
     r"cross_entropy: target of shape \(4, 2\) does not match input of shape \(4, 3\)"),
    (lambda: tg.nll_loss(tg.tensor(rand(4, 3)), tg.tensor(rand(4))), TypeError,
     r"nll_loss: target must hold class indices"),
])
def test_loss_errors(fn, err, match):
    with pytest.raises(err, match=match):
        fn()
