"""The compiled optimiser updates (tensorgrad/ops/kernels/optim.py) against
torch.optim and against the NumPy helpers they replace: SGD, Adam / AdamW,
RMSprop and Adagrad variants over several steps, float32 / float64, C- and
F-ordered, strided, 0-d and size-0 parameters, sizes that take the parallel
build, state dict round trips across the backends, and which inputs go back
to NumPy. Every test taking ``backend`` runs under NumPy, numba and numba's
parallel builds."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import optim
from tensorgrad.ops import kernels
from tensorgrad.optim import adagrad as adagrad_mod
from tensorgrad.optim import adam as adam_mod
from tensorgrad.optim import rmsprop as rmsprop_mod
from tensorgrad.optim import sgd as sgd_mod

STEPS = 6
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}
# NumPy helper vs kernel: the same formulas in the same dtype, rounded differently (FMA, reciprocal;
# atol: a few roundings of O(1) terms where a momentum buffer cancels to ~0; rtol: centered RMSprop's
# sqrt(square_avg - grad_avg ** 2) amplifies them)
PARITY = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}
BACKENDS = ('numpy', 'numba', 'numba-parallel') if kernels.available() else ('numpy',)

CASES = [
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9)),
    ('SGD', dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ('SGD', dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ('SGD', dict(lr=0.05, weight_decay=0.2, maximize=True)),
    ('SGD', dict(lr=0.05, momentum=0.7, dampening=0.1, weight_decay=0.05, maximize=True)),
    ('Adam', dict()),
    ('Adam', dict(lr=0.01, betas=(0.3, 0.99), eps=1e-6)),  # beta1 < 0.5: lerp's other form
    ('Adam', dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ('Adam', dict(lr=0.01, amsgrad=True)),
    ('AdamW', dict(lr=0.01, weight_decay=0.3)),
    ('AdamW', dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ('RMSprop', dict()),
    ('RMSprop', dict(lr=0.01, alpha=0.3, eps=1e-6, momentum=0.9)),  # alpha < 0.5: lerp's other form
    ('RMSprop', dict(lr=0.01, centered=True, weight_decay=0.1)),
    ('RMSprop', dict(lr=0.01, alpha=0.4, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ('Adagrad', dict()),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ('Adagrad', dict(lr=0.1, maximize=True)),
]


def _ids(case):
    return case[0] + '-' + ','.join(f'{k}={v}' for k, v in case[1].items())


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """The kernel backend of this test; 'numba-parallel' runs the parallel builds at every size."""
    name = request.param
    if name == 'numba-parallel':
        import tensorgrad.ops._parallel as pool
        from tensorgrad.ops.kernels import _jit
        from tensorgrad.ops.kernels import optim as kopt
        monkeypatch.setattr(pool, '_NTHREADS', 2)
        monkeypatch.setattr(_jit, '_PARALLEL_OK', True)
        for k in vars(kopt).values():
            if isinstance(k, _jit.Kernel):
                monkeypatch.setattr(k, 'parallel_min', 0)
        name = 'numba'
    prev = kernels.set_backend(name)
    yield request.param
    kernels.set_backend(prev)


def _arrays(dtype, rng):
    """Parameters of every layout: C-ordered, F-ordered (a transpose), strided (a slice),
    0-d, size-0, and one long enough for the kernels' size thresholds."""
    return [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype).T,
            rng.standard_normal((4, 6)).astype(dtype)[:, ::2], np.asarray(rng.standard_normal(), dtype),
            np.zeros((0, 3), dtype), rng.standard_normal(5000).astype(dtype)]


def _grads(arrays, rng, layouts=False):
    """Per-step gradients; with ``layouts`` some of another layout than their parameter."""
    out = []
    for i, a in enumerate(arrays):
        g = rng.standard_normal(a.shape).astype(a.dtype)
        if layouts and i == 0:
            g = np.asfortranarray(g)
        elif layouts and i == 1:
            g = np.ascontiguousarray(g)
        out.append(g)
    return out


