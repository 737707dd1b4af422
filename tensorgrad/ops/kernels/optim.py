"""Compiled optimiser updates (float32 / float64) of SGD, Adam / AdamW, RMSprop
and Adagrad: one pass over the elements reads the gradient, the parameter and
its state once and writes them back, where the NumPy helpers make 3-13 array
passes. The formulas are PyTorch's, term for term, in the parameter's dtype
(the hyperparameters are cast to it, as NumPy's weak Python scalars are): the
maximize / L2 decay of the gradient, then the update.

The wrappers take the NumPy helpers' arguments and hand to them what the
kernels do not cover: CuPy arrays, other dtypes (float16, bfloat16), mixed
dtypes, size-0 parameters, and parameters or state that are not contiguous
or whose layout differs from the parameter's (a gradient of another layout
is copied into the parameter's). Arrays are passed flattened in the order the
parameter is contiguous in, so C- and F-ordered parameters both take the kernels."""
import math

import numpy as np
from numba import prange

from ._jit import kernel

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
# What the kernels get for a state array they do not use (no momentum, no amsgrad, ...): an array
# of its own, not another argument again, which would fail LLVM's run-time overlap check and run the
# scalar loop (measured, 4M float32: RMSprop 8.6 ms with square_avg passed thrice, 4.4 ms with this).
_UNUSED = {_F32: np.empty(0, _F32), _F64: np.empty(0, _F64)}
# elements from which the parallel builds run. These loops are memory-bound: measured at 2 threads
# (float32, wall clock, the machine's other core busy), serial vs parallel: SGD with momentum
# 262144: 100 vs 320 us, 1M: 2.06 vs 1.42 ms, 4M: 9.8 vs 10.1 ms; Adam 262144: 144 vs 434 us,
# 1M: 2.25 vs 2.08 ms, 4M: 15.4 vs 18.1 ms. Threads pay, if at all, only from ~1M elements.
_PARALLEL_MIN = 1 << 20


