"""Layers against PyTorch (weights copied with init_from_torch): forward, input
gradient and every parameter gradient with a non-uniform upstream gradient."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import assert_close
from nn_helpers import check_module, randn

nn = tg.nn
tnn = torch.nn


@pytest.mark.parametrize('shape', [(4, 3), (2, 5, 3), (3,), (2, 2, 2, 3)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear(device, shape, bias):
    check_module(nn.Linear(3, 6, bias=bias), tnn.Linear(3, 6, bias=bias), randn(*shape), device=device)


def test_linear_default_init_and_repr():
    tg.manual_seed(0)
    m = nn.Linear(50, 20)
    bound = 1 / np.sqrt(50)
    assert m.weight.shape == (20, 50) and m.bias.shape == (20,)
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert m.weight.numpy().std() > bound / 3
    assert m.weight.dtype == tg.float32 and m.weight.requires_grad
    assert repr(m) == repr(tnn.Linear(50, 20))
    assert repr(nn.Linear(2, 3, bias=False)) == 'Linear(in_features=2, out_features=3, bias=False)'


def test_bilinear(device):
    check_module(nn.Bilinear(3, 4, 5), tnn.Bilinear(3, 4, 5), randn(6, 3), randn(6, 4), device=device)


def test_identity(device):
    check_module(nn.Identity(54, unused='x'), tnn.Identity(54, unused='x'), randn(3, 4), device=device)


ACTIVATIONS = [
    (nn.ReLU, tnn.ReLU, {}), (nn.ReLU6, tnn.ReLU6, {}), (nn.Sigmoid, tnn.Sigmoid, {}), (nn.Tanh, tnn.Tanh, {}),
    (nn.GELU, tnn.GELU, {}), (nn.GELU, tnn.GELU, {'approximate': 'tanh'}), (nn.SiLU, tnn.SiLU, {}),
    (nn.Mish, tnn.Mish, {}), (nn.LeakyReLU, tnn.LeakyReLU, {}), (nn.LeakyReLU, tnn.LeakyReLU, {'negative_slope': 0.2}),
    (nn.ELU, tnn.ELU, {}), (nn.ELU, tnn.ELU, {'alpha': 0.5}), (nn.CELU, tnn.CELU, {'alpha': 2.0}),
    (nn.SELU, tnn.SELU, {}), (nn.Softplus, tnn.Softplus, {}), (nn.Softplus, tnn.Softplus, {'beta': 2, 'threshold': 3}),
    (nn.LogSigmoid, tnn.LogSigmoid, {}), (nn.Hardtanh, tnn.Hardtanh, {}),
    (nn.Hardtanh, tnn.Hardtanh, {'min_val': -0.5, 'max_val': 2.0}), (nn.Hardsigmoid, tnn.Hardsigmoid, {}),
    (nn.Hardswish, tnn.Hardswish, {}), (nn.Softsign, tnn.Softsign, {}), (nn.Tanhshrink, tnn.Tanhshrink, {}),
    (nn.GLU, tnn.GLU, {}), (nn.GLU, tnn.GLU, {'dim': 0}), (nn.Softmax, tnn.Softmax, {'dim': -1}),
    (nn.Softmax, tnn.Softmax, {'dim': 0}), (nn.LogSoftmax, tnn.LogSoftmax, {'dim': 1}),
    (nn.Softmin, tnn.Softmin, {'dim': -1}),
]


@pytest.mark.parametrize('tg_cls,th_cls,kw', ACTIVATIONS, ids=lambda v: getattr(v, '__name__', str(v)))
@pytest.mark.parametrize('shape', [(4, 6), (2, 3, 4)])
def test_activation(device, tg_cls, th_cls, kw, shape):
    x = randn(*shape) * 3
    x[0, 0] = 30.0  # large values: softplus threshold, stable tails
    x[1, 1] = -30.0
    check_module(tg_cls(**kw), th_cls(**kw), x, device=device)
    assert repr(tg_cls(**kw)) == repr(th_cls(**kw))


@pytest.mark.parametrize('n,shape', [(1, (4, 5)), (3, (2, 3, 4)), (3, (2, 3, 2, 2))])
def test_prelu(device, n, shape):
    ref = tnn.PReLU(n)
    with torch.no_grad():
        ref.weight.uniform_(-0.5, 0.5)
    check_module(nn.PReLU(n), ref, randn(*shape), device=device)
    assert repr(nn.PReLU(n)) == repr(ref)


@pytest.mark.parametrize('shape,kw', [((2, 3, 8, 8), dict(kernel_size=3)),
                                      ((2, 3, 7, 9), dict(kernel_size=(3, 2), stride=2, padding=1)),
                                      ((1, 4, 6, 6), dict(kernel_size=3, padding='same', dilation=2)),
                                      ((2, 3, 6, 7), dict(kernel_size=(2, 4), padding='same')),
                                      ((2, 3, 6, 6), dict(kernel_size=3, padding='valid', bias=False)),
                                      ((2, 4, 6, 6), dict(kernel_size=3, groups=2, stride=(1, 2))),
                                      ((3, 5, 5), dict(kernel_size=3)),
                                      ((2, 3, 6, 6), dict(kernel_size=3, padding=1, padding_mode='reflect')),
                                      ((2, 3, 6, 6), dict(kernel_size=3, padding=(2, 1), padding_mode='circular')),
                                      ((2, 3, 6, 7), dict(kernel_size=(2, 4), padding='same',
                                                          padding_mode='replicate'))])
def test_conv2d(device, shape, kw):
    cin = shape[-3]
    cout = 6 if kw.get('groups', 1) == 2 else 5
    check_module(nn.Conv2d(cin, cout, **kw), tnn.Conv2d(cin, cout, **kw), randn(*shape), device=device,
                 atol=1e-4, rtol=1e-4)
    assert repr(nn.Conv2d(cin, cout, **kw)) == repr(tnn.Conv2d(cin, cout, **kw))


@pytest.mark.parametrize('shape,kw', [((2, 3, 10), dict(kernel_size=3)),
                                      ((2, 3, 9), dict(kernel_size=4, stride=2, padding=1, bias=False)),
                                      ((2, 3, 9), dict(kernel_size=4, padding='same'))])
def test_conv1d(device, shape, kw):
    check_module(nn.Conv1d(3, 4, **kw), tnn.Conv1d(3, 4, **kw), randn(*shape), device=device, atol=1e-4, rtol=1e-4)


def test_conv_default_init():
    tg.manual_seed(0)
    m = nn.Conv2d(8, 16, 3)
    bound = 1 / np.sqrt(8 * 9)
    assert m.weight.shape == (16, 8, 3, 3)
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    with pytest.raises(ValueError, match='groups'):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match='same'):
        nn.Conv2d(3, 4, 3, stride=2, padding='same')
    with pytest.raises(ValueError, match='channels'):
        nn.Conv2d(3, 4, 3)(tg.zeros(1, 2, 5, 5))


@pytest.mark.parametrize('tg_cls,th_cls,kw,shape', [
    (nn.MaxPool2d, tnn.MaxPool2d, dict(kernel_size=2), (2, 3, 8, 8)),
    (nn.MaxPool2d, tnn.MaxPool2d, dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 9)),
    (nn.AvgPool2d, tnn.AvgPool2d, dict(kernel_size=2), (2, 3, 8, 8)),
    (nn.AvgPool2d, tnn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 9)),
    (nn.AvgPool2d, tnn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 9)),
    (nn.AdaptiveAvgPool2d, tnn.AdaptiveAvgPool2d, dict(output_size=1), (2, 3, 6, 6)),
    (nn.AdaptiveAvgPool2d, tnn.AdaptiveAvgPool2d, dict(output_size=(2, 3)), (2, 3, 6, 9)),
    (nn.MaxPool1d, tnn.MaxPool1d, dict(kernel_size=2), (2, 3, 8)),
    (nn.AvgPool1d, tnn.AvgPool1d, dict(kernel_size=3, stride=2, padding=1), (2, 3, 9)),
    (nn.AdaptiveAvgPool1d, tnn.AdaptiveAvgPool1d, dict(output_size=3), (2, 3, 9)),
], ids=lambda v: getattr(v, '__name__', str(v)))
def test_pooling(device, tg_cls, th_cls, kw, shape):
    x = randn(*shape)
    check_module(tg_cls(**kw), th_cls(**kw), x, device=device)


@pytest.mark.parametrize('cls,th_cls,shape', [(nn.BatchNorm1d, tnn.BatchNorm1d, (8, 4)),
                                              (nn.BatchNorm1d, tnn.BatchNorm1d, (6, 4, 5)),
                                              (nn.BatchNorm2d, tnn.BatchNorm2d, (4, 4, 3, 5))])
@pytest.mark.parametrize('kw', [{}, dict(momentum=0.3, eps=1e-3), dict(momentum=None), dict(affine=False),
                                dict(track_running_stats=False)], ids=str)
def test_batchnorm_train_then_eval(device, cls, th_cls, shape, kw):
    tm, ref = cls(4, **kw), th_cls(4, **kw)
    if tm.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.uniform_(-0.5, 0.5)
    tm.init_from_torch(ref)
    for _ in range(3):  # several train steps: running statistics must track PyTorch's
        tm.zero_grad()
        ref.zero_grad()
        check_module(tm, ref, randn(*shape) * 2 + 1, device=device, init=False, atol=1e-4, rtol=1e-4)
    if kw.get('track_running_stats', True):
        assert int(tm.num_batches_tracked.item()) == 3
    tm.eval()
    ref.eval()
    check_module(tm, ref, randn(*shape), device=device, init=False, atol=1e-4, rtol=1e-4)
    assert repr(tm) == repr(ref)


def test_batchnorm_bad_input():
    with pytest.raises(ValueError, match='BatchNorm2d'):
        nn.BatchNorm2d(3)(tg.zeros(2, 3))
    with pytest.raises(ValueError, match='channels'):
        nn.BatchNorm1d(3)(tg.zeros(2, 4))


@pytest.mark.parametrize('shape,ns,kw', [((4, 6), 6, {}), ((2, 3, 4, 5), (4, 5), {}), ((3, 5), 5, dict(eps=1e-3)),
                                         ((3, 5), 5, dict(elementwise_affine=False)), ((3, 5), 5, dict(bias=False))],
                         ids=str)
def test_layernorm(device, shape, ns, kw):
    ref = tnn.LayerNorm(ns, **kw)
    if ref.weight is not None:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            if ref.bias is not None:
                ref.bias.uniform_(-0.5, 0.5)
    check_module(nn.LayerNorm(ns, **kw), ref, randn(*shape), device=device, atol=1e-4, rtol=1e-4)
    assert repr(nn.LayerNorm(ns, **kw)) == repr(ref)


@pytest.mark.parametrize('shape', [(2, 6, 5), (3, 6, 2, 3)])
def test_groupnorm(device, shape):
    ref = tnn.GroupNorm(3, 6)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    check_module(nn.GroupNorm(3, 6), ref, randn(*shape), device=device, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('padding_idx', [None, 2, -1])
def test_embedding(device, padding_idx):
    idx = np.array([[0, 2, 4], [2, 1, 4]], dtype=np.int64)
    check_module(nn.Embedding(5, 3, padding_idx=padding_idx), tnn.Embedding(5, 3, padding_idx=padding_idx), idx,
                 device=device)
    e = nn.Embedding(5, 3, padding_idx=padding_idx)
    if padding_idx is not None:
        assert np.all(e.weight.numpy()[padding_idx] == 0)
    assert repr(e) == repr(tnn.Embedding(5, 3, padding_idx=padding_idx))


def test_embedding_init_and_pretrained():
    tg.manual_seed(0)
    e = nn.Embedding(1000, 20)
    assert abs(e.weight.numpy().std() - 1) < 0.05 and abs(e.weight.numpy().mean()) < 0.05
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    p = nn.Embedding.from_pretrained(tg.tensor(w))
    assert not p.weight.requires_grad
    assert_close(p(tg.tensor([2, 0])), w[[2, 0]])


def test_dropout_train_and_eval(device):
    tg.manual_seed(0)
    d = nn.Dropout(0.3)
    x = tg.ones(200, 100, device=device, requires_grad=True)
    y = d(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.02
    assert np.allclose(y.numpy()[kept], 1 / 0.7)
    g = np.random.default_rng(0).uniform(size=(200, 100)).astype(np.float32)
    y.backward(tg.tensor(g, device=device))
    assert np.allclose(x.grad.numpy(), g * kept / 0.7, atol=1e-6)
    d.eval()
    assert np.array_equal(d(x).numpy(), x.numpy())
    assert repr(d) == repr(tnn.Dropout(0.3))
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


@pytest.mark.parametrize('kw,shape', [({}, (2, 3, 4, 5)), (dict(start_dim=0), (2, 3)),
                                      (dict(start_dim=1, end_dim=2), (2, 3, 4, 5)), (dict(start_dim=-2), (2, 3, 4))])
def test_flatten(device, kw, shape):
    check_module(nn.Flatten(**kw), tnn.Flatten(**kw), randn(*shape), device=device)
    assert repr(nn.Flatten(**kw)) == repr(tnn.Flatten(**kw))


def test_unflatten(device):
    check_module(nn.Unflatten(1, (2, 3)), tnn.Unflatten(1, (2, 3)), randn(4, 6, 2), device=device)
    check_module(nn.Unflatten(-1, (2, 2)), tnn.Unflatten(-1, (2, 2)), randn(4, 4), device=device)


def test_sequential_model_vs_torch(device):
    torch.manual_seed(0)
    ref = tnn.Sequential(tnn.Conv2d(2, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.MaxPool2d(2),
                         tnn.Flatten(), tnn.Linear(16, 8), tnn.GELU(), tnn.Dropout(0.0), tnn.Linear(8, 3))
    tm = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Flatten(), nn.Linear(16, 8), nn.GELU(), nn.Dropout(0.0), nn.Linear(8, 3))
    check_module(tm, ref, randn(3, 2, 4, 4), device=device, atol=1e-4, rtol=1e-4)
    assert repr(tm) == repr(ref)


def test_device_override_reaches_modules():
    """An op registered with tensorgrad.extensions is used by the modules calling it."""
    from tensorgrad.extensions import register_op, unregister_op
    from tensorgrad.ops.conv import conv2d as orig_conv
    from tensorgrad.ops.linear import linear as orig_linear
    calls = []
    register_op('conv2d', 'cpu')(lambda *a, **k: calls.append('conv') or orig_conv(*a, **k))
    register_op('linear', 'cpu')(lambda *a, **k: calls.append('linear') or orig_linear(*a, **k))
    try:
        nn.Conv2d(1, 2, 3)(tg.randn(1, 1, 5, 5))
        nn.Linear(2, 2)(tg.randn(1, 2))
    finally:
        unregister_op('conv2d')
        unregister_op('linear')
    assert calls == ['conv', 'linear']
