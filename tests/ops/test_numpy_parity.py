"""MyGrad parity through the NumPy protocol (np.sinc, np.fmod, np.divmod,
np.bincount, np.copyto on tensors) and the logspace/geomspace factories."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from _libcheck import rand


def _grad(fn, a):
    x = tg.tensor(a.copy())
    g = rand(*a.shape, dtype=a.dtype, low=0.5, high=1.5)
    (fn(x) * tg.tensor(g)).sum().backward()
    return x.grad.numpy(), g


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_sinc_fmod_divmod(dtype):
    a = rand(3, 4, dtype=dtype) * 3
    s = np.sinc(tg.tensor(a))
    assert isinstance(s, tg.Tensor) and s.dtype == tg.tensor(a).dtype
    np.testing.assert_allclose(s.numpy(), np.sinc(a), rtol=1e-5, atol=1e-6)
    gx, g = _grad(np.sinc, a)
    t = torch.tensor(a, requires_grad=True)
    (torch.sinc(t) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(gx, t.grad.numpy(), rtol=1e-4, atol=1e-5)
    f = np.fmod(tg.tensor(a), 1.5)
    assert isinstance(f, tg.Tensor)
    np.testing.assert_allclose(f.numpy(), np.fmod(a, dtype(1.5)), rtol=1e-6)
    np.testing.assert_allclose(np.fmod(a[0], tg.tensor(a[1])).numpy(), np.fmod(a[0], a[1]), rtol=1e-6)
    gx, g = _grad(lambda x: np.fmod(x, 1.5), a)
    np.testing.assert_allclose(gx, g)
    q, r = np.divmod(tg.tensor(a), 2.0)
    eq, er = np.divmod(a, dtype(2.0))
    np.testing.assert_allclose(q.numpy(), eq)
    np.testing.assert_allclose(r.numpy(), er, rtol=1e-6, atol=1e-6)
    gx, g = _grad(lambda x: np.divmod(x, 2.0)[1], a)
    np.testing.assert_allclose(gx, g)


def test_bincount_copyto():
    ids = np.array([0, 3, 3, 1])
    out = np.bincount(tg.tensor(ids), minlength=6)
    assert isinstance(out, tg.Tensor)
    np.testing.assert_array_equal(out.numpy(), np.bincount(ids, minlength=6))
    w = np.array([0.5, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(np.bincount(tg.tensor(ids), weights=tg.tensor(w)).numpy(), np.bincount(ids, w))
    src = tg.tensor(rand(3))
    dst = tg.zeros(3)
    np.copyto(dst, src * 2)
    np.testing.assert_allclose(dst.numpy(), src.numpy() * 2)
    dst.sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [2.0, 2.0, 2.0])
    d2 = tg.ones(3)
    np.copyto(d2, np.array([5.0, 6.0, 7.0]), where=np.array([True, False, True]))
    np.testing.assert_allclose(d2.numpy(), [5.0, 1.0, 7.0])
    with pytest.raises(TypeError, match='copyto'):
        np.copyto(np.zeros(3), tg.tensor(rand(3)))


def test_logspace_geomspace():
    for args, kw in (((0, 2, 5), {}), ((-1, 1, 4), {'base': 2.0}), ((1, 3, 1), {}), ((0, 1, 0), {})):
        out = tg.logspace(*args, **kw)
        ref = torch.logspace(*args, **kw)
        assert out.dtype == tg.float32 and tuple(out.shape) == tuple(ref.shape)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    assert tg.logspace(0, 2, 3, dtype=tg.float64).dtype == tg.float64
    assert tg.logspace(0, 2, 3, requires_grad=True).requires_grad
    np.testing.assert_allclose(tg.geomspace(1, 1000, 4).numpy(), [1, 10, 100, 1000], rtol=1e-6)
    np.testing.assert_allclose(tg.geomspace(-8, -1, 4, dtype=tg.float64).numpy(), np.geomspace(-8, -1, 4))
    with pytest.raises(ValueError, match='geomspace'):
        tg.geomspace(0, 1, 3)
    with pytest.raises(ValueError, match='logspace'):
        tg.logspace(0, 1, -1)
