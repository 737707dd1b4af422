"""``check(fn, *arrays)``: run ``fn(*tensors, lib)`` with lib = tensorgrad and torch on
copies of the NumPy arrays; compare every output (values, shape, dtype), then
back-propagate ``sum(out * g)`` with the same random non-uniform ``g`` through
both and compare the input gradients. ``layout='strided'`` feeds every input
as a non-contiguous slice ``a[..., ::2]`` of a twice-as-wide array."""
import numpy as np
import torch

import tensorgrad as tg

RNG = np.random.default_rng(7)


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [y for i in x for y in _flat(i)]
    return [x]


def _np(x):
    if isinstance(x, tg.Tensor):
        return x.numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _leaves(arrays, lib, layout, grad):
    leaves, inputs = [], []
    for a in arrays:
        a = np.asarray(a)
        req = grad and a.dtype.kind == 'f'
        if layout == 'strided' and a.ndim:
            wide = np.repeat(a, 2, axis=-1)
            t = lib.tensor(wide.copy(), requires_grad=req)
            leaves.append(t)
            inputs.append(t[..., ::2])
        else:
            t = lib.tensor(a.copy(), requires_grad=req)
            leaves.append(t)
            inputs.append(t)
    return leaves, inputs


def check(fn, *arrays, grad=True, rtol=1e-5, atol=1e-6, layout=None, equal_nan=True):
    """Compare ``fn(*inputs, lib)`` between tensorgrad and torch, forward and backward."""
    tl, ti = _leaves(arrays, tg, layout, grad)
    rl, ri = _leaves(arrays, torch, layout, grad)
    out, ref = fn(*ti, tg), fn(*ri, torch)
    if isinstance(ref, (bool, int, float)):
        assert type(out) is type(ref) and out == ref, f"{out!r} != {ref!r}"
        return out
    outs, refs = _flat(out), _flat(ref)
    assert len(outs) == len(refs), f"{len(outs)} outputs != {len(refs)}"
    for o, r in zip(outs, refs):
        assert isinstance(o, tg.Tensor), type(o)
        assert tuple(o.shape) == tuple(r.shape), f"shape {tuple(o.shape)} != {tuple(r.shape)}"
        assert str(o.dtype) == str(r.dtype).replace('torch.', ''), f"dtype {o.dtype} != {r.dtype}"
        np.testing.assert_allclose(_np(o).astype(np.float64), _np(r).astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan)
    pairs = [(o, r) for o, r in zip(outs, refs) if r.requires_grad]
    if not pairs:
        assert not any(o.requires_grad for o in outs), "tensorgrad output requires grad, torch's does not"
        return out
    tsum = rsum = 0
    for o, r in pairs:
        assert o.requires_grad, "tensorgrad output does not require grad"
        g = RNG.uniform(0.5, 1.5, size=tuple(r.shape)).astype(_np(r).dtype)
        tsum = tsum + (o * tg.tensor(g)).sum()
        rsum = rsum + (r * torch.tensor(g)).sum()
    tsum.backward()
    rsum.backward()
    for i, (t, r) in enumerate(zip(tl, rl)):
        if not r.requires_grad:
            continue
        if r.grad is None:
            assert t.grad is None or not np.any(t.grad.numpy()), f"input {i}: unexpected gradient"
            continue
        assert t.grad is not None, f"input {i}: no gradient"
        assert t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy().astype(np.float64), r.grad.numpy().astype(np.float64),
                                   rtol=rtol, atol=atol, err_msg=f"grad of input {i}", equal_nan=equal_nan)
    return out


def rand(*shape, dtype=np.float32, low=-2.0, high=2.0):
    """Uniform random array."""
    return RNG.uniform(low, high, size=shape).astype(dtype)
