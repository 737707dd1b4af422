"""Dropout modules against torch: the mask torch drew (read off its output) is injected
through ``_generate_mask`` (as the reference's tests do), then forward and backward
must match; channel-wise masks, unbatched inputs, PyTorch's warnings and errors,
eval mode, p = 0 / 1, inplace."""
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn
from helpers import assert_close


def _rng(seed=0):
    return np.random.default_rng(seed)


def _check(tg_cls, th_cls, shape, p=0.4, dtype=np.float32, noncontig=False, device='cpu'):
    x = _rng(1).standard_normal(shape).astype(dtype) + 3.0  # never 0: zeros in the output mark drops
    if noncontig:
        x = np.ascontiguousarray(x.swapaxes(0, -1)).swapaxes(0, -1)
    tx = torch.tensor(x, requires_grad=True)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = th_cls(p)(tx)
    keep = (ref != 0).detach().numpy()
    m = tg_cls(p)
    seen = []
    mask_shape = m._mask_shape(tg.tensor(x))

    lead = len(mask_shape)
    while lead and mask_shape[lead - 1] == 1:
        lead -= 1
    channel_keep = keep.reshape(keep.shape[:lead] + (-1,))[..., 0].reshape(mask_shape)

    def fixed(inp):
        seen.append(inp.shape)
        return tg.tensor(channel_keep).float()
    m._generate_mask = fixed  # the reference tests' injection point
    a = tg.tensor(x, device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = m(a)
    assert seen == [a.shape]
    assert out.dtype == a.dtype
    assert_close(out, ref, rtol=1e-6, atol=1e-6, what='forward')
    g = _rng(2).uniform(-1.5, 1.5, size=shape).astype(dtype)
    (out * tg.tensor(g, device=device)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    assert_close(a.grad, tx.grad, rtol=1e-6, atol=1e-6, what='grad')


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(), (7,), (4, 5), (2, 3, 4, 5)])
def test_dropout_matches_torch_with_injected_mask(dtype, shape, device):
    _check(nn.Dropout, torch.nn.Dropout, shape, dtype=dtype, device=device)


@pytest.mark.parametrize('cls,shapes', [
    ('Dropout1d', [(4, 6, 5), (6, 5)]),
    ('Dropout2d', [(3, 6, 4, 5), (4, 6, 5)]),
    ('Dropout3d', [(2, 6, 3, 4, 5), (6, 3, 4, 5)]),
    ('FeatureAlphaDropout', [(3, 6, 4, 5), (4, 6)]),
    ('AlphaDropout', [(5, 6), (3,)]),
])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_channel_and_alpha_dropout_match_torch(cls, shapes, dtype):
    for shape in shapes:
        if cls in ('AlphaDropout', 'FeatureAlphaDropout'):
            _check_alpha(getattr(nn, cls), getattr(torch.nn, cls), shape, dtype)
        else:
            _check(getattr(nn, cls), getattr(torch.nn, cls), shape, dtype=dtype, noncontig=True)


def _check_alpha(tg_cls, th_cls, shape, dtype, p=0.3):
    """Alpha dropout: a dropped element equals the constant ``a * alpha' + b``, recovered from torch's output."""
    x = _rng(3).standard_normal(shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    torch.manual_seed(1)
    ref = th_cls(p)(tx)
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    keep = ~np.isclose(ref.detach().numpy(), -alpha * a + alpha * a * p, rtol=0, atol=1e-6)
    m = tg_cls(p)
    ms = m._mask_shape(tg.tensor(x))
    keep = keep.reshape(keep.shape[:2] + (-1,))[..., 0].reshape(ms) if ms != keep.shape else keep
    m._generate_mask = lambda inp: tg.tensor(keep).float()
    t = tg.tensor(x, requires_grad=True)
    out = m(t)
    assert_close(out, ref, rtol=1e-5, atol=1e-6, what='forward')
    g = _rng(4).uniform(-1.5, 1.5, size=shape).astype(dtype)
    (out * tg.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    assert_close(t.grad, tx.grad, rtol=1e-5, atol=1e-6, what='grad')


def test_default_masks_are_channel_wise_and_scaled():
    tg.manual_seed(0)
    x = tg.ones(8, 16, 3, 3)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    y1 = nn.Dropout1d(0.5)(tg.ones(16, 10)).numpy()  # unbatched (C, L)
    assert ((y1 == 0).all(-1) | (y1 == 2).all(-1)).all()
    y3 = nn.Dropout3d(0.5)(tg.ones(16, 2, 2, 2)).numpy()  # unbatched (C, D, H, W)
    assert set(np.unique(y3.reshape(16, -1).std(-1))) == {0.0}
    d = nn.Dropout(0.25)(tg.ones(20000)).numpy()
    assert abs((d == 0).mean() - 0.25) < 0.02 and set(np.unique(d)) == {0.0, np.float32(1 / 0.75)}


def test_same_stream_as_functional_dropout():
    x = tg.randn(5, 7)
    tg.manual_seed(3)
    a = nn.Dropout(0.3)(x)
    tg.manual_seed(3)
    b = tg.nn.functional.dropout(x, 0.3)
    assert_close(a, b, rtol=0, atol=0)


def test_eval_p0_p1_and_inplace():
    x = tg.randn(3, 4, 5, requires_grad=True)
    for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # Dropout2d warns on 3-D input, as torch
            assert cls(0.5).eval()(x) is x
            assert cls(0.0)(x) is x
            z = cls(1.0)(x)
        assert (z.numpy() == 0).all() and z.shape == x.shape
    y = tg.randn(3, 4)
    before = y.numpy().copy()
    out = nn.Dropout(0.5, inplace=True)(y)
    assert out is y and not np.allclose(before, y.numpy())


def test_warnings_and_errors_as_torch():
    def messages(fn):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter('always')
            try:
                fn()
            except RuntimeError as e:
                return [str(w.message) for w in rec], str(e)
        return [str(w.message) for w in rec], None
    for cls, shape in [('Dropout2d', (2, 3, 4)), ('Dropout2d', (3, 4)), ('Dropout2d', (5,)), ('Dropout3d', (2, 3, 4)),
                       ('Dropout1d', (2, 3, 4, 5)), ('Dropout1d', (4,)), ('Dropout3d', ())]:
        ours = messages(lambda: getattr(nn, cls)(0.5)(tg.ones(shape)))
        theirs = messages(lambda: getattr(torch.nn, cls)(0.5)(torch.ones(shape)))
        assert ours[0] == theirs[0], (cls, shape)
        assert (ours[1] is None) == (theirs[1] is None), (cls, shape, ours[1], theirs[1])
        if theirs[1] is not None:
            assert theirs[1].split('.')[0].split(': ')[-1] in ours[1]
    for cls in ('Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout'):
        with pytest.raises(ValueError, match='dropout probability has to be between 0 and 1, but got 1.5'):
            getattr(nn, cls)(1.5)
        assert repr(getattr(nn, cls)(0.3)) == repr(getattr(torch.nn, cls)(0.3))
    m = nn.Dropout(0.5)
    m._generate_mask = lambda x: tg.ones(3)
    with pytest.raises(ValueError, match=r'mask of shape \(3,\) from _generate_mask does not broadcast'):
        m(tg.ones(2, 4))
    with pytest.raises(TypeError, match='floating'):
        nn.Dropout(0.5)(tg.tensor([1, 2, 3]))
