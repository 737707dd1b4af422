"""Softmax and log-softmax over one axis, fused forward and O(n) backward."""
import math

import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from . import _parallel, kernels
from ._checks import _axis, _float_array
from ._parallel import parallel_rows
from ._rowops import _ones, _rowdot, _rows_view, _rowsum

_BOUNDS = {}  # (dtype, row length) -> (largest x, smallest row sum, ones vector)


def _direct_exp_bounds(dt, n):
    """(largest x, smallest row sum, ones(n)) for which exp(x) needs no shift: no
    element overflows and each row's largest term stays a normal number."""
    b = _BOUNDS.get((dt, n))
    if b is None:
        fi = np.finfo(dt)
        if len(_BOUNDS) > 256:
            _BOUNDS.clear()
        b = _BOUNDS[dt, n] = (math.log(float(fi.max)) - math.log(n) - 1.0, float(fi.tiny) * 2.0 ** 24,
                              _ones(np, n, dt))
    return b


def _exp_rows(xb, eb, inplace=False):
    """``eb = exp(xb - c)`` with a shift ``c`` per row of axis 1 and the row sums
    of ``eb`` (keepdims); returns (sums, c) with ``c`` None for no shift.

    The shift only guards against overflow/underflow: for 2-D NumPy blocks whose
    values are in a safe range (checked by one fast global max and the row
    sums) ``exp(x)`` is used directly, which skips the slow per-row max of short
    rows and a subtraction pass; otherwise the row max is subtracted.
    ``inplace`` (``eb`` is ``xb``): the range is checked before the exp, with
    the global min, since a failed check after it could not start over."""
    if xb.__class__ is np.ndarray and xb.ndim == 2 and xb.size:
        top, tiny, ones = _direct_exp_bounds(xb.dtype, xb.shape[1])
        if xb.max() < top:  # False for NaN
            if inplace:
                if xb.min() > math.log(tiny):  # every row max is above it: no row sum underflows
                    np.exp(xb, out=eb)
                    return np.matmul(eb, ones)[:, None], None
            else:
                np.exp(xb, out=eb)
                s = np.matmul(eb, ones)[:, None]
                if s.min() > tiny:
                    return s, None
    xp = backend.array_module(xb)
    c = xb.max(axis=1, keepdims=True)
    xp.subtract(xb, c, out=eb)
    xp.exp(eb, out=eb)
    return (_rowsum(eb) if eb.ndim == 2 else eb.sum(axis=1, keepdims=True)), c


