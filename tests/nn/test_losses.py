"""Loss modules and functions against PyTorch, every reduction, forward and backward."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorgrad as tg
from helpers import assert_close, compare
from nn_helpers import randn

nn = tg.nn
tnn = torch.nn
RNG = np.random.default_rng(3)
REDUCTIONS = ['none', 'mean', 'sum']


def loss_compare(tg_loss, th_loss, *arrays, grad=None, device='cpu', rtol=1e-5, atol=1e-5):
    out = compare(lambda *t: tg_loss(*t), lambda *t: th_loss(*t), *arrays, grad=grad, device=device,
                  rtol=rtol, atol=atol)
    return out


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('shape', [(5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize('name,kw', [('MSELoss', {}), ('L1Loss', {}), ('SmoothL1Loss', {}),
                                     ('SmoothL1Loss', {'beta': 0.5}), ('SmoothL1Loss', {'beta': 0.0}),
                                     ('HuberLoss', {}), ('HuberLoss', {'delta': 0.3})], ids=str)
def test_regression_losses(device, name, kw, reduction, shape):
    x, y = randn(*shape), randn(*shape)
    loss_compare(getattr(nn, name)(reduction=reduction, **kw), getattr(tnn, name)(reduction=reduction, **kw),
                 x, y, device=device)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('kw', [{}, dict(label_smoothing=0.1), dict(ignore_index=1), dict(weight=True)], ids=str)
def test_cross_entropy(device, reduction, kw):
    kw = dict(kw)
    tgkw, thkw = dict(kw), dict(kw)
    if kw.get('weight'):
        w = RNG.uniform(0.5, 2, 4).astype(np.float32)
        tgkw['weight'], thkw['weight'] = tg.tensor(w, device=device), torch.tensor(w)
    x = randn(6, 4)
    y = np.array([0, 1, 3, 2, 1, 0])
    loss_compare(nn.CrossEntropyLoss(reduction=reduction, **tgkw), tnn.CrossEntropyLoss(reduction=reduction, **thkw),
                 x, y, device=device)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_nll_loss(device, reduction):
    x = np.log(RNG.dirichlet(np.ones(5), size=4)).astype(np.float32)
    y = np.array([0, 4, 2, 2])
    loss_compare(nn.NLLLoss(reduction=reduction), tnn.NLLLoss(reduction=reduction), x, y, device=device)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('shape', [(6,), (3, 4)])
def test_bce(device, reduction, weighted, shape):
    p = RNG.uniform(0.02, 0.98, shape).astype(np.float32)
    p.flat[0], p.flat[1] = 0.0, 1.0  # clamped logs
    t = RNG.uniform(0, 1, shape).astype(np.float32)
    t.flat[0], t.flat[1] = 0.0, 1.0
    w = RNG.uniform(0.5, 2, shape).astype(np.float32) if weighted else None
    tgl = nn.BCELoss(weight=None if w is None else tg.tensor(w, device=device), reduction=reduction)
    thl = tnn.BCELoss(weight=None if w is None else torch.tensor(w), reduction=reduction)
    loss_compare(tgl, thl, p, t, device=device, grad=[True, True], atol=1e-4)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('opts', ['plain', 'weight', 'pos_weight'])
def test_bce_with_logits(device, reduction, opts):
    x = randn(4, 3) * 5
    x[0, 0], x[0, 1] = 60.0, -60.0  # stability at the tails
    t = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    tgkw, thkw = {}, {}
    if opts == 'weight':
        w = RNG.uniform(0.5, 2, (4, 3)).astype(np.float32)
        tgkw['weight'], thkw['weight'] = tg.tensor(w, device=device), torch.tensor(w)
    if opts == 'pos_weight':
        pw = RNG.uniform(0.5, 3, 3).astype(np.float32)
        tgkw['pos_weight'], thkw['pos_weight'] = tg.tensor(pw, device=device), torch.tensor(pw)
    loss_compare(nn.BCEWithLogitsLoss(reduction=reduction, **tgkw), tnn.BCEWithLogitsLoss(reduction=reduction, **thkw),
                 x, t, device=device, grad=[True, True], atol=1e-4)


def _torch_focal(x, t, alpha, gamma, reduction):
    p = torch.sigmoid(x)
    ce = TF.binary_cross_entropy_with_logits(x, t, reduction='none')
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return {'none': loss, 'mean': loss.mean(), 'sum': loss.sum()}[reduction]


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('alpha,gamma', [(0.25, 2.0), (-1, 1.5), (0.7, 0.0)])
def test_focal_loss(device, reduction, alpha, gamma):
    x = randn(5, 3) * 3
    t = (RNG.uniform(size=(5, 3)) > 0.5).astype(np.float32)
    loss_compare(nn.FocalLoss(alpha, gamma, reduction), lambda a, b: _torch_focal(a, b, alpha, gamma, reduction),
                 x, t, device=device, grad=[True, False])
    assert repr(nn.FocalLoss()) == "FocalLoss(alpha=0.25, gamma=2.0, reduction='mean')"


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('margin', [0.0, 0.5])
def test_margin_ranking(device, reduction, margin):
    a, b = randn(7), randn(7)
    y = np.sign(randn(7)).astype(np.float32)
    loss_compare(nn.MarginRankingLoss(margin, reduction), tnn.MarginRankingLoss(margin, reduction=reduction),
                 a, b, y, device=device, grad=[True, True, False])


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('p,margin,weighted', [(1, 1.0, False), (2, 1.0, False), (1, 0.5, True), (2, 2.0, True)])
def test_multi_margin(device, reduction, p, margin, weighted):
    x = randn(6, 4)
    y = np.array([0, 3, 1, 1, 2, 0])
    w = RNG.uniform(0.5, 2, 4).astype(np.float32) if weighted else None
    tgl = nn.MultiMarginLoss(p, margin, None if w is None else tg.tensor(w, device=device), reduction)
    thl = tnn.MultiMarginLoss(p, margin, None if w is None else torch.tensor(w), reduction=reduction)
    loss_compare(tgl, thl, x, y, device=device)


@pytest.mark.parametrize('reduction', REDUCTIONS + ['batchmean'])
@pytest.mark.parametrize('log_target', [False, True])
def test_kl_div(device, reduction, log_target):
    x = np.log(RNG.dirichlet(np.ones(5), size=3)).astype(np.float32)
    t = RNG.dirichlet(np.ones(5), size=3).astype(np.float32)
    t[0, 0] = 0.0
    if log_target:
        t = np.log(t + 1e-3).astype(np.float32)
    loss_compare(nn.KLDivLoss(reduction, log_target), tnn.KLDivLoss(reduction=reduction, log_target=log_target),
                 x, t, device=device, grad=[True, False])


def test_loss_errors():
    with pytest.raises(ValueError, match='reduction'):
        nn.MSELoss(reduction='avg')
    with pytest.raises(RuntimeError, match=r'\(3,\).*\(4,\).*broadcast'):  # RuntimeError, as torch
        nn.MSELoss()(tg.zeros(3), tg.zeros(4))
    with pytest.raises(ValueError, match='between 0 and 1'):
        nn.BCELoss()(tg.tensor([1.5]), tg.tensor([1.0]))
    with pytest.raises(ValueError, match='p == 1'):
        nn.MultiMarginLoss(p=3)


def test_loss_reprs_and_weight_buffer():
    assert repr(nn.CrossEntropyLoss()) == repr(tnn.CrossEntropyLoss())
    assert repr(nn.MSELoss()) == repr(tnn.MSELoss())
    w = tg.ones(3)
    ce = nn.CrossEntropyLoss(weight=w)
    assert list(ce.state_dict()) == list(tnn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())
    assert_close(ce.weight, w)
