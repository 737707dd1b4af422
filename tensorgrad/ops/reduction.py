"""Reductions over ``dim`` (an int, a tuple of ints, negative allowed, or
None for all) with ``keepdim``: sum, mean, max/min, amax/amin, prod, var,
std, logsumexp, argmax/argmin. ``max``/``min`` over one dim return
``(values, indices)`` (see ``_select``)."""
import warnings

import numpy as np

from .. import backend, return_types
from .._tensor import Tensor, track
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT
from ._select import global_pick, reduced_shape, require_nonempty, selected, work_axis


def normalize_dims(op, dim, ndim):
    """``dim`` as a sorted tuple of non-negative axes (None -> all axes)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    n = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} repeats a dimension")
    return tuple(sorted(out)) if ndim else ()


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_grad(g, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input."""
    if not keepdim and axes:
        g = g.reshape(_keep_shape(in_shape, axes))
    return g


class SumBackward(Node):
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        in_shape, axes, keepdim, in_dtype = self.saved
        g = _expand_grad(g, in_shape, axes, keepdim)
        if in_dtype is not None and g.dtype != in_dtype:  # sum(dtype=...): the gradient keeps x's dtype
            g = g.astype(in_dtype)
        return (backend.array_module(g).broadcast_to(g, in_shape),)

    def backward_graph(self, g):
        in_shape, axes, keepdim, in_dtype = self.saved
        g = _expand_grad(g, in_shape, axes, keepdim)
        if in_dtype is not None and g._data.dtype != in_dtype:
            g = g.to(in_dtype)
        return (g.expand(*in_shape),)


def sum(x, dim=None, keepdim=False, dtype=None):  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (all dimensions when None); bools and ints sum as int64."""
    xd = x._data
    axes = normalize_dims('sum', dim, xd.ndim)
    in_dtype = None
    if dtype is not None:
        from ..dtypes import to_numpy_dtype  # noqa: PLC0415
        in_dtype = xd.dtype
        xd = xd.astype(to_numpy_dtype(dtype))
    elif xd.dtype.kind in 'bui':
        xd = xd.astype(np.int64)
    out = xd.sum(axis=axes, keepdims=keepdim)
    return track(out, SumBackward, (x,), (xd.shape, axes, keepdim, in_dtype))


class MeanBackward(Node):
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        in_shape, axes, keepdim, count, in_dtype = self.saved
        g = _expand_grad(g, in_shape, axes, keepdim) / count
        if in_dtype is not None and g.dtype != in_dtype:  # mean(dtype=...): the gradient keeps x's dtype
            g = g.astype(in_dtype)
        return (backend.array_module(g).broadcast_to(g, in_shape),)

    def backward_graph(self, g):
        in_shape, axes, keepdim, count, in_dtype = self.saved
        g = _expand_grad(g, in_shape, axes, keepdim) / count
        if in_dtype is not None and g._data.dtype != in_dtype:
            g = g.to(in_dtype)
        return (g.expand(*in_shape),)


def mean(x, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim`` (all dimensions when None); with ``dtype`` the input is
    cast to it first, as PyTorch (integer inputs need a floating ``dtype`` there;
    here they are averaged as float32)."""
    xd = x._data
    in_dtype = None
    if dtype is not None:
        from ..dtypes import to_numpy_dtype  # noqa: PLC0415
        in_dtype = xd.dtype
        xd = xd.astype(to_numpy_dtype(dtype))
    if xd.dtype.kind not in 'fV':
        xd = xd.astype(DEFAULT_FLOAT)
    axes = normalize_dims('mean', dim, xd.ndim)
    out = xd.mean(axis=axes, keepdims=keepdim)
    count = 1
    for a in axes:
        count *= xd.shape[a]
    return track(out, MeanBackward, (x,), (xd.shape, axes, keepdim, count, in_dtype))


class ExtremumBackward(Node):
    """Gradient of max/min: split evenly among the elements equal to the extremum."""
    __slots__ = ()

    def backward(self, g):
        xd, out, axes, keepdim = self.saved
        out_k = _expand_grad(out, xd.shape, axes, keepdim)
        g = _expand_grad(g, xd.shape, axes, keepdim)
        mask = (xd == out_k)
        count = mask.sum(axis=axes, keepdims=True, dtype=g.dtype)
        return (g * mask / count,)

    def backward_graph(self, g):  # the split among the extrema is piecewise constant in x
        xd, out, axes, keepdim = self.saved
        dtype = g._data.dtype
        mask = xd == _expand_grad(out, xd.shape, axes, keepdim)
        with np.errstate(divide='ignore', invalid='ignore'):
            share = (mask / mask.sum(axis=axes, keepdims=True, dtype=dtype)).astype(dtype, copy=False)
        return (_expand_grad(g, xd.shape, axes, keepdim) * Tensor._wrap(backend.array_module(xd).asarray(share)),)


