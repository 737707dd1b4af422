"""The compiled recurrent-layer steps (tensorgrad/ops/kernels/rnn.py) against the
NumPy ones and PyTorch: outputs, final states and the gradients of the input,
h_0, c_0 and every weight (non-uniform upstream gradients on the output and the
final states), for LSTM (also with proj_size), GRU and tanh / relu RNN, float32
and float64, batch_first, bidirectional, stacked, sequence length 1, batch 1,
batch 0, no bias, non-contiguous inputs and states, hidden sizes around the vector
widths; the parallel builds; a forward under one backend and its backward under
the other; the exp helpers; the hand-back of inputs the kernels do not cover.
Skipped without numba."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.backends import kernels as kb
from tensorgrad.nn.rnn import GRU, LSTM, RNN
from tensorgrad.ops import _parallel, rnn_kernels

pytestmark = [pytest.mark.skipif(not kb.available(), reason='numba is not installed'),
              pytest.mark.filterwarnings('ignore:LSTM with projections:UserWarning')]

KINDS = {
    'lstm': (LSTM, torch.nn.LSTM, {}),
    'gru': (GRU, torch.nn.GRU, {}),
    'rnn_tanh': (RNN, torch.nn.RNN, {}),
    'rnn_relu': (RNN, torch.nn.RNN, {'nonlinearity': 'relu'}),
}
TORCH_TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
# numba against NumPy: exp32 / exp64 and tanh from exp against NumPy's exp and tanh
PARITY_TOL = {np.float32: dict(rtol=1e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}

# name: (module kwargs, T, B, initial states given, how the input / states are laid out)
CONFIGS = {
    'plain': (dict(input_size=4, hidden_size=6), 5, 3, False, None),
    'states_batch_first_2_layers': (dict(input_size=4, hidden_size=6, num_layers=2, batch_first=True), 5, 3,
                                    True, None),
    'bidirectional_2_layers': (dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True,
                                    batch_first=True), 4, 2, True, None),
    'seq_len_1': (dict(input_size=3, hidden_size=5), 1, 3, True, None),
    'batch_1': (dict(input_size=3, hidden_size=5, bidirectional=True), 6, 1, True, None),
    'no_bias': (dict(input_size=3, hidden_size=5, bias=False), 4, 2, True, None),
    'noncontiguous_input': (dict(input_size=3, hidden_size=7), 5, 4, False, 'input'),
    'noncontiguous_states': (dict(input_size=3, hidden_size=7, num_layers=2), 5, 4, True, 'states'),
    'noncontiguous_grads': (dict(input_size=3, hidden_size=7, bidirectional=True), 5, 4, True, 'grads'),
    'vector_widths': (dict(input_size=9, hidden_size=37, batch_first=True), 7, 5, True, None),
    'h64': (dict(input_size=16, hidden_size=64, bidirectional=True), 6, 9, True, None),
    'proj': (dict(input_size=4, hidden_size=6, proj_size=3), 5, 3, True, None),
    'proj_bidirectional_2_layers': (dict(input_size=4, hidden_size=7, proj_size=5, num_layers=2,
                                         bidirectional=True, batch_first=True), 4, 2, True, None),
    'proj_no_state_seq_len_1': (dict(input_size=4, hidden_size=6, proj_size=2), 1, 2, False, None),
    'empty_batch': (dict(input_size=3, hidden_size=4, bidirectional=True), 3, 0, True, None),
    'proj_empty_batch': (dict(input_size=3, hidden_size=4, proj_size=2, batch_first=True), 3, 0, True, None),
}


def _pair(kind, dtype, kw):
    tg_cls, torch_cls, extra = KINDS[kind]
    torch.manual_seed(0)
    tm = torch_cls(**kw, **extra)
    m = tg_cls(**kw, **extra).init_from_torch(tm)
    if dtype == np.float64:
        m.double()
        tm.double()
    return m, tm


def _arrays(kind, dtype, kw, T, B, with_state, layout, seed):
    """Input, initial states and upstream gradients (output, h_n[, c_n]) as arrays; with
    ``layout`` 'input' / 'states' / 'grads' those arrays are non-contiguous views."""
    rng = np.random.default_rng(seed)
    I, H, P = kw['input_size'], kw['hidden_size'], kw.get('proj_size', 0)
    D = 2 if kw.get('bidirectional') else 1
    L = kw.get('num_layers', 1)
    x_shape = (B, T, I) if kw.get('batch_first') else (T, B, I)
    if layout == 'input':  # every other column of a wider array, then the two leading axes swapped
        x = rng.standard_normal((x_shape[1], x_shape[0], 2 * I)).astype(dtype)[:, :, ::2].transpose(1, 0, 2)
    else:
        x = rng.standard_normal(x_shape).astype(dtype)
    shapes = [(L * D, B, P or H)] + ([(L * D, B, H)] if kind == 'lstm' else [])
    if not with_state:
        states = []
    elif layout == 'states':  # batch-major storage seen as (L * D, B, H)
        states = [rng.standard_normal((s[1], s[0], s[2])).astype(dtype).transpose(1, 0, 2) for s in shapes]
    else:
        states = [rng.standard_normal(s).astype(dtype) for s in shapes]
    out_shape = x_shape[:2] + (D * (P or H),)
    ups = [rng.uniform(-1.5, 1.5, s).astype(dtype) for s in [out_shape] + shapes]
    if layout == 'grads':  # the same values, stored with the last two axes swapped
        ups = [np.ascontiguousarray(u.swapaxes(1, 2)).swapaxes(1, 2) for u in ups]
    return x, states, ups


def _run_tg(m, kind, arrays, forward_backend, backward_backend=None):
    """Forward under ``forward_backend``, backward under ``backward_backend`` (default:
    the same); returns {name: array} of outputs and gradients."""
    x, states, ups = arrays
    prev = kb.set_backend(forward_backend)
    try:
        for p in m.parameters():
            p.grad = None
        xg = tg.tensor(x, requires_grad=True)
        sg = [tg.tensor(s, requires_grad=True) for s in states]
        if kind == 'lstm':
            out, (h, c) = m(xg, tuple(sg) if sg else None)
            outs = [out, h, c]
        else:
            out, h = m(xg, sg[0] if sg else None)
            outs = [out, h]
        kb.set_backend(backward_backend or forward_backend)
        tg.autograd.backward(outs, [tg.tensor(u) for u in ups[:len(outs)]])
    finally:
        kb.set_backend(prev)
    res = {f'out{i}': o.numpy() for i, o in enumerate(outs)}
    res['grad input'] = xg.grad.numpy()
    res.update({f'grad state {i}': s.grad.numpy() for i, s in enumerate(sg)})
    res.update({f'grad {n}': p.grad.numpy() for n, p in m.named_parameters()})
    return res


def _run_torch(tm, kind, arrays):
    x, states, ups = arrays
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    if kind == 'lstm':
        out, (h, c) = tm(xt, tuple(st) if st else None)
        outs = [out, h, c]
    else:
        out, h = tm(xt, st[0] if st else None)
        outs = [out, h]
    torch.autograd.backward(outs, [torch.tensor(u) for u in ups[:len(outs)]])
    res = {f'out{i}': o.detach().numpy() for i, o in enumerate(outs)}
    res['grad input'] = xt.grad.numpy()
    res.update({f'grad state {i}': s.grad.numpy() for i, s in enumerate(st)})
    res.update({f'grad {n}': p.grad.numpy() for n, p in tm.named_parameters()})
    return res


def _assert_same(a, b, tol, what):
    assert a.keys() == b.keys(), what
    for k in a:
        assert a[k].shape == b[k].shape, f'{what}: {k}'
        assert a[k].dtype == b[k].dtype, f'{what}: {k}'
        np.testing.assert_allclose(a[k], b[k], err_msg=f'{what}: {k}', **tol)


def _cases():
    for name in CONFIGS:
        for kind in KINDS:
            if kind != 'lstm' and name.startswith('proj'):
                continue
            yield kind, name


@pytest.fixture(params=['serial', 'parallel'])
def build(request, monkeypatch):
    """Which build of the step kernels runs: 'parallel' forces the prange builds
    (2 threads, every size)."""
    if request.param == 'parallel':
        from tensorgrad.ops.kernels import _jit, rnn
        if not _jit._PARALLEL_OK:
            pytest.skip('the parallel builds are disabled in this process (a foreign OpenMP runtime)')
        monkeypatch.setattr(_parallel, '_NTHREADS', 2)
        for k in vars(rnn).values():
            if isinstance(k, _jit.Kernel):
                monkeypatch.setattr(k, 'parallel_min', 0)
    return request.param


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['float32', 'float64'])
@pytest.mark.parametrize('kind,config', list(_cases()))
def test_numba_numpy_torch_agree(kind, config, dtype, build):
    kw, T, B, with_state, layout = CONFIGS[config]
    m, tm = _pair(kind, dtype, kw)
    arrays = _arrays(kind, dtype, kw, T, B, with_state, layout, seed=len(config) * 7 + T)
    ref = _run_torch(tm, kind, arrays)
    fast = _run_tg(m, kind, arrays, 'numba')
    slow = _run_tg(m, kind, arrays, 'numpy')
    _assert_same(fast, slow, PARITY_TOL[dtype], 'numba vs numpy')
    _assert_same(fast, ref, TORCH_TOL[dtype], 'numba vs torch')
    _assert_same(slow, ref, TORCH_TOL[dtype], 'numpy vs torch')


@pytest.mark.parametrize('kind', list(KINDS))
def test_sum_of_outputs_loss(kind):
    """loss = sum of the output and the final states: upstream gradients that are
    broadcast (read-only, zero-strided) views."""
    kw = dict(input_size=3, hidden_size=5, num_layers=2, batch_first=True)
    m, _ = _pair(kind, np.float32, kw)
    x = np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32)
    res = []
    for backend in ('numba', 'numpy'):
        prev = kb.set_backend(backend)
        try:
            for p in m.parameters():
                p.grad = None
            xg = tg.tensor(x, requires_grad=True)
            out, state = m(xg)
            loss = out.sum() + sum(s.sum() for s in (state if kind == 'lstm' else (state,)))
            loss.backward()
            res.append([xg.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
        finally:
            kb.set_backend(prev)
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, **PARITY_TOL[np.float32])


def test_compiled_path_runs():
    """Under numba the hooked sequence loops are the compiled ones (so the parity test
    compares two implementations), under numpy the NumPy ones."""
    names = ('_lstm_fwd', '_gru_fwd', '_lstm_bwd', '_gru_bwd', '_rnn_bwd')
    prev = kb.set_backend('numba')
    try:
        for kind in ('lstm', 'gru', 'rnn_tanh'):
            m, _ = _pair(kind, np.float32, dict(input_size=2, hidden_size=3))
            m(tg.tensor(np.ones((2, 1, 2), np.float32), requires_grad=True))[0].sum().backward()
        assert all(getattr(rnn_kernels, n).__module__ == 'tensorgrad.ops.kernels.rnn' for n in names)
        kb.set_backend('numpy')
        assert all(getattr(rnn_kernels, n).__module__ == 'tensorgrad.ops.rnn_kernels' for n in names)
    finally:
        kb.set_backend(prev)


@pytest.mark.parametrize('kind,config', [('lstm', 'bidirectional_2_layers'), ('lstm', 'proj'),
                                         ('gru', 'states_batch_first_2_layers'), ('rnn_tanh', 'batch_1'),
                                         ('rnn_relu', 'plain')])
@pytest.mark.parametrize('order', [('numba', 'numpy'), ('numpy', 'numba')], ids=['numba_fwd', 'numpy_fwd'])
def test_backends_mixed_between_forward_and_backward(kind, config, order):
    """Both backends save the same buffers: a backward under the other backend agrees."""
    kw, T, B, with_state, layout = CONFIGS[config]
    m, _ = _pair(kind, np.float32, kw)
    arrays = _arrays(kind, np.float32, kw, T, B, with_state, layout, seed=3)
    _assert_same(_run_tg(m, kind, arrays, *order), _run_tg(m, kind, arrays, 'numpy'),
                 PARITY_TOL[np.float32], 'mixed vs numpy')


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['float32', 'float64'])
@pytest.mark.parametrize('kind', list(KINDS))
def test_saturated_gates(kind, dtype):
    """Pre-activations of +-1e3 (exp over- and underflow) give the exact 0 / 1 / +-1 limits:
    finite, and as PyTorch, forward and gradients."""
    kw = dict(input_size=2, hidden_size=3)
    m, tm = _pair(kind, dtype, kw)
    x = np.array([[[1e3, -1e3]], [[-1e3, 1e3]], [[3e2, 1e2]]], dtype=dtype)
    ups = [np.linspace(-1, 1, 9, dtype=dtype).reshape(3, 1, 3)] + [np.ones((1, 1, 3), dtype)] * 2
    fast = _run_tg(m, kind, (x, [], ups), 'numba')
    assert all(np.isfinite(v).all() for v in fast.values())
    _assert_same(fast, _run_torch(tm, kind, (x, [], ups)), TORCH_TOL[dtype], 'numba vs torch')


def test_exp_helpers():
    """The vectorised exp of the float32 and float64 steps against NumPy's, over the
    whole range and at its ends; NaN and inf."""
    import numba
    from tensorgrad.ops.kernels.rnn import _exp

    @numba.njit
    def exp_all(a, out):
        for j in range(a.shape[0]):
            out[j] = _exp(a[j])

    for dt, lo, hi, rel in ((np.float32, -87.3, 88.7, 4e-7), (np.float64, -708.3, 709.0, 3e-14)):
        x = np.concatenate([np.linspace(lo, hi, 200_001), np.random.default_rng(0).standard_normal(10_000) * 5])
        x = x.astype(dt)
        out = np.empty_like(x)
        exp_all(x, out)
        ref = np.exp(x.astype(np.float64))
        np.testing.assert_allclose(out, ref, rtol=rel, atol=0)
        small = np.abs(x) < 30
        np.testing.assert_allclose(out[small], ref[small], rtol=2e-15 if dt == np.float64 else rel, atol=0)
        special = np.array([np.nan, np.inf, -np.inf, 1e4, -1e4, 0.0], dtype=dt)
        out = np.empty_like(special)
        exp_all(special, out)
        assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0 and out[3] == np.inf and out[4] == 0
        assert out[5] == 1


def test_uncovered_inputs_go_to_numpy():
    """Other dtypes, or arrays of mixed dtypes, are handed to the NumPy function unchanged."""
    from tensorgrad.ops.kernels import rnn

    calls = []

    def numpy_fn(*args):
        calls.append(args)
        return 'numpy'

    f16 = np.ones((2, 1, 4), np.float16)
    s16 = np.ones((1, 4), np.float16)
    w16 = np.ones((16, 4), np.float16)
    assert rnn.lstm_fwd(numpy_fn)(f16, s16, s16, w16, w16.T, None, False) == 'numpy'
    mixed_h = s16.astype(np.float64)
    x32 = f16.astype(np.float32)
    assert rnn.gru_fwd(numpy_fn)(x32, mixed_h, w16[:12].astype(np.float32),
                                 w16[:12].T.astype(np.float32), None, None, False) == 'numpy'
    g, Y = np.ones((2, 1, 4), np.float16), np.ones((2, 1, 4), np.float16)
    assert rnn.rnn_bwd(numpy_fn)(g, s16, np.ones((4, 4), np.float16), Y, False, range(1, -1, -1), True) == 'numpy'
    bufs = tuple(np.ones(s, np.float16) for s in ((2, 1, 8), (2, 1, 4), (2, 1, 12)))
    assert rnn.gru_bwd(numpy_fn)(g, s16, w16[:12], bufs, Y, range(1, -1, -1), True) == 'numpy'
    bufs = tuple(np.ones(s, np.float16) for s in ((2, 1, 16), (2, 1, 4), (2, 1, 4)))
    assert rnn.lstm_bwd(numpy_fn)(g, s16, s16, w16, bufs, s16, False, range(1, -1, -1), True) == 'numpy'
    assert len(calls) == 5
