"""Second-order rules of the nn kernels (conv, pools, windows, norms, softmax, losses,
activations, attention) against torch in float64: first gradients with
create_graph=True, then Hessian-vector products for every differentiable input."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
import torch.nn.functional as TF

RNG = np.random.default_rng(0)


def _lib(L):
    return (L, F if L is tg else TF)


def _hvp(L, fn, arrays, seed=1, order3=False):
    rng = np.random.default_rng(seed)
    lib, fn_mod = _lib(L)
    xs = [L.tensor(a, requires_grad=True) if a.dtype.kind == 'f' else L.tensor(a) for a in arrays]
    diff = [x for x in xs if x.requires_grad]
    out = fn(lib, fn_mod, *xs)
    g = L.tensor(rng.standard_normal(tuple(out.shape)))
    grads = L.autograd.grad((out * g).sum(), diff, create_graph=True)
    h = sum((gr * L.tensor(rng.standard_normal(tuple(gr.shape)))).sum() for gr in grads)
    hv = L.autograd.grad(h, diff, allow_unused=True, create_graph=order3)
    res = [out.detach().numpy()] + [gr.detach().numpy() for gr in grads]
    res += [np.zeros(tuple(x.shape)) if v is None else v.detach().numpy() for v, x in zip(hv, diff)]
    if order3:
        t = sum((v * L.tensor(rng.standard_normal(tuple(v.shape)))).sum() for v in hv if v is not None)
        res += [np.zeros(tuple(x.shape)) if v is None else v.numpy()
                for v, x in zip(L.autograd.grad(t, diff, allow_unused=True), diff)]
    return res


def check(fn, *arrays, order3=False, rtol=1e-9, atol=1e-11):
    ours, ref = _hvp(tg, fn, arrays, order3=order3), _hvp(torch, fn, arrays, order3=order3)
    for i, (a, b) in enumerate(zip(ours, ref)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f'result {i}')


def r(*shape, pos=False):
    a = RNG.standard_normal(shape)
    return np.abs(a) + 0.5 if pos else a


# ---------------------------------------------------------------------- conv / pools
CONV = {
    'plain': dict(),
    'stride pad': dict(stride=2, padding=1),
    'same dilated': dict(padding='same', dilation=2),
    'groups': dict(groups=2, stride=(2, 1), padding=(1, 2)),
}


@pytest.mark.parametrize('kw', CONV.values(), ids=list(CONV))
@pytest.mark.parametrize('hw', [(7, 7), (9, 26)], ids=['flat rows', 'windows'])
def test_conv2d(kw, hw):
    # the input enters through an op (x * x, transposed): its second-order term is checked too
    fn = lambda L, Fm, x, w, b: Fm.conv2d((x * x).transpose(2, 3), w, b, **kw)  # noqa: E731
    check(fn, r(2, 4, hw[1], hw[0]), r(6, 4 // kw.get('groups', 1), 3, 2), r(6))


def test_conv1d_and_third_order():
    check(lambda L, Fm, x, w: Fm.conv1d(x.tanh(), w, stride=2, padding=1), r(2, 3, 9), r(4, 3, 3), order3=True)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True)])
def test_max_pool2d(kw):
    check(lambda L, Fm, x: Fm.max_pool2d(x * x, **kw) ** 2, r(2, 3, 7, 6))


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_avg_pool2d(kw):
    check(lambda L, Fm, x: Fm.avg_pool2d(x * x, **kw) ** 2, r(2, 3, 7, 6), order3=True)


@pytest.mark.parametrize('size', [(2, 3), (3, 4)])
def test_adaptive_avg_pool2d(size):
    check(lambda L, Fm, x: Fm.adaptive_avg_pool2d(x * x, size) ** 2, r(2, 2, 6, 9), order3=True)


def test_small_cnn_third_order():
    fn = lambda L, Fm, x, w: Fm.max_pool2d(Fm.conv2d(x, w, padding=1).tanh(), 2).sum((1, 2, 3))  # noqa: E731
    check(fn, r(2, 2, 6, 6), r(3, 2, 3, 3), order3=True)


# ---------------------------------------------------------------------- windows
@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
def test_pad(mode):
    check(lambda L, Fm, x: Fm.pad(x * x, (1, 2, 2, 1), mode=mode) ** 2, r(2, 3, 4, 5), order3=True)


def test_sliding_windows_and_conv_nd():
    def ours_only(L, Fm, x):  # sliding windows: torch's unfold as the reference
        if L is tg:
            return tg.sliding_window_view(x * x, (2, 3), axis=(1, 2), step=(1, 2)) ** 2
        return (x * x).unfold(1, 2, 1).unfold(2, 3, 2) ** 2
    check(ours_only, r(2, 5, 7), order3=True)

    def conv(L, Fm, x, w):
        if L is tg:
            return tg.conv_nd(x * x, w, stride=(2, 1), padding=1, dilation=(1, 2))
        return TF.conv2d(x * x, w, stride=(2, 1), padding=1, dilation=(1, 2))
    check(conv, r(2, 3, 6, 7), r(4, 3, 2, 3))


# ---------------------------------------------------------------------- norms
def test_layer_norm():
    check(lambda L, Fm, x, w, b: Fm.layer_norm(x * x, (3, 4), w, b, 1e-3), r(2, 5, 3, 4), r(3, 4), r(3, 4))

    def third(L, Fm, x):  # torch's fused layer_norm is off at third order: its composite is the reference
        x = x.transpose(0, 1)
        if L is tg:
            return Fm.layer_norm(x, (2,))
        xc = x - x.mean(-1, keepdim=True)
        return xc * ((xc * xc).mean(-1, keepdim=True) + 1e-5) ** -0.5
    check(third, r(2, 3), order3=True)


@pytest.mark.parametrize('training', [True, False])
def test_batch_norm(training):
    rm, rv = r(3), r(3, pos=True)

    def fn(L, Fm, x, w, b):
        return Fm.batch_norm(x * x, L.tensor(rm), L.tensor(rv), w, b, training=training, eps=1e-3)
    check(fn, r(4, 3, 5), r(3), r(3))

    def third(L, Fm, x, w):  # torch's fused batch_norm is off at third order: its composite is the reference
        if L is tg:
            return Fm.batch_norm(x, None, None, w, None, training=True)
        xc = x - x.mean(0, keepdim=True)
        return xc * ((xc * xc).mean(0, keepdim=True) + 1e-5) ** -0.5 * w
    check(third, r(5, 2), r(2), order3=True)


def test_group_norm():  # GroupNorm is layer_norm over grouped channels, then a per-channel affine
    w, b = r(4), r(4)

    def fn(L, Fm, x):
        if L is torch:
            return TF.group_norm(x * x, 2, torch.tensor(w), torch.tensor(b))
        m = tg.nn.GroupNorm(2, 4).double()
        m.weight._data[...], m.bias._data[...] = w, b
        return m(x * x)
    check(fn, r(3, 4, 5))


# ---------------------------------------------------------------------- softmax / losses
@pytest.mark.parametrize('dim', [-1, 0, 1])
def test_softmax_log_softmax(dim):
    check(lambda L, Fm, x: Fm.softmax(x * x, dim) ** 2, r(3, 4, 2), order3=True)
    check(lambda L, Fm, x: Fm.log_softmax(x * x, dim) ** 2, r(3, 4, 2), order3=True)


CE = {
    'plain': (lambda L, t, p: dict(), lambda: RNG.integers(0, 5, 6)),
    'weight ignore': (lambda L, t, p: dict(weight=L.tensor(p), ignore_index=1), lambda: RNG.integers(0, 5, 6)),
    'smoothing sum': (lambda L, t, p: dict(label_smoothing=0.2, reduction='sum'), lambda: RNG.integers(0, 5, 6)),
    'none': (lambda L, t, p: dict(reduction='none', weight=L.tensor(p)), lambda: RNG.integers(0, 5, 6)),
}


@pytest.mark.parametrize('name', CE)
def test_cross_entropy_class_indices(name):
    kw, tgt = CE[name]
    t, p = tgt(), r(5, pos=True)
    check(lambda L, Fm, x: Fm.cross_entropy(x * x, L.tensor(t), **kw(L, t, p)), r(6, 5))


def test_cross_entropy_spatial_and_probabilities():
    t = RNG.integers(0, 3, (2, 4))
    check(lambda L, Fm, x: Fm.cross_entropy(x * x, L.tensor(t), label_smoothing=0.1), r(2, 3, 4))
    check(lambda L, Fm, x, q: Fm.cross_entropy(x, q.softmax(1), reduction='sum'), r(4, 3), r(4, 3))
    check(lambda L, Fm, x: Fm.cross_entropy(x * x, L.tensor(2)), r(5), order3=True)


def test_nll_loss():
    t = RNG.integers(0, 4, (3, 2))
    w = r(4, pos=True)
    check(lambda L, Fm, x: Fm.nll_loss(Fm.log_softmax(x, 1), L.tensor(t), weight=L.tensor(w)), r(3, 4, 2))
    check(lambda L, Fm, x: Fm.nll_loss(x * x, L.tensor(t[:, 0]), reduction='none'), r(3, 4))


REG_LOSSES = ['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'binary_cross_entropy_with_logits',
              'soft_margin_loss', 'kl_div']


@pytest.mark.parametrize('name', [n for n in REG_LOSSES if hasattr(F, n)])
def test_regression_losses(name):
    check(lambda L, Fm, x, y: getattr(Fm, name)(x * x, y.sigmoid()), r(4, 3), r(4, 3))


def test_binary_cross_entropy():
    check(lambda L, Fm, x, y: Fm.binary_cross_entropy(x.sigmoid(), y.sigmoid()), r(4, 3), r(4, 3))
    pw = r(3, pos=True)
    check(lambda L, Fm, x, y: Fm.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=L.tensor(pw)),
          r(4, 3), r(4, 3))


# ---------------------------------------------------------------------- activations
ACTS = {
    'leaky_relu': lambda Fm, x: Fm.leaky_relu(x, 0.1), 'elu': lambda Fm, x: Fm.elu(x, 1.3),
    'selu': lambda Fm, x: Fm.selu(x), 'celu': lambda Fm, x: Fm.celu(x, 0.7), 'silu': lambda Fm, x: Fm.silu(x),
    'softplus': lambda Fm, x: Fm.softplus(x, 2.0, 3.0), 'hardtanh': lambda Fm, x: Fm.hardtanh(x, -0.5, 0.8),
    'softsign': lambda Fm, x: Fm.softsign(x),
    # torch has no double backward for hardsigmoid: its hardtanh form is the reference
    'hardsigmoid': lambda Fm, x: Fm.hardsigmoid(x * 3) if Fm is F else TF.hardtanh(x * 3 + 3, 0, 6) / 6,
    'hardswish': lambda Fm, x: Fm.hardswish(x * 3), 'mish': lambda Fm, x: Fm.mish(x),
    'logsigmoid': lambda Fm, x: Fm.logsigmoid(x), 'tanhshrink': lambda Fm, x: Fm.tanhshrink(x),
    'gelu': lambda Fm, x: Fm.gelu(x), 'gelu tanh': lambda Fm, x: Fm.gelu(x, approximate='tanh'),
    'erf': lambda Fm, x: torch.erf(x) if Fm is TF else F.erf(x),
}


@pytest.mark.parametrize('name', ACTS)
def test_activations(name):
    # (act(x) * x): the second derivative of act itself enters (act'' x + 2 act')
    # celu: torch's first-order value itself differs by ~1e-8 relative (alpha rounded in torch)
    check(lambda L, Fm, x: ACTS[name](Fm, x.T) * x.T, r(4, 5), order3=name in ('gelu', 'silu', 'elu'),
          rtol=1e-7 if name == 'celu' else 1e-9)


def test_dropout_is_linear():
    tg.manual_seed(0)
    x = tg.tensor(r(50), requires_grad=True)
    y = F.dropout(x * x, 0.3)
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)
    h, = tg.autograd.grad(g.sum(), x)
    mask = (y._data != 0) / 0.7
    np.testing.assert_allclose(h.numpy(), 2 * mask)


# ---------------------------------------------------------------------- attention
@pytest.mark.parametrize('kind', ['none', 'causal', 'bool', 'float'])
def test_scaled_dot_product_attention(kind):
    bmask = RNG.random((4, 5)) > 0.3
    bmask[:, 0] = True

    def fn(L, Fm, q, k, v, *m):
        kw = {'causal': dict(is_causal=True), 'bool': dict(attn_mask=L.tensor(bmask)),
              'float': dict(attn_mask=m[0] * m[0] if m else None), 'none': {}}[kind]
        return Fm.scaled_dot_product_attention(q * q, k.tanh(), v * v, **kw)
    check(fn, r(2, 4, 3), r(2, 5, 3), r(2, 5, 2), *([r(4, 5)] if kind == 'float' else []))


# ---------------------------------------------------------------------- gradient penalties
def _penalty_grads(L, x, params, net):
    ps = [L.tensor(p, requires_grad=True) for p in params]
    xt = L.tensor(x, requires_grad=True)
    out = net(L, _lib(L)[1], xt, *ps)
    gx, = L.autograd.grad(out.sum(), xt, create_graph=True)
    penalty = ((gx.reshape(x.shape[0], -1).norm(dim=1) - 1) ** 2).mean()
    grads = L.autograd.grad(penalty, ps, allow_unused=True)  # the last bias does not enter
    return [np.zeros(tuple(p.shape)) if g is None else g.numpy() for g, p in zip(grads, ps)]


def test_wgan_gp_penalty_mlp():
    def mlp(L, Fm, x, w1, b1, w2, b2):  # Linear layers written as matmuls (linear.py has no rule yet)
        return Fm.leaky_relu(x @ w1.T + b1, 0.2) @ w2.T + b2
    params = [r(8, 3), r(8), r(1, 8), r(1)]
    x = r(6, 3)
    for a, b in zip(_penalty_grads(tg, x, params, mlp), _penalty_grads(torch, x, params, mlp)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_wgan_gp_penalty_cnn():
    def cnn(L, Fm, x, w1, b1, w2, b2):
        h = Fm.leaky_relu(Fm.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
        return h.flatten(1) @ w2.T + b2
    params = [r(4, 2, 3, 3), r(4), r(1, 4 * 4 * 4), r(1)]
    x = r(3, 2, 8, 8)
    for a, b in zip(_penalty_grads(tg, x, params, cnn), _penalty_grads(torch, x, params, cnn)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
