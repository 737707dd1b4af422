"""Fused neural-network kernels with hand-written backward passes: softmax,
log_softmax, linear, cross_entropy, nll_loss, layer_norm, batch_norm, gelu,
erf, dropout, embedding and scaled_dot_product_attention.

Each op is one graph node whose backward is O(n) (softmax backward is
``y * (g - sum(g * y))``, never a Jacobian). Arrays are computed in the
input's dtype: float32 stays float32.
"""
import math
import os

import numpy as np

from .. import backend
from .. import random as _random
from .._tensor import Tensor, track
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT
from .reduction import normalize_dims


# ---------------------------------------------------------------------- helpers
def _array(op, x, name='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x.data


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
    return normalize_dims(op, dim, ndim)[0] if ndim else 0


def _scalar(x, dt):
    return np.asarray(x, dtype=dt)[()]


def _as_shape(a, shape):
    """``a`` in ``shape``, as itself when it already has it (a reshaped view of a
    gradient makes the engine copy it for a leaf)."""
    return a if a.shape == shape else a.reshape(shape)


def _scatter_add(xp, target, index, values):
    """``target[index] += values`` with repeated indices accumulating."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx  # noqa: PLC0415 - cuda only
        cupyx.scatter_add(target, index, values)


# ---------------------------------------------------------------------- threads
# Threads for the row-parallel kernels below (softmax, losses, norms, erf, conv windows, pools):
# the available cores (at most 8), or TENSORGRAD_NUM_THREADS. On an idle 2-core machine two threads
# make softmax / cross_entropy ~1.5x and pools ~1.7x faster; on a heavily oversubscribed machine,
# or right after an OpenBLAS GEMM whose workers still spin, they can cost time: set 1 there.
def _default_threads():
    env = os.environ.get('TENSORGRAD_NUM_THREADS', '').strip()
    if env:
        return max(1, int(env))
    n = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
    return max(1, min(n, 8))


_NTHREADS = _default_threads()
_PARALLEL_MIN = 1 << 17  # elements: below this one thread is faster than handing work over
_executor = None
_executor_workers = 0


def set_num_threads(n):
    """Set how many threads tensorgrad's row-parallel CPU kernels use (PyTorch's
    name; NumPy's BLAS keeps its own setting)."""
    global _NTHREADS
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _NTHREADS = int(n)


def get_num_threads():
    """How many threads tensorgrad's row-parallel CPU kernels use."""
    return _NTHREADS


def _forget_executor():
    global _executor, _executor_workers
    _executor, _executor_workers = None, 0  # a forked child has none of the parent's worker threads


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forget_executor)


