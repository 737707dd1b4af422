"""Convolution and pooling over NCHW tensors: conv2d, conv1d, max_pool2d,
avg_pool2d, adaptive_avg_pool2d.

conv2d copies the strided windows of the padded input once (im2col, channel
major so the whole batch is one matrix) and multiplies them by the weight:
one GEMM per group, or one per sample written straight into the NCHW output
for large images. Its backward is two GEMMs; the input gradient goes back to
pixels by looping only over the kh*kw kernel offsets (each adds one strided
slice). Small stride-1 convolutions read their windows as "flat rows" (one
long run per kernel offset, see _im2col_flat). Pools loop over kernel offsets
the same way, never over pixels or batch. Large window buffers are pooled per
thread and reused once their graph is freed (fresh large arrays cost a page
fault per 4 KiB on first touch).
"""
import functools
import sys
import threading

import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.grad_mode import GRAD_MODE
from ..autograd.node import Node
from . import kernels
from ._parallel import parallel_rows


# ---------------------------------------------------------------------- arguments
def _pair(op, name, v):
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(a, (int, np.integer)) for a in v):
        return int(v[0]), int(v[1])
    if isinstance(v, (tuple, list)) and len(v) == 1 and isinstance(v[0], (int, np.integer)):
        return int(v[0]), int(v[0])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")


