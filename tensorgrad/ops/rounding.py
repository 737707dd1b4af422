"""Rounding and its relatives: ``floor``, ``ceil``, ``round`` (half to even,
``decimals``), ``trunc``/``fix``, ``frac``, ``fmod``, ``clamp_min``,
``clamp_max``, ``nan_to_num``, and their in-place ``_`` forms.

As in PyTorch, the step functions are differentiable with a zero gradient,
``frac`` passes the gradient through, ``nan_to_num`` passes it where the input
is finite. Integer tensors are returned unchanged (as a copy) by the step
functions; ``round`` with decimals and ``frac`` need floating point."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT
from .elementwise import _broadcast_error, _need, clamp, operands
from .inplace import apply_inplace


class ZeroGradBackward(Node):
    """Gradient of a piecewise-constant op: zero everywhere (as PyTorch)."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        return (backend.array_module(g).zeros_like(g),)

    def backward_graph(self, g):
        return (Tensor._wrap(self.backward(g._data)[0]),)


class PassGradBackward(Node):
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        return (g,)

    backward_graph = backward


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x._data


def _step(name, fn, doc):
    def op(input):  # noqa: A002 - PyTorch's name
        xd = _check_tensor(name, input)
        if xd.dtype.kind not in 'fV':
            return Tensor._wrap(xd.copy())
        return track(fn(backend.array_module(xd), xd), ZeroGradBackward, (input,))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


floor = _step('floor', lambda xp, x: xp.floor(x), "Elementwise largest integer not above ``x`` (zero gradient).")
ceil = _step('ceil', lambda xp, x: xp.ceil(x), "Elementwise smallest integer not below ``x`` (zero gradient).")
trunc = _step('trunc', lambda xp, x: xp.trunc(x), "Elementwise ``x`` rounded toward zero (zero gradient).")
fix = trunc
_rint = _step('round', lambda xp, x: xp.rint(x), "")


def round(input, *, decimals=0):  # noqa: A001,A002 - PyTorch's names
    """Elementwise rounding to ``decimals`` decimal places, halves to even (zero gradient)."""
    xd = _check_tensor('round', input)
    if decimals == 0:
        return _rint(input)
    if xd.dtype.kind != 'f':
        raise TypeError(f"round: decimals={decimals} needs a floating point tensor, got dtype {xd.dtype}")
    xp = backend.array_module(xd)
    scale = xd.dtype.type(10.0 ** abs(int(decimals)))
    with np.errstate(over='ignore', invalid='ignore'):
        out = xp.rint(xd * scale) / scale if decimals > 0 else xp.rint(xd / scale) * scale
    return track(out.astype(xd.dtype, copy=False), ZeroGradBackward, (input,))


def frac(input):  # noqa: A002
    """Elementwise fractional part ``x - trunc(x)`` (sign of ``x``); gradient one."""
    xd = _check_tensor('frac', input)
    if xd.dtype.kind not in 'fV':
        raise TypeError(f"frac: expected a floating point tensor, got dtype {xd.dtype}")
    xp = backend.array_module(xd)
    return track(xd - xp.trunc(xd), PassGradBackward, (input,))


class FmodBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved
        xp = backend.array_module(g)
        gb = None
        if _need(self, 1):
            with np.errstate(divide='ignore', invalid='ignore'):
                gb = -g * xp.trunc(a / b)
        return (g if _need(self, 0) else None, gb)

    def backward_graph(self, g):  # trunc(a / b) is piecewise constant
        a, b = self.saved
        gb = None
        if _need(self, 1):
            with np.errstate(divide='ignore', invalid='ignore'):
                gb = -g * Tensor._wrap(backend.array_module(a).trunc(a / b))
        return (g if _need(self, 0) else None, gb)


def fmod(input, other):  # noqa: A002
    """Elementwise C remainder of ``input / other`` with the sign of ``input``
    (``%``/``remainder`` takes the divisor's sign)."""
    _check_tensor('fmod', input)
    a, b, ad, bd = operands('fmod', input, other)
    xp = backend.array_module(ad)
    if ad.dtype.kind in 'iub' and (bd == 0 if isinstance(bd, (int, float)) else (bd == 0).any()):
        raise ZeroDivisionError(f"fmod: integer division by zero (dtype {ad.dtype})")
    try:
        with np.errstate(divide='ignore', invalid='ignore'):
            out = xp.fmod(ad, bd)
    except ValueError:
        _broadcast_error('fmod', ad, bd)
    if isinstance(bd, (int, float)):
        bd = ad.dtype.type(bd) if ad.dtype.kind == 'f' else bd
    return track(xp.asarray(out), FmodBackward, (a, b), (ad, bd), check=(a,) if b is None else (a, b))


def _bound_operand(op, input, bound):
    """``input`` promoted as PyTorch does against the bound (an int tensor with a float bound
    becomes float)."""
    xd = _check_tensor(op, input)
    if xd.dtype.kind in 'iub' and (isinstance(bound, float) or (
            isinstance(bound, Tensor) and bound._data.dtype.kind == 'f')):
        dt = bound._data.dtype if isinstance(bound, Tensor) else DEFAULT_FLOAT
        return Tensor._wrap(xd.astype(dt))
    return input


def clamp_min(input, min):  # noqa: A002 - PyTorch's names
    """Elementwise ``max(input, min)`` (``clamp(input, min=min)``)."""
    return clamp(_bound_operand('clamp_min', input, min), min=min)


def clamp_max(input, max):  # noqa: A002 - PyTorch's names
    """Elementwise ``min(input, max)`` (``clamp(input, max=max)``)."""
    return clamp(_bound_operand('clamp_max', input, max), max=max)


class NanToNumBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (g * backend.array_module(g).isfinite(self.saved),)

    def backward_graph(self, g):  # the mask is constant
        return (g * Tensor._wrap(backend.array_module(self.saved).isfinite(self.saved).astype(g._data.dtype)),)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf``
    (defaults: the dtype's largest and lowest finite values); gradient where finite."""
    xd = _check_tensor('nan_to_num', input)
    if xd.dtype.kind not in 'fV':
        return Tensor._wrap(xd.copy())
    xp = backend.array_module(xd)
    info = np.finfo(xd.dtype)
    pos = info.max if posinf is None else posinf
    neg = info.min if neginf is None else neginf
    t = xd.dtype.type
    out = xp.where(xp.isnan(xd), t(nan), xd)
    out = xp.where(out == np.inf, t(pos), out)
    out = xp.where(out == -np.inf, t(neg), out).astype(xd.dtype, copy=False)
    return track(out, NanToNumBackward, (input,), xd, check=(input,))


def _inplace(name, fn):
    def method(self, *args, **kwargs):
        return apply_inplace(self, name, lambda s: fn(s, *args, **kwargs))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``; returns the tensor."
    return method


_OPS = ('floor', 'ceil', 'round', 'trunc', 'fix', 'frac', 'fmod', 'clamp_min', 'clamp_max', 'nan_to_num')
EXPORTS = _OPS
TENSOR_METHODS = {name: globals()[name] for name in _OPS}
TENSOR_METHODS.update({name + '_': _inplace(name + '_', globals()[name]) for name in _OPS})
