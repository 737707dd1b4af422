"""``nn.LSTM(..., proj_size=P)`` against PyTorch (weights copied with
``init_from_torch``): output, h_n, c_n and the gradients of the input, h_0,
c_0 and every parameter (``weight_hr`` included) under non-uniform upstream
gradients on the output and both final states; parameter names, init,
repr and argument errors."""
import math

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.nn.rnn import LSTM
from helpers import assert_close

TOL = dict(rtol=1e-4, atol=1e-5)
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")


def _pair(device, *args, **kw):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(*args, **kw)
    m = LSTM(*args, **kw).init_from_torch(tm)
    m.to(device)
    return m, tm


def _leaf(a, device):
    return tg.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check_run(m, tm, x, states, device, seed=1, ups_on=(True, True, True)):
    """Run both modules, compare outputs; back-propagate random gradients on the
    outputs selected by ``ups_on`` (output, h_n, c_n) and compare every gradient."""
    rng = np.random.default_rng(seed)
    xg, xt = _leaf(x, device)
    sg, st = zip(*[_leaf(s, device) for s in states]) if states else ((), ())
    og, (hg, cg) = m(xg, tuple(sg) if sg else None)
    ot, (ht, ct) = tm(xt, tuple(st) if st else None)
    outs_g, outs_t = [og, hg, cg], [ot, ht, ct]
    for name, a, b in zip(('output', 'h_n', 'c_n'), outs_g, outs_t):
        assert tuple(a.shape) == tuple(b.shape), name
        assert_close(a, b, what=name, **TOL)
    sel = [i for i, on in enumerate(ups_on) if on]
    ups = [rng.uniform(-1.5, 1.5, size=tuple(outs_t[i].shape)).astype(np.float32) for i in sel]
    tg.autograd.backward([outs_g[i] for i in sel], [tg.tensor(u, device=device) for u in ups])
    torch.autograd.backward([outs_t[i] for i in sel], [torch.tensor(u) for u in ups])
    assert_close(xg.grad, xt.grad, what='input grad', **TOL)
    for i, (a, b) in enumerate(zip(sg, st)):
        assert_close(a.grad, b.grad, what=f'initial state {i} grad', **TOL)
    names = [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in m.named_parameters()] == names
    for name, p in tm.named_parameters():
        mine = getattr(m, name)
        assert mine.grad is not None, f"no gradient for {name}"
        assert mine.grad.dtype == mine.dtype
        assert_close(mine.grad, p.grad, what=f'grad of {name}', **TOL)


@pytest.mark.parametrize('num_layers', [1, 2])
@pytest.mark.parametrize('bidirectional', [False, True])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('with_state', [False, True])
def test_proj_matches_torch(num_layers, bidirectional, batch_first, with_state, device):
    I, H, P, T, B = 3, 6, 4, 5, 2
    m, tm = _pair(device, I, H, num_layers=num_layers, bidirectional=bidirectional,
                  batch_first=batch_first, proj_size=P)
    rng = np.random.default_rng(num_layers * 8 + bidirectional * 4 + batch_first * 2 + with_state)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    D = 2 if bidirectional else 1
    states = []
    if with_state:
        states = [rng.standard_normal((num_layers * D, B, P)).astype(np.float32),
                  rng.standard_normal((num_layers * D, B, H)).astype(np.float32)]
    _check_run(m, tm, x, states, device)


@pytest.mark.parametrize('bidirectional', [False, True])
@pytest.mark.parametrize('with_state', [False, True])
def test_proj_unbatched(bidirectional, with_state, device):
    I, H, P, T, L = 4, 5, 2, 6, 2
    m, tm = _pair(device, I, H, num_layers=L, bidirectional=bidirectional, proj_size=P)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, I)).astype(np.float32)
    D = 2 if bidirectional else 1
    states = []
    if with_state:
        states = [rng.standard_normal((L * D, P)).astype(np.float32),
                  rng.standard_normal((L * D, H)).astype(np.float32)]
    _check_run(m, tm, x, states, device)


@pytest.mark.parametrize('ups_on', [(True, False, False), (False, True, False), (False, False, True)])
def test_proj_partial_upstream(ups_on, device):
    """Gradients when only one of output / h_n / c_n is used."""
    m, tm = _pair(device, 3, 7, num_layers=2, bidirectional=True, proj_size=3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 3)).astype(np.float32)
    states = [rng.standard_normal((4, 3, 3)).astype(np.float32),
              rng.standard_normal((4, 3, 7)).astype(np.float32)]
    _check_run(m, tm, x, states, device, ups_on=ups_on)


def test_proj_no_bias_and_single_step(device):
    m, tm = _pair(device, 2, 5, bias=False, proj_size=1)
    x = np.random.default_rng(4).standard_normal((1, 3, 2)).astype(np.float32)
    _check_run(m, tm, x, [], device)