def _copy(a):
    """A copy of ``a`` with its layout: C, F, or (2-D) every other column of a wider array."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return a.copy(order='K')
    out = np.empty((a.shape[0], a.shape[1] * 2), a.dtype)[:, ::2]
    out[...] = a
    return out


def _steps(opt, ps, grads):
    for step in grads:
        for p, g in zip(ps, step):
            p.grad = tg.Tensor._wrap(_copy(g))
        opt.step()


def _run(name, kwargs, arrays, grads, backend=None, state=None):
    """Parameters copied from ``arrays`` (tensors keep their arrays' layouts), stepped
    with ``grads`` on ``backend`` (None: the current one), from ``state`` if given."""
    prev = kernels.set_backend(backend) if backend else None
    try:
        ps = [tg.Tensor(_copy(a), requires_grad=True) for a in arrays]
        opt = getattr(optim, name)(ps, **kwargs)
        if state is not None:
            opt.load_state_dict(state)
        _steps(opt, ps, grads)
        return ps, opt
    finally:
        if prev:
            kernels.set_backend(prev)


def _run_torch(name, kwargs, arrays, grads):
    """torch.optim's parameters and optimizer after the same steps."""
    tps = [torch.tensor(np.array(a), requires_grad=True) for a in arrays]
    topt = getattr(torch.optim, name)(tps, **kwargs)
    for step in grads:
        for tp, g in zip(tps, step):
            tp.grad = torch.tensor(g)
        topt.step()
    return tps, topt


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('case', CASES, ids=_ids)
def test_matches_torch(case, dtype, backend):
    name, kwargs = case
    rng = np.random.default_rng(3)
    arrays = _arrays(dtype, rng)
    grads = [_grads(arrays, rng) for _ in range(STEPS)]
    ps, opt = _run(name, kwargs, arrays, grads)
    tps, topt = _run_torch(name, kwargs, arrays, grads)
    for p, tp, a in zip(ps, tps, arrays):
        np.testing.assert_allclose(p._data, tp.detach().numpy(), **TOL[dtype])
        assert p._data.dtype == dtype and p._data.strides == a.strides
        assert set(opt.state[p]) == set(topt.state[tp])
        for key, v in opt.state[p].items():
            if isinstance(v, np.ndarray):
                assert v.dtype == dtype and v.shape == a.shape
                np.testing.assert_allclose(v, topt.state[tp][key].numpy(), **TOL[dtype])


@pytest.mark.skipif(not kernels.available(), reason='numba is not installed')
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('case', CASES, ids=_ids)
def test_kernels_match_numpy_helpers(case, dtype):
    """Both backends from the same start, with gradients of other layouts than their parameters."""
    name, kwargs = case
    rng = np.random.default_rng(5)
    arrays = _arrays(dtype, rng)
    grads = [_grads(arrays, rng, layouts=True) for _ in range(STEPS)]
    ours, opt = _run(name, kwargs, arrays, grads, 'numba')
    theirs, topt = _run(name, kwargs, arrays, grads, 'numpy')
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p._data, q._data, **PARITY[dtype])
        for key, v in opt.state[p].items():
            if isinstance(v, np.ndarray):
                np.testing.assert_allclose(v, topt.state[q][key], **PARITY[dtype])


@pytest.mark.parametrize('case', [CASES[i] for i in (1, 3, 9, 11, 15, 17)], ids=_ids)
def test_one_pass_bookkeeping(case, backend):
    """Gradients are never written to, the version counter moves once per step, and the
    first SGD momentum buffer is the (decayed) gradient itself, in its own array."""
    name, kwargs = case
    rng = np.random.default_rng(1)
    p = tg.Tensor(rng.standard_normal((70, 80)).astype(np.float32), requires_grad=True)
    start = p._data.copy()
    g = rng.standard_normal((70, 80)).astype(np.float32)
    p.grad = tg.Tensor._wrap(g)
    opt = getattr(optim, name)([p], **kwargs)
    v0 = p._vc[0]
    opt.step()
    opt.step()
    assert p._vc[0] == v0 + 2
    np.testing.assert_array_equal(p.grad._data, g)
    assert p.grad._data is g
    if name == 'SGD':
        ref = sgd_mod.decayed_grad(start, g, kwargs.get('weight_decay', 0.0), kwargs.get('maximize', False))
        fresh = tg.Tensor(start.copy(), requires_grad=True)
        fresh.grad = tg.Tensor._wrap(g)
        o = optim.SGD([fresh], **kwargs)
        o.step()
        buf = o.state[fresh]['momentum_buffer']
        assert buf is not g
        np.testing.assert_allclose(buf, ref, rtol=1e-6, atol=1e-7)  # p * wd + g: one FMA in the kernel


