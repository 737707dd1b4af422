"""Shared helper for the nn tests: run a tensorgrad module and its PyTorch twin
(weights copied with ``init_from_torch``) on the same input and compare the
output, the input gradient and every parameter gradient under a random upstream
gradient."""
import numpy as np
import torch

import tensorgrad as tg
from helpers import assert_close

RNG = np.random.default_rng(1)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def check_module(tg_mod, th_mod, *inputs, device='cpu', rtol=1e-5, atol=1e-5, grad=None, init=True):
    """Compare ``tg_mod(*inputs)`` with ``th_mod(*inputs)`` forward and backward; returns the outputs."""
    if init:
        tg_mod.init_from_torch(th_mod)
    tg_mod.to(device)
    if grad is None:
        grad = [np.asarray(a).dtype.kind == 'f' for a in inputs]
    tgx = [tg.tensor(np.array(a), device=device, requires_grad=g) for a, g in zip(inputs, grad)]
    thx = [torch.tensor(np.array(a), requires_grad=g) for a, g in zip(inputs, grad)]
    out = tg_mod(*tgx)
    ref = th_mod(*thx)
    assert_close(out, ref, rtol, atol, 'forward')
    assert str(out.dtype) == str(ref.dtype).replace('torch.', '')
    if ref.requires_grad:
        up = RNG.uniform(0.5, 1.5, size=tuple(ref.shape)).astype(np.float32)
        out.backward(tg.tensor(up, device=device))
        ref.backward(torch.tensor(up))
        for i, (t, r, g) in enumerate(zip(tgx, thx, grad)):
            if g:
                assert t.grad is not None, f'input {i}: no gradient'
                assert_close(t.grad, r.grad, rtol, atol, f'grad of input {i}')
        th_params = dict(th_mod.named_parameters())
        tg_params = dict(tg_mod.named_parameters())
        assert list(tg_params) == list(th_params), 'parameter names/order differ from PyTorch'
        for name, p in tg_params.items():
            if th_params[name].grad is None:
                assert p.grad is None or np.allclose(p.grad.numpy(), 0), name
                continue
            assert p.grad is not None, f'{name}: no gradient'
            assert p.grad.data.dtype == p.data.dtype
            assert_close(p.grad, th_params[name].grad, rtol, atol, f'grad of {name}')
    for name, b in tg_mod.named_buffers():
        tb = dict(th_mod.named_buffers())[name]
        assert_close(b, tb, rtol, atol, f'buffer {name}')
    return out, ref
