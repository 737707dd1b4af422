"""Activation checkpointing (tensorgrad/utils/checkpoint.py): same gradients as
without it (inputs and closure parameters), RNG preservation, sequential
segments, and lower memory on a deep MLP."""
import tracemalloc

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.utils.checkpoint import checkpoint, checkpoint_sequential
from helpers import assert_close, rand

RNG = np.random.default_rng(1)


def _mlp(depth=6, width=8):
    ws = [tg.tensor(RNG.normal(size=(width, width)).astype(np.float32) * 0.4, requires_grad=True)
          for _ in range(depth)]
    bs = [tg.tensor(RNG.normal(size=(width,)).astype(np.float32) * 0.1, requires_grad=True) for _ in range(depth)]
    layers = [(lambda w, b: (lambda h: (h @ w + b).tanh()))(w, b) for w, b in zip(ws, bs)]
    return ws + bs, layers


def _grads(params, x, out, g):
    for p in params + [x]:
        p.grad = None
    out().backward(g)
    return [None if p.grad is None else p.grad.numpy().copy() for p in params + [x]]


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            assert_close(u, v, rtol=1e-5, atol=1e-6)


def _plain(layers, x):
    for f in layers:
        x = f(x)
    return x


@pytest.mark.parametrize('use_reentrant', [None, False, True])
@pytest.mark.parametrize('x_requires_grad', [True, False])
def test_checkpoint_same_gradients_for_inputs_and_closure_params(use_reentrant, x_requires_grad):
    params, layers = _mlp()
    x = tg.tensor(rand(5, 8), requires_grad=x_requires_grad)
    g = rand(5, 8)
    ref = _grads(params, x, lambda: _plain(layers, x), g)

    def segment(h):
        return _plain(layers[1:4], h)

    got = _grads(params, x, lambda: _plain(layers[4:], checkpoint(segment, layers[0](x),
                                                                   use_reentrant=use_reentrant)), g)
    _same(ref, got)


def test_closure_params_get_grads_when_no_input_requires_grad():
    params, layers = _mlp(3)
    x = tg.tensor(rand(4, 8), requires_grad=False)
    g = rand(4, 8)
    ref = _grads(params, x, lambda: _plain(layers, x), g)
    got = _grads(params, x, lambda: checkpoint(lambda h: _plain(layers, h), x), g)
    assert all(p is not None for p in got[:-1])
    _same(ref, got)


def test_forward_keeps_no_graph_inside():
    params, layers = _mlp(3)
    x = tg.tensor(rand(4, 8), requires_grad=True)
    out = checkpoint(lambda h: _plain(layers, h), x)
    node = out.grad_fn
    assert type(node).__name__ == 'CheckpointBackward'
    # the edges are the input and the closure parameters, not the recorded intermediate nodes
    assert all(e is x or any(e is p for p in params) for e in node.next if e is not None)
    assert sum(e is not None for e in node.next) == 1 + len(params)


def test_multiple_outputs_and_non_tensor_args():
    w = tg.tensor(rand(3, 3), requires_grad=True)
    x = tg.tensor(rand(2, 3), requires_grad=True)

    def fn(h, scale, shift=0.0):
        y = h @ w
        return y * scale + shift, (y * y).sum(-1)

    g1, g2 = rand(2, 3), rand(2)

    def run(ck):
        w.grad = x.grad = None
        a, b = checkpoint(fn, x, 2.0, shift=1.0) if ck else fn(x, 2.0, shift=1.0)
        (a * tg.tensor(g1)).sum().add(b.mul(tg.tensor(g2)).sum()).backward()
        return [w.grad.numpy().copy(), x.grad.numpy().copy()]

    _same(run(False), run(True))


def test_only_one_output_used():
    w = tg.tensor(rand(3, 3), requires_grad=True)
    x = tg.tensor(rand(2, 3), requires_grad=True)
    a, b = checkpoint(lambda h: (h @ w, (h @ w).exp()), x)
    b.backward(np.ones((2, 3), np.float32))
    w2, x2 = tg.tensor(w.numpy(), requires_grad=True), tg.tensor(x.numpy(), requires_grad=True)
    (x2 @ w2).exp().backward(np.ones((2, 3), np.float32))
    assert_close(w.grad, w2.grad)
    assert_close(x.grad, x2.grad)


def test_dropout_rng_is_preserved():
    w = tg.tensor(rand(6, 6), requires_grad=True)
    x = tg.tensor(rand(4, 6), requires_grad=True)

    def fn(h):
        return tg.dropout(h @ w, 0.5, training=True).tanh()

    def run(ck):
        w.grad = x.grad = None
        tg.manual_seed(123)
        out = checkpoint(fn, x) if ck else fn(x)
        state = tg.random.generator().bit_generator.state
        out.backward(np.arange(24, dtype=np.float32).reshape(4, 6))
        # backward's recomputation must not advance the global random stream
        assert tg.random.generator().bit_generator.state == state
        return out.numpy().copy(), w.grad.numpy().copy(), x.grad.numpy().copy()

    ref, got = run(False), run(True)
    for a, b in zip(ref, got):
        assert_close(a, b)