def test_large_parameters_take_parallel_build(backend):
    """Sizes past every threshold, 1-D and F-ordered, a few steps, against torch."""
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal(300_001).astype(np.float32),
              np.asfortranarray(rng.standard_normal((300, 700)).astype(np.float32))]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in arrays] for _ in range(3)]
    for name, kwargs in (('SGD', dict(lr=0.1)), ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True)),
                         ('AdamW', dict(lr=0.01, amsgrad=True)), ('RMSprop', dict(centered=True, momentum=0.5)),
                         ('Adagrad', dict(lr_decay=0.1))):
        ps, _ = _run(name, kwargs, arrays, grads)
        tps, _ = _run_torch(name, kwargs, arrays, grads)
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p._data, tp.detach().numpy(), **TOL[np.float32])


@pytest.mark.parametrize('case', [CASES[i] for i in (2, 3, 9, 11, 15, 17)], ids=_ids)
def test_state_dict_round_trip_across_backends(case, tmp_path):
    """Five steps on one backend, saved, loaded into a fresh optimiser on the other,
    five more: the same parameters as ten uninterrupted steps."""
    name, kwargs = case
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((30, 20)).astype(np.float32), rng.standard_normal(6000).astype(np.float32)]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in arrays] for _ in range(10)]
    ref, _ = _run(name, kwargs, arrays, grads, 'numpy')
    for first, then in (('numba', 'numpy'), ('numpy', 'numba')) if kernels.available() else (('numpy', 'numpy'),):
        half, opt = _run(name, kwargs, arrays, grads[:5], first)
        tg.save(opt.state_dict(), tmp_path / 'opt.tgc')
        resumed, _ = _run(name, kwargs, [p._data for p in half], grads[5:], then, tg.load(tmp_path / 'opt.tgc'))
        for p, q in zip(ref, resumed):
            np.testing.assert_allclose(q._data, p._data, **PARITY[np.float32])


def test_special_values(backend):
    """inf / NaN gradients and parameters: the same NaN / inf pattern as torch."""
    g = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0, -2.0], np.float32)
    p0 = np.array([1.0, 2.0, 3.0, np.inf, np.nan, 0.0], np.float32)
    for name, kwargs in (('SGD', dict(lr=0.1, momentum=0.9, weight_decay=0.1)), ('SGD', dict(lr=0.1)),
                         ('Adam', dict(lr=0.1, amsgrad=True, weight_decay=0.1)), ('AdamW', dict(lr=0.1)),
                         ('RMSprop', dict(centered=True, momentum=0.9)), ('Adagrad', dict(weight_decay=0.1))):
        p = tg.Tensor(p0.copy(), requires_grad=True)
        tp = torch.tensor(p0.copy(), requires_grad=True)
        opt, topt = getattr(optim, name)([p], **kwargs), getattr(torch.optim, name)([tp], **kwargs)
        for _ in range(2):
            p.grad, tp.grad = tg.Tensor._wrap(g.copy()), torch.tensor(g)
            with np.errstate(invalid='ignore'):  # the NumPy helpers' inf - inf
                opt.step()
            topt.step()
        np.testing.assert_allclose(p._data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not kernels.available(), reason='numba is not installed')