def _extremum(name, x, dim, keepdim, arg_fn, red_fn, result_cls):
    xd = x._data
    if dim is None:
        if xd.size == 0:
            raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {xd.shape}; "
                               "give a dim to reduce over")
        out = red_fn(xd, axis=None, keepdims=keepdim)
        return global_pick(x, out)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r} (use a{name} to reduce over several dims)")
    wd, axis = work_axis(name, xd, dim)
    require_nonempty(name, wd, axis)
    idx = arg_fn(wd, axis=axis, keepdims=True)
    return selected(result_cls, x, wd, idx, axis, reduced_shape(xd, axis, keepdim))


def max(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Maximum of all elements (a 0-d tensor; ties share the gradient evenly) or,
    given an int ``dim``, the named tuple ``(values, indices)`` of the maxima over
    that dim (the first maximum's index; NaN counts as the maximum; the gradient
    goes to that index). With a Tensor as second argument this is ``maximum``."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum  # noqa: PLC0415
        return maximum(x, dim)
    return _extremum('max', x, dim, keepdim, lambda a, axis, keepdims: a.argmax(axis=axis, keepdims=keepdims),
                     lambda a, axis, keepdims: a.max(axis=axis, keepdims=keepdims), return_types.max)


def min(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Minimum of all elements (a 0-d tensor; ties share the gradient evenly) or,
    given an int ``dim``, the named tuple ``(values, indices)`` of the minima over
    that dim (the first minimum's index; NaN counts as the minimum; the gradient
    goes to that index). With a Tensor as second argument this is ``minimum``."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum  # noqa: PLC0415
        return minimum(x, dim)
    return _extremum('min', x, dim, keepdim, lambda a, axis, keepdims: a.argmin(axis=axis, keepdims=keepdims),
                     lambda a, axis, keepdims: a.min(axis=axis, keepdims=keepdims), return_types.min)


def amax(x, dim=None, keepdim=False):
    """Maximum over ``dim`` (int or tuple); ties share the gradient evenly."""
    xd = x._data
    axes = normalize_dims('amax', dim, xd.ndim)
    if xd.size == 0 and (not axes or 0 in [xd.shape[a] for a in axes]):
        raise IndexError(f"amax: cannot reduce over an empty dimension of a tensor of shape {xd.shape}")
    out = xd.max(axis=axes, keepdims=keepdim)
    return track(out, ExtremumBackward, (x,), (xd, out, axes, keepdim), check=(x,), check_out=True)


def amin(x, dim=None, keepdim=False):
    """Minimum over ``dim`` (int or tuple); ties share the gradient evenly."""
    xd = x._data
    axes = normalize_dims('amin', dim, xd.ndim)
    if xd.size == 0 and (not axes or 0 in [xd.shape[a] for a in axes]):
        raise IndexError(f"amin: cannot reduce over an empty dimension of a tensor of shape {xd.shape}")
    out = xd.min(axis=axes, keepdims=keepdim)
    return track(out, ExtremumBackward, (x,), (xd, out, axes, keepdim), check=(x,), check_out=True)


def argmax(x, dim=None, keepdim=False):
    """Index of the maximum over ``dim`` (of the flattened tensor when None), int64."""
    xd = x._data
    if dim is None:
        return Tensor._wrap(backend.array_module(xd).asarray(xd.argmax()).astype(np.int64))
    axis = normalize_dims('argmax', dim, xd.ndim)
    if not axis:  # a 0-d tensor (dim 0 or -1): its only index
        return Tensor._wrap(backend.array_module(xd).zeros((), dtype=np.int64))
    return Tensor._wrap(backend.array_module(xd).asarray(xd.argmax(axis=axis[0], keepdims=keepdim), dtype=np.int64))


def argmin(x, dim=None, keepdim=False):
    """Index of the minimum over ``dim`` (of the flattened tensor when None), int64."""
    xd = x._data
    if dim is None:
        return Tensor._wrap(backend.array_module(xd).asarray(xd.argmin()).astype(np.int64))
    axis = normalize_dims('argmin', dim, xd.ndim)
    if not axis:  # a 0-d tensor (dim 0 or -1): its only index
        return Tensor._wrap(backend.array_module(xd).zeros((), dtype=np.int64))
    return Tensor._wrap(backend.array_module(xd).asarray(xd.argmin(axis=axis[0], keepdims=keepdim), dtype=np.int64))


def all(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True where all elements over ``dim`` (all dimensions when None) are non-zero (a bool tensor)."""
    axes = normalize_dims('all', dim, x._data.ndim)
    return Tensor._wrap(backend.array_module(x._data).asarray(x._data.astype(bool).all(axis=axes, keepdims=keepdim)))


def any(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True where any element over ``dim`` (all dimensions when None) is non-zero (a bool tensor)."""
    axes = normalize_dims('any', dim, x._data.ndim)
    return Tensor._wrap(backend.array_module(x._data).asarray(x._data.astype(bool).any(axis=axes, keepdims=keepdim)))


class ProdBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xd, out, axes, keepdim = self.saved
        xp = backend.array_module(g)
        g = _expand_grad(g, xd.shape, axes, keepdim)
        out_k = _expand_grad(out, xd.shape, axes, keepdim)
        zeros = (xd == 0)
        if not zeros.any():
            return (g * out_k / xd,)
        # with zeros: the product of all the other elements, computed directly
        moved = xp.moveaxis(xd, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
        ones = xp.ones_like(flat[..., :1])
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = (left * right).reshape(moved.shape)
        others = xp.moveaxis(others, tuple(range(-len(axes), 0)), axes)
        return (g * others,)

    def backward_graph(self, g):
        xd, out, axes, keepdim = self.saved
        x = self.input(0, xd)
        g = _expand_grad(g, xd.shape, axes, keepdim)
        if not axes:  # a product over no dims is the identity
            return (g,)
        if not (xd == 0).any():
            return (g * _expand_grad(self.output(out), xd.shape, axes, keepdim) / x,)
        # with zeros: each element's cofactor prod_{j != i} x_j, as the product of a row of x
        # with x_i replaced by one; O(n^2), but exact to any order (create_graph only)
        from .indexing import where  # noqa: PLC0415 - indexing imports this module
        xp = backend.array_module(xd)
        rest = tuple(i for i in range(xd.ndim) if i not in axes)
        perm = rest + axes
        moved = x.permute(*perm)
        lead = tuple(xd.shape[i] for i in rest)
        n = int(np.prod([xd.shape[i] for i in axes]))
        flat = moved.reshape(lead + (n,))
        rows = where(Tensor._wrap(xp.eye(n, dtype=bool)), 1.0, flat.unsqueeze(-2))
        others = rows.prod(-1).reshape(moved._data.shape).permute(*np.argsort(perm).tolist())
        return (g * others,)


def prod(x, dim=None, keepdim=False):
    """Product over ``dim`` (all dimensions when None); exact gradient also with zeros."""
    xd = x._data
    axes = normalize_dims('prod', dim, xd.ndim)
    out = xd.prod(axis=axes, keepdims=keepdim)
    return track(out, ProdBackward, (x,), (xd, out, axes, keepdim), check=(x,), check_out=True)


class VarBackward(Node):
    __slots__ = ()

    def backward(self, g):
        centered, axes, keepdim, denom = self.saved
        g = _expand_grad(g, centered.shape, axes, keepdim)
        return (g * centered * (2.0 / denom if denom else np.nan),)

    def backward_graph(self, g):
        centered, axes, keepdim, denom = self.saved
        return (_expand_grad(g, centered.shape, axes, keepdim) * _centered(self, centered, axes)
                * (2.0 / denom if denom else np.nan),)


def _centered(node, centered, axes):
    """``x - mean(x)`` as a tensor connected to the graph, from the saved centered array:
    centering is a linear projection with ``P(P(x)) = P(x)``, so centering a tensor that
    holds ``centered`` and stands for ``x`` in the graph gives the right value and gradient."""
    x = node.input(0, centered)
    return x - x.mean(axes, keepdim=True)


def _var_parts(op, x, dim, unbiased, keepdim, correction, ddof):
    xd = x._data
    if xd.dtype.kind != 'f':
        xd = xd.astype(DEFAULT_FLOAT)
    axes = normalize_dims(op, dim, xd.ndim)
    corr = 1
    if unbiased is not None:
        corr = 1 if unbiased else 0
    if correction is not None:
        corr = correction
    if ddof is not None:
        corr = ddof
    count = 1
    for a in axes:
        count *= xd.shape[a]
    denom = builtins_max(count - corr, 0)
    if denom == 0 and count:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      f"reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    centered = xd - xd.mean(axis=axes, keepdims=True)
    sq = (centered * centered).sum(axis=axes, keepdims=keepdim)
    with np.errstate(divide='ignore', invalid='ignore'):
        out = (sq / denom).astype(xd.dtype, copy=False) if denom else sq * np.nan
    return out, centered, axes, denom


def var(x, dim=None, unbiased=None, keepdim=False, correction=None, ddof=None):
    """Variance over ``dim`` with Bessel's correction by default
    (``correction=1``; ``unbiased=False`` or ``correction=0``/``ddof=0`` for the population variance)."""
    out, centered, axes, denom = _var_parts('var', x, dim, unbiased, keepdim, correction, ddof)
    # check x: torch saves the input itself, so an in-place change of it before backward raises there
    return track(out, VarBackward, (x,), (centered, axes, keepdim, denom), check=(x,))


class StdBackward(Node):
    __slots__ = ()

    def backward(self, g):
        centered, out, axes, keepdim, denom = self.saved
        xp = backend.array_module(g)
        out_k = _expand_grad(out, centered.shape, axes, keepdim)
        g = _expand_grad(g, centered.shape, axes, keepdim)
        # d std = centered / (denom * std); zero where std == 0, as PyTorch
        with np.errstate(divide='ignore', invalid='ignore'):
            scale = xp.where(out_k == 0, xp.zeros((), dtype=g.dtype), g / (out_k * denom if denom else np.nan))
        return (scale * centered,)

    def backward_graph(self, g):
        from .indexing import where  # noqa: PLC0415 - indexing imports this module
        centered, out, axes, keepdim, denom = self.saved
        out_k = _expand_grad(out, centered.shape, axes, keepdim)
        zero = Tensor._wrap(out_k == 0)
        std = _expand_grad(self.output(out), centered.shape, axes, keepdim)
        g = _expand_grad(g, centered.shape, axes, keepdim)
        with np.errstate(divide='ignore', invalid='ignore'):  # at std 0: NaN second derivatives, as PyTorch
            scale = where(zero, 0.0, g / (std * (denom if denom else np.nan)))
        return (scale * _centered(self, centered, axes),)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None, ddof=None):
    """Standard deviation over ``dim``; same correction rules as ``var``."""
    out, centered, axes, denom = _var_parts('std', x, dim, unbiased, keepdim, correction, ddof)
    xp = backend.array_module(out)
    out = xp.sqrt(out)
    return track(out, StdBackward, (x,), (centered, out, axes, keepdim, denom), check=(x,), check_out=True)


class LogSumExpBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xd, out, axes, keepdim = self.saved
        xp = backend.array_module(g)
        g = _expand_grad(g, xd.shape, axes, keepdim)
        out_k = _expand_grad(out, xd.shape, axes, keepdim)
        return (g * xp.exp(xd - out_k),)

    def backward_graph(self, g):
        xd, out, axes, keepdim = self.saved
        out_k = _expand_grad(self.output(out), xd.shape, axes, keepdim)
        return (_expand_grad(g, xd.shape, axes, keepdim) * (self.input(0, xd) - out_k).exp(),)


def logsumexp(x, dim=None, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    xd = x._data
    if xd.dtype.kind != 'f':
        xd = xd.astype(DEFAULT_FLOAT)
    xp = backend.array_module(xd)
    axes = normalize_dims('logsumexp', dim, xd.ndim)
    if xd.size == 0:  # log(0) = -inf over empty dims, as torch
        shape = tuple(1 if i in axes else n for i, n in enumerate(xd.shape)) if keepdim else \
            tuple(n for i, n in enumerate(xd.shape) if i not in axes)
        out = xp.full(shape, -np.inf, dtype=xd.dtype)
        return track(out, LogSumExpBackward, (x,), (xd, out, axes, keepdim), check=(x,), check_out=True)
    m = xd.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.exp(xd - m).sum(axis=axes, keepdims=True)) + m
    if not keepdim:
        out = out.reshape(tuple(n for i, n in enumerate(xd.shape) if i not in axes))
    return track(out, LogSumExpBackward, (x,), (xd, out, axes, keepdim), check=(x,), check_out=True)


import builtins  # noqa: E402 - the names max/min/sum above shadow the builtins in this module

builtins_max = builtins.max