def parallel_rows(fn, rows, size, xp=np, block=None):
    """Call ``fn(lo, hi)`` on row ranges that cover ``[0, rows)``. Big NumPy
    inputs (``size`` elements) are split over ``_NTHREADS`` threads (NumPy
    releases the GIL inside its loops).
    ``block``: at most that many rows per call, so multi-pass kernels work on
    cache-resident pieces."""
    if size < _PARALLEL_MIN and block is None or xp is not np:
        fn(0, rows)
        return
    n = min(_NTHREADS, rows) if size >= _PARALLEL_MIN else 1
    bounds = [rows * i // n for i in range(n + 1)]

    def part(lo, hi):
        if block is None or hi - lo <= block:
            fn(lo, hi)
        else:
            for b in range(lo, hi, block):
                fn(b, min(b + block, hi))
    if n < 2:
        part(0, rows)
        return
    global _executor, _executor_workers
    if _executor is None or _executor_workers < n - 1:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415
        if _executor is not None:
            _executor.shutdown(wait=False)
        _executor, _executor_workers = ThreadPoolExecutor(n - 1, thread_name_prefix='tensorgrad'), n - 1
    futures = [_executor.submit(part, bounds[i], bounds[i + 1]) for i in range(1, n)]
    part(bounds[0], bounds[1])
    for f in futures:
        f.result()


def elementwise(fn, out, *arrays, block=1 << 15):
    """``out[...] = fn(*arrays)`` for same-shape arrays, computed blockwise over
    the flattened arrays (in cache, on several threads for big inputs)."""
    xp = backend.array_module(out)
    flat = [a.reshape(-1) for a in arrays]
    of = out.reshape(-1)

    def run(lo, hi):
        of[lo:hi] = fn(*(a[lo:hi] for a in flat))
    parallel_rows(run, of.size, of.size, xp, block)
    return out


def _rows_view(x, axis):
    """``x`` as (A, n) when ``axis`` is last, else (A, n, R), reducing over axis 1."""
    shape = x.shape
    axis %= len(shape)
    A = math.prod(shape[:axis])
    R = math.prod(shape[axis + 1:])
    return x.reshape(A, shape[axis]) if R == 1 else x.reshape(A, shape[axis], R)


def _rowdot(a, b):
    """sum(a * b) over axis 1 of (A, n) / (A, n, R) arrays, keeping the axis."""
    xp = backend.array_module(a)
    if a.ndim == 2:
        return xp.einsum('ij,ij->i', a, b)[:, None]
    return xp.einsum('ijk,ijk->ik', a, b)[:, None]


# ---------------------------------------------------------------------- softmax
def _softmax_array(x, axis):
    xp = backend.array_module(x)
    x2 = _rows_view(x, axis)
    out = xp.empty_like(x2)

    def run(lo, hi):
        xb, ob = x2[lo:hi], out[lo:hi]
        xp.subtract(xb, xb.max(axis=1, keepdims=True), out=ob)
        xp.exp(ob, out=ob)
        s = ob.sum(axis=1, keepdims=True)
        ob *= xp.reciprocal(s, out=s)
    parallel_rows(run, x2.shape[0], x2.size, xp)
    return out.reshape(x.shape)


def _log_softmax_arrays(x, axis):
    """(log_softmax(x), exp(x - max), 1 / sum(exp(x - max))) along ``axis``; the
    last two give the softmax in backward without another exp."""
    xp = backend.array_module(x)
    x2 = _rows_view(x, axis)
    out = xp.empty_like(x2)
    e = xp.empty_like(x2)
    inv_s = xp.empty((x2.shape[0], 1) + x2.shape[2:], dtype=x.dtype)

    def run(lo, hi):
        xb, ob, eb = x2[lo:hi], out[lo:hi], e[lo:hi]
        xp.subtract(xb, xb.max(axis=1, keepdims=True), out=ob)
        xp.exp(ob, out=eb)
        s = eb.sum(axis=1, keepdims=True)
        ob -= xp.log(s)
        xp.reciprocal(s, out=inv_s[lo:hi])
    parallel_rows(run, x2.shape[0], x2.size, xp)
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


class SoftmaxBackward(Node):
    __slots__ = ()

    def backward(self, g):
        y, axis = self.saved
        return (_softmax_backward(y, g, axis),)


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
            c = gb.sum(axis=1, keepdims=True)
            c *= inv_s[lo:hi]
            xp.multiply(e[lo:hi], c, out=ob)
            xp.subtract(gb, ob, out=ob)
        parallel_rows(run, e.shape[0], e.size, xp)
        return (out,)


def softmax(x, dim=-1):
    """Softmax over ``dim`` (numerically stable: the max is subtracted first)."""
    xd = _float_array('softmax', x)
    axis = _axis('softmax', dim, xd.ndim)
    if xd.ndim == 0:
        return track(np.ones_like(xd), SoftmaxBackward, (x,), (np.ones_like(xd), 0))
    y = _softmax_array(xd, axis)
    return track(y, SoftmaxBackward, (x,), (y, axis), check_out=True)


def log_softmax(x, dim=-1):
    """Logarithm of the softmax over ``dim``, computed stably as ``x - logsumexp(x)``."""
    xd = _float_array('log_softmax', x)
    axis = _axis('log_softmax', dim, xd.ndim)
    if xd.ndim == 0:
        return track(np.zeros_like(xd), SoftmaxBackward, (x,), (np.ones_like(xd), 0))
    y, e, inv_s = _log_softmax_arrays(xd, axis)
    return track(y, LogSoftmaxBackward, (x,), (e, inv_s, xd.shape))


# ---------------------------------------------------------------------- linear
class LinearBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, w = self.saved
        gx = gw = gb = None
        if self.next[0] is not None:
            gx = g @ w
        if self.next[1] is not None or self.next[2] is not None:
            g2 = g.reshape(-1, g.shape[-1])
            if self.next[1] is not None:
                gw = g2.T @ x.reshape(-1, x.shape[-1])
            if self.next[2] is not None:
                gb = g2.sum(axis=0)
        return gx, gw, gb


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features)."""
    xd = _float_array('linear', x)
    wd = _float_array('linear', weight, 'weight')
    _same_device('linear', xd, wd, 'input', 'weight')
    if wd.ndim != 2:
        raise ValueError(f"linear: weight of shape {wd.shape} must be 2-D (out_features, in_features)")
    if xd.ndim == 0 or xd.shape[-1] != wd.shape[1]:
        raise ValueError(f"linear: input of shape {xd.shape} does not match weight of shape {wd.shape} "
                         f"(last input dimension must be {wd.shape[1]})")
    bd = None
    if bias is not None:
        bd = _float_array('linear', bias, 'bias')
        _same_device('linear', xd, bd, 'input', 'bias')
        if bd.shape != (wd.shape[0],):
            raise ValueError(f"linear: bias of shape {bd.shape} does not match weight of shape {wd.shape} "
                             f"(expected ({wd.shape[0]},))")
    if xd.dtype != wd.dtype:
        raise TypeError(f"linear: input dtype {xd.dtype} and weight dtype {wd.dtype} differ")
    if xd.ndim > 2:
        out = (xd.reshape(-1, xd.shape[-1]) @ wd.T).reshape(*xd.shape[:-1], wd.shape[0])
    else:
        out = xd @ wd.T
    if bd is not None:
        out += bd
    return track(out, LinearBackward, (x, weight, bias), (xd, wd), check=(x, weight))


# ---------------------------------------------------------------------- losses
_REDUCTIONS = ('mean', 'sum', 'none')


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _class_weight(op, weight, xd, C):
    if weight is None:
        return None
    wd = _float_array(op, weight, 'weight')
    _same_device(op, xd, wd, 'input', 'weight')
    if wd.shape != (C,):
        raise ValueError(f"{op}: weight of shape {wd.shape} must have one entry per class, expected ({C},)")
    return wd.astype(xd.dtype, copy=False)


def _loss_layout(op, xd, td, class_index):
    """Validate shapes; return (x, t, scalar_input) with x of shape (N, C) or (N, C, R)."""
    if xd.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (C,), got a scalar")
    if xd.ndim == 1:  # (C,) with a scalar class index or a (C,) probability target
        want = () if class_index else xd.shape
        if td.shape != want:
            raise ValueError(f"{op}: target of shape {td.shape} does not match input of shape {xd.shape} "
                             f"(expected {want})")
        return xd[None], td[None], True
    want = (xd.shape[0],) + xd.shape[2:] if class_index else xd.shape
    if td.shape != want:
        raise ValueError(f"{op}: target of shape {td.shape} does not match input of shape {xd.shape} "
                         f"(expected {want})")
    if xd.ndim > 3:
        B, C = xd.shape[:2]
        xd = xd.reshape(B, C, -1)
        td = td.reshape(B, -1) if class_index else td.reshape(B, C, -1)
    return xd, td, False


def _class_targets(op, t, C, ignore_index, dt):
    """Validate class indices; return (index, valid) with ignored targets pointing
    at class 0 and ``valid`` their float mask, or None when nothing is ignored."""
    xp = backend.array_module(t)
    if t.size == 0:
        return t.astype(np.intp), None
    lo, hi = int(t.min()), int(t.max())
    if 0 <= lo and hi < C:
        if not 0 <= ignore_index < C:
            return t.astype(np.intp, copy=False), None
        valid = t != ignore_index
    else:
        valid = t != ignore_index
        bad = ((t < 0) | (t >= C)) & valid
        if bad.any():
            raise IndexError(f"{op}: target values must lie in [0, {C}) (or equal ignore_index "
                             f"{ignore_index}), got {int(t[bad].reshape(-1)[0])}")
    if bool(valid.all()):
        return t.astype(np.intp, copy=False), None
    return xp.where(valid, t, 0).astype(np.intp, copy=False), valid.astype(dt)


def _flat_index(shape, t):
    """Flat indices of the elements (n, t[n], r) of a C-contiguous array of ``shape``
    (N, C) / (N, C, R), for class indices ``t`` (N,) / (N, R)."""
    xp = backend.array_module(t)
    N, C = shape[:2]
    if len(shape) == 2:
        return xp.arange(N) * C + t
    R = shape[2]
    return (xp.arange(N)[:, None] * C + t) * R + xp.arange(R)


def _col(v):
    """Per-sample array (N,) / (N, R) made to broadcast over the class axis; scalars pass."""
    return v if v.ndim == 0 else v[:, None]


def _rows(a, lo, hi):
    """Rows lo:hi of a per-row operand, or the operand itself when it broadcasts over rows."""
    return a if a.ndim == 0 or a.shape[0] == 1 else a[lo:hi]


def _shifted_exp(x, flat=None, keep_z=False):
    """Log-softmax pieces over axis 1 of (N, C) / (N, C, R) ``x``: e = exp(z) with
    z = x - max, s = sum(e) (keepdims), z at the flat indices ``flat`` (when
    given) and z itself (when ``keep_z``)."""
    xp = backend.array_module(x)
    N = x.shape[0]
    e = xp.empty_like(x)
    z = xp.empty_like(x) if keep_z else None
    s = xp.empty((N, 1) + x.shape[2:], dtype=x.dtype)
    zt = None if flat is None else xp.empty(flat.shape, dtype=x.dtype)
    row = math.prod(x.shape[1:])

    def run(lo, hi):
        xb, eb = x[lo:hi], e[lo:hi]
        zb = z[lo:hi] if keep_z else eb
        xp.subtract(xb, xb.max(axis=1, keepdims=True), out=zb)
        if flat is not None:
            zt[lo:hi] = zb.reshape(-1)[flat[lo:hi] - lo * row]
        xp.exp(zb, out=eb)
        eb.sum(axis=1, keepdims=True, out=s[lo:hi])
    parallel_rows(run, N, x.size, xp)
    return e, s, zt, z


class CrossEntropyBackward(Node):
    __slots__ = ()

    def backward(self, g):
        e, inv_s, flat, q_t, q_c, qsum, wt_grad, logp, scale, lshape, shape = self.saved
        xp = backend.array_module(e)
        # q: the effective target distribution; d loss / d x = sum(q) * softmax(x) - q
        gl = g * scale if scale is not None else g.reshape(lshape)
        gin = gt = None
        if self.next[0] is not None:
            coef = _col(gl * qsum) * inv_s
            glc = _col(gl)
            gx = xp.empty(shape, dtype=e.dtype)
            gin = gx.reshape(e.shape)

            def run(lo, hi):
                ob = gin[lo:hi]
                xp.multiply(e[lo:hi], coef[lo:hi], out=ob)
                if q_c is not None:  # dense part of q (probability targets, label smoothing)
                    ob -= _rows(q_c, lo, hi) * _rows(glc, lo, hi)
            parallel_rows(run, e.shape[0], e.size, xp)
            if flat is not None:
                gx.reshape(-1)[flat] -= q_t * gl  # each (n, r) once: no accumulation needed
            gin = gx
        if len(self.next) > 1 and self.next[1] is not None:
            gt = _as_shape(logp * wt_grad * _col(-gl), shape)
        return (gin,) if len(self.next) == 1 else (gin, gt)


def _reduce(loss, reduction, denom, xp, dt, lshape_out):
    """(output, scale of the upstream gradient or None for 'none')."""
    if reduction == 'mean':
        return loss.sum() / denom, (1 / xp.asarray(denom, dtype=dt)).astype(dt)
    if reduction == 'sum':
        return loss.sum(), xp.asarray(1, dtype=dt)
    return loss.reshape(lshape_out), None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean',  # noqa: A002
                  label_smoothing=0.0):
    """Cross entropy between logits ``input`` (C), (N, C) or (N, C, d1, ...) and
    ``target``: class indices (integer, shape without C) or class probabilities
    (float, same shape as input). Fused log_softmax + NLL as PyTorch's
    ``F.cross_entropy`` (class ``weight``, ``ignore_index``, ``label_smoothing``)."""
    op = 'cross_entropy'
    xd = _float_array(op, input)
    td = _array(op, target, 'target')
    _same_device(op, xd, td, 'input', 'target')
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    probs = td.dtype.kind == 'f'
    if not probs and td.dtype.kind not in 'iu':
        raise TypeError(f"{op}: target must hold class indices (integers) or probabilities (floats), "
                        f"got dtype {td.dtype}")
    x, t, scalar_in = _loss_layout(op, xd, td, not probs)
    N, C = x.shape[:2]
    wd = _class_weight(op, weight, xd, C)
    xp = backend.array_module(x)
    dt = x.dtype
    eps = float(label_smoothing)
    one = _scalar(1, dt)
    wc = None if wd is None else (wd if x.ndim == 2 else wd[:, None])  # broadcasts over (N, C[, R])
    lshape = (N,) + x.shape[2:]  # one loss per sample (and position)
    flat = logp = wt_grad = q_t = None
    if probs:
        tt = t.astype(dt, copy=False)
        if eps > 0:
            tt = tt * _scalar(1 - eps, dt) + _scalar(eps / C, dt)
        q_c = tt if wc is None else tt * wc
        e, s, _, z = _shifted_exp(x, keep_z=True)
        logp = z
        logp -= xp.log(s)
        loss = -_rowdot(logp, q_c)[:, 0]
        qsum = q_c.sum(axis=1)
        denom = _scalar(loss.size, dt)
        if target.requires_grad:
            wt_grad = _scalar(1 - eps, dt) if wc is None else wc * _scalar(1 - eps, dt)
        else:
            logp = None
    else:
        tsafe, vf = _class_targets(op, t, C, ignore_index, dt)
        flat = _flat_index(x.shape, tsafe)
        # per-sample weight of the target class (1 when unweighted and nothing ignored)
        w_t = (one if vf is None else vf) if wd is None else (wd[tsafe] if vf is None else wd[tsafe] * vf)
        e, s, zt, z = _shifted_exp(x, flat, keep_z=eps > 0)
        lse = xp.log(s)[:, 0]
        q_t = w_t * _scalar(1 - eps, dt) if eps > 0 else w_t
        loss = (lse - zt) * q_t
        qsum = q_t
        q_c = None
        if eps > 0:
            wsum = _scalar(C if wd is None else wd.sum(), dt)
            zw = z.sum(axis=1) if wc is None else (z * wc).sum(axis=1)
            k = _scalar(eps / C, dt)
            smooth = (lse * wsum - zw) * k
            loss = loss + (smooth if vf is None else smooth * vf)
            kw = k * (wc if wc is not None else one)
            q_c = (kw if kw.ndim == 0 else kw[None]) if vf is None else _col(vf) * kw
            qsum = qsum + (k * wsum if vf is None else vf * (k * wsum))
        denom = _scalar(loss.size, dt) if wd is None and vf is None else w_t.sum()
    out, scale = _reduce(loss.astype(dt, copy=False), reduction, denom, xp, dt,
                         () if scalar_in else (xd.shape[0],) + xd.shape[2:])
    out = xp.asarray(out, dtype=dt)
    inv_s = xp.reciprocal(s, out=s)
    qsum = xp.asarray(qsum, dtype=dt)  # per sample, or one scalar for all
    saved = (e, inv_s, flat, q_t, q_c, qsum, wt_grad, logp, scale, lshape, xd.shape)
    if probs:
        return track(out, CrossEntropyBackward, (input, target), saved, check=(target,))
    return track(out, CrossEntropyBackward, (input,), saved)


class NllLossBackward(Node):
    __slots__ = ()

    def backward(self, g):
        flat, w_t, scale, shape, lshape = self.saved
        xp = backend.array_module(g)
        gl = g.reshape(lshape) if scale is None else g * scale
        gx = xp.zeros(shape, dtype=g.dtype)
        gx.reshape(-1)[flat] = -(gl * w_t)
        return (gx,)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean'):  # noqa: A002
    """Negative log likelihood of log-probabilities ``input`` (C), (N, C) or
    (N, C, d1, ...) at the class indices ``target``, as PyTorch's ``F.nll_loss``."""
    op = 'nll_loss'
    xd = _float_array(op, input)
    td = _array(op, target, 'target')
    _same_device(op, xd, td, 'input', 'target')
    _check_reduction(op, reduction)
    if td.dtype.kind not in 'iu':
        raise TypeError(f"{op}: target must hold class indices (integers), got dtype {td.dtype}")
    x, t, scalar_in = _loss_layout(op, xd, td, True)
    N, C = x.shape[:2]
    wd = _class_weight(op, weight, xd, C)
    xp = backend.array_module(x)
    dt = x.dtype
    tsafe, vf = _class_targets(op, t, C, ignore_index, dt)
    flat = _flat_index(x.shape, tsafe)
    w_t = xp.ones(tsafe.shape, dtype=dt) if vf is None else vf
    if wd is not None:
        w_t = wd[tsafe] * w_t
    picked = x.reshape(-1)[flat] if x.flags.c_contiguous else xp.take_along_axis(x, tsafe[:, None], 1)[:, 0]
    loss = -picked * w_t
    out, scale = _reduce(loss, reduction, w_t.sum(), xp, dt, () if scalar_in else (xd.shape[0],) + xd.shape[2:])
    out = xp.asarray(out, dtype=dt)
    return track(out, NllLossBackward, (input,), (flat, w_t, scale, xd.shape, (N,) + x.shape[2:]))