def test_what_goes_back_to_numpy():
    """The compiled wrappers hand float16, mixed dtypes, strided or size-0 parameters and
    state of another layout to the NumPy helpers; C- and F-ordered float32 / float64
    parameters (with gradients of any layout) are theirs."""
    from tensorgrad.ops.kernels import optim as kopt
    calls = []

    def spy(*args):
        calls.append(args)

    sgd = kopt.sgd_update(spy)
    adam = kopt.adam_update(spy)

    def sgd_falls_back(data, g, buf=None, momentum=0.9):
        calls.clear()
        sgd(data, g, buf, 0.1, momentum, 0.0, 0.0, False, False)
        return bool(calls)

    def adam_falls_back(data, g, m, v, vmax=None):
        calls.clear()
        adam(data, g, m, v, vmax, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False)
        return bool(calls)

    f32 = np.ones((8, 8), np.float32)
    z = np.zeros_like
    assert not sgd_falls_back(f32.copy(), f32)
    assert not sgd_falls_back(f32.copy(), f32.T.copy().T)  # gradient of another layout: copied
    assert not sgd_falls_back(np.asfortranarray(f32), f32, np.asfortranarray(z(f32)))
    assert not sgd_falls_back(np.ones(5000, np.float64), np.ones(5000))
    assert not sgd_falls_back(np.ones(5000, np.float32), np.ones(5000, np.float32), momentum=0.0)
    assert sgd_falls_back(np.ones(100, np.float32), np.ones(100, np.float32), momentum=0.0)  # plain, small
    assert sgd_falls_back(f32.astype(np.float16), f32.astype(np.float16))
    assert sgd_falls_back(f32.copy(), f32.astype(np.float64))
    assert sgd_falls_back(np.ones((8, 16), np.float32)[:, ::2], f32)
    assert sgd_falls_back(f32.copy(), f32, np.asfortranarray(z(f32)))
    assert sgd_falls_back(f32.copy(), f32, z(f32, dtype=np.float64))
    assert sgd_falls_back(np.ones((0, 4), np.float32), np.ones((0, 4), np.float32))
    assert sgd_falls_back(f32.astype('>f4'), f32.astype('>f4'))

    assert not adam_falls_back(f32.copy(), f32, z(f32), z(f32))
    assert not adam_falls_back(f32.copy(), f32, z(f32), z(f32), z(f32))
    assert not adam_falls_back(np.asarray(1.0), np.asarray(2.0), np.asarray(0.0), np.asarray(0.0))
    assert adam_falls_back(f32.copy(), f32, z(f32), z(f32), np.asfortranarray(z(f32)))
    assert adam_falls_back(f32.copy(), f32, z(f32, dtype=np.float64), z(f32))
    assert adam_falls_back(f32.astype(np.float16), f32.astype(np.float16), z(f32, np.float16), z(f32, np.float16))
    f_order = np.asfortranarray(np.ones((4, 8), np.float32))
    assert not adam_falls_back(f_order.copy(order='K'), f32[:4], z(f_order), z(f_order))
    assert adam_falls_back(f_order, f32[:4], np.zeros((4, 8), np.float32), np.zeros((4, 8), np.float32))

    rmsprop, adagrad = kopt.rmsprop_update(spy), kopt.adagrad_update(spy)
    for ga, buf, falls in ((None, None, False), (z(f32), z(f32), False), (z(f32, np.float64), None, True),
                           (None, np.asfortranarray(z(f32)), True)):
        calls.clear()
        rmsprop(f32.copy(), f32, z(f32), ga, buf, 0.01, 0.99, 1e-8, 0.0, 0.9 if buf is not None else 0.0, False)
        assert bool(calls) == falls
    for data, acc, falls in ((f32.copy(), z(f32), False), (f32.copy(), z(f32, np.float64), True),
                             (np.ones((8, 16), np.float32)[:, ::2], z(f32), True)):
        calls.clear()
        adagrad(data, f32, acc, 0.01, 1e-10, 0.0, False)
        assert bool(calls) == falls


@pytest.mark.skipif(not kernels.available(), reason='numba is not installed')
def test_backend_switch_swaps_the_helpers():
    """set_backend puts the compiled wrappers in place of the NumPy helpers and back."""
    helpers = [(sgd_mod, '_sgd_update'), (adam_mod, '_adam_update'), (rmsprop_mod, '_rmsprop_update'),
               (adagrad_mod, '_adagrad_update')]
    prev = kernels.set_backend('numpy')
    try:
        numpy_fns = [getattr(m, name) for m, name in helpers]
        kernels.set_backend('numba')
        assert all(getattr(m, name) is not f for (m, name), f in zip(helpers, numpy_fns))
        kernels.set_backend('numpy')
        assert [getattr(m, name) for m, name in helpers] == numpy_fns
    finally:
        kernels.set_backend(prev)


def test_half_precision_goes_through_numpy(backend):
    """float16 parameters take the NumPy helpers: the very same steps under every backend."""
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((40, 130)).astype(np.float16)]
    grads = [[rng.standard_normal((40, 130)).astype(np.float16)] for _ in range(3)]
    for name, kwargs in (('SGD', dict(lr=0.1, momentum=0.9)), ('Adam', dict(lr=0.01, eps=1e-3)),  # 1e-8 is 0
                         ('RMSprop', dict(eps=1e-3)), ('Adagrad', dict(eps=1e-3))):
        ps, _ = _run(name, kwargs, arrays, grads)
        ref, _ = _run(name, kwargs, arrays, grads, 'numpy')
        np.testing.assert_array_equal(ps[0]._data, ref[0]._data)
