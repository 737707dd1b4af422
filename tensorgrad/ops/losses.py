"""Classification losses: cross_entropy (fused log_softmax + NLL with class
weights, ignore_index, label smoothing, probability targets) and nll_loss."""
import math

import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.grad_mode import GRAD_MODE
from ..autograd.node import Node
from . import _parallel, kernels
from ._checks import _array, _float_array, _same_device
from ._graph_helpers import shifted_input
from ._parallel import parallel_rows
from ._rowops import _as_shape, _rowdot, _scalar
from .softmax import _exp_rows

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
    z = x - c for a per-row shift c (0 when exp(x) is safe, else the row max),
    s = sum(e) (keepdims), z at the flat indices ``flat`` (when given) and z
    itself (when ``keep_z``)."""
    xp = backend.array_module(x)
    N = x.shape[0]
    e = xp.empty_like(x)
    z = xp.empty_like(x) if keep_z else None
    s = xp.empty((N, 1) + x.shape[2:], dtype=x.dtype)
    zt = None if flat is None else xp.empty(flat.shape, dtype=x.dtype)
    row = math.prod(x.shape[1:])

    def run(lo, hi):
        xb, eb = x[lo:hi], e[lo:hi]
        s[lo:hi], c = _exp_rows(xb, eb)
        if flat is not None:
            zb = xb.reshape(-1)[flat[lo:hi] - lo * row]
            if c is not None:
                zb -= c.reshape(zb.shape)
            zt[lo:hi] = zb
        if keep_z:
            if c is None:
                z[lo:hi] = xb
            else:
                xp.subtract(xb, c, out=z[lo:hi])
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

    def backward_graph(self, g):
        # sum(q) * softmax(x) * gl - q * gl on the (N, C[, R]) layout, the softmax recomputed from
        # log(e) = x minus a per-row shift (softmax ignores it); q is a constant dense array
        from .softmax import log_softmax, softmax  # noqa: PLC0415
        e, inv_s, flat, q_t, q_c, qsum, wt_grad, logp, scale, lshape, shape = self.saved
        xp = backend.array_module(e)
        gl = g * Tensor._wrap(xp.asarray(scale)) if scale is not None else g.reshape(lshape)
        glc = gl if gl.ndim == 0 else gl.unsqueeze(1)
        cdim = 0 if len(shape) == 1 else 1
        with np.errstate(divide='ignore'):
            x = self.input(0, xp.log(e).reshape(shape))
        x3 = x.reshape(e.shape)
        gin = gt = None
        if self.next[0] is not None:
            q = xp.zeros(e.shape, dtype=e.dtype)
            if q_c is not None:
                q += q_c
            if flat is not None:
                q.reshape(-1)[flat] += q_t
            qsum_t = Tensor._wrap(xp.asarray(qsum, dtype=e.dtype))
            q_t = Tensor._wrap(q)
            if len(self.next) > 1 and self.next[1] is not None:  # q = target * wt_grad + const: value
                dq = shifted_input(self, 1, xp.zeros(shape, dtype=e.dtype)).reshape(e.shape)  # q, slope
                q_t = q_t + dq * Tensor._wrap(xp.asarray(wt_grad, dtype=e.dtype))            # wt_grad
                qsum_t = q_t.sum(1)
            coef = gl * qsum_t
            coef = coef if coef.ndim == 0 else coef.unsqueeze(1)
            gin = (softmax(x, cdim).reshape(e.shape) * coef - q_t * glc).reshape(shape)
        if len(self.next) > 1 and self.next[1] is not None:
            gt = (log_softmax(x3, 1) * Tensor._wrap(xp.asarray(wt_grad, dtype=e.dtype)) * -glc).reshape(shape)
        return (gin,) if len(self.next) == 1 else (gin, gt)


def _reduce(loss, reduction, denom, xp, dt, lshape_out, all_ignored=False):
    """(output, scale of the upstream gradient or None for 'none'). The mean over
    no target (``all_ignored``) is 0 / 0, nan, with a zero gradient, as PyTorch's."""
    if reduction == 'mean':
        if all_ignored:
            with np.errstate(invalid='ignore'):
                return loss.sum() / denom, xp.zeros((), dtype=dt)
        return loss.sum() / denom, (1 / xp.asarray(denom, dtype=dt)).astype(dt)
    if reduction == 'sum':
        return loss.sum(), xp.asarray(1, dtype=dt)
    return loss.reshape(lshape_out), None