# ---------------------------------------------------------------------- normalisation
class LayerNormBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xhat, rstd, w, M, shape = self.saved
        xp = backend.array_module(xhat)
        g2 = g.reshape(-1, M)
        gw = gb = gx = None
        if self.next[1] is not None:
            gw = _as_shape(xp.einsum('ij,ij->j', g2, xhat), shape)
        if self.next[2] is not None:
            gb = _as_shape(g2.sum(axis=0), shape)
        if self.next[0] is not None:
            out = xp.empty(g.shape, dtype=xhat.dtype)
            gx = out.reshape(xhat.shape)
            inv_m = _scalar(1.0 / M, xhat.dtype)

            def run(lo, hi):
                # gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w
                gb_, xb, ob = g2[lo:hi], xhat[lo:hi], gx[lo:hi]
                gh = gb_ * w if w is not None else gb_
                a = gh.sum(axis=1, keepdims=True)
                a *= inv_m
                c = _rowdot(gh, xb)
                c *= inv_m
                xp.multiply(xb, c, out=ob)
                xp.subtract(gh, ob, out=ob)
                ob -= a
                ob *= rstd[lo:hi]
            parallel_rows(run, xhat.shape[0], xhat.size, xp)
            gx = out
        return gx, gw, gb


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims to zero mean, unit
    (biased) variance, then scale by ``weight`` and shift by ``bias``."""
    op = 'layer_norm'
    xd = _float_array(op, x)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or xd.ndim < k or xd.shape[xd.ndim - k:] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the trailing dimensions "
                         f"of input of shape {xd.shape}")
    wd = bd = None
    for name, p in (('weight', weight), ('bias', bias)):
        if p is not None:
            pd = _float_array(op, p, name)
            _same_device(op, xd, pd, 'input', name)
            if pd.shape != shape:
                raise ValueError(f"layer_norm: {name} of shape {pd.shape} must have normalized_shape {shape}")
            if name == 'weight':
                wd = pd.reshape(-1)
            else:
                bd = pd.reshape(-1)
    xp = backend.array_module(xd)
    dt = xd.dtype
    M = int(np.prod(shape))
    x2 = xd.reshape(-1, M)
    N = x2.shape[0]
    xhat = xp.empty_like(x2)
    y = xp.empty_like(x2)
    rstd = xp.empty((N, 1), dtype=dt)
    inv_m, eps_ = _scalar(1.0 / M, dt), _scalar(eps, dt)

    def run(lo, hi):
        xb, hb, yb, rb = x2[lo:hi], xhat[lo:hi], y[lo:hi], rstd[lo:hi]
        mu = xb.sum(axis=1, keepdims=True)
        mu *= inv_m
        xp.subtract(xb, mu, out=hb)
        var = _rowdot(hb, hb)
        var *= inv_m
        var += eps_
        xp.sqrt(var, out=var)
        xp.reciprocal(var, out=rb)
        hb *= rb
        if wd is not None:
            xp.multiply(hb, wd, out=yb)
            if bd is not None:
                yb += bd
        elif bd is not None:
            xp.add(hb, bd, out=yb)
        else:
            yb[...] = hb
    parallel_rows(run, N, x2.size, xp)
    return track(y.reshape(xd.shape), LayerNormBackward, (x, weight, bias), (xhat, rstd, wd, M, shape),
                 check=tuple(p for p in (weight,) if p is not None))


class BatchNormBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xhat, rstd, w, training, shape = self.saved  # xhat, g as (B, C, R)
        g3 = g.reshape(xhat.shape)
        gx = gw = gb = None
        need_w = self.next[1] is not None
        gsum = g3.sum(axis=2).sum(axis=0) if (need_w or self.next[2] is not None or training) else None
        gxs = (g3 * xhat).sum(axis=2).sum(axis=0) if (need_w or training) else None
        if need_w:
            gw = gxs
        if self.next[2] is not None:
            gb = gsum
        if self.next[0] is not None:
            xp = backend.array_module(g)
            scale = rstd if w is None else rstd * w  # (C,)
            out = xp.empty(shape, dtype=g.dtype)
            gx = out.reshape(g3.shape)
            if training:
                n = _scalar(1.0 / (xhat.shape[0] * xhat.shape[2]), g3.dtype)
                a = (gsum * n)[:, None]
                b = (gxs * n)[:, None]
                xp.subtract(g3, a, out=gx)
                gx -= xhat * b
                gx *= scale[:, None]
            else:
                xp.multiply(g3, scale[:, None], out=gx)
            gx = out
        return gx, gw, gb


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Batch normalisation of ``x`` (B, C) or (B, C, *) per channel C. In training
    the batch statistics are used and ``running_mean`` / ``running_var`` (when
    given) are updated in place with ``momentum`` (unbiased variance, as PyTorch);
    otherwise the running statistics are used."""
    op = 'batch_norm'
    xd = _float_array(op, x)
    if xd.ndim < 2:
        raise ValueError(f"batch_norm: input of shape {xd.shape} must be (B, C) or (B, C, *)")
    B, C = xd.shape[:2]
    params = {}
    for name, p in (('running_mean', running_mean), ('running_var', running_var), ('weight', weight),
                    ('bias', bias)):
        if p is not None:
            pd = _float_array(op, p, name)
            _same_device(op, xd, pd, 'input', name)
            if pd.shape != (C,):
                raise ValueError(f"batch_norm: {name} of shape {pd.shape} must have one entry per channel ({C},)")
            params[name] = pd
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    x3 = xd.reshape(B, C, -1)
    n = B * x3.shape[2]
    if training and n <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {xd.shape}")
    xp = backend.array_module(xd)
    dt = xd.dtype
    if training:
        mu = x3.mean(axis=2).mean(axis=0)
        xc = x3 - mu[:, None]
        var = (xc * xc).mean(axis=2).mean(axis=0)
        if running_mean is not None:
            m = _scalar(momentum, dt)
            rm = params['running_mean']
            rm *= 1 - m
            rm += m * mu.astype(rm.dtype, copy=False)
            running_mean._vc[0] += 1
        if running_var is not None:
            m = _scalar(momentum, dt)
            rv = params['running_var']
            rv *= 1 - m
            rv += (m * var * _scalar(n / (n - 1), dt)).astype(rv.dtype, copy=False)
            running_var._vc[0] += 1
    else:
        mu = params['running_mean'].astype(dt, copy=False)
        var = params['running_var'].astype(dt, copy=False)
        xc = x3 - mu[:, None]
    rstd = (1 / xp.sqrt(var + _scalar(eps, dt))).astype(dt, copy=False)
    xhat = xc
    xhat *= rstd[:, None]
    wd, bd = params.get('weight'), params.get('bias')
    if wd is not None:
        y = xhat * wd[:, None]
        if bd is not None:
            y += bd[:, None]
    elif bd is not None:
        y = xhat + bd[:, None]
    else:
        y = xhat.copy()
    return track(y.reshape(xd.shape), BatchNormBackward, (x, weight, bias),
                 (xhat, rstd, wd, bool(training), xd.shape), check=tuple(p for p in (weight,) if p is not None))


