"""Compiled softmax / log_softmax over the last axis (float32 rows): one pass
for the row max, one for exp and its sum, one to scale or shift; rows split
over threads for big inputs. Other axes, dtypes and CuPy arrays go to the
NumPy helpers."""
import math

import numpy as np
from numba import prange

from ._jit import exp32, helper, is_f32, kernel, rowmax


@helper
def _exp_row(xi, ei):
    """ei = exp(xi - max(xi)) for one row (ei may be xi itself); returns (sum(ei), the max)."""
    m = rowmax(xi)
    s = np.float32(0.0)
    for j in range(xi.shape[0]):
        e = exp32(xi[j] - m)
        ei[j] = e
        s += e
    return s, m


@helper
def _softmax_row(xi, oi):
    """oi = softmax(xi) for one row (oi may be xi itself)."""
    s, _ = _exp_row(xi, oi)
    r = np.float32(1.0) / s
    for j in range(xi.shape[0]):
        oi[j] *= r


@kernel
def _softmax_rows(x, out):
    for i in prange(x.shape[0]):
        _softmax_row(x[i], out[i])


@kernel
def _softmax_rows_inplace(x):
    """``_softmax_rows(x, x)`` as a kernel of one array: with ``out`` an argument aliasing
    ``x`` LLVM's run-time overlap check sent every row to the scalar loop (measured,
    2048 x 32 float32: 221 us aliased, 67 us with this); one row passed as both
    arguments of the inlined helper is the same pointer, which needs no check."""
    for i in prange(x.shape[0]):
        xi = x[i]
        _softmax_row(xi, xi)


@kernel
def _exp_rows_kernel(x, e, s, c):
    """e = exp(x - c), s = sum(e) per row, c = the row max."""
    for i in prange(x.shape[0]):
        s[i], c[i] = _exp_row(x[i], e[i])


@kernel
def _log_softmax_rows(x, out, e, inv_s):
    for i in prange(x.shape[0]):
        xi, oi, ei = x[i], out[i], e[i]
        m = rowmax(xi)
        s = np.float32(0.0)
        for j in range(xi.shape[0]):
            z = xi[j] - m
            oi[j] = z  # stored first: fast-math must not fold it into x - (m + lse), which rounds away lse
            v = exp32(z)
            ei[j] = v
            s += v
        lse = np.float32(math.log(s))
        for j in range(xi.shape[0]):
            oi[j] -= lse
        inv_s[i, 0] = np.float32(1.0) / s


@kernel
def _softmax_backward_rows(y, g, out):
    for i in prange(y.shape[0]):
        yi, gi, oi = y[i], g[i], out[i]
        d = np.float32(0.0)
        for j in range(yi.shape[0]):
            d += gi[j] * yi[j]
        for j in range(yi.shape[0]):
            oi[j] = yi[j] * (gi[j] - d)


def _last_axis_f32(x, axis, *others):
    """float32 rows on the last axis, not empty (reshape(-1, 0) cannot infer the row count)."""
    return is_f32(x, *others) and x.ndim and axis % x.ndim == x.ndim - 1 and x.size


def softmax_array(numpy_fn):
    """``_softmax_array(x, axis, out=None)`` compiled for float32 rows on the last axis."""
    def softmax_array(x, axis, out=None):
        if not _last_axis_f32(x, axis) or out is not None and out is not x:
            return numpy_fn(x, axis, out)
        x2 = x.reshape(-1, x.shape[-1])
        if out is x:
            _softmax_rows_inplace.pick(x2.size)(x2)
            return x
        o2 = np.empty(x2.shape, dtype=x.dtype)
        _softmax_rows.pick(x2.size)(x2, o2)
        return o2.reshape(x.shape)
    return softmax_array


def log_softmax_arrays(numpy_fn):
    """``_log_softmax_arrays(x, axis)`` compiled for float32 rows on the last axis."""
    def log_softmax_arrays(x, axis):
        if not _last_axis_f32(x, axis):
            return numpy_fn(x, axis)
        x2 = x.reshape(-1, x.shape[-1])
        out, e = np.empty(x2.shape, dtype=x.dtype), np.empty(x2.shape, dtype=x.dtype)
        inv_s = np.empty((x2.shape[0], 1), dtype=x.dtype)
        _log_softmax_rows.pick(x2.size)(x2, out, e, inv_s)
        return out.reshape(x.shape), e, inv_s
    return log_softmax_arrays


def softmax_backward(numpy_fn):
    """``_softmax_backward(y, g, axis)`` compiled for float32 rows on the last axis."""
    def softmax_backward(y, g, axis):
        if not _last_axis_f32(y, axis, g) or g.shape != y.shape:
            return numpy_fn(y, g, axis)
        out = np.empty(y.shape, dtype=y.dtype)
        n = y.shape[-1]
        _softmax_backward_rows.pick(y.size)(y.reshape(-1, n), g.reshape(-1, n), out.reshape(-1, n))
        return out
    return softmax_backward


def exp_rows(numpy_fn):
    """``_exp_rows(xb, eb, inplace=False)`` compiled for 2-D float32 blocks
    (always shifted by the row max, which costs nothing extra here)."""
    def exp_rows(xb, eb, inplace=False):
        if not is_f32(xb, eb) or xb.ndim != 2 or inplace or not xb.size:
            return numpy_fn(xb, eb, inplace)
        N = xb.shape[0]
        s, c = np.empty((N, 1), dtype=xb.dtype), np.empty((N, 1), dtype=xb.dtype)
        _exp_rows_kernel.pick(xb.size)(xb, eb, s[:, 0], c[:, 0])
        return s, c
    return exp_rows
