"""Argument checks shared by the fused nn kernels: each raises an exception
naming the op and the offending type, dtype or device."""
from .. import backend
from .._tensor import Tensor
from .reduction import normalize_dims


def _array(op, x, name='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x._data


def _float_array(op, x, name='input'):
    d = _array(op, x, name)
    if d.dtype.kind != 'f':
        raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {d.dtype}")
    return d


def _same_device(op, a, b, name_a, name_b):
    if a.__class__ is not b.__class__:
        raise RuntimeError(f"{op}: expected {name_a} and {name_b} on the same device, got "
                           f"{backend.device_of(a).value} and {backend.device_of(b).value}")


def _axis(op, dim, ndim):
    if dim.__class__ is int and -ndim <= dim < ndim:
        return dim % ndim
    if not ndim:  # a 0-d tensor takes dim 0 or -1 (checked), as PyTorch
        normalize_dims(op, dim, 1)
        return 0
    return normalize_dims(op, dim, ndim)[0]
