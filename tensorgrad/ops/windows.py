"""Windowed ops: ``pad`` (constant, reflect, replicate, circular),
``sliding_window_view`` (strided windows, a view), the autograd reference's
``Tensor.strided_windows``, and MyGrad's N-dimensional ``conv_nd``,
``max_pool`` and ``avg_pool``.

Every windowed backward folds the window gradients back with one strided
slice-add per window offset (a loop over the kernel's elements, never over
the data), so it is vectorised and O(size of the windows).
"""
import itertools

import numpy as np

from .. import backend
from .._tensor import Tensor, as_view, track
from ..autograd.node import Node
from .indexing import getitem
from .shape import _dim

_MODES = {'constant': 'constant', 'reflect': 'reflect', 'replicate': 'edge', 'edge': 'edge',
          'circular': 'wrap', 'wrap': 'wrap', 'symmetric': 'symmetric'}


# ---------------------------------------------------------------------- pad
def _pad_widths(op, pad, ndim):
    """Per-dimension (before, after) pairs from an int (every dim), a flat even-length
    sequence (PyTorch's F.pad order: last dim first) or a sequence of pairs (NumPy's order)."""
    if isinstance(pad, (int, np.integer)):
        return [(int(pad), int(pad))] * ndim
    pad = list(pad)
    if pad and all(isinstance(p, (tuple, list)) for p in pad):
        pairs = [tuple(int(v) for v in p) for p in pad]
        if len(pairs) == 1:
            pairs = pairs * ndim
        if len(pairs) != ndim or any(len(p) != 2 for p in pairs):
            raise ValueError(f"{op}: {len(pairs)} (before, after) pairs given for a tensor with {ndim} dimensions")
        return pairs
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"{op}: padding {tuple(pad)} must have an even length of at most 2 * ndim ({ndim} dims)")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


class PadBackward(Node):
    __slots__ = ()
    saves_arrays = False  # only shapes/axes: a second backward needs no retain_graph

    def backward(self, g):
        widths, mode, shape = self.saved
        if mode == 'constant':
            return (g[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, shape))],)
        for axis in reversed(range(len(shape))):
            lo, hi = widths[axis]
            if not lo and not hi:
                continue
            n = shape[axis]
            src = np.pad(np.arange(n), (lo, hi), mode=mode)
            pre = (slice(None),) * axis
            gin = g[pre + (slice(lo, lo + n),)].copy()
            for j in itertools.chain(range(lo), range(lo + n, lo + n + hi)):
                gin[pre + (int(src[j]),)] += g[pre + (j,)]
            g = gin
        return (g,)

    def backward_graph(self, g):  # linear in g: recorded as an op whose adjoint pads (with zeros)
        return (track(self.backward(g._data)[0], PadAdjointBackward, (g,), self.saved),)


