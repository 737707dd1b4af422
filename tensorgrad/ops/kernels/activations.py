"""Compiled exact GELU (float32): Phi(x) from one vectorised exp of a degree-10
fit (the NumPy path's formula, ~28 array passes there, one loop here), and its
gradient; elements split over threads for big inputs."""
import numpy as np
from numba import prange

from ..activations import _INV_SQRT_2PI, _LOG_PHI_NEG
from ._jit import exp32, is_f32, kernel

_C = tuple(np.float32(c) for c in _LOG_PHI_NEG)
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10 = _C
_PDF = np.float32(_INV_SQRT_2PI)


@kernel
def _gelu_kernel(x, cdf, y):
    for i in prange(x.shape[0]):
        v = x[i]
        a = min(abs(v), np.float32(5.6))
        p = _C0 * a + _C1
        p = p * a + _C2
        p = p * a + _C3
        p = p * a + _C4
        p = p * a + _C5
        p = p * a + _C6
        p = p * a + _C7
        p = p * a + _C8
        p = p * a + _C9
        p = p * a + _C10
        tail = exp32(p - np.float32(0.5) * v * v)  # Phi(-|x|)
        c = np.float32(0.5) + (np.float32(0.5) - tail if v >= 0 else tail - np.float32(0.5))
        c = c if v == v else v  # NaN stays NaN
        cdf[i] = c
        y[i] = v * c


@kernel
def _gelu_grad_kernel(x, cdf, g, out):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = g[i] * (cdf[i] + v * _PDF * exp32(np.float32(-0.5) * v * v))


def gelu_float32(numpy_fn):
    """``_gelu_float32(x) -> (Phi(x), x Phi(x))`` compiled (any layout: outputs are C-ordered)."""
    def gelu_float32(x):
        if not is_f32(x):
            return numpy_fn(x)
        xf = np.ascontiguousarray(x).reshape(-1)
        cdf, y = np.empty(x.shape, dtype=x.dtype), np.empty(x.shape, dtype=x.dtype)
        _gelu_kernel.pick(xf.size)(xf, cdf.reshape(-1), y.reshape(-1))
        return cdf, y
    return gelu_float32


def gelu_grad(numpy_fn):
    """``_gelu_grad(x, cdf, g)`` compiled for float32."""
    def gelu_grad(x, cdf, g):
        if not is_f32(x, cdf, g) or g.shape != x.shape:
            return numpy_fn(x, cdf, g)
        out = np.empty(x.shape, dtype=x.dtype)
        flat = [np.ascontiguousarray(a).reshape(-1) for a in (x, cdf, g)]
        _gelu_grad_kernel.pick(out.size)(*flat, out.reshape(-1))
        return out
    return gelu_grad