def _nll_rows(x, t, wd, ignore_index):
    """The fused log_softmax + NLL of the plain path over the rows of NumPy
    logits ``x`` (N, C) at the class indices ``t`` (N,): (loss, w_t, flat, e,
    inv_s, ignored) with ``loss`` (N,) each row's loss times its weight ``w_t``
    (N,) (the class weight of its target, 0 when ignored; None: all 1), ``flat``
    the flat indices of the targets in ``x`` (an ignored row's points at its
    class 0), ``e`` the shifted exp of ``x``, ``inv_s`` (N, 1) the inverses of
    its row sums and ``ignored`` the number of ignored targets.
    None for what the general path must do: here a class weight, an ignored or
    out of range target, or a size for the row-parallel kernels (the compiled
    version: only a target out of range, where the general path raises)."""
    N, C = x.shape
    if wd is not None or x.size >= _parallel._PARALLEL_MIN or 0 <= ignore_index < C or t.min() < 0 or t.max() >= C:
        return None
    e = np.empty_like(x)
    s, c = _exp_rows(x, e)
    flat = np.arange(N) * C
    flat += t
    picked = x.reshape(-1)[flat]
    if c is not None:  # z = x - c per row, before any sum: the loss of a row must not depend on the others'
        picked -= c[:, 0]
    loss = np.log(s[:, 0])
    loss -= picked
    return loss, None, flat, e, np.reciprocal(s, out=s), 0


def _cross_entropy_plain(input, target, weight, ignore_index, reduction):  # noqa: A002
    """cross_entropy in its most common form (logits (N, C) on the CPU, class
    indices, no smoothing; a class weight and ignored targets where ``_nll_rows``
    takes them) with few small-array operations, which dominate small inputs;
    None for anything else (the general path validates and handles it)."""
    if input.__class__ is not Tensor or target.__class__ is not Tensor:
        return None
    xd, td = input._data, target._data
    if (xd.__class__ is not np.ndarray or td.__class__ is not np.ndarray or xd.ndim != 2 or td.ndim != 1
            or xd.dtype.kind != 'f' or td.dtype.kind not in 'iu' or td.shape[0] != xd.shape[0]
            or not td.size or reduction not in _REDUCTIONS):
        return None
    N, C = xd.shape
    dt = xd.dtype
    wd = None
    if weight is not None:
        wd = weight._data if weight.__class__ is Tensor else None
        if wd.__class__ is not np.ndarray or wd.dtype != dt or wd.shape != (C,):
            return None
    rows = _nll_rows(xd, td, wd, ignore_index)
    if rows is None:
        return None
    loss, w_t, flat, e, inv_s, ignored = rows
    one = dt.type(1)
    if reduction == 'none':
        out, scale = loss, None
    elif reduction == 'sum':
        out, scale = np.asarray(loss.sum(), dtype=dt), np.asarray(one)
    elif w_t is None:
        scale = dt.type(1.0 / N)
        out = np.asarray(loss.sum() * scale, dtype=dt)
        scale = np.asarray(scale)
    else:
        with np.errstate(divide='ignore', invalid='ignore'):  # zero total weight: nan, as PyTorch
            denom = w_t.sum()
            out = np.asarray(loss.sum() / denom, dtype=dt)
            scale = np.asarray(dt.type(0) if ignored == N else one / denom)  # (see _reduce)
    q_t = one if w_t is None else w_t
    saved = (e, inv_s, flat, q_t, None, q_t, None, None, scale, (N,), xd.shape)
    return track(out, CrossEntropyBackward, (input,), saved)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean',  # noqa: A002
                  label_smoothing=0.0):
    """Cross entropy between logits ``input`` (C), (N, C) or (N, C, d1, ...) and
    ``target``: class indices (integer, shape without C) or class probabilities
    (float, same shape as input). Fused log_softmax + NLL as PyTorch's
    ``F.cross_entropy`` (class ``weight``, ``ignore_index``, ``label_smoothing``)."""
    op = 'cross_entropy'
    if not label_smoothing:
        out = _cross_entropy_plain(input, target, weight, ignore_index, reduction)
        if out is not None:
            return out
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
    # class-index targets: the weight is treated as a constant (PyTorch refuses a weight that
    # requires grad there; tensorgrad's documented tensor() requires grad by default)
    if probs and isinstance(weight, Tensor) and weight._rg and GRAD_MODE.enabled:
        return _cross_entropy_probs_composite(input, target, weight, reduction, label_smoothing)
    xp = backend.array_module(x)
    dt = x.dtype
    eps = float(label_smoothing)
    one = _scalar(1, dt)
    wc = None if wd is None else (wd if x.ndim == 2 else wd[:, None])  # broadcasts over (N, C[, R])
    lshape = (N,) + x.shape[2:]  # one loss per sample (and position)
    flat = logp = wt_grad = q_t = None
    all_ignored = False
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
        if target._rg:
            wt_grad = _scalar(1 - eps, dt) if wc is None else wc * _scalar(1 - eps, dt)
        else:
            logp = None
    else:
        tsafe, vf = _class_targets(op, t, C, ignore_index, dt)
        all_ignored = vf is not None and not bool(vf.any())
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
                         () if scalar_in else (xd.shape[0],) + xd.shape[2:], all_ignored)
    out = xp.asarray(out, dtype=dt)
    inv_s = xp.reciprocal(s, out=s)
    qsum = xp.asarray(qsum, dtype=dt)  # per sample, or one scalar for all
    saved = (e, inv_s, flat, q_t, q_c, qsum, wt_grad, logp, scale, lshape, xd.shape)
    if probs:
        return track(out, CrossEntropyBackward, (input, target), saved, check=(target,))
    return track(out, CrossEntropyBackward, (input,), saved)