def test_proj_only_weight_hr_requires_grad(device):
    """Only the projection needs a gradient: the input and the other weights are frozen."""
    m, tm = _pair(device, 3, 6, proj_size=2)
    for name, p in m.named_parameters():
        p.requires_grad = name.startswith('weight_hr')
    for name, p in tm.named_parameters():
        p.requires_grad = name.startswith('weight_hr')
    x = np.random.default_rng(5).standard_normal((4, 2, 3)).astype(np.float32)
    og, _ = m(tg.tensor(x, device=device))
    ot, _ = tm(torch.tensor(x))
    up = np.random.default_rng(6).uniform(-1, 1, size=tuple(ot.shape)).astype(np.float32)
    og.backward(tg.tensor(up, device=device))
    ot.backward(torch.tensor(up))
    assert_close(m.weight_hr_l0.grad, tm.weight_hr_l0.grad, what='grad of weight_hr_l0', **TOL)
    assert m.weight_ih_l0.grad is None


def test_proj_dropout_between_layers(device):
    """Dropout acts on the (projected) output of every layer but the last; with p=1
    the second layer sees zeros, in training mode only."""
    tg.manual_seed(0)
    m = LSTM(3, 5, num_layers=2, dropout=1.0, proj_size=2).to(device)
    x = tg.tensor(np.random.default_rng(8).standard_normal((4, 2, 3)).astype(np.float32), device=device)
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 5, num_layers=2, dropout=1.0, proj_size=2)
    m.init_from_torch(tm)
    out, (h, c) = m(x)
    ref, (rh, rc) = tm(torch.tensor(x.numpy()))
    assert_close(out, ref, what='output', **TOL)
    assert_close(h, rh, what='h_n', **TOL)
    assert_close(c, rc, what='c_n', **TOL)
    m.eval()
    tm.eval()
    out, _ = m(x)
    ref, _ = tm(torch.tensor(x.numpy()))
    assert_close(out, ref, what='eval output', **TOL)


@pytest.mark.parametrize('kw', [{}, {'num_layers': 2, 'bidirectional': True}, {'bias': False}])
def test_proj_parameters_state_dict_and_init(kw):
    m = LSTM(4, 9, proj_size=3, **kw)
    tm = torch.nn.LSTM(4, 9, proj_size=3, **kw)
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys())
    shapes = {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert shapes == {n: tuple(p.shape) for n, p in tm.named_parameters()}
    assert len(m.all_weights) == len(tm.all_weights)
    assert [[tuple(w.shape) for w in ws] for ws in m.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in tm.all_weights]
    k = 1 / math.sqrt(9)
    for n, p in m.named_parameters():
        a = p.numpy()
        assert a.dtype == np.float32
        assert np.all(np.abs(a) <= k) and a.std() > k / 4, n
    # a torch state_dict loads into the tensorgrad module
    m.load_state_dict({n: t.detach().numpy() for n, t in tm.state_dict().items()})
    assert_close(m.weight_hr_l0, tm.weight_hr_l0, what='weight_hr_l0 after load_state_dict')


def test_proj_repr():
    assert repr(LSTM(4, 9, proj_size=3)) == repr(torch.nn.LSTM(4, 9, proj_size=3))
    assert repr(LSTM(4, 9, num_layers=2, proj_size=3, batch_first=True)) == \
        repr(torch.nn.LSTM(4, 9, num_layers=2, proj_size=3, batch_first=True))
    assert 'proj_size' not in repr(LSTM(4, 9))


@pytest.mark.parametrize('proj', [9, 12, -1])
def test_proj_size_bad_values(proj):
    with pytest.raises(ValueError, match=r'LSTM.*proj_size.*' + str(proj)):
        LSTM(4, 9, proj_size=proj)


def test_proj_init_from_torch_mismatch():
    with pytest.raises(ValueError, match='proj_size'):
        LSTM(3, 6, proj_size=2).init_from_torch(torch.nn.LSTM(3, 6, proj_size=3))
    with pytest.raises(ValueError, match='proj_size'):
        LSTM(3, 6).init_from_torch(torch.nn.LSTM(3, 6, proj_size=3))
    with pytest.raises(ValueError, match='proj_size'):
        LSTM(3, 6, proj_size=2).init_from_torch(torch.nn.LSTM(3, 6))


def test_proj_bad_state_shapes(device):
    m = LSTM(3, 6, proj_size=2).to(device)
    x = tg.zeros(4, 2, 3, device=device)
    h_ok, c_ok = tg.zeros(1, 2, 2, device=device), tg.zeros(1, 2, 6, device=device)
    m(x, (h_ok, c_ok))
    with pytest.raises(ValueError, match=r'h_0.*\(1, 2, 2\)'):
        m(x, (tg.zeros(1, 2, 6, device=device), c_ok))
    with pytest.raises(ValueError, match=r'c_0.*\(1, 2, 6\)'):
        m(x, (h_ok, tg.zeros(1, 2, 2, device=device)))


def test_proj_no_graph_under_no_grad(device):
    m = LSTM(3, 6, proj_size=2).to(device)
    with tg.no_grad():
        out, (h, c) = m(tg.ones(4, 2, 3, device=device))
    assert out.grad_fn is None and h.grad_fn is None and c.grad_fn is None
    assert tuple(out.shape) == (4, 2, 2) and tuple(h.shape) == (1, 2, 2) and tuple(c.shape) == (1, 2, 6)