# ---------------------------------------------------------------------- erf, gelu
# Rational approximations of erf / erfc from Cephes (S. L. Moshier): erf(x) = x T(x^2) / U(x^2)
# for |x| < 1 and erfc(x) = exp(-x^2) P(x) / Q(x) for 1 <= x < 8.
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
          7.00332514112805075473E3, 5.55923013010394962768E4)
_ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
          2.26290000613890934246E4, 4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
           9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
           1.65666309194161350182E3, 5.57535340817727675546E2)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _polyval(coefs, x):
    acc = x * x.dtype.type(coefs[0])
    acc += x.dtype.type(coefs[1])
    for c in coefs[2:]:
        acc *= x
        acc += x.dtype.type(c)
    return acc


def _erf_kernel(xd):
    # both branches on the whole block, then one select: boolean-mask indexing costs more than the math
    xp = backend.array_module(xd)
    one, six = xd.dtype.type(1), xd.dtype.type(6)
    xc = xp.clip(xd, -six, six)  # beyond 6, erfc < 2e-17: erf rounds to +-1 even in float64
    z = xc * xc
    inner = xc * _polyval(_ERF_T, z)
    inner /= _polyval(_ERF_U, z)
    a = xp.abs(xc)
    small = a < one
    xp.maximum(a, one, out=a)
    erfc = xp.exp(-(a * a))
    erfc *= _polyval(_ERFC_P, a)
    erfc /= _polyval(_ERFC_Q, a)
    outer = xp.copysign(one - erfc, xc)  # NaN stays NaN
    return xp.where(small, inner, outer)


