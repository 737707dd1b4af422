"""Gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and
``parameters_to_vector`` / ``vector_to_parameters``, as ``torch.nn.utils``.

Clipping replaces ``p.grad._data`` with a new array instead of writing into
it: one gradient array may be shared by several tensors.
"""
import math

import numpy as np

from ... import backend
from ..._tensor import Tensor


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    if isinstance(parameters, dict):
        return list(parameters.values())
    return list(parameters)


def _norm_type(norm_type):
    if isinstance(norm_type, str):
        if norm_type.lower() in ('inf', 'infinity'):
            return math.inf
        if norm_type.lower() in ('-inf', '-infinity'):
            return -math.inf
        raise ValueError(f"clip_grad_norm_: unknown norm_type {norm_type!r}")
    return float(norm_type)


def _vector_norm(xp, g, p):
    """p-norm of an array's elements, in its dtype (a 0-d array)."""
    if g.size == 0:
        return xp.zeros((), dtype=g.dtype)
    if p == 0:
        return xp.asarray((g != 0).sum(), dtype=g.dtype)
    if p == 2:
        return xp.asarray(xp.sqrt((g * g).sum()))
    a = xp.abs(g)
    if p == math.inf:
        return xp.asarray(a.max())
    if p == -math.inf:
        return xp.asarray(a.min())
    if p == 1:
        return xp.asarray(a.sum())
    return xp.asarray((a ** p).sum() ** (1.0 / p))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of ``parameters`` so that their total ``norm_type``-norm
    (over all gradients as one vector) is at most ``max_norm``. Returns the total
    norm (before clipping) as a 0-d tensor."""
    del foreach  # PyTorch's implementation switch; one implementation here
    p_norm = _norm_type(norm_type)
    grads = [p for p in _params(parameters) if p.grad is not None]
    if not grads:
        return Tensor(0.0, requires_grad=False)
    first = grads[0].grad._data
    xp = backend.array_module(first)
    device = grads[0].device
    norms = [backend.move(_vector_norm(backend.array_module(p.grad._data), p.grad._data, p_norm), device)
             for p in grads]
    dtype = first.dtype if first.dtype.kind == 'f' else np.dtype('float32')
    total = _vector_norm(xp, xp.stack([n.astype(dtype, copy=False) for n in norms]), p_norm)
    total = xp.asarray(total, dtype=dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                           f"non-finite ({float(total)}), so it cannot be clipped; set "
                           f"error_if_nonfinite=False to clip anyway")
    # computed in the gradients' dtype and clamped on the device, as PyTorch does: reading
    # coef on the host to skip the multiply would be a device sync every step
    coef = xp.asarray(max_norm, dtype=dtype) / (total + xp.asarray(1e-6, dtype=dtype))
    coef = xp.minimum(coef, xp.asarray(1, dtype=dtype))
    for p in grads:
        g = p.grad._data
        p.grad._data = g * coef.astype(g.dtype, copy=False)
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` into ``[-clip_value, clip_value]``."""
    del foreach
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            g = p.grad._data
            p.grad._data = backend.array_module(g).clip(g, -clip_value, clip_value)


def parameters_to_vector(parameters):
    """Concatenate the (flattened) parameters into one 1-d tensor (differentiable)."""
    from ...ops.api import cat  # noqa: PLC0415 - keeps this module light to import
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise RuntimeError(f"parameters_to_vector: parameters are on different devices {sorted(map(str, devices))}")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy the slices of the 1-d tensor ``vec`` into ``parameters`` (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector, got shape {vec.shape}")
    params = _params(parameters)
    total = sum(p._data.size for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: vector has {vec.shape[0]} elements, the parameters "
                         f"{total}")
    src = vec._data
    offset = 0
    for p in params:
        n = p._data.size
        chunk = backend.move(src[offset:offset + n], p.device).reshape(p._data.shape)
        p._data[...] = chunk
        p._vc[0] += 1
        offset += n
