"""Random sampling: in-place fills (uniform_, normal_, exponential_, geometric_,
log_normal_, cauchy_, random_, bernoulli_), bernoulli (method, function,
class factory), multinomial. Checked statistically (seeded, with tolerances),
for dtypes/shapes, determinism under manual_seed and generators, autograd
and errors as PyTorch's."""
import types

import numpy as np
import pytest
import torch

import tensorgrad as tg

N = 20000
FLOATS = [tg.float32, tg.float64]


def _gen(seed):
    """A generator as ``tensorgrad.Generator`` holds it (``_rng``); the real class when it exists."""
    if hasattr(tg, 'Generator'):
        g = tg.Generator()
        g.manual_seed(seed)
        return g
    return types.SimpleNamespace(_rng=np.random.default_rng(seed))


@pytest.mark.parametrize('dtype', FLOATS)
def test_uniform_(dtype):
    t = tg.zeros(N, dtype=dtype)
    v = t._version
    assert t.uniform_(-2, 3) is t and t._version == v + 1 and t.dtype == dtype
    a = t.numpy()
    assert a.min() >= -2 and a.max() < 3
    assert abs(a.mean() - 0.5) < 0.05 and abs(a.var() - 25 / 12) < 0.1
    b = tg.zeros(N, dtype=dtype).uniform_().numpy()
    assert b.min() >= 0 and b.max() < 1 and abs(b.mean() - 0.5) < 0.01
    assert (tg.zeros(5).uniform_(1, 1).numpy() == 1).all()
    assert tg.zeros(4).uniform_(**{'from': 5, 'to': 6}).numpy().min() >= 5


def test_uniform_never_reaches_to_in_float16():
    a = tg.zeros(N, dtype=tg.float16).uniform_(0, 1).numpy()
    assert a.max() < 1 and a.dtype == np.float16


@pytest.mark.parametrize('dtype', FLOATS)
def test_normal_(dtype):
    a = tg.zeros(N, 2, dtype=dtype).normal_(1.5, 0.5).numpy()
    assert a.dtype == np.dtype(str(dtype)) and a.shape == (N, 2)
    assert abs(a.mean() - 1.5) < 0.02 and abs(a.std() - 0.5) < 0.02
    assert (tg.zeros(3).normal_(2.0, 0).numpy() == 2).all()