@kernel(parallel_min=_PARALLEL_MIN)
def _sgd(p, g, buf, first, lr, momentum, dampening, weight_decay, nesterov, maximize):
    lr, mom = p.dtype.type(lr), p.dtype.type(momentum)
    damp1 = p.dtype.type(1.0 - dampening)
    wd = p.dtype.type(weight_decay)
    for i in prange(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0.0:
            d = p[i] * wd + d
        if momentum != 0.0:
            if first:
                b = d
            elif dampening != 0.0:
                b = buf[i] * mom + damp1 * d
            else:
                b = buf[i] * mom + d
            buf[i] = b
            d = d + mom * b if nesterov else b
        p[i] = p[i] - lr * d


# The kernels divide with np.divide, not `/`: numba's `/` checks for a zero divisor (to raise
# Python's ZeroDivisionError), a branch that keeps LLVM from vectorising the loop (measured: a 4M
# float32 Adam step 15.5 ms with `/`, 2.9 ms with np.divide).
@kernel(parallel_min=_PARALLEL_MIN)
def _adam(p, g, m, v, vmax, amsgrad, decay, weight_decay, maximize, w1, beta2, bc2_sqrt, eps, step_size):
    t = p.dtype.type
    keep, wd = t(1.0 - decay), t(weight_decay)
    w1_, r1 = t(w1), t(1.0 - w1)  # lerp weight of exp_avg and, in lerp's large-weight form, 1 - weight
    b2, c2 = t(beta2), t(1.0 - beta2)
    bc2, eps_, lr_ = t(bc2_sqrt), t(eps), t(step_size)
    small = w1 < 0.5
    for i in prange(p.shape[0]):
        x = p[i]
        if decay != 0.0:
            x = x * keep
        d = -g[i] if maximize else g[i]
        if weight_decay != 0.0:
            d = x * wd + d
        mi = m[i]
        mi = mi + w1_ * (d - mi) if small else d - (d - mi) * r1  # torch's lerp_
        m[i] = mi
        vi = v[i] * b2 + (d * d) * c2
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            vi = vm if (vm != vm or vm >= vi) else vi  # np.maximum: NaN wins
            vmax[i] = vi
        p[i] = x - np.divide(mi, np.divide(math.sqrt(vi), bc2) + eps_) * lr_


@kernel(parallel_min=_PARALLEL_MIN)
def _rmsprop(p, g, sq, ga, buf, centered, has_momentum, lr, alpha, eps, weight_decay, momentum, maximize):
    t = p.dtype.type
    a, c = t(alpha), t(1.0 - alpha)  # square_avg's factors; c is also grad_avg's lerp weight
    r = t(1.0 - (1.0 - alpha))  # 1 - weight, of lerp's large-weight form
    small = 1.0 - alpha < 0.5
    lr_, eps_, wd, mom = t(lr), t(eps), t(weight_decay), t(momentum)
    for i in prange(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0.0:
            d = p[i] * wd + d
        s = sq[i] * a + (d * d) * c
        sq[i] = s
        if centered:
            gi = ga[i]
            gi = gi + c * (d - gi) if small else d - (d - gi) * r  # torch's lerp_
            ga[i] = gi
            s = s - gi * gi
        q = np.divide(d, math.sqrt(s) + eps_)
        if has_momentum:
            q = buf[i] * mom + q
            buf[i] = q
        p[i] = p[i] - q * lr_


@kernel(parallel_min=_PARALLEL_MIN)
def _adagrad(p, g, acc, clr, eps, weight_decay, maximize):
    t = p.dtype.type
    clr_, eps_, wd = t(clr), t(eps), t(weight_decay)
    for i in prange(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0.0:
            d = p[i] * wd + d
        s = acc[i] + d * d
        acc[i] = s
        p[i] = p[i] - np.divide(d, math.sqrt(s) + eps_) * clr_


def _order(data):
    """The order the kernels flatten parameter ``data`` in: ``'C'`` or ``'F'`` for a
    contiguous, non-empty NumPy float32 / float64 array; None for anything else."""
    # dtype by identity: NumPy's native float32 / float64 dtypes are singletons (a byte-swapped
    # one is not, and goes to NumPy); `dtype in (np.float32, np.float64)` cost ~0.5 us a call
    dt = data.dtype
    if data.__class__ is not np.ndarray or (dt is not _F32 and dt is not _F64) or not data.size:
        return None
    flags = data.flags
    return 'C' if flags.c_contiguous else 'F' if flags.f_contiguous else None


def _like(a, data, order):
    """Whether state array ``a`` has ``data``'s type and dtype and is contiguous in
    ``order`` (then both flatten to the same element order)."""
    if a.__class__ is not np.ndarray or a.dtype is not data.dtype:
        return False
    return a.flags.c_contiguous if order == 'C' else a.flags.f_contiguous


def _flat_grad(g, data, order):
    """The gradient flattened in ``order`` (a copy when it is not contiguous so),
    or None for another array type or dtype."""
    if g.__class__ is not np.ndarray or g.dtype is not data.dtype:
        return None
    return g.ravel(order)  # a view when g is contiguous in that order, else a copy


# Plain SGD (no momentum, decay or maximize) is two NumPy passes; below this many elements they
# beat the kernel's call (checks, views, numba's dispatch of 10 arguments: ~1.1 us). Measured per
# call, float32, NumPy / kernel: 256: 0.82 / 1.14 us, 1024: 1.00 / 1.20, 4096: 1.44 / 1.44,
# 16384: 4.06 / 2.63. With momentum the kernel is never slower (256: 1.54 / 1.43 us), Adam
# 2.9x faster from 1 element on (5.3 / 1.85 us).
_PLAIN_SGD_MIN = 4096


def sgd_update(numpy_fn):
    """``_sgd_update(data, g, buf, lr, momentum, dampening, weight_decay, nesterov,
    maximize) -> buf`` compiled (the hyperparameters are Python floats, as
    ``SGD._update`` passes them: other types would compile other builds)."""
    def sgd_update(data, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
        if not (momentum or weight_decay or maximize) and data.size < _PLAIN_SGD_MIN:
            return numpy_fn(data, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize)
        first = buf is None
        order = _order(data)
        fg = (_flat_grad(g, data, order) if order is not None and (first or not momentum or _like(buf, data, order))
              else None)
        if fg is None:
            return numpy_fn(data, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize)
        fp = data.ravel(order)
        if momentum:
            if first:
                buf = np.empty_like(data, order=order)
            fb = buf.ravel(order)
        else:
            fb = _UNUSED[data.dtype]
        _sgd.pick(fp.size)(fp, fg, fb, first, lr, momentum, dampening, weight_decay, bool(nesterov),
                           bool(maximize))
        return buf
    return sgd_update


def adam_update(numpy_fn):
    """``_adam_update(data, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay,
    decoupled, maximize)`` compiled (the hyperparameters are Python floats, as
    ``Adam._update`` passes them)."""
    def adam_update(data, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, decoupled, maximize):
        ams = vmax is not None
        order = _order(data)
        fg = (_flat_grad(g, data, order) if order is not None and _like(m, data, order) and _like(v, data, order)
              and (not ams or _like(vmax, data, order)) else None)
        if fg is None:
            return numpy_fn(data, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, decoupled, maximize)
        fv = v.ravel(order)
        fvmax = vmax.ravel(order) if ams else _UNUSED[data.dtype]
        _adam.pick(fv.size)(data.ravel(order), fg, m.ravel(order), fv, fvmax, ams,
                            lr * weight_decay if decoupled else 0.0, 0.0 if decoupled else weight_decay,
                            bool(maximize), 1.0 - beta1, beta2, math.sqrt(1.0 - beta2 ** step), eps,
                            lr / (1.0 - beta1 ** step))
    return adam_update


def rmsprop_update(numpy_fn):
    """``_rmsprop_update(data, g, sq, ga, buf, lr, alpha, eps, weight_decay, momentum,
    maximize)`` compiled (Python float hyperparameters, as ``RMSprop._update`` passes them)."""
    def rmsprop_update(data, g, sq, ga, buf, lr, alpha, eps, weight_decay, momentum, maximize):
        order = _order(data)
        fg = (_flat_grad(g, data, order) if order is not None and _like(sq, data, order)
              and (ga is None or _like(ga, data, order)) and (buf is None or _like(buf, data, order)) else None)
        if fg is None:
            return numpy_fn(data, g, sq, ga, buf, lr, alpha, eps, weight_decay, momentum, maximize)
        fs = sq.ravel(order)
        unused = _UNUSED[data.dtype]
        _rmsprop.pick(fs.size)(data.ravel(order), fg, fs, unused if ga is None else ga.ravel(order),
                               unused if buf is None else buf.ravel(order), ga is not None, buf is not None,
                               lr, alpha, eps, weight_decay, momentum, bool(maximize))
    return rmsprop_update


def adagrad_update(numpy_fn):
    """``_adagrad_update(data, g, acc, clr, eps, weight_decay, maximize)`` compiled
    (Python float hyperparameters, as ``Adagrad._update`` passes them)."""
    def adagrad_update(data, g, acc, clr, eps, weight_decay, maximize):
        order = _order(data)
        fg = _flat_grad(g, data, order) if order is not None and _like(acc, data, order) else None
        if fg is None:
            return numpy_fn(data, g, acc, clr, eps, weight_decay, maximize)
        _adagrad.pick(acc.size)(data.ravel(order), fg, acc.ravel(order), clr, eps, weight_decay, bool(maximize))
    return adagrad_update