def _block(n):
    """Rows per block of a multi-pass row kernel: ~512 KiB of float32, so the
    passes after the first find the block in cache (measured: ~20% faster on
    arrays beyond the cache; smaller blocks cost more in calls than they save)."""
    return max(1, (1 << 17) // max(n, 1))


def _softmax_array(x, axis, out=None):
    """Softmax of an array along ``axis``; ``out`` may be ``x`` itself (in place)."""
    xp = backend.array_module(x)
    if not x.size:  # nothing to normalise (rows of length 0 included)
        return xp.empty_like(x) if out is None else out
    x2 = _rows_view(x, axis)
    out2 = xp.empty_like(x2) if out is None else out.reshape(x2.shape)
    inplace = out is x
    if x2.size < _parallel._PARALLEL_MIN:  # one block: no closure, no pool
        s, _ = _exp_rows(x2, out2, inplace)
        out2 *= xp.reciprocal(s, out=s)
        return out2 if out2.shape == x.shape else out2.reshape(x.shape)

    def run(lo, hi):
        ob = out2[lo:hi]
        s, _ = _exp_rows(x2[lo:hi], ob, inplace)
        ob *= xp.reciprocal(s, out=s)
    parallel_rows(run, x2.shape[0], x2.size, xp, _block(x2.shape[1]))
    return out2.reshape(x.shape)


def _log_softmax_arrays(x, axis):
    """(log_softmax(x), exp(x - c), 1 / sum(exp(x - c))) along ``axis``; the
    last two give the softmax in backward without another exp."""
    xp = backend.array_module(x)
    x2 = _rows_view(x, axis)
    out = xp.empty_like(x2)
    e = xp.empty_like(x2)
    inv_s = xp.empty((x2.shape[0], 1) + x2.shape[2:], dtype=x.dtype)

    def run(lo, hi):
        s, c = _exp_rows(x2[lo:hi], e[lo:hi])
        lse = xp.log(s)
        if c is None:
            xp.subtract(x2[lo:hi], lse, out=out[lo:hi])
        else:  # (x - c) - log(s): adding c to log(s) first would round away log(s)'s digits
            xp.subtract(x2[lo:hi], c, out=out[lo:hi])
            out[lo:hi] -= lse
        xp.reciprocal(s, out=inv_s[lo:hi])
    parallel_rows(run, x2.shape[0], x2.size, xp, _block(x2.shape[1]))
    return out.reshape(x.shape), e, inv_s


def _softmax_backward(y, g, axis):
    """y * (g - sum(g * y)) along ``axis``."""
    xp = backend.array_module(y)
    y2 = _rows_view(y, axis)
    g2 = g.reshape(y2.shape)
    # gradients are allocated in the input's shape (a reshaped view would make the engine copy a leaf's)
    out = xp.empty(y.shape, dtype=y.dtype)
    gx = out.reshape(y2.shape)

    def run(lo, hi):
        yb, gb, ob = y2[lo:hi], g2[lo:hi], gx[lo:hi]
        xp.subtract(gb, _rowdot(gb, yb), out=ob)
        ob *= yb
    parallel_rows(run, y2.shape[0], y2.size, xp)
    return out


def _rows_axis(shape, rows):
    """The axis of ``shape`` that ``_rows_view`` made axis 1 of ``rows`` (A, n[, R]); where several
    fit, they are all of size 1 and any serves."""
    R = rows[2] if len(rows) == 3 else 1
    return next(a for a in range(len(shape)) if math.prod(shape[:a]) == rows[0] and shape[a] == rows[1]
                and math.prod(shape[a + 1:]) == R)


class SoftmaxBackward(Node):
    __slots__ = ()

    def backward(self, g):
        y, axis = self.saved
        if y.size == 0:
            return (backend.array_module(g).zeros(y.shape, dtype=g.dtype),)
        if y.ndim == 0:  # softmax of a scalar is constant: g - g (0, or nan for a non-finite g, as torch)
            with np.errstate(invalid='ignore'):
                return (g - g,)
        return (_softmax_backward(y, g, axis),)

    def backward_graph(self, g):  # y * (g - sum(g * y)), with y the recorded output
        y, axis = self.saved
        if y.ndim == 0 or y.size == 0:
            return (g * 0,)
        y = self.output(y)
        return (y * (g - (g * y).sum(axis, keepdim=True)),)


class LogSoftmaxBackward(Node):
    __slots__ = ()

    def backward(self, g):
        e, inv_s, shape = self.saved  # softmax = e * inv_s
        xp = backend.array_module(e)
        g2 = g.reshape(e.shape)
        out = xp.empty(shape, dtype=e.dtype)
        gx = out.reshape(e.shape)

        def run(lo, hi):
            gb, ob = g2[lo:hi], gx[lo:hi]
            c = _rowsum(gb) if gb.ndim == 2 else gb.sum(axis=1, keepdims=True)
            c *= inv_s[lo:hi]
            xp.multiply(e[lo:hi], c, out=ob)
            xp.subtract(gb, ob, out=ob)
        parallel_rows(run, e.shape[0], e.size, xp)
        return (out,)

    def backward_graph(self, g):  # g - softmax * sum(g), the softmax as exp of the recorded output
        e, inv_s, shape = self.saved
        axis = _rows_axis(shape, e.shape)
        with np.errstate(divide='ignore'):
            y = backend.array_module(e).log(e * inv_s).reshape(shape)
        p = self.output(y).exp()
        return (g - p * g.sum(axis, keepdim=True),)


def _zero_or_nan(xd):
    """0 where ``xd`` is finite, nan elsewhere: log_softmax over a single entry (torch's
    x - max gives inf - inf = nan for an infinite one)."""
    with np.errstate(invalid='ignore'):
        return xd - xd


def softmax(x, dim=-1, dtype=None):
    """Softmax over ``dim`` (numerically stable: the max is subtracted first);
    with ``dtype`` the input is cast to it first, as PyTorch."""
    if dtype is not None and isinstance(x, Tensor):
        x = x.to(dtype=dtype)
    xd = _float_array('softmax', x)
    axis = _axis('softmax', dim, xd.ndim)
    # PyTorch's softmax and log_softmax save their output: an in-place change of it raises
    # at backward, also where the gradient here needs no output (0-d, empty, log_softmax)
    if xd.ndim == 0:  # 1, or nan for a non-finite entry (exp(x - max) of inf - inf), as torch
        y = _zero_or_nan(xd) + 1
        return track(y, SoftmaxBackward, (x,), (y, 0), check_out=True)
    if xd.size == 0:  # nothing to normalise (rows of length 0 included), as torch
        y = backend.array_module(xd).empty(xd.shape, dtype=xd.dtype)
        return track(y, SoftmaxBackward, (x,), (y, axis), check_out=True)
    if xd.shape[axis] == 1:  # exactly 1 (exp(x) / exp(x) can be off by an ulp), nan where x is not finite
        y = _zero_or_nan(xd) + 1
        return track(y, SoftmaxBackward, (x,), (y, axis), check_out=True)
    y = _softmax_array(xd, axis)
    return track(y, SoftmaxBackward, (x,), (y, axis), check_out=True)


def log_softmax(x, dim=-1, dtype=None):
    """Logarithm of the softmax over ``dim``, computed stably as ``x - logsumexp(x)``;
    with ``dtype`` the input is cast to it first, as PyTorch."""
    if dtype is not None and isinstance(x, Tensor):
        x = x.to(dtype=dtype)
    xd = _float_array('log_softmax', x)
    axis = _axis('log_softmax', dim, xd.ndim)
    if xd.ndim == 0:
        return track(_zero_or_nan(xd), SoftmaxBackward, (x,), (np.ones_like(xd), 0), check_out=True)
    if xd.size == 0:
        y = backend.array_module(xd).empty(xd.shape, dtype=xd.dtype)
        return track(y, SoftmaxBackward, (x,), (y, axis), check_out=True)
    if xd.shape[axis] == 1:  # exactly 0, as torch; its gradient is zero (softmax of a single entry)
        xp = backend.array_module(xd)
        return track(_zero_or_nan(xd), SoftmaxBackward, (x,), (xp.ones(xd.shape, dtype=xd.dtype), axis),
                     check_out=True)
    y, e, inv_s = _log_softmax_arrays(xd, axis)
    return track(y, LogSoftmaxBackward, (x,), (e, inv_s, xd.shape), check_out=True)


# the compiled (numba) versions of the array-level kernels, when that backend is on
kernels.hook(globals(), '_softmax_array', 'softmax.softmax_array')
kernels.hook(globals(), '_log_softmax_arrays', 'softmax.log_softmax_arrays')
kernels.hook(globals(), '_softmax_backward', 'softmax.softmax_backward')

TENSOR_METHODS = {'softmax': softmax, 'log_softmax': log_softmax}
EXPORTS = ('softmax', 'log_softmax')