class PadAdjointBackward(Node):
    """Node of pad's gradient under create_graph: its adjoint is the padding (zeros
    for constant mode: the fill value is no function of the input)."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, v):
        widths, mode, _ = self.saved
        return (backend.array_module(v).pad(v, widths, mode=mode),)

    def backward_graph(self, v):
        return (track(self.backward(v._data)[0], PadBackward, (v,), self.saved),)


def pad(x, pad=None, mode='constant', value=0.0, *, pad_width=None, constant_values=None):
    """Pad ``x``. ``pad``: an int (all dims), PyTorch's flat ``(left_last, right_last,
    left_prev, ...)`` or NumPy's ``((before, after), ...)`` per dim. ``mode``: 'constant'
    (with ``value``), 'reflect', 'replicate' (NumPy 'edge'), 'circular' (NumPy 'wrap')
    or 'symmetric'. Negative constant padding crops. Also accepts the autograd
    reference's ``pad_width=`` / ``constant_values=``."""
    if pad_width is not None:
        pad = pad_width
    if constant_values is not None:
        value = constant_values
    if pad is None:
        raise TypeError("pad: the padding amounts are required")
    if mode not in _MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; use one of {sorted(_MODES)}")
    np_mode = _MODES[mode]
    xd = x._data
    widths = _pad_widths('pad', pad, xd.ndim)
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        if np_mode != 'constant':
            raise ValueError(f"pad: negative padding {widths} is only supported in constant mode")
        crop = tuple(slice(max(-lo, 0), xd.shape[d] - max(-hi, 0)) for d, (lo, hi) in enumerate(widths))
        x = getitem(x, crop)
        xd = x._data
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    for d, ((lo, hi), n) in enumerate(zip(widths, xd.shape)):
        if np_mode == 'reflect' and (lo or hi) and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding {(lo, hi)} must be smaller than dim {d} of size {n} "
                             f"(shape {xd.shape})")
        if np_mode in ('wrap', 'symmetric') and (lo > n or hi > n):
            raise ValueError(f"pad: {mode} padding {(lo, hi)} must be at most dim {d} of size {n} "
                             f"(shape {xd.shape})")
        if np_mode == 'edge' and n == 0 and (lo or hi):
            raise ValueError(f"pad: cannot replicate-pad an empty dim {d} (shape {xd.shape})")
    xp = backend.array_module(xd)
    if np_mode == 'constant':
        out = xp.pad(xd, widths, mode='constant', constant_values=value)
    else:
        out = xp.pad(xd, widths, mode=np_mode)
    return track(out, PadBackward, (x,), (widths, np_mode, xd.shape))


_pad = pad


def _pad_method(self, pad_width=None, mode='constant', constant_values=0, *, value=None, pad=None):
    """Pad this tensor (the autograd reference's ``Tensor.pad(pad_width, mode, constant_values)``;
    see ``tensorgrad.pad``)."""
    return _pad(self, pad_width if pad_width is not None else pad, mode,
                constant_values if value is None else value)


# ---------------------------------------------------------------------- windows
def _tuple(op, name, v, n):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(i) for i in v)
    if len(v) != n:
        raise ValueError(f"{op}: {name} {v} must have {n} values (one per windowed dim)")
    return v


def _window_array(xd, axes, window, step, dilation):
    """Strided view of ``xd``: the windowed dims shrink to the grid, window dims are appended."""
    xp = backend.array_module(xd)
    shape, strides = list(xd.shape), list(xd.strides)
    for a, w, s, d in zip(axes, window, step, dilation):
        shape[a] = (xd.shape[a] - (w - 1) * d - 1) // s + 1
        strides[a] = xd.strides[a] * s
    shape += list(window)
    strides += [xd.strides[a] * d for a, d in zip(axes, dilation)]
    out = xp.lib.stride_tricks.as_strided(xd, tuple(shape), tuple(strides))
    if xp is np:
        out.flags.writeable = False  # overlapping windows: writing would be ambiguous (as NumPy)
    return out


def _fold(gw, x_shape, axes, window, step, dilation):
    """Adjoint of ``_window_array``: add each window's gradient back onto its input positions."""
    xp = backend.array_module(gw)
    gx = xp.zeros(x_shape, dtype=gw.dtype)
    nd = len(x_shape)
    grid = [gw.shape[a] for a in axes]
    for offs in itertools.product(*[range(w) for w in window]):
        idx = [slice(None)] * nd
        for a, k, s, d, n in zip(axes, offs, step, dilation, grid):
            idx[a] = slice(k * d, k * d + s * (n - 1) + 1, s)
        gx[tuple(idx)] += gw[(Ellipsis,) + offs]
    return gx


def _check_windows(op, shape, axes, window, step, dilation):
    for a, w, s, d in zip(axes, window, step, dilation):
        if w < 1 or s < 1 or d < 1:
            raise ValueError(f"{op}: window {window}, step {step} and dilation {dilation} must be positive")
        if (w - 1) * d + 1 > shape[a]:
            raise ValueError(f"{op}: window {window} (dilation {dilation}) does not fit into dims {axes} "
                             f"of shape {shape}")