def _erf_array(x):
    """erf of a float array, computed in its own dtype (float16 in float32):
    within 1.4e-7 of the exact erf in float32, a few ulp in float64."""
    xd = x if x.dtype.itemsize >= 4 else x.astype(np.float32)
    out = elementwise(_erf_kernel, backend.array_module(xd).empty_like(xd), xd)
    return out.astype(x.dtype, copy=False)


class ErfBackward(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved
        xp = backend.array_module(x)
        return (g * (xp.exp(-(x * x)) * _scalar(_TWO_OVER_SQRT_PI, x.dtype)),)


def erf(x):
    """The Gauss error function, elementwise."""
    xd = _array('erf', x)
    if xd.dtype.kind != 'f':
        xd = xd.astype(DEFAULT_FLOAT)
    return track(_erf_array(xd), ErfBackward, (x,), (xd,), check=(x,))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GeluBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, aux, approximate = self.saved
        xp = backend.array_module(x)
        dt = x.dtype
        if approximate == 'tanh':
            t = aux
            inner = _scalar(_SQRT_2_OVER_PI, dt) * (1 + _scalar(3 * 0.044715, dt) * x * x)
            d = _scalar(0.5, dt) * (1 + t) + _scalar(0.5, dt) * x * (1 - t * t) * inner
        else:
            cdf = aux  # Phi(x)
            d = cdf + x * xp.exp(_scalar(-0.5, dt) * x * x) * _scalar(_INV_SQRT_2PI, dt)
        return (g * d,)


def gelu(x, approximate='none'):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the
    tanh approximation."""
    xd = _float_array('gelu', x)
    if approximate not in ('none', 'tanh'):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    xp = backend.array_module(xd)
    dt = xd.dtype
    if approximate == 'tanh':
        aux = xp.tanh(_scalar(_SQRT_2_OVER_PI, dt) * (xd + _scalar(0.044715, dt) * xd * xd * xd))
        y = _scalar(0.5, dt) * xd * (1 + aux)
    else:
        aux = _erf_array(xd * _scalar(1 / math.sqrt(2.0), dt))
        aux += 1
        aux *= _scalar(0.5, dt)
        y = xd * aux
    return track(y, GeluBackward, (x,), (xd, aux, approximate), check=(x,))


# ---------------------------------------------------------------------- dropout
class DropoutBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (g * self.saved,)


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability ``p`` and scale the
    rest by ``1 / (1 - p)``; the identity when not ``training`` or ``p == 0``."""
    xd = _float_array('dropout', x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    xp = backend.array_module(xd)
    dt = xd.dtype
    if p == 1:
        mask = xp.zeros(xd.shape, dtype=dt)
    else:
        u = _random.generator().random(xd.shape, dtype=np.float32)
        mask = (u >= np.float32(p)).astype(dt)
        mask *= _scalar(1.0 / (1.0 - p), dt)
        if xp is not np:
            mask = xp.asarray(mask)
    return track(xd * mask, DropoutBackward, (x,), mask)


# ---------------------------------------------------------------------- embedding
class EmbeddingBackward(Node):
    __slots__ = ()

    def backward(self, g):
        idx, wshape, padding_idx = self.saved
        xp = backend.array_module(g)
        flat = idx.reshape(-1)
        g2 = g.reshape(-1, wshape[1])
        if xp is np and flat.size > 64:
            # sort the rows by index, sum each run (reduceat), write each touched row once:
            # a few times faster than np.add.at for many repeated indices
            order = np.argsort(flat, kind='stable')
            fs = flat[order]
            starts = np.flatnonzero(np.concatenate(([True], fs[1:] != fs[:-1])))
            sums = np.add.reduceat(g2[order], starts, axis=0)
            gw = np.zeros(wshape, dtype=g.dtype)
            gw[fs[starts]] = sums
        else:
            gw = xp.zeros(wshape, dtype=g.dtype)
            _scatter_add(xp, gw, flat, g2)
        if padding_idx is not None:
            gw[padding_idx] = 0
        return (gw,)


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) at integer ``indices`` (any shape);
    the ``padding_idx`` row receives no gradient."""
    op = 'embedding'
    wd = _float_array(op, weight, 'weight')
    if isinstance(indices, Tensor):
        idx = indices.data
    else:
        idx = backend.array_module(wd).asarray(indices)
    _same_device(op, idx, wd, 'indices', 'weight')
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if wd.ndim != 2:
        raise ValueError(f"embedding: weight of shape {wd.shape} must be 2-D (num_embeddings, embedding_dim)")
    V = wd.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= V):
        raise IndexError(f"embedding: indices must lie in [0, {V}), got values in "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {V} embeddings")
        padding_idx = int(padding_idx) % V
    out = wd[idx]
    return track(out, EmbeddingBackward, (weight,), (idx, wd.shape, padding_idx),
                 check=(indices,) if isinstance(indices, Tensor) else None)


# ---------------------------------------------------------------------- attention
class AttentionBackward(Node):
    __slots__ = ()

    def backward(self, g):
        qs, k, v, a, pdrop, scale, keep = self.saved
        xp = backend.array_module(g)
        gq = gk = gv = gm = None
        if self.next[2] is not None:
            gv = xp.swapaxes(pdrop, -1, -2) @ g
        ga = g @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            ga *= keep
        gs = _softmax_backward(a, ga, a.ndim - 1)
        if self.next[3] is not None:
            gm = gs
        if self.next[0] is not None:
            gq = gs @ k
            gq *= scale
        if self.next[1] is not None:
            gk = xp.swapaxes(gs, -1, -2) @ qs  # qs = query * scale
        return gq, gk, gv, gm


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims
    (leading dims are batch dims and broadcast), as PyTorch's
    ``F.scaled_dot_product_attention``: a bool ``attn_mask`` marks with True the
    positions that take part, a float one is added to the scores; ``is_causal``
    masks the upper triangle; ``scale`` defaults to 1/sqrt(E)."""
    op = 'scaled_dot_product_attention'
    qd = _float_array(op, query, 'query')
    kd = _float_array(op, key, 'key')
    vd = _float_array(op, value, 'value')
    _same_device(op, qd, kd, 'query', 'key')
    _same_device(op, qd, vd, 'query', 'value')
    if qd.ndim < 2 or kd.ndim < 2 or vd.ndim < 2:
        raise ValueError(f"{op}: query, key and value must be at least 2-D (..., L, E), got shapes "
                         f"{qd.shape}, {kd.shape}, {vd.shape}")
    if qd.shape[-1] != kd.shape[-1] or kd.shape[-2] != vd.shape[-2]:
        raise ValueError(f"{op}: query {qd.shape}, key {kd.shape} and value {vd.shape} do not match "
                         f"(query and key need the same last dim, key and value the same length)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
    xp = backend.array_module(qd)
    dt = qd.dtype
    L, S = qd.shape[-2], kd.shape[-2]
    sc = _scalar(1.0 / math.sqrt(qd.shape[-1]) if scale is None else scale, dt)
    qs = qd * sc  # scaling the (L, E) query is cheaper than the (L, S) scores
    s = qs @ xp.swapaxes(kd, -1, -2)
    mask_t = None
    add = None  # additive mask: 0 where attending, -inf elsewhere
    if attn_mask is not None:
        md = attn_mask.data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
        _same_device(op, qd, md, 'query', 'attn_mask')
        try:
            np.broadcast_shapes(md.shape, s.shape)
        except ValueError:
            raise ValueError(f"{op}: attn_mask of shape {md.shape} cannot be broadcast to the attention "
                             f"scores of shape {s.shape}") from None
        if md.dtype == np.bool_:
            add = xp.where(md, _scalar(0, dt), _scalar(-np.inf, dt))
        else:
            add = md.astype(dt, copy=False)
            if isinstance(attn_mask, Tensor):
                mask_t = attn_mask
    elif is_causal:
        add = xp.where(xp.tril(xp.ones((L, S), dtype=bool)), _scalar(0, dt), _scalar(-np.inf, dt))
    if add is not None:
        if np.broadcast_shapes(add.shape, s.shape) == s.shape:
            s += add
        else:
            s = s + add
    a = _softmax_array(s, -1)
    keep = None
    pdrop = a
    if dropout_p > 0:
        if dropout_p == 1:
            keep = xp.zeros(a.shape, dtype=dt)
        else:
            u = _random.generator().random(a.shape, dtype=np.float32)
            keep = (u >= np.float32(dropout_p)).astype(dt)
            keep *= _scalar(1.0 / (1.0 - dropout_p), dt)
            if xp is not np:
                keep = xp.asarray(keep)
        pdrop = a * keep
    out = pdrop @ vd
    return track(out, AttentionBackward, (query, key, value, mask_t), (qs, kd, vd, a, pdrop, sc, keep),
                 check=(query, key, value))


TENSOR_METHODS = {'softmax': softmax, 'log_softmax': log_softmax, 'erf': erf}
EXPORTS = ('softmax', 'log_softmax', 'linear', 'cross_entropy', 'nll_loss', 'layer_norm', 'batch_norm', 'gelu',
           'erf', 'dropout', 'embedding', 'scaled_dot_product_attention', 'set_num_threads', 'get_num_threads')