def _float_array(op, x, name='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    d = x._data
    if d.dtype.kind != 'f':
        raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {d.dtype}")
    return d


def _check_4d(op, xd):
    if xd.ndim != 4:
        raise ValueError(f"{op}: input of shape {xd.shape} must be 3-D (C, H, W) or 4-D (B, C, H, W)")


def unbatched(ndim):
    """Decorator: also accept PyTorch's unbatched input, with one dimension fewer
    than ``ndim`` (run as a batch of one; every output loses that batch dim)."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(input, *args, **kwargs):  # noqa: A002
            if isinstance(input, Tensor) and input.ndim == ndim - 1:
                out = fn(input.unsqueeze(0), *args, **kwargs)
                return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
            return fn(input, *args, **kwargs)
        return call
    return wrap


def _out_size(op, n, pad, k, stride, dil):
    out = (n + pad - dil * (k - 1) - 1) // stride + 1
    if out <= 0:
        raise ValueError(f"{op}: kernel of size {k} (dilation {dil}) does not fit the padded input of size "
                         f"{n + pad}")
    return out


def _pad(x, pads, value=0.0, out=None):
    """Pad the last two dims by (top, bottom, left, right) with ``value`` (into ``out``
    when given)."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right) and out is None:
        return x
    xp = backend.array_module(x)
    B, C, H, W = x.shape
    if out is None:
        out = xp.empty((B, C, H + top + bottom, W + left + right), dtype=x.dtype)
    if top:
        out[:, :, :top] = value
    if bottom:
        out[:, :, H + top:] = value
    if left:
        out[:, :, top:top + H, :left] = value
    if right:
        out[:, :, top:top + H, W + left:] = value
    out[:, :, top:top + H, left:left + W] = x
    return out


def _offset_slice(i, j, Ho, Wo, sh, sw):
    """Index of the (Ho, Wo) grid of window elements at kernel offset (i, j) (already dilated)."""
    return (slice(None), slice(None), slice(i, i + sh * (Ho - 1) + 1, sh), slice(j, j + sw * (Wo - 1) + 1, sw))


# ---------------------------------------------------------------------- convolution
def _im2col(xpad, kh, kw, sh, sw, dh, dw, Ho, Wo):
    """Contiguous channel-major (C, kh, kw, B, Ho, Wo) copy of the sliding windows
    of ``xpad`` (B, C, Hp, Wp): rows of the GEMM's right operand, with the whole
    batch in one matrix so forward and backward are single large GEMMs."""
    xp = backend.array_module(xpad)
    B, C = xpad.shape[:2]
    sB, sC, sH, sW = xpad.strides
    win = xp.lib.stride_tricks.as_strided(
        xpad, (C, kh, kw, B, Ho, Wo), (sC, sH * dh, sW * dw, sB, sH * sh, sW * sw))
    if win.flags.c_contiguous:
        return win
    return _copy_windows(win, xp)


def _copy_windows(win, xp):
    """Contiguous copy of a window view, split over threads by its first axis."""
    C = win.shape[0]
    cols = _pooled_empty(win.shape, win.dtype, xp)

    def run(lo, hi):
        cols[lo:hi] = win[lo:hi]
    parallel_rows(run, C, cols.size, xp)
    return cols


# Small stride-1 convolutions work on "flat rows": the windows of each kernel offset
# (i, j) are read as ONE run of Ho * Wp elements of the flattened padded plane,
# starting at i * dh * Wp + j * dw, instead of Ho runs of Wo elements (short rows make
# NumPy's copies slow). Each run then also covers the Wp - Wo positions between two
# output rows: their GEMM columns are computed and dropped (forward), and given a
# zero gradient (backward), which makes them add exactly nothing.
def _use_flat_rows(sh, sw, kh, kw, Wo, Wp, L):
    # measured: a win for rows of ~14 (CNN 14x14 layers), neutral at 30, a loss at 28 with
    # 1 input channel; the extra GEMM columns (Wp / Wo) must stay few
    return sh == 1 and sw == 1 and kh * kw > 1 and L < 1024 and Wo <= 20 and 4 * Wp <= 5 * Wo


def _im2col_flat(x4, pads, kh, kw, dh, dw, Ho, Wp):
    """(C, kh, kw, B, Ho * Wp) flat-row windows of ``x4`` (B, C, H, W) padded by ``pads``."""
    xp = backend.array_module(x4)
    B, C, H, _ = x4.shape
    Hp = H + pads[0] + pads[1]
    n = Hp * Wp
    tail = (kw - 1) * dw                     # the last run reads this far past the last plane
    flat = xp.empty(B * C * n + tail, dtype=x4.dtype)
    flat[B * C * n:] = 0
    _pad(x4, pads, out=flat[:B * C * n].reshape(B, C, Hp, Wp))
    it = flat.itemsize
    win = xp.lib.stride_tricks.as_strided(flat, (C, kh, kw, B, Ho * Wp),
                                          (n * it, dh * Wp * it, dw * it, C * n * it, it))
    return _copy_windows(win, xp)


def _col2im_flat(gcols, shape, pads, kh, kw, dh, dw, Ho, Wp, out_shape):
    """Sum the flat-row window gradients ``gcols`` (C, kh, kw, B, Ho * Wp) back onto an
    input of ``shape`` (B, C, H, W), returned in ``out_shape``: one contiguous-run add per
    kernel offset, on planes padded with a private tail (no run reaches another plane)."""
    xp = backend.array_module(gcols)
    B, C, H, W = shape
    Hp = H + pads[0] + pads[1]
    n = Hp * Wp
    m = n + (kw - 1) * dw
    buf = xp.zeros((C, B, m), dtype=gcols.dtype)
    it = buf.itemsize
    Lf = Ho * Wp

    def run(lo, hi):
        for i in range(kh):
            for j in range(kw):
                s = i * dh * Wp + j * dw
                dst = xp.lib.stride_tricks.as_strided(buf[lo:hi].reshape(-1)[s:], (hi - lo, B, Lf),
                                                      (B * m * it, m * it, it))
                dst += gcols[lo:hi, i, j]
    parallel_rows(run, C, gcols.size, xp)
    out = xp.empty(out_shape, dtype=gcols.dtype)
    top, left = pads[0], pads[2]
    out.reshape(B, C, H, W)[...] = buf[:, :, :n].reshape(C, B, Hp, Wp)[:, :, top:top + H, left:left + W] \
        .transpose(1, 0, 2, 3)
    return out


def _valid_range(n_out, n_in, pad, offset, stride):
    """(first output index, count, first input index) of the outputs whose input
    position ``o * stride + offset - pad`` falls inside [0, n_in)."""
    lo = max(0, -(-(pad - offset) // stride))
    hi = min(n_out - 1, (n_in - 1 + pad - offset) // stride)
    return lo, hi - lo + 1, lo * stride + offset - pad


def _col2im(gcols, shape, pads, kh, kw, sh, sw, dh, dw, Ho, Wo, out_shape):
    """Sum the window gradients ``gcols`` (C, kh, kw, B, Ho, Wo) back onto an input
    of ``shape`` (B, C, H, W), returned in ``out_shape``: one strided-slice add
    per kernel offset, each cropped to the positions inside the unpadded input."""
    xp = backend.array_module(gcols)
    C, H, W = shape[1:]
    out = xp.zeros(out_shape, dtype=gcols.dtype)
    gxt = out.reshape(shape).transpose(1, 0, 2, 3)
    spans = []
    for i in range(kh):
        oh, nh, h0 = _valid_range(Ho, H, pads[0], i * dh, sh)
        for j in range(kw):
            ow, nw, w0 = _valid_range(Wo, W, pads[2], j * dw, sw)
            if nh > 0 and nw > 0:
                spans.append((i, j, slice(oh, oh + nh), slice(ow, ow + nw),
                              slice(h0, h0 + sh * (nh - 1) + 1, sh), slice(w0, w0 + sw * (nw - 1) + 1, sw)))

    def run(lo, hi):
        for i, j, so_h, so_w, si_h, si_w in spans:
            gxt[lo:hi, :, si_h, si_w] += gcols[lo:hi, i, j, :, so_h, so_w]
    parallel_rows(run, C, gcols.size, xp)
    return out


def _gemm(a, b, out=None):
    """a @ b for stacks of matrices (G, m, k) @ (G, k, n); a plain 2-D GEMM when G == 1."""
    xp = backend.array_module(a)
    if a.shape[0] == 1:
        return xp.matmul(a[0], b[0], out=None if out is None else out[0])[None]
    return xp.matmul(a, b, out=out)


_scratch = threading.local()
_POOL_MAX_BYTES = 1 << 29  # at most this much memory kept for reuse, per thread


def _free_refcount():
    """getrefcount of a pooled buffer nobody else holds, seen from the scan loop
    below (the pool's list, the loop variable, the call's argument)."""
    pool = [np.empty(1)]
    for buf in pool:
        return sys.getrefcount(buf)


_FREE_REFS = _free_refcount()


def _pooled_empty(shape, dtype, xp):
    """An uninitialised array from a per-thread pool of large buffers: a buffer
    is reused once nothing but the pool refers to it (the graph node that saved
    it has been freed), which saves the page faults of a fresh allocation."""
    n = int(np.prod(shape))
    nbytes = n * np.dtype(dtype).itemsize
    if xp is not np or nbytes < (1 << 20):
        return xp.empty(shape, dtype=dtype)
    pool = getattr(_scratch, 'pool', None)
    if pool is None:
        pool = _scratch.pool = []
    for buf in pool:
        if buf.nbytes == nbytes and sys.getrefcount(buf) == _FREE_REFS:
            return buf.view(dtype).reshape(shape)
    buf = np.empty(shape, dtype=dtype)
    if sum(b.nbytes for b in pool) + nbytes <= _POOL_MAX_BYTES:
        pool.append(buf)
    return buf


def _scratch_array(shape, dtype, xp):
    """A per-thread reusable buffer for a temporary that dies within one call:
    fresh large arrays cost page faults on every use."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    n = int(np.prod(shape))
    buf = getattr(_scratch, 'buf', None)
    if buf is None or buf.dtype != dtype or buf.size < n:
        buf = _scratch.buf = np.empty(n, dtype=dtype)
    return buf[:n].reshape(shape)


class ConvBackward(Node):
    __slots__ = ()

    def backward(self, g):
        cols, w3, geom, x_shape, w_shape = self.saved
        B, C, H, W, G, kh, kw, sh, sw, dh, dw, Ho, Wo, pads, Wf = geom
        xp = backend.array_module(g)
        Og = w3.shape[1]
        L = Ho * Wo
        g3 = g.reshape(B, G * Og, L)
        gx = gw = gb = None
        if self.next[2] is not None:
            gb = g3.sum(axis=2).sum(axis=0)
        if self.next[0] is None and self.next[1] is None:
            return gx, gw, gb
        # the upstream gradient as (G, Og, B * L): the layout of the forward's single GEMM
        if Wf:  # flat rows: zero gradient for the columns between output rows
            gt = xp.zeros((G * Og, B, Ho, Wf), dtype=g.dtype)
            gt[..., :Wo] = g.reshape(B, G * Og, Ho, Wo).transpose(1, 0, 2, 3)
            L = Ho * Wf
            gt = gt.reshape(G, Og, B * L)
        else:
            gt = xp.ascontiguousarray(g3.transpose(1, 0, 2)).reshape(G, Og, B * L)
        if self.next[1] is not None:
            gw = xp.empty(w_shape, dtype=g.dtype)
            _gemm(gt, xp.swapaxes(cols, -1, -2), gw.reshape(G, Og, -1))
        if self.next[0] is not None:
            # a contiguous W^T: NumPy's matmul is much slower on a transposed stacked operand
            gcols = _gemm(xp.ascontiguousarray(xp.swapaxes(w3, -1, -2)), gt,
                          _scratch_array((G, w3.shape[2], B * L), g.dtype, xp))
            if Wf:
                return _col2im_flat(gcols.reshape(C, kh, kw, B, L), (B, C, H, W), pads, kh, kw, dh, dw, Ho, Wf,
                                    x_shape), gw, gb
            gcols = gcols.reshape(C, kh, kw, B, Ho, Wo)
            if not any(pads) and kh == kw == 1 and sh == sw == 1:
                # copy: gcols lives in the reusable scratch buffer
                gx = xp.empty(x_shape, dtype=g.dtype)
                gx.reshape(B, C, H, W)[...] = gcols.reshape(C, B, H, W).transpose(1, 0, 2, 3)
            else:
                gx = _col2im(gcols, (B, C, H, W), pads, kh, kw, sh, sw, dh, dw, Ho, Wo, x_shape)
        return gx, gw, gb

    def backward_graph(self, g):
        # second order: the input and weight gradients are two bilinear maps of
        # (g, weight) and (g, input), recorded as ops (see ConvMapBackward)
        cols, w3, geom, x_shape, w_shape = self.saved
        spec = (geom[:14], x_shape, w_shape, self.shape)
        gx = gw = gb = None
        if self.next[2] is not None:
            gb = g.sum(tuple(d for d in range(g.ndim) if d != 1))
        if self.next[0] is not None:
            gx = conv_map('gx', g, self.input(1, w3.reshape(w_shape)), spec)
        if self.next[1] is not None:
            x = self.next[0] if self.next[0] is not None and not isinstance(self.next[0], Node) \
                else self.input(0, _x_from_cols(cols, geom, x_shape))
            gw = conv_map('gw', g, x, spec)
        return gx, gw, gb


# ---------------------------------------------------------------------- convolution, second order
# A convolution y = Y(x, w) has the gradients gx = GX(g, w) and gw = GW(g, x): three bilinear maps
# that are each other's adjoints, so differentiating any of them gives the other two again. Under
# create_graph each is recorded as a ConvMapBackward op (generic im2col path, not the fast kernels).
def _conv_cols(x, spec):
    (B, C, H, W, G, kh, kw, sh, sw, dh, dw, Ho, Wo, pads), _, _, _ = spec
    x4 = x.reshape(B, C, H, W)
    return _im2col(_pad(x4, pads), kh, kw, sh, sw, dh, dw, Ho, Wo).reshape(G, C // G * kh * kw, B * Ho * Wo)


def _conv_gt(g, spec):
    """The output-shaped ``g`` as (G, O/G, B * L), the layout of the conv GEMM."""
    (B, _, _, _, G, _, _, _, _, _, _, Ho, Wo, _), _, w_shape, _ = spec
    xp = backend.array_module(g)
    O = w_shape[0]
    return xp.ascontiguousarray(g.reshape(B, O, Ho * Wo).transpose(1, 0, 2)).reshape(G, O // G, B * Ho * Wo)


def _conv_w3(w, spec):
    G = spec[0][4]
    return backend.array_module(w).ascontiguousarray(w).reshape(G, spec[2][0] // G, -1)


def _conv_y(x, w, spec):
    """Y(x, w): the convolution without bias, in the output's shape."""
    (B, _, _, _, _, _, _, _, _, _, _, Ho, Wo, _), _, w_shape, y_shape = spec
    xp = backend.array_module(x)
    out = _gemm(_conv_w3(w, spec), _conv_cols(x, spec)).reshape(w_shape[0], B, Ho, Wo).transpose(1, 0, 2, 3)
    return xp.ascontiguousarray(out).reshape(y_shape)


def _conv_gx(g, w, spec):
    """GX(g, w): the input gradient of the convolution for the output gradient ``g``."""
    (B, C, H, W, _, kh, kw, sh, sw, dh, dw, Ho, Wo, pads), x_shape, _, _ = spec
    xp = backend.array_module(g)
    gcols = _gemm(xp.ascontiguousarray(xp.swapaxes(_conv_w3(w, spec), -1, -2)), _conv_gt(g, spec))
    return _col2im(gcols.reshape(C, kh, kw, B, Ho, Wo), (B, C, H, W), pads, kh, kw, sh, sw, dh, dw, Ho, Wo,
                   x_shape)


def _conv_gw(g, x, spec):
    """GW(g, x): the weight gradient of the convolution for the output gradient ``g``."""
    xp = backend.array_module(g)
    return _gemm(_conv_gt(g, spec), xp.swapaxes(_conv_cols(x, spec), -1, -2)).reshape(spec[2])


_CONV_MAPS = {'y': _conv_y, 'gx': _conv_gx, 'gw': _conv_gw}
# map -> (d/d first argument, d/d second argument) given the upstream gradient v, as (map, args)
_CONV_ADJOINTS = {
    'y': (lambda a, b, v: ('gx', v, b), lambda a, b, v: ('gw', v, a)),    # Y(x, w)
    'gx': (lambda a, b, v: ('y', v, b), lambda a, b, v: ('gw', a, v)),    # GX(g, w)
    'gw': (lambda a, b, v: ('y', b, v), lambda a, b, v: ('gx', a, v)),    # GW(g, x)
}


class ConvMapBackward(Node):
    """Node of one of a convolution's bilinear maps Y, GX, GW (recorded under create_graph)."""
    __slots__ = ()

    def backward(self, v):
        kind, a, b, spec = self.saved
        return tuple(None if edge is None else _CONV_MAPS[k](p, q, spec)
                     for edge, (k, p, q) in zip(self.next, (d(a, b, v) for d in _CONV_ADJOINTS[kind])))

    def backward_graph(self, v):
        kind, a, b, spec = self.saved
        a, b = self.input(0, a), self.input(1, b)
        return tuple(None if edge is None else conv_map(k, p, q, spec)
                     for edge, (k, p, q) in zip(self.next, (d(a, b, v) for d in _CONV_ADJOINTS[kind])))


def conv_map(kind, a, b, spec):
    """The bilinear map ``kind`` ('y', 'gx' or 'gw') of a convolution applied to tensors, recorded."""
    return track(_CONV_MAPS[kind](a._data, b._data, spec), ConvMapBackward, (a, b), (kind, a._data, b._data, spec))


def _x_from_cols(cols, geom, x_shape):
    """The conv input rebuilt from its saved windows (exact wherever a window reads
    it; elsewhere 0, where it does not affect the weight gradient)."""
    B, C, H, W, G, kh, kw, sh, sw, dh, dw, Ho, Wo, pads, Wf = geom
    xp = backend.array_module(cols)
    Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
    if Wf:  # flat rows: each kernel offset read one run of the flattened padded planes
        n = Hp * Wp
        flat = xp.zeros(B * C * n + (kw - 1) * dw, dtype=cols.dtype)
        runs = cols.reshape(C, kh, kw, B, Ho * Wf)
        it = flat.itemsize
        for i in range(kh):
            for j in range(kw):
                s = i * dh * Wp + j * dw
                xp.lib.stride_tricks.as_strided(flat[s:], (C, B, Ho * Wf), (n * it, C * n * it, it))[...] = \
                    runs[:, i, j]
        xpad = flat[:B * C * n].reshape(B, C, Hp, Wp)
    else:
        xpad = xp.zeros((B, C, Hp, Wp), dtype=cols.dtype)
        win = cols.reshape(C, kh, kw, B, Ho, Wo)
        xpt = xpad.transpose(1, 0, 2, 3)
        for i in range(kh):
            for j in range(kw):
                xpt[_offset_slice(i * dh, j * dw, Ho, Wo, sh, sw)] = win[:, i, j]
    return xp.ascontiguousarray(xpad[:, :, pads[0]:pads[0] + H, pads[2]:pads[2] + W]).reshape(x_shape)


def _conv(op, x, weight, bias, stride, padding, dilation, groups, x4, w4, x_shape, out_shape=None):
    """Shared conv2d/conv1d body on 4-D arrays ``x4`` (B, C, H, W) and ``w4`` (O, C/groups, kh, kw)."""
    B, C, H, W = x4.shape
    O, Cg, kh, kw = w4.shape
    sh, sw = stride
    dh, dw = dilation
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    G = int(groups)
    if C != Cg * G:
        raise ValueError(f"{op}: input has {C} channels but weight expects {Cg * G} "
                         f"(weight of shape {tuple(weight._data.shape)}, groups={G})")
    if O % G:
        raise ValueError(f"{op}: {O} output channels are not divisible by groups={G}")
    if sh < 1 or sw < 1 or dh < 1 or dw < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride {stride}, dilation {dilation}")
    if isinstance(padding, str):
        if padding == 'valid':
            pads = (0, 0, 0, 0)
        elif padding == 'same':
            if sh != 1 or sw != 1:
                raise ValueError(f"{op}: padding='same' requires stride 1, got stride {stride}")
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = padding
        if ph < 0 or pw < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {padding}")
        pads = (ph, ph, pw, pw)
    bd = None
    if bias is not None:
        bd = _float_array(op, bias, 'bias')
        if bd.shape != (O,):
            raise ValueError(f"{op}: bias of shape {bd.shape} must have one entry per output channel ({O},)")
        if bd.__class__ is not x4.__class__:
            raise RuntimeError(f"{op}: input and bias are on different devices")
    if w4.__class__ is not x4.__class__:
        raise RuntimeError(f"{op}: input and weight are on different devices")
    if x4.dtype != w4.dtype:
        raise TypeError(f"{op}: input dtype {x4.dtype} and weight dtype {w4.dtype} differ")
    Ho = _out_size(op, H, pads[0] + pads[1], kh, sh, dh)
    Wo = _out_size(op, W, pads[2] + pads[3], kw, sw, dw)
    xp = backend.array_module(x4)

    w3 = w4.reshape(G, O // G, Cg * kh * kw)
    L = Ho * Wo
    Wp = W + pads[2] + pads[3]
    Wf = Wp if _use_flat_rows(sh, sw, kh, kw, Wo, Wp, L) else 0
    K = Cg * kh * kw
    if Wf:  # short rows: flat-row windows, the extra columns dropped on the way to NCHW
        cols = _im2col_flat(x4, pads, kh, kw, dh, dw, Ho, Wf).reshape(G, K, B * Ho * Wf)
        out = xp.ascontiguousarray(_gemm(w3, cols).reshape(O, B, Ho, Wf)[..., :Wo].transpose(1, 0, 2, 3))
    elif L >= 1024:
        # one GEMM per sample, written straight into the NCHW output (no transpose copy)
        cols = _im2col(_pad(x4, pads), kh, kw, sh, sw, dh, dw, Ho, Wo).reshape(G, K, B * L)
        out = xp.empty((B, G, O // G, L), dtype=x4.dtype)
        c4 = cols.reshape(G, K, B, L)
        for b in range(B):
            xp.matmul(w3, c4[:, :, b], out=out[b])
        out = out.reshape(B, O, Ho, Wo)
    else:  # small images: one GEMM per group over the whole batch, then to NCHW
        cols = _im2col(_pad(x4, pads), kh, kw, sh, sw, dh, dw, Ho, Wo).reshape(G, K, B * L)
        out = xp.ascontiguousarray(_gemm(w3, cols).reshape(O, B, Ho, Wo).transpose(1, 0, 2, 3))
    if bd is not None:
        out += bd.reshape(O, 1, 1)
    geom = (B, C, H, W, G, kh, kw, sh, sw, dh, dw, Ho, Wo, pads, Wf)
    if out_shape is not None:
        out = out.reshape(out_shape(Ho, Wo))
    # the windows are only needed for the weight gradient: not kept for a frozen weight
    saved = (cols if weight._rg else None, w3, geom, x_shape, weight._data.shape)
    return track(out, ConvBackward, (x, weight, bias), saved, check=(x, weight))


@unbatched(4)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (cross-correlation, as PyTorch) of ``input`` (B, C, H, W) or (C, H, W) with
    ``weight`` (O, C/groups, kh, kw); ``padding`` is an int, a pair, 'same' or 'valid'."""
    op = 'conv2d'
    xd = _float_array(op, input)
    wd = _float_array(op, weight, 'weight')
    _check_4d(op, xd)
    if wd.ndim != 4:
        raise ValueError(f"{op}: weight of shape {wd.shape} must be 4-D (O, C/groups, kh, kw)")
    pad = padding if isinstance(padding, str) else _pair(op, 'padding', padding)
    return _conv(op, input, weight, bias, _pair(op, 'stride', stride), pad, _pair(op, 'dilation', dilation),
                 groups, xd, wd, xd.shape)


@unbatched(3)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution of ``input`` (B, C, L) or (C, L) with ``weight`` (O, C/groups, k);
    ``padding`` is an int, 'same' or 'valid'."""
    op = 'conv1d'
    xd = _float_array(op, input)
    wd = _float_array(op, weight, 'weight')
    if xd.ndim != 3:
        raise ValueError(f"{op}: input of shape {xd.shape} must be 2-D (C, L) or 3-D (B, C, L)")
    if wd.ndim != 3:
        raise ValueError(f"{op}: weight of shape {wd.shape} must be 3-D (O, C/groups, k)")

    def one(name, v):
        if isinstance(v, (tuple, list)) and len(v) == 1:
            v = v[0]
        if not isinstance(v, (int, np.integer)):
            raise TypeError(f"{op}: {name} must be an int, got {v!r}")
        return int(v)
    pad = padding if isinstance(padding, str) else (0, one('padding', padding))
    B, C, L = xd.shape
    O = wd.shape[0]
    return _conv(op, input, weight, bias, (1, one('stride', stride)), pad, (1, one('dilation', dilation)), groups,
                 xd.reshape(B, C, 1, L), wd.reshape(wd.shape[0], wd.shape[1], 1, wd.shape[2]), xd.shape,
                 out_shape=lambda Ho, Wo: (B, O, Wo))


# ---------------------------------------------------------------------- pooling
def _pool_out(op, n, p, k, s, d, ceil_mode):
    """PyTorch's pooled length: floor (or ceil) of the window count, where with
    ``ceil_mode`` the last window must start inside the input or left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    if out <= 0 or span < 0:
        raise ValueError(f"{op}: kernel of size {k} (dilation {d}) does not fit the padded input of size "
                         f"{n + 2 * p}")
    return out


def _pool_args(op, xd, kernel_size, stride, padding, dilation=1, ceil_mode=False):
    """Pool geometry ``(kh, kw, sh, sw, dh, dw, ph, pw, bh, bw, Ho, Wo)``: bh, bw pad the
    bottom and right (more than ph, pw where ceil_mode windows run past the input)."""
    _check_4d(op, xd)
    kh, kw = _pair(op, 'kernel_size', kernel_size)
    sh, sw = (kh, kw) if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else _pair(op, 'stride', stride)
    ph, pw = _pair(op, 'padding', 0 if padding is None else padding)
    dh, dw = _pair(op, 'dilation', dilation)
    if kh < 1 or kw < 1 or sh < 1 or sw < 1:
        raise ValueError(f"{op}: kernel_size and stride must be positive, got {kernel_size} and {stride}")
    if dh < 1 or dw < 1:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    if ph < 0 or pw < 0 or 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{op}: padding {(ph, pw)} must be non-negative and at most half the kernel size "
                         f"{(kh, kw)}")
    H, W = xd.shape[2:]
    Ho = _pool_out(op, H, ph, kh, sh, dh, ceil_mode)
    Wo = _pool_out(op, W, pw, kw, sw, dw, ceil_mode)
    bh = max(ph, (Ho - 1) * sh + dh * (kh - 1) + 1 - H - ph)
    bw = max(pw, (Wo - 1) * sw + dw * (kw - 1) + 1 - W - pw)
    return kh, kw, sh, sw, dh, dw, ph, pw, bh, bw, Ho, Wo


def _planes(x):
    """(B, C, H, W) as (B * C, 1, H, W): pools treat every channel plane alike,
    so work splits over planes whatever the batch size."""
    B, C, H, W = x.shape
    return x.reshape(B * C, 1, H, W)


def _scatter_offsets(g_at, shape, dtype, xp, kh, kw, sh, sw, dh, dw, ph, pw, bh, bw, Ho, Wo):
    """Gradient of a pool: on the padded input gradient, the strided slice of each
    kernel offset k gets ``g_at(k, lo, hi, out)`` for planes lo:hi (written into
    ``out`` when windows do not overlap, else returned and added); returns it
    with padding removed."""
    B, C, H, W = shape
    Hp, Wp = H + ph + bh, W + pw + bw
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
    full = disjoint and sh == kh and sw == kw and Ho * kh == Hp and Wo * kw == Wp
    out = (xp.empty if full else xp.zeros)((B, C, Hp, Wp), dtype=dtype)
    gxp = _planes(out)

    def run(lo, hi):
        k = 0
        for i in range(kh):
            for j in range(kw):
                sl = gxp[lo:hi][_offset_slice(i * dh, j * dw, Ho, Wo, sh, sw)]
                if disjoint:
                    g_at(k, lo, hi, sl)
                else:
                    sl += g_at(k, lo, hi, None)
                k += 1
    parallel_rows(run, B * C, B * C * Ho * Wo * kh * kw, xp)
    return out[:, :, ph:ph + H, pw:pw + W] if ph or pw or bh or bw else out


class MaxPool2dBackward(Node):
    __slots__ = ()

    def backward(self, g):
        idx, shape, geom = self.saved
        xp = backend.array_module(g)
        g1 = _planes(g)

        def at(k, lo, hi, out):
            return xp.multiply(g1[lo:hi], idx[lo:hi] == k, out=out)
        return (_scatter_offsets(at, shape, g.dtype, xp, *geom),)

    def backward_graph(self, g):  # linear in g: the scatter recorded as an op (its adjoint gathers)
        return (track(self.backward(g._data)[0], MaxPool2dScatterBackward, (g,), self.saved),)


class MaxPool2dScatterBackward(Node):
    """Node of max_pool2d's gradient scatter under create_graph: its adjoint reads,
    for every window, the element at the window's maximum."""
    __slots__ = ()

    def backward(self, v):
        return (_max_pool_gather(v, *self.saved),)

    def backward_graph(self, v):
        return (track(_max_pool_gather(v._data, *self.saved), MaxPool2dBackward, (v,), self.saved),)


def _max_pool_gather(v, idx, shape, geom):
    """(B, C, Ho, Wo): ``v`` (B, C, H, W) at each window's maximum (kernel offsets ``idx``)."""
    kh, kw, sh, sw, dh, dw, ph, pw, bh, bw, Ho, Wo = geom
    xp = backend.array_module(v)
    B, C = shape[:2]
    vpad = _planes(_pad(xp.ascontiguousarray(v), (ph, bh, pw, bw)))
    out = xp.zeros((B * C, 1, Ho, Wo), dtype=v.dtype)
    k = 0
    for i in range(kh):
        for j in range(kw):
            out += xp.where(idx == k, vpad[_offset_slice(i * dh, j * dw, Ho, Wo, sh, sw)], 0)
            k += 1
    return out.reshape(B, C, Ho, Wo)


def _flat_indices(idx, shape, geom, xp):
    """PyTorch's pooling indices: flat positions in each input plane (H * W) of the
    maxima whose kernel offsets are ``idx`` (B * C, 1, Ho, Wo)."""
    B, C, _, W = shape
    _, kw, sh, sw, dh, dw, ph, pw, _, _, Ho, Wo = geom
    k = idx.astype(np.int64)
    rows = (k // kw) * dh + (xp.arange(Ho, dtype=np.int64) * sh - ph)[:, None]
    cols = (k % kw) * dw + (xp.arange(Wo, dtype=np.int64) * sw - pw)
    return (rows * W + cols).reshape(B, C, Ho, Wo)


def _first_valid_offsets(geom, H, W, xp):
    """(Ho, Wo) kernel offsets of each window's first element inside the input (not
    padding): where PyTorch points a window whose maximum is -inf (nothing beats
    its initial -inf); clipped to the kernel where a dilated window has none."""
    kh, kw, sh, sw, dh, dw, ph, pw, _, _, Ho, Wo = geom

    def first(n_out, s, p, d, k):
        start = np.arange(n_out) * s - p
        return np.minimum(np.maximum(-(start // d), 0), k - 1)  # smallest i with start + i * d >= 0
    return xp.asarray(first(Ho, sh, ph, dh, kh)[:, None] * kw + first(Wo, sw, pw, dw, kw))


def _fix_nonfinite_argmax(xpad, out, idx, geom, xp):
    """Point the kernel offsets ``idx`` of windows whose maximum is NaN or -inf where
    PyTorch does (its ``val > max || isnan(val)`` scan from -inf): at the window's
    last NaN, or at its first element inside the input."""
    s = out.sum()  # one pass over the (small) output: NaN or -inf only where such a window may exist
    if not (xp.isnan(s) or s == -np.inf):
        return
    kh, kw, sh, sw, dh, dw, ph, pw, bh, bw, Ho, Wo = geom
    nan = xp.isnan(out)
    if nan.any():
        k = 0
        for i in range(kh):
            for j in range(kw):
                sl = xpad[_offset_slice(i * dh, j * dw, Ho, Wo, sh, sw)]
                idx[nan & xp.isnan(sl)] = k
                k += 1
    neg = out == -np.inf
    if neg.any():
        H, W = xpad.shape[2] - ph - bh, xpad.shape[3] - pw - bw
        first = xp.broadcast_to(_first_valid_offsets(geom, H, W, xp).astype(idx.dtype), idx.shape)
        idx[neg] = first[neg]


def _max_pool_arrays(xd, geom, need_idx):
    """max_pool2d of the array ``xd`` (B, C, H, W): ``(out (B, C, Ho, Wo), idx)``, idx
    (B * C, 1, Ho, Wo) the kernel offset ``i * kw + j`` of each window's maximum (None
    unless ``need_idx``): the first maximum, the last NaN of a window with NaN, the
    first element inside the input of a window whose maximum is -inf (as PyTorch)."""
    kh, kw, sh, sw, dh, dw, ph, pw, bh, bw, Ho, Wo = geom
    xp = backend.array_module(xd)
    B, C = xd.shape[:2]
    xpad = _planes(_pad(xd, (ph, bh, pw, bw), -np.inf))
    K = kh * kw
    out = xp.empty((B * C, 1, Ho, Wo), dtype=xd.dtype)
    idt = np.uint8 if K < 256 else np.int32
    idx = xp.zeros(out.shape, dtype=idt) if need_idx else None
    m = xp.empty(out.shape, dtype=bool) if need_idx else None
    mk = xp.empty(out.shape, dtype=idt) if need_idx else None

    def run(lo, hi):
        xb, ob = xpad[lo:hi], out[lo:hi]
        k = 0
        for i in range(kh):
            for j in range(kw):
                sl = xb[_offset_slice(i * dh, j * dw, Ho, Wo, sh, sw)]
                if k == 0:
                    ob[...] = sl
                else:
                    if need_idx:
                        # strictly greater: ties keep the first maximum, as PyTorch. k only grows,
                        # so idx = max(idx, k * greater) (integer passes, far faster than a masked copy)
                        mb = xp.greater(sl, ob, out=m[lo:hi])
                        xp.maximum(idx[lo:hi], xp.multiply(mb, idt(k), out=mk[lo:hi]), out=idx[lo:hi])
                    xp.maximum(ob, sl, out=ob)
                k += 1
    parallel_rows(run, B * C, out.size * K, xp)
    if need_idx:
        _fix_nonfinite_argmax(xpad, out, idx, geom, xp)
    return out.reshape(B, C, Ho, Wo), idx


@unbatched(4)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """2-D max pooling of ``input`` (B, C, H, W) or (C, H, W) with torch's arguments: ``stride``
    defaults to ``kernel_size``, ``padding`` pads with -inf, ``ceil_mode`` keeps
    partial windows at the end. The gradient goes to the first maximum of each
    window (to its last NaN where it has NaN, as PyTorch). With ``return_indices``
    returns ``(output, indices)``: int64 flat positions of the maxima in each
    H * W input plane."""
    op = 'max_pool2d'
    xd = _float_array(op, input)
    geom = _pool_args(op, xd, kernel_size, stride, padding, dilation, ceil_mode)
    xp = backend.array_module(xd)
    out, idx = _max_pool_arrays(xd, geom, return_indices or (GRAD_MODE.enabled and input._rg))
    res = track(out, MaxPool2dBackward, (input,), (idx, xd.shape, geom))
    if return_indices:
        return res, Tensor._wrap(_flat_indices(idx, xd.shape, geom, xp))
    return res


class AvgPool2dBackward(Node):
    __slots__ = ()

    def backward(self, g):
        div, shape, geom = self.saved
        xp = backend.array_module(g)
        gs = _planes(g / div)

        def at(k, lo, hi, out):
            if out is None:
                return gs[lo:hi]
            out[...] = gs[lo:hi]
        return (_scatter_offsets(at, shape, g.dtype, xp, *geom),)

    def backward_graph(self, g):  # linear in g: recorded as an op whose adjoint is the pooling itself
        return (track(self.backward(g._data)[0], AvgPool2dAdjointBackward, (g,), self.saved),)


class AvgPool2dAdjointBackward(Node):
    """Node of avg_pool2d's gradient under create_graph: its adjoint is the average pooling."""
    __slots__ = ()

    def backward(self, v):
        return (_avg_pool_array(v, *self.saved),)

    def backward_graph(self, v):
        return (track(_avg_pool_array(v._data, *self.saved), AvgPool2dBackward, (v,), self.saved),)


def _avg_pool_array(v, div, shape, geom):
    """avg_pool2d of ``v`` (B, C, H, W) with the saved geometry and divisor."""
    kh, kw, sh, sw, _, _, ph, pw, bh, bw, Ho, Wo = geom
    xp = backend.array_module(v)
    B, C = shape[:2]
    vpad = _planes(_pad(xp.ascontiguousarray(v), (ph, bh, pw, bw)))
    out = xp.zeros((B * C, 1, Ho, Wo), dtype=v.dtype)
    for i in range(kh):
        for j in range(kw):
            out += vpad[_offset_slice(i, j, Ho, Wo, sh, sw)]
    return out.reshape(B, C, Ho, Wo) / div


def _avg_divisor(xd, geom, ceil_mode, count_include_pad, divisor_override, xp):
    """Per-output divisor of avg_pool2d as PyTorch: the window clipped to the
    padded input (count_include_pad) or to the input; a scalar where constant."""
    dt = xd.dtype
    kh, kw, sh, sw, _, _, ph, pw, _, _, Ho, Wo = geom
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dt)[()]
    if (count_include_pad or (ph == 0 and pw == 0)) and not ceil_mode:
        return np.asarray(kh * kw, dtype=dt)[()]
    H, W = xd.shape[2:]

    def counts(n, p, k, s, no):
        start = np.arange(no) * s - p
        if count_include_pad:
            return np.minimum(start + k, n + p) - start
        return np.minimum(start + k, n) - np.maximum(start, 0)
    return xp.asarray(np.outer(counts(H, ph, kh, sh, Ho), counts(W, pw, kw, sw, Wo)).astype(dt))


@unbatched(4)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """2-D average pooling of ``input`` (B, C, H, W) or (C, H, W) with torch's arguments:
    ``stride`` defaults to ``kernel_size``; zero padding counts in the average
    unless ``count_include_pad=False``; ``ceil_mode`` keeps partial windows at the
    end; ``divisor_override`` replaces every window's divisor."""
    op = 'avg_pool2d'
    xd = _float_array(op, input)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                         or isinstance(divisor_override, bool) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int or None, got {divisor_override!r}")
    geom = _pool_args(op, xd, kernel_size, stride, padding, 1, ceil_mode)
    out = _avg_pool_sums(xd, geom)
    div = _avg_divisor(xd, geom, ceil_mode, count_include_pad, divisor_override, backend.array_module(xd))
    out /= div
    return track(out, AvgPool2dBackward, (input,), (div, xd.shape, geom))


def _avg_pool_sums(xd, geom):
    """The window sums of avg_pool2d of the array ``xd`` (B, C, H, W), zero padded:
    (B, C, Ho, Wo), each added in kernel order."""
    kh, kw, sh, sw, _, _, ph, pw, bh, bw, Ho, Wo = geom
    xp = backend.array_module(xd)
    B, C = xd.shape[:2]
    xpad = _planes(_pad(xd, (ph, bh, pw, bw)))
    out = xp.empty((B * C, 1, Ho, Wo), dtype=xd.dtype)

    def run(lo, hi):
        xb, ob = xpad[lo:hi], out[lo:hi]
        for i in range(kh):
            for j in range(kw):
                sl = xb[_offset_slice(i, j, Ho, Wo, sh, sw)]
                if i == 0 and j == 0:
                    ob[...] = sl
                else:
                    ob += sl
    parallel_rows(run, B * C, out.size * kh * kw, xp)
    return out.reshape(B, C, Ho, Wo)


def _adaptive_matrix(n, m, dtype):
    """(m, n) matrix averaging input bins [floor(i n / m), ceil((i + 1) n / m)) as PyTorch."""
    i = np.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)
    cols = np.arange(n)
    mat = (cols >= start[:, None]) & (cols < end[:, None])
    return (mat / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2dBackward(Node):
    __slots__ = ()

    def backward(self, g):
        shape, ph, pw = self.saved
        B, C, H, W = shape
        xp = backend.array_module(g)
        if ph is None:  # divisible: every input element gets g / (kh * kw) of its window
            Oh, Ow = g.shape[2:]
            kh, kw = H // Oh, W // Ow
            gx = xp.empty(shape, dtype=g.dtype)
            gx.reshape(B, C, Oh, kh, Ow, kw)[...] = (g / np.asarray(kh * kw, dtype=g.dtype))[:, :, :, None, :, None]
            return (gx,)
        t = xp.matmul(ph.T, g)  # (B, C, H, Ow)
        gx = xp.empty(shape, dtype=g.dtype)
        xp.matmul(t.reshape(-1, t.shape[-1]), pw, out=gx.reshape(-1, W))
        return (gx,)

    def backward_graph(self, g):  # linear in g: recorded as an op whose adjoint is the pooling itself
        return (track(self.backward(g._data)[0], AdaptiveAvgPool2dAdjointBackward, (g,),
                      self.saved + (g._data.shape,)),)


class AdaptiveAvgPool2dAdjointBackward(Node):
    """Node of adaptive_avg_pool2d's gradient under create_graph: its adjoint is the pooling."""
    __slots__ = ()

    def backward(self, v):
        return (_adaptive_pool_array(v, *self.saved),)

    def backward_graph(self, v):
        return (track(_adaptive_pool_array(v._data, *self.saved), AdaptiveAvgPool2dBackward, (v,),
                      self.saved[:3]),)


def _adaptive_pool_array(v, shape, ph, pw, out_shape):
    """adaptive_avg_pool2d of ``v`` (B, C, H, W) to ``out_shape`` with the saved bin matrices."""
    B, C, H, W = shape
    xp = backend.array_module(v)
    if ph is None:
        Oh, Ow = out_shape[2:]
        return v.reshape(B, C, Oh, H // Oh, Ow, W // Ow).mean(axis=(3, 5)).astype(v.dtype, copy=False)
    t = xp.matmul(xp.ascontiguousarray(v).reshape(-1, W), pw.T).reshape(B, C, H, -1)
    return xp.matmul(ph, t)


@unbatched(4)
def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average pooling of ``input`` (B, C, H, W) or (C, H, W) to ``output_size`` (an int, a pair,
    None entries keep the input size) with PyTorch's bin boundaries."""
    op = 'adaptive_avg_pool2d'
    xd = _float_array(op, input)
    _check_4d(op, xd)
    B, C, H, W = xd.shape
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    Oh = H if output_size[0] is None else int(output_size[0])
    Ow = W if output_size[1] is None else int(output_size[1])
    if Oh < 1 or Ow < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size}")
    xp = backend.array_module(xd)
    if H % Oh == 0 and W % Ow == 0:
        out = xd.reshape(B, C, Oh, H // Oh, Ow, W // Ow).mean(axis=(3, 5))
        return track(out.astype(xd.dtype, copy=False), AdaptiveAvgPool2dBackward, (input,), (xd.shape, None, None))
    ph = xp.asarray(_adaptive_matrix(H, Oh, xd.dtype))
    pw = xp.asarray(_adaptive_matrix(W, Ow, xd.dtype))
    t = xp.matmul(xd.reshape(-1, W), pw.T).reshape(B, C, H, Ow)
    out = xp.matmul(ph, t)
    return track(out, AdaptiveAvgPool2dBackward, (input,), (xd.shape, ph, pw))


kernels.hook(globals(), '_max_pool_arrays', 'pool.max_pool_arrays')
kernels.hook_node(globals(), 'MaxPool2dBackward', 'pool.max_backward')
kernels.hook(globals(), '_avg_pool_sums', 'pool.avg_pool_sums')
kernels.hook_node(globals(), 'AvgPool2dBackward', 'pool.avg_backward')


# ---------------------------------------------------------------------- Tensor methods
def _conv2d_method(self, kernel, bias=None, stride=None, padding=None):
    """2-D convolution of this (B, C, H, W) tensor with ``kernel`` (O, C, kh, kw)."""
    return conv2d(self, kernel, bias, 1 if stride is None else stride, 0 if padding is None else padding)


def _max_pool2d_method(self, kernel_size, stride=None, padding=None):
    """2-D max pooling of this (B, C, H, W) tensor."""
    return max_pool2d(self, kernel_size, stride, 0 if padding is None else padding)


def _avg_pool2d_method(self, kernel_size, stride=None, padding=None):
    """2-D average pooling of this (B, C, H, W) tensor."""
    return avg_pool2d(self, kernel_size, stride, 0 if padding is None else padding)


TENSOR_METHODS = {'conv2d': _conv2d_method, 'max_pool2d': _max_pool2d_method, 'avg_pool2d': _avg_pool2d_method}
EXPORTS = ('conv2d', 'conv1d', 'max_pool2d', 'avg_pool2d', 'adaptive_avg_pool2d')