@pytest.mark.parametrize('dtype', FLOATS)
def test_exponential_geometric_log_normal_cauchy(dtype):
    e = tg.zeros(N, dtype=dtype).exponential_(4.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01
    g = tg.zeros(N, dtype=dtype).geometric_(0.25).numpy()
    assert g.min() >= 1 and np.all(g == np.round(g)) and abs(g.mean() - 4) < 0.15
    ln = tg.zeros(N, dtype=dtype).log_normal_(0.5, 0.25).numpy()
    assert ln.min() > 0 and abs(np.log(ln).mean() - 0.5) < 0.01 and abs(np.log(ln).std() - 0.25) < 0.01
    c = tg.zeros(N, dtype=dtype).cauchy_(2.0, 0.5).numpy()
    assert abs(np.median(c) - 2.0) < 0.03 and abs(np.percentile(c, 75) - 2.5) < 0.05
    assert tg.zeros(5, dtype=tg.int64).geometric_(0.5).dtype == tg.int64


def test_random_():
    assert set(np.unique(tg.zeros(N, dtype=tg.int64).random_(3).numpy())) == {0, 1, 2}
    r = tg.zeros(N, dtype=tg.int32).random_(-2, 2).numpy()
    assert set(np.unique(r)) == {-2, -1, 0, 1} and r.dtype == np.int32
    assert tg.zeros(N).random_(**{'from': 7}).numpy().min() >= 7
    f = tg.zeros(N).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2 ** 24 and f.max() > 2 ** 23 and np.all(f == np.round(f))
    u = tg.zeros(N, dtype=tg.uint8).random_().numpy()
    assert u.min() == 0 and u.max() == 255
    i8 = tg.zeros(N, dtype=tg.int8).random_().numpy()
    assert i8.min() >= 0 and i8.max() == 127
    assert set(np.unique(tg.zeros(100, dtype=tg.bool).random_().numpy())) == {False, True}
    h = tg.zeros(N, dtype=tg.float16).random_().numpy()
    assert h.max() <= 2048 and h.max() > 1024
    big = tg.zeros(1000, dtype=tg.int64).random_().numpy()
    assert big.min() >= 0 and big.max() > 2 ** 62


@pytest.mark.parametrize('dtype', [tg.float32, tg.float64, tg.int64, tg.bool])
def test_bernoulli_(dtype):
    a = tg.zeros(N, dtype=dtype).bernoulli_(0.3).numpy()
    assert a.dtype == np.dtype(str(dtype)) and set(np.unique(a)) <= {0, 1} and abs(a.mean() - 0.3) < 0.015
    assert tg.zeros(N, dtype=dtype).bernoulli_().numpy().mean() == pytest.approx(0.5, abs=0.015)
    p = tg.tensor(np.tile([0.0, 0.2, 1.0], (N // 4, 1)), requires_grad=False)
    b = tg.zeros(N // 4, 3, dtype=dtype).bernoulli_(p).numpy().astype(float).mean(0)
    assert b[0] == 0 and b[2] == 1 and abs(b[1] - 0.2) < 0.03
    c = tg.zeros(N // 4, 3, dtype=dtype).bernoulli_(tg.tensor([0.0, 1.0, 0.0])).numpy()
    assert (c[:, 1] == 1).all() and not c[:, 0].any()


@pytest.mark.parametrize('dtype', FLOATS)
def test_bernoulli_of_probabilities(dtype):
    probs = np.tile(np.array([0.0, 0.25, 0.9, 1.0]), (N // 4, 1))
    p = tg.tensor(probs, dtype=dtype, requires_grad=True)
    for y in (p.bernoulli(), tg.bernoulli(p), tg.Tensor.bernoulli(p)):
        a = y.numpy()
        assert y.dtype == dtype and y.shape == p.shape and set(np.unique(a)) <= {0, 1}
        m = a.mean(0)
        assert m[0] == 0 and m[3] == 1 and abs(m[1] - 0.25) < 0.03 and abs(m[2] - 0.9) < 0.03
    # the sample depends on p only through a zero gradient (as torch's BernoulliBackward)
    y = p.bernoulli()
    assert y.requires_grad
    (y * tg.tensor(np.random.default_rng(0).uniform(size=probs.shape), dtype=dtype)).sum().backward()
    assert p.grad is not None and not p.grad.numpy().any()
    # with p: draws of that probability in the input's shape and dtype, no graph
    q = tg.bernoulli(p, 0.7)
    assert q.dtype == dtype and q.shape == p.shape and not q.requires_grad and abs(q.numpy().mean() - 0.7) < 0.02
    assert abs(p.bernoulli(p=0.1).numpy().mean() - 0.1) < 0.02


def test_bernoulli_class_factory_kept():
    b = tg.tensor.bernoulli(0.3, (N,))
    assert b.shape == (N,) and b.requires_grad and b.dtype == tg.float32 and abs(b.numpy().mean() - 0.3) < 0.015
    c = tg.Tensor.bernoulli(0.5, (2, 3), dtype=tg.float64, requires_grad=False)
    assert c.dtype == tg.float64 and not c.requires_grad
    # the module-level factory form: a number (or a shape / size=) says which form
    d = tg.bernoulli(0.2, (N,))
    assert d.shape == (N,) and abs(d.numpy().mean() - 0.2) < 0.015
    e = tg.bernoulli(tg.tensor([0.0, 1.0], requires_grad=False), size=(4, 2))
    assert e.shape == (4, 2) and (e.numpy() == [0, 1]).all()
    f = tg.bernoulli(0.5, (N,), generator=_gen(1), dtype=tg.float64)
    assert f.dtype == tg.float64 and abs(f.numpy().mean() - 0.5) < 0.015


def test_multinomial_with_replacement():
    w = tg.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 2.0]], requires_grad=False)
    s = tg.multinomial(w, N, replacement=True)
    assert s.shape == (2, N) and s.dtype == tg.int64
    freq = np.bincount(s.numpy()[0], minlength=4) / N
    np.testing.assert_allclose(freq, [0.125, 0.0, 0.375, 0.5], atol=0.015)
    assert freq[1] == 0 and (s.numpy()[1] == 3).all()
    one = w[0].multinomial(5, True)
    assert one.shape == (5,) and one.dtype == tg.int64


def test_multinomial_without_replacement():
    w = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    draws = np.stack([tg.multinomial(tg.tensor(w, requires_grad=False), 3).numpy() for _ in range(2000)])
    assert all(len(set(r)) == 3 for r in draws) and not (draws == 4).any()
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=5) / 2000, w / w.sum(), atol=0.035)
    # the second draw follows the renormalised weights: P(second = 0) = sum_j p_j * p_0 / (1 - p_j)
    p = w / w.sum()
    second0 = sum(p[j] * p[0] / (1 - p[j]) for j in range(1, 4))
    assert abs((draws[:, 1] == 0).mean() - second0) < 0.03
    full = tg.multinomial(tg.tensor(np.ones((3, 6)), requires_grad=False), 6).numpy()
    assert all(sorted(r) == list(range(6)) for r in full)
    # fewer positive weights than samples: torch then returns zero-weight categories too
    z = tg.multinomial(tg.tensor([1.0, 0.0, 0.0], requires_grad=False), 2).numpy()
    assert z[0] == 0 and z[1] in (1, 2)
    assert tg.multinomial(tg.ones(0, 3), 2).shape == (0, 2)


def _torch_error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e)
    raise AssertionError('torch did not raise')


ERRORS = [
    ('multinomial(w, 3)', lambda L: L.multinomial(L.tensor([1.0, 2.0]), 3), 'without replacement'),
    ('negative', lambda L: L.multinomial(L.tensor([1.0, -2.0]), 1), 'element < 0'),
    ('nan', lambda L: L.multinomial(L.tensor([1.0, float('nan')]), 1), 'nan'),
    ('inf', lambda L: L.multinomial(L.tensor([1.0, float('inf')]), 1, True), 'inf'),
    ('zero sum', lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1), 'sum of probabilities'),
    ('zero samples', lambda L: L.multinomial(L.tensor([1.0, 1.0]), 0), 'n_sample <= 0'),
    ('0-d', lambda L: L.multinomial(L.tensor(1.0), 1), '1 or 2 dim'),
    ('3-d', lambda L: L.multinomial(L.ones(2, 2, 2), 1), '1 or 2 dim'),
    ('int weights', lambda L: L.multinomial(L.tensor([1, 2]), 1), 'floating'),
    ('float count', lambda L: L.multinomial(L.tensor([1.0, 2.0]), 1.0), 'num_samples'),
    ('bernoulli p>1', lambda L: L.bernoulli(L.tensor([0.2, 1.5])), r'\[0, 1\]'),
    ('bernoulli int', lambda L: L.bernoulli(L.tensor([1, 0])), 'dtype'),
    ('bernoulli_ p', lambda L: L.zeros(2).bernoulli_(p=1.3), r'p to be in \[0, 1\]'),
    ('bernoulli_ shape', lambda L: L.zeros(2).bernoulli_(L.tensor([0.5, 0.5, 0.3])), 'broadcast'),
    ('uniform_ int', lambda L: L.zeros(2, dtype=L.int64).uniform_(), 'int64'),
    ('uniform_ range', lambda L: L.zeros(2).uniform_(2, 1), r'from=2 > to=1'),
    ('normal_ std', lambda L: L.zeros(2).normal_(0, -1), 'std >= 0.0'),
    ('normal_ int', lambda L: L.zeros(2, dtype=L.int64).normal_(), 'int64'),
    ('exponential_ 0', lambda L: L.zeros(2).exponential_(0), 'lambda > 0.0'),
    ('exponential_ int', lambda L: L.zeros(2, dtype=L.int64).exponential_(), 'floating point'),
    ('geometric_ 1', lambda L: L.zeros(2).geometric_(1), r'p to be in \(0, 1\)'),
    ('random_ range', lambda L: L.zeros(2).random_(5, 3), "'from' to be less than 'to'"),
    ('random_ empty', lambda L: L.zeros(2).random_(3, 3), "'from' to be less than 'to'"),
    ('random_ uint8 from', lambda L: L.zeros(2, dtype=L.uint8).random_(-1, 10), 'from=-1 is out of bounds'),
    ('random_ uint8 to', lambda L: L.zeros(2, dtype=L.uint8).random_(0, 300), 'out of bounds'),
]


@pytest.mark.parametrize('name,fn,match', ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_as_torch(name, fn, match):
    expected = _torch_error(lambda: fn(torch))
    with pytest.raises(expected, match=match):
        fn(tg)


def test_failed_fill_leaves_tensor_unchanged():
    t = tg.ones(3)
    v = t._version
    for bad in (lambda: t.uniform_(2, 1), lambda: t.normal_(0, -1), lambda: t.bernoulli_(2.0),
                lambda: t.random_(4, 1), lambda: t.exponential_(-1)):
        with pytest.raises(RuntimeError):
            bad()
    assert (t.numpy() == 1).all() and t._version == v


def test_manual_seed_and_generators():
    def draws():
        return np.concatenate([tg.zeros(4).normal_().numpy(), tg.zeros(4).uniform_().numpy(),
                               tg.multinomial(tg.ones(6), 3).numpy(), tg.bernoulli(tg.full((4,), 0.5)).numpy(),
                               tg.zeros(4).random_(100).numpy(), tg.zeros(4).exponential_().numpy()])
    tg.manual_seed(123)
    a = draws()
    tg.manual_seed(123)
    b = draws()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, draws())
    # a generator gives its own reproducible stream and leaves the global one alone
    tg.manual_seed(7)
    ref = tg.zeros(5).normal_().numpy()
    tg.manual_seed(7)
    g1, g2 = _gen(42), _gen(42)
    x = tg.zeros(5).normal_(generator=g1).numpy()
    np.testing.assert_array_equal(x, tg.zeros(5).normal_(generator=g2).numpy())
    np.testing.assert_array_equal(tg.zeros(5).normal_().numpy(), ref)
    for call in (lambda g: tg.multinomial(tg.ones(5), 5, generator=g), lambda g: tg.zeros(6).bernoulli_(generator=g),
                 lambda g: tg.zeros(6).random_(10, generator=g), lambda g: tg.zeros(6).uniform_(generator=g),
                 lambda g: tg.bernoulli(tg.full((6,), 0.5), generator=g)):
        np.testing.assert_array_equal(call(_gen(3)).numpy(), call(_gen(3)).numpy())
    with pytest.raises(TypeError, match='generator'):
        tg.zeros(2).normal_(generator=torch.Generator())


def test_fills_and_autograd():
    """PyTorch: a fill of a leaf that requires grad raises; of a non-leaf it records a zero gradient;
    ``.data`` (and no_grad) bypass the graph, as ``m.weight.data.normal_(0, 0.02)`` does."""
    w = tg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf'):
        w.normal_()
    w.data.normal_(0, 0.02)
    assert w.requires_grad and w.grad_fn is None and not (w.numpy() == 1).all() and abs(w.numpy()).max() < 0.2
    with tg.no_grad():
        w.uniform_(-1, 1)
    for fill in ('normal_', 'uniform_', 'bernoulli_', 'random_', 'exponential_'):
        a = tg.tensor([1.0, 5.0], requires_grad=True)
        y = a * 2
        getattr(y, fill)()
        assert y.requires_grad and y.grad_fn is not None
        (y * tg.tensor([2.0, 3.0])).sum().backward()
        assert (a.grad.numpy() == 0).all()
    # on a view of a non-leaf: the base sees the new values
    a = tg.tensor(np.ones((2, 4), np.float32), requires_grad=True)
    y = a * 1
    y[:, 1].uniform_(5, 6)
    assert (y.numpy()[:, 1] >= 5).all() and (y.numpy()[:, 0] == 1).all()
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[1, 0, 1, 1], [1, 0, 1, 1]])


def test_exported_and_documented():
    for name in ('multinomial', 'bernoulli', 'bernoulli_', 'uniform_', 'normal_', 'exponential_', 'geometric_',
                 'log_normal_', 'cauchy_', 'random_'):
        assert getattr(tg.Tensor, name).__doc__
    assert tg.multinomial.__doc__ and tg.bernoulli.__doc__
    assert isinstance(vars(tg.Tensor)['bernoulli'], classmethod)  # DOCS.md still lists the classmethod
