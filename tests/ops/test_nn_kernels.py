"""Fused nn kernels against torch.nn.functional: softmax, log_softmax, linear,
cross_entropy, nll_loss, layer_norm, batch_norm, gelu, erf, dropout, embedding
and scaled_dot_product_attention (forward and every gradient, non-uniform
upstream gradients)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import RNG, assert_close, compare, rand

# ---------------------------------------------------------------------- softmax


@pytest.mark.parametrize('shape,dim', [((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1),
                                       ((2, 3, 4), 1), ((2, 3, 4), -3), ((2, 3, 4, 5), 2), ((2, 3, 4, 5), -1)],
                         ids=str)
def test_softmax_log_softmax(shape, dim, device):
    x = rand(*shape, low=-5, high=5)
    compare(lambda x: tg.softmax(x, dim), lambda x: F.softmax(x, dim), x, device=device)
    compare(lambda x: x.softmax(dim), lambda x: x.softmax(dim), x, device=device)
    compare(lambda x: tg.log_softmax(x, dim), lambda x: F.log_softmax(x, dim), x, device=device)
    compare(lambda x: x.log_softmax(dim), lambda x: x.log_softmax(dim), x, device=device)


def test_softmax_stable_for_large_logits(device):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1001.0]], np.float32)
    compare(lambda x: tg.softmax(x, -1), lambda x: F.softmax(x, -1), x, device=device)
    compare(lambda x: tg.log_softmax(x, -1), lambda x: F.log_softmax(x, -1), x, device=device)


def test_softmax_dim_error():
    with pytest.raises(IndexError, match='softmax: dim 2 is out of range'):
        tg.softmax(tg.tensor(rand(3, 4)), 2)


# ---------------------------------------------------------------------- linear


@pytest.mark.parametrize('xs', [(4, 3), (2, 5, 3), (2, 2, 2, 3), (3,)], ids=str)
def test_linear(xs, device):
    x, w, b = rand(*xs), rand(6, 3), rand(6)
    compare(tg.linear, F.linear, x, w, b, device=device)
    compare(tg.linear, F.linear, x, w, device=device)
    compare(tg.linear, F.linear, x, w, b, device=device, grad=[False, True, False])


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) does not match weight of shape \(6, 5\)"):
        tg.linear(tg.tensor(rand(4, 3)), tg.tensor(rand(6, 5)))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(5,\)"):
        tg.linear(tg.tensor(rand(4, 3)), tg.tensor(rand(6, 3)), tg.tensor(rand(5)))


# ---------------------------------------------------------------------- cross entropy / nll


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


# ---------------------------------------------------------------------- layer norm / batch norm


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


# ---------------------------------------------------------------------- gelu / erf


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_gelu(approximate, device):
    x = rand(4, 50, low=-6, high=6)
    # tanh mode: 1 + tanh(u) cancels for very negative x in float32, so both libraries are only ~1e-6 exact
    compare(lambda x: tg.gelu(x, approximate), lambda x: F.gelu(x, approximate=approximate), x, device=device,
            atol=1e-6 if approximate == 'none' else 1e-5)


def test_erf(device):
    x = rand(200, low=-5, high=5)
    compare(tg.erf, torch.erf, x, device=device, atol=1e-6)
    compare(lambda x: x.erf(), torch.erf, x, device=device, atol=1e-6)


def test_erf_accuracy_dense_grid():
    from tensorgrad.ops.nn_kernels import _erf_array
    x = np.linspace(-8, 8, 40001)
    ref = np.array([math.erf(v) for v in x.astype(np.float32).astype(np.float64)])
    assert np.abs(_erf_array(x.astype(np.float32)) - ref).max() < 2e-7
    assert np.abs(_erf_array(x) - np.array([math.erf(v) for v in x])).max() < 1e-14
    assert np.isnan(_erf_array(np.array([np.nan], np.float32)))[0]


# ---------------------------------------------------------------------- dropout


def test_dropout_statistics(device):
    tg.manual_seed(0)
    p = 0.3
    x = tg.tensor(np.ones((200, 500), np.float32), device=device, requires_grad=True)
    y = tg.dropout(x, p)
    yn = y.numpy()
    assert yn.dtype == np.float32
    assert abs((yn == 0).mean() - p) < 0.01
    assert abs(yn.mean() - 1.0) < 0.02
    assert np.allclose(yn[yn != 0], 1 / (1 - p))
    g = rand(200, 500)
    y.backward(tg.tensor(g, device=device))
    np.testing.assert_allclose(x.grad.numpy(), g * (yn != 0) / (1 - p), rtol=1e-6)


def test_dropout_identity_and_edges(device):
    x = tg.tensor(rand(4, 5), device=device, requires_grad=True)
    assert tg.dropout(x, 0.5, training=False) is x
    assert tg.dropout(x, 0.0) is x
    assert np.all(tg.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match=r"dropout: probability p must be in \[0, 1\]"):
        tg.dropout(x, 1.5)


def test_dropout_reproducible():
    x = tg.tensor(np.ones((10, 10), np.float32))
    tg.manual_seed(3)
    a = tg.dropout(x, 0.5).numpy()
    tg.manual_seed(3)
    b = tg.dropout(x, 0.5).numpy()
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------- embedding


@pytest.mark.parametrize('ishape', [(5,), (4, 7), (32, 64)], ids=str)
@pytest.mark.parametrize('padding_idx', [None, 2, -1])
def test_embedding(ishape, padding_idx, device):
    V = 10
    idx = RNG.integers(0, V, size=ishape).astype(np.int64)
    idx.reshape(-1)[:3] = 2  # repeated indices, and the padding row used
    w = rand(V, 6)
    compare(lambda i, w: tg.embedding(i, w, padding_idx), lambda i, w: F.embedding(i, w, padding_idx), idx, w,
            device=device)


def test_embedding_errors():
    w = tg.tensor(rand(5, 3))
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 5\)"):
        tg.embedding(tg.tensor(np.array([0, 5])), w)
    with pytest.raises(TypeError, match=r"embedding: indices must be integers"):
        tg.embedding(tg.tensor(rand(3)), w)


# ---------------------------------------------------------------------- attention


@pytest.mark.parametrize('qs,ks,vs', [((2, 4, 8), (2, 6, 8), (2, 6, 5)), ((2, 3, 4, 8), (2, 3, 4, 8), (2, 3, 4, 8)),
                                      ((2, 3, 5, 4), (1, 3, 6, 4), (1, 3, 6, 3))], ids=str)
@pytest.mark.parametrize('opts', [{}, {'scale': 0.3}, {'is_causal': True}], ids=str)
def test_sdpa(qs, ks, vs, opts, device):
    q, k, v = rand(*qs), rand(*ks), rand(*vs)
    compare(lambda q, k, v: tg.scaled_dot_product_attention(q, k, v, **opts),
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **opts), q, k, v, device=device)


@pytest.mark.parametrize('float_mask', [False, True])
@pytest.mark.parametrize('mshape', [(4, 6), (2, 1, 4, 6)], ids=str)
def test_sdpa_masks(float_mask, mshape, device):
    q, k, v = rand(2, 3, 4, 8), rand(2, 3, 6, 8), rand(2, 3, 6, 5)
    if float_mask:
        m = rand(*mshape, low=-2, high=2)
        compare(lambda q, k, v, m: tg.scaled_dot_product_attention(q, k, v, m),
                lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), q, k, v, m, device=device)
    else:
        m = RNG.uniform(size=mshape) > 0.4
        m[..., 0] = True  # every query attends to something
        compare(lambda q, k, v: tg.scaled_dot_product_attention(q, k, v, tg.tensor(m, device=device)),
                lambda q, k, v: F.scaled_dot_product_attention(q, k, v, torch.tensor(m)), q, k, v, device=device)


def test_sdpa_dropout(device):
    q, k, v = (tg.tensor(rand(2, 4, 8), device=device, requires_grad=True) for _ in range(3))
    tg.manual_seed(0)
    out = tg.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert out.shape == (2, 4, 8)
    out.backward(tg.tensor(rand(2, 4, 8), device=device))
    assert q.grad is not None and k.grad is not None and v.grad is not None
    tg.manual_seed(0)
    again = tg.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert np.array_equal(out.numpy(), again.numpy())


def test_sdpa_error():
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query \(2, 4, 8\), key \(2, 6, 7\)"):
        tg.scaled_dot_product_attention(tg.tensor(rand(2, 4, 8)), tg.tensor(rand(2, 6, 7)), tg.tensor(rand(2, 6, 7)))


# ---------------------------------------------------------------------- general


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


@pytest.fixture
def threaded(monkeypatch):
    """Force the row-parallel path (2 threads, every size) of the fused kernels."""
    import tensorgrad.ops.nn_kernels as kernels
    monkeypatch.setattr(kernels, '_NTHREADS', 2)
    monkeypatch.setattr(kernels, '_PARALLEL_MIN', 0)


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
    try:
        tg.set_num_threads(3)
        assert tg.get_num_threads() == 3
        x = rand(600, 300)  # big enough for the threaded path
        compare(lambda x: tg.softmax(x, 1), lambda x: F.softmax(x, 1), x)
        with pytest.raises(ValueError, match='set_num_threads: expected a positive number'):
            tg.set_num_threads(0)
    finally:
        tg.set_num_threads(old)