class SlidingWindowBackward(Node):
    __slots__ = ()
    saves_arrays = False  # only shapes/axes: a second backward needs no retain_graph

    def backward(self, g):
        return (_fold(g, *self.saved),)

    def backward_graph(self, g):  # linear in g: the fold recorded as an op whose adjoint takes windows
        return (track(_fold(g._data, *self.saved), FoldBackward, (g,), self.saved),)


class FoldBackward(Node):
    """Node of the windows' gradient fold under create_graph: its adjoint takes the windows again."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, v):
        _, axes, window, step, dilation = self.saved
        return (backend.array_module(v).ascontiguousarray(_window_array(v, axes, window, step, dilation)),)

    def backward_graph(self, v):
        return (track(self.backward(v._data)[0], SlidingWindowBackward, (v,), self.saved),)


def sliding_window_view(x, window_shape, axis=None, *, step=1, dilation=1):
    """NumPy's ``sliding_window_view`` as a differentiable view: the windowed dims
    (``axis``, all dims when None) shrink to the grid of window placements and the
    window dims are appended. ``step`` (stride) and ``dilation`` per windowed dim."""
    xd = x._data
    if isinstance(window_shape, (int, np.integer)):
        window_shape = (window_shape,)
    window = tuple(int(w) for w in window_shape)
    if axis is None:
        if len(window) != xd.ndim:
            raise ValueError(f"sliding_window_view: window_shape {window} needs one entry per dim of shape "
                             f"{xd.shape} when axis is None")
        axes = tuple(range(xd.ndim))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(_dim('sliding_window_view', a, xd.ndim) for a in axes)
        if len(axes) != len(window):
            raise ValueError(f"sliding_window_view: window_shape {window} and axis {axis} differ in length")
    if len(set(axes)) != len(axes):
        raise ValueError(f"sliding_window_view: axis {axis} repeats a dimension")
    step = _tuple('sliding_window_view', 'step', step, len(axes))
    dilation = _tuple('sliding_window_view', 'dilation', dilation, len(axes))
    _check_windows('sliding_window_view', xd.shape, axes, window, step, dilation)
    out = _window_array(xd, axes, window, step, dilation)
    t = track(out, SlidingWindowBackward, (x,), (xd.shape, axes, window, step, dilation))
    return as_view(t, x)


def strided_windows(x, *args, kernel_size=None, stride=None):
    """The autograd reference's windows of an (N, C, H, W) tensor:
    ``x.strided_windows(kernel_size, stride=1)`` has shape
    (H_out, W_out, N, C, kernel_size, kernel_size) and is a view."""
    if args and isinstance(args[0], Tensor):
        args = args[1:]  # the reference's own example passes the tensor a second time
    if len(args) > 2:
        raise TypeError(f"strided_windows: expected (kernel_size, stride), got {len(args)} arguments")
    if args:
        if kernel_size is not None:
            raise TypeError("strided_windows: kernel_size given twice")
        kernel_size = args[0]
        if len(args) > 1:
            stride = args[1]
    if kernel_size is None:
        raise TypeError("strided_windows: kernel_size is required")
    if x.ndim != 4:
        raise ValueError(f"strided_windows: expected an (N, C, H, W) tensor, got shape {x.shape}")
    from .shape import permute  # noqa: PLC0415
    w = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3), step=1 if stride is None else stride)
    return permute(w, 2, 3, 0, 1, 4, 5)


# ---------------------------------------------------------------------- conv / pool
class ConvNdBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xd, wd, win, axes, kernel, stride, dilation, nsp = self.saved
        xp = backend.array_module(g)
        # g: (N, F, *G); win: (N, C, *G, *K); w: (F, C, *K)
        g_axes = tuple(range(2, 2 + nsp))
        gx = gw = None
        if self.next[1] is not None:
            gw = xp.tensordot(g, win, axes=((0,) + g_axes, (0,) + tuple(range(2, 2 + nsp))))
        if self.next[0] is not None:
            gwin = xp.tensordot(g, wd, axes=((1,), (0,)))  # (N, *G, C, *K)
            gwin = xp.moveaxis(gwin, 1 + nsp, 1)  # (N, C, *G, *K)
            gx = _fold(gwin, xd.shape, axes, kernel, stride, dilation)
        return gx, gw

    def backward_graph(self, g):  # the same contractions on tensors: windows of x, then einsum
        from .einsum import einsum  # noqa: PLC0415
        xd, wd, _, axes, kernel, stride, dilation, nsp = self.saved
        grid, ker = 'ghijkl'[:nsp], 'pqrstu'[:nsp]
        gx = gw = None
        if self.next[1] is not None:
            win = sliding_window_view(self.input(0, xd), kernel, axes, step=stride, dilation=dilation)
            gw = einsum(f'nf{grid},nc{grid}{ker}->fc{ker}', g, win)
        if self.next[0] is not None:
            gwin = einsum(f'nf{grid},fc{ker}->nc{grid}{ker}', g, self.input(1, wd))
            gx = track(_fold(gwin._data, xd.shape, axes, kernel, stride, dilation), FoldBackward, (gwin,),
                       (xd.shape, axes, kernel, stride, dilation))
        return gx, gw


def conv_nd(x, w, stride=1, padding=0, dilation=1):
    """N-dimensional convolution (MyGrad's ``conv_nd``; a cross-correlation as in
    PyTorch): x (N, C, X0, ...) with filters w (F, C, W0, ...) -> (N, F, G0, ...);
    ``stride``, ``padding`` (zeros on both sides) and ``dilation`` per spatial dim."""
    if not isinstance(w, Tensor):
        w = x.from_data(w)
    xd, wd = x._data, w._data
    nsp = wd.ndim - 2
    if nsp < 1 or xd.ndim != wd.ndim or xd.shape[1] != wd.shape[1]:
        raise ValueError(f"conv_nd: x of shape {xd.shape} must be (N, C, *spatial) and w of shape {wd.shape} "
                         f"(F, C, *kernel) with the same C and number of spatial dims")
    if xd.__class__ is not wd.__class__:
        raise RuntimeError(f"conv_nd: x on {x.device.value} and w on {w.device.value}")
    stride = _tuple('conv_nd', 'stride', stride, nsp)
    padding = _tuple('conv_nd', 'padding', padding, nsp)
    dilation = _tuple('conv_nd', 'dilation', dilation, nsp)
    if any(p < 0 for p in padding):
        raise ValueError(f"conv_nd: padding {padding} must be non-negative")
    if wd.dtype != xd.dtype:
        from ..dtypes import promote  # noqa: PLC0415
        dt = promote(xd.dtype, wd.dtype)
        x, w = x.to(dt), w.to(dt)
    if any(padding):
        x = pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    xd, wd = x._data, w._data
    axes = tuple(range(2, 2 + nsp))
    kernel = wd.shape[2:]
    _check_windows('conv_nd', xd.shape, axes, kernel, stride, dilation)
    win = _window_array(xd, axes, kernel, stride, dilation)  # (N, C, *G, *K)
    xp = backend.array_module(xd)
    out = xp.tensordot(win, wd, axes=((1,) + tuple(range(2 + nsp, 2 + 2 * nsp)), tuple(range(1, 2 + nsp))))
    out = xp.ascontiguousarray(xp.moveaxis(out, -1, 1))  # (N, F, *G)
    return track(out, ConvNdBackward, (x, w), (xd, wd, win, axes, kernel, stride, dilation, nsp), check=(x, w))


def _pool_setup(op, x, pool, stride):
    xd = x._data
    pool = (int(pool),) if isinstance(pool, (int, np.integer)) else tuple(int(p) for p in pool)
    n = len(pool)
    if n > xd.ndim:
        raise ValueError(f"{op}: pool {pool} has more dims than the tensor's shape {xd.shape}")
    stride = _tuple(op, 'stride', stride, n)
    axes = tuple(range(xd.ndim - n, xd.ndim))
    _check_windows(op, xd.shape, axes, pool, stride, (1,) * n)
    return xd, pool, stride, axes


class MaxPoolBackward(Node):
    __slots__ = ()

    def backward(self, g):
        arg, x_shape, axes, pool, stride = self.saved
        xp = backend.array_module(g)
        k = int(np.prod(pool))
        onehot = (arg[..., None] == xp.arange(k)).astype(g.dtype) * g[..., None]
        gw = onehot.reshape(g.shape + pool)
        return (_fold(gw, x_shape, axes, pool, stride, (1,) * len(pool)),)

    def backward_graph(self, g):  # linear in g: the one-hot mask is constant, the fold is recorded
        arg, x_shape, axes, pool, stride = self.saved
        xp = backend.array_module(arg)
        onehot = Tensor._wrap((arg[..., None] == xp.arange(int(np.prod(pool)))).astype(g._data.dtype))
        gw = (g.unsqueeze(-1) * onehot).reshape(tuple(g._data.shape) + pool)
        return (track(_fold(gw._data, x_shape, axes, pool, stride, (1,) * len(pool)), FoldBackward, (gw,),
                      (x_shape, axes, pool, stride, (1,) * len(pool))),)


def max_pool(x, pool, stride):
    """MyGrad's N-d max pooling over the trailing ``len(pool)`` dims with window ``pool``
    and ``stride`` (only valid window placements); the gradient goes to the first maximum."""
    xd, pool, stride, axes = _pool_setup('max_pool', x, pool, stride)
    win = _window_array(xd, axes, pool, stride, (1,) * len(pool))
    flat = win.reshape(win.shape[:xd.ndim] + (-1,))
    arg = flat.argmax(axis=-1)
    xp = backend.array_module(xd)
    out = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    return track(out, MaxPoolBackward, (x,), (arg, xd.shape, axes, pool, stride))


class AvgPoolBackward(Node):
    __slots__ = ()
    saves_arrays = False  # only shapes/axes: a second backward needs no retain_graph

    def backward(self, g):
        x_shape, axes, pool, stride = self.saved
        xp = backend.array_module(g)
        k = int(np.prod(pool))
        gw = xp.broadcast_to((g / g.dtype.type(k)).reshape(g.shape + (1,) * len(pool)), g.shape + pool)
        return (_fold(gw, x_shape, axes, pool, stride, (1,) * len(pool)),)

    def backward_graph(self, g):
        x_shape, axes, pool, stride = self.saved
        k = int(np.prod(pool))
        gw = (g / k).reshape(tuple(g._data.shape) + (1,) * len(pool)).expand(*(tuple(g._data.shape) + pool))
        return (track(_fold(gw._data, x_shape, axes, pool, stride, (1,) * len(pool)), FoldBackward, (gw,),
                      (x_shape, axes, pool, stride, (1,) * len(pool))),)


def avg_pool(x, pool, stride):
    """N-d average pooling over the trailing ``len(pool)`` dims (MyGrad-style signature)."""
    xd, pool, stride, axes = _pool_setup('avg_pool', x, pool, stride)
    win = _window_array(xd, axes, pool, stride, (1,) * len(pool))
    out = win.mean(axis=tuple(range(xd.ndim, xd.ndim + len(pool))), dtype=xd.dtype if xd.dtype.kind == 'f' else None)
    return track(out, AvgPoolBackward, (x,), (xd.shape, axes, pool, stride))


EXPORTS = ('pad', 'sliding_window_view', 'strided_windows', 'conv_nd', 'max_pool', 'avg_pool')
TENSOR_METHODS = {'pad': _pad_method, 'sliding_window_view': sliding_window_view,
                  'strided_windows': strided_windows}