def test_without_preserve_rng_state_masks_differ():
    x = tg.tensor(np.ones((50, 50), np.float32), requires_grad=True)
    tg.manual_seed(0)
    out = checkpoint(lambda h: tg.dropout(h, 0.5), x, preserve_rng_state=False)
    out.backward(np.ones((50, 50), np.float32))
    # the recomputed mask is a fresh draw, so the gradient pattern differs from the output's
    assert not np.array_equal(x.grad.numpy() != 0, out.numpy() != 0)


def test_inplace_change_of_input_before_backward_raises():
    w = tg.tensor(rand(3, 3), requires_grad=True)
    h = tg.tensor(rand(2, 3), requires_grad=False)
    out = checkpoint(lambda t: t @ w, h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match='in-place'):
        out.backward(np.ones((2, 3), np.float32))


def test_autograd_grad_through_checkpoint_leaves_dot_grad_alone():
    w = tg.tensor(rand(3, 3), requires_grad=True)
    x = tg.tensor(rand(2, 3), requires_grad=True)
    out = checkpoint(lambda t: (t @ w).tanh(), x).sum()
    gw, gx = tg.autograd.grad(out, [w, x])
    assert w.grad is None and x.grad is None
    w2, x2 = tg.tensor(w.numpy(), requires_grad=True), tg.tensor(x.numpy(), requires_grad=True)
    (x2 @ w2).tanh().sum().backward()
    assert_close(gw, w2.grad)
    assert_close(gx, x2.grad)


def test_param_hooks_run_once():
    w = tg.tensor(rand(3, 3), requires_grad=True)
    calls = []
    w.register_hook(lambda g: calls.append(1))
    checkpoint(lambda t: t @ w, tg.tensor(rand(2, 3), requires_grad=False)).sum().backward()
    assert len(calls) == 1


def test_closure_non_leaf_tensor():
    a = tg.tensor(rand(3, 3), requires_grad=True)
    x = tg.tensor(rand(2, 3), requires_grad=True)

    def run(ck):
        a.grad = x.grad = None
        w = a * 2  # a non-leaf captured by the checkpointed function and used outside too

        def f(t):
            return (t @ w).tanh()
        out = (checkpoint(f, x) if ck else f(x)).sum() + (w * w).sum()
        out.backward()
        return [a.grad.numpy().copy(), x.grad.numpy().copy()]

    _same(run(False), run(True))


def test_no_grad_mode_just_calls():
    x = tg.tensor(rand(2, 3), requires_grad=True)
    with tg.no_grad():
        out = checkpoint(lambda t: t * 2, x)
    assert out.grad_fn is None


@pytest.mark.parametrize('segments', [1, 2, 3, 6])
@pytest.mark.parametrize('use_reentrant', [False, True])
def test_checkpoint_sequential_matches(segments, use_reentrant):
    params, layers = _mlp(6)
    x = tg.tensor(rand(5, 8), requires_grad=True)
    g = rand(5, 8)
    ref = _grads(params, x, lambda: _plain(layers, x), g)
    got = _grads(params, x, lambda: checkpoint_sequential(layers, segments, x, use_reentrant=use_reentrant), g)
    _same(ref, got)


def test_checkpoint_sequential_with_modules():
    nn = tg.nn
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    x = tg.tensor(rand(3, 8), requires_grad=False)
    g = rand(3, 4)
    params = list(model.parameters())
    ref = _grads(params, x, lambda: model(x), g)
    got = _grads(params, x, lambda: checkpoint_sequential(model, 2, x), g)
    _same(ref, got)


def test_bad_arguments():
    with pytest.raises(TypeError, match='checkpoint'):
        checkpoint(3, tg.ones(2))
    with pytest.raises(ValueError, match='segments'):
        checkpoint_sequential([lambda t: t], 0, tg.ones(2))


def test_checkpointing_lowers_peak_memory_on_deep_mlp():
    """Activations of a 32-layer MLP (batch 512, width 64: 128 KiB per layer) dominate memory;
    checkpointing 8 segments keeps only segment inputs plus one segment's activations."""
    rng = np.random.default_rng(0)
    depth, batch, width = 32, 512, 64
    ws = [tg.tensor(rng.normal(size=(width, width)).astype(np.float32) / 8, requires_grad=True)
          for _ in range(depth)]
    x = tg.tensor(rng.normal(size=(batch, width)).astype(np.float32), requires_grad=False)
    layers = [(lambda w: (lambda h: (h @ w).tanh()))(w) for w in ws]

    def measure(segments):
        for w in ws:
            w.grad = None
        tracemalloc.start()
        try:
            out = checkpoint_sequential(layers, segments, x) if segments else _plain(layers, x)
            kept_after_forward = tracemalloc.get_traced_memory()[0]
            out.sum().backward()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return kept_after_forward, peak, [w.grad.numpy().copy() for w in ws]

    kept_plain, peak_plain, g_plain = measure(0)
    kept_ck, peak_ck, g_ck = measure(8)
    activation_bytes = depth * batch * width * 4
    assert kept_plain > 0.8 * activation_bytes  # sanity: the plain graph holds every activation
    assert kept_ck < 0.5 * kept_plain
    assert peak_ck < 0.7 * peak_plain
    for a, b in zip(g_plain, g_ck):
        assert_close(a, b, rtol=1e-4, atol=1e-5)
