"""nn.functional: the names PyTorch code uses, and the functions implemented here
(pad, one_hot, normalize, cosine_similarity, bilinear, the 1D pools) against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorgrad as tg
import tensorgrad.nn.functional as F
from helpers import assert_close, compare
from nn_helpers import randn

NAMES = ['relu', 'gelu', 'silu', 'elu', 'selu', 'celu', 'leaky_relu', 'softplus', 'glu', 'hardtanh', 'softsign',
         'tanh', 'sigmoid', 'logsigmoid', 'mish', 'hardsigmoid', 'hardswish', 'relu6', 'softmax', 'log_softmax',
         'softmin', 'linear', 'bilinear', 'conv1d', 'conv2d', 'max_pool1d', 'max_pool2d', 'avg_pool1d', 'avg_pool2d',
         'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'dropout', 'embedding', 'layer_norm', 'batch_norm',
         'cross_entropy', 'nll_loss', 'mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'binary_cross_entropy',
         'binary_cross_entropy_with_logits', 'margin_ranking_loss', 'multi_margin_loss', 'kl_div', 'pad', 'one_hot',
         'scaled_dot_product_attention', 'normalize', 'cosine_similarity', 'tanhshrink']


@pytest.mark.parametrize('name', NAMES)
def test_names_exist_like_torch(name):
    assert callable(getattr(F, name))
    assert hasattr(TF, name)
    assert getattr(F, name).__doc__


@pytest.mark.parametrize('fn,kw', [('relu', {}), ('leaky_relu', {'negative_slope': 0.1}), ('elu', {'alpha': 0.7}),
                                   ('softplus', {'beta': 0.5, 'threshold': 4.0}), ('hardtanh', {'min_val': -2.0}),
                                   ('glu', {'dim': 0}), ('gelu', {'approximate': 'tanh'}), ('silu', {}),
                                   ('softmax', {'dim': 0}), ('log_softmax', {'dim': -1}), ('softmin', {'dim': 1})],
                         ids=str)
def test_activation_functions(device, fn, kw):
    compare(lambda x: getattr(F, fn)(x, **kw), lambda x: getattr(TF, fn)(x, **kw), randn(4, 6) * 3, device=device)


@pytest.mark.parametrize('pad,shape', [((1, 2), (3, 4)), ((1, 0, 2, 1), (2, 3, 4)), ((0, 0, 0, 0, 1, 1), (2, 3, 4)),
                                       ((-1, 2), (3, 4)), ((2, -1, 1, -1), (2, 3, 4))])
@pytest.mark.parametrize('value', [0.0, 1.5])
def test_pad_constant(device, pad, shape, value):
    compare(lambda x: F.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value), randn(*shape),
            device=device)


@pytest.mark.parametrize('mode', ['reflect', 'replicate', 'circular'])
def test_pad_modes(device, mode):
    compare(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), lambda x: TF.pad(x, (1, 2, 2, 1), mode=mode),
            randn(2, 3, 4, 5), device=device)


def test_one_hot(device):
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        out = F.one_hot(tg.tensor(idx, device=device), n)
        ref = TF.one_hot(torch.tensor(idx), n)
        assert out.dtype == tg.int64
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    with pytest.raises(ValueError):
        F.one_hot(tg.tensor([3]), 2)
    with pytest.raises(TypeError):
        F.one_hot(tg.tensor([1.0]))


@pytest.mark.parametrize('p,dim', [(2, 1), (1, -1), (3, 0)])
def test_normalize(device, p, dim):
    compare(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), randn(4, 5), device=device,
            atol=1e-5)


@pytest.mark.parametrize('dim', [1, -1])
def test_cosine_similarity(device, dim):
    compare(lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: TF.cosine_similarity(a, b, dim),
            randn(4, 5), randn(4, 5), device=device)


def test_bilinear_function(device):
    compare(F.bilinear, TF.bilinear, randn(3, 2, 4), randn(3, 2, 5), randn(6, 4, 5), randn(6), device=device)


def test_pool1d_functions(device):
    x = randn(2, 3, 9)
    compare(lambda t: F.max_pool1d(t, 3, 2, 1), lambda t: TF.max_pool1d(t, 3, 2, 1), x, device=device)
    compare(lambda t: F.avg_pool1d(t, 2), lambda t: TF.avg_pool1d(t, 2), x, device=device)
    compare(lambda t: F.adaptive_avg_pool1d(t, 4), lambda t: TF.adaptive_avg_pool1d(t, 4), x, device=device)


def test_kernels_reexported():
    x = randn(3, 4)
    assert_close(F.softmax(tg.tensor(x), -1), TF.softmax(torch.tensor(x), -1))
    q = randn(2, 3, 4)
    out = F.scaled_dot_product_attention(tg.tensor(q), tg.tensor(q), tg.tensor(q), is_causal=True)
    ref = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(q), torch.tensor(q), is_causal=True)
    assert_close(out, ref, 1e-5, 1e-5)


def test_dropout_function_eval_is_identity():
    x = tg.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