def _cross_entropy_probs_composite(input, target, weight, reduction, label_smoothing):  # noqa: A002
    """Probability-target cross entropy from differentiable ops, used when the class
    ``weight`` itself needs a gradient (the fused kernel gives none for it)."""
    from .softmax import log_softmax  # noqa: PLC0415 - rarely used
    cdim = 0 if input._data.ndim == 1 else 1
    C = input._data.shape[cdim]
    t = target
    if label_smoothing > 0:
        t = t * (1 - label_smoothing) + label_smoothing / C
    w = weight.reshape((C,) + (1,) * (input._data.ndim - cdim - 1))
    loss = -(log_softmax(input, cdim) * t * w).sum(cdim)
    if reduction == 'mean':
        return loss.sum() / max(loss._data.size, 1)
    return loss.sum() if reduction == 'sum' else loss


class NllLossBackward(Node):
    __slots__ = ()

    def backward(self, g):
        flat, w_t, scale, shape, lshape = self.saved
        xp = backend.array_module(g)
        gl = g.reshape(lshape) if scale is None else g * scale
        gx = xp.zeros(shape, dtype=g.dtype)
        gx.reshape(-1)[flat] = -(gl * w_t)
        return (gx,)

    def backward_graph(self, g):  # linear in g: a constant sparse matrix times the loss gradient
        flat, w_t, scale, shape, lshape = self.saved
        xp = backend.array_module(w_t)
        gl = g.reshape(lshape) if scale is None else g * Tensor._wrap(xp.asarray(scale))
        layout = (lshape[0], shape[1] if len(shape) > 1 else shape[0]) + tuple(lshape[1:])
        m = xp.zeros(math.prod(layout), dtype=w_t.dtype)
        m[flat.reshape(-1)] = xp.broadcast_to(w_t, flat.shape).reshape(-1)
        glc = gl if gl.ndim == 0 else gl.unsqueeze(1)
        return ((-(Tensor._wrap(m.reshape(layout)) * glc)).reshape(shape),)


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
    out, scale = _reduce(loss, reduction, w_t.sum(), xp, dt, () if scalar_in else (xd.shape[0],) + xd.shape[2:],
                         vf is not None and not bool(vf.any()))
    out = xp.asarray(out, dtype=dt)
    return track(out, NllLossBackward, (input,), (flat, w_t, scale, xd.shape, (N,) + x.shape[2:]))


kernels.hook(globals(), '_exp_rows', 'softmax.exp_rows')  # compiled when the numba backend is on
kernels.hook(globals(), '_nll_rows', 'cross_entropy.nll_rows')

EXPORTS = ('cross_entropy', 'nll_loss')
