"""Math used in models, beyond the basic elementwise ops: ``outer``/``ger``,
``lerp``, ``addcmul``, ``addcdiv``, ``addmm``, ``baddbmm``, ``erfc``,
``erfinv``, ``float_power``, ``hypot``, ``xlogy``, ``logit``,
``cummax``/``cummin`` (with their in-place ``_`` forms where PyTorch has one).

The fused-looking ops (``addcmul`` ...) are composed of the differentiable
primitives (``lerp`` is one node, ``_lerp``); the special functions have their
own kernels and gradients here."""
import math

import numpy as np

from .. import backend, return_types
from .._tensor import Tensor, track
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT
from ._lerp import lerp_op
from .activations import _erf_array
from .elementwise import _broadcast_error, _need, add, cast, mul, operands, pow, div
from .indexing import gather, where
from .inplace import apply_inplace
from .linalg import bmm, mm
from .shape import _dim, reshape


def _tensor(op, x, name='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x._data


def _float_data(op, x):
    xd = _tensor(op, x)
    return xd if xd.dtype.kind == 'f' else xd.astype(DEFAULT_FLOAT)


# ---------------------------------------------------------------------- products and fused updates
def outer(input, vec2):  # noqa: A002 - PyTorch's names
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    a, b = _tensor('outer', input), _tensor('outer', vec2, 'vec2')
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return mul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


ger = outer


def _check_lerp(input, end, weight):  # noqa: A002
    """PyTorch's operand rules for lerp: a floating ``input``, an ``end`` tensor of the
    same dtype, and a ``weight`` number or tensor of that dtype (a 0-d one may differ)."""
    xd, ed = _tensor('lerp', input), _tensor('lerp', end, 'end')
    if xd.dtype.kind not in 'fcV':
        raise NotImplementedError(f"lerp: not implemented for {xd.dtype} tensors (use a floating dtype)")
    if ed.dtype != xd.dtype:
        raise RuntimeError(f"lerp: expected dtype {xd.dtype} for `end` but got dtype {ed.dtype}")
    if isinstance(weight, Tensor):
        wd = weight._data
        if wd.dtype != xd.dtype and wd.ndim:
            raise RuntimeError(f"lerp: expected dtype {xd.dtype} for `weight` but got dtype {wd.dtype}")
    elif not isinstance(weight, (int, float, np.integer, np.floating)):
        raise TypeError(f"lerp: weight must be a number or a Tensor, got {type(weight).__name__}")


def lerp(input, end, weight):  # noqa: A002
    """Linear interpolation ``input + weight * (end - input)`` (``weight`` a number or tensor)."""
    _check_lerp(input, end, weight)
    return lerp_op(input, end, weight)


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """``input + value * tensor1 * tensor2`` (broadcast)."""
    _tensor('addcmul', input)
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """``input + value * tensor1 / tensor2`` (broadcast)."""
    _tensor('addcdiv', input)
    if _tensor('addcdiv', tensor1, 'tensor1').dtype.kind != 'f' and tensor2._data.dtype.kind != 'f':
        raise TypeError("addcdiv: integer division of tensors is not supported; use a floating point tensor")
    q = div(tensor1, tensor2)
    return add(input, q if value == 1 else mul(q, value))


def _scaled_sum(op, input, prod, beta, alpha):
    xd, shape = _tensor(op, input), prod._data.shape
    try:
        fits = np.broadcast_shapes(xd.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: input of shape {tuple(xd.shape)} cannot be broadcast to the product's "
                         f"shape {tuple(shape)}")
    if alpha != 1:
        prod = mul(prod, alpha)
    if beta == 0:  # as PyTorch: input is ignored (its nan and inf do not propagate), zero gradient
        xp = backend.array_module(xd)
        return add(prod, where(xp.zeros((), dtype=bool), input, prod._data.dtype.type(0)))
    return add(input if beta == 1 else mul(input, beta), prod)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2``."""
    _tensor('addmm', input)
    return _scaled_sum('addmm', input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)`` for 3-D ``batch1``, ``batch2``."""
    _tensor('baddbmm', input)
    return _scaled_sum('baddbmm', input, bmm(batch1, batch2), beta, alpha)


# ---------------------------------------------------------------------- erfc, erfinv
_SQRT_PI = math.sqrt(math.pi)


def _erfc_pos(xp, a):
    """erfc of a float64 array of values ``a >= 0``, to a few ulp (relative) also in the tail."""
    from .activations import _ERFC_P, _ERFC_Q, _polyval  # noqa: PLC0415
    mid = xp.clip(a, 1.0, 8.0)
    out = xp.exp(-(mid * mid)) * _polyval(_ERFC_P, mid) / _polyval(_ERFC_Q, mid)
    big = xp.clip(a, 8.0, 30.0)  # asymptotic series: its terms shrink fast beyond 8
    inv = 1.0 / (2.0 * big * big)
    term, series = xp.ones_like(big), xp.ones_like(big)
    for n in range(1, 14):
        term = term * (-(2 * n - 1) * inv)
        series = series + term
    tail = xp.exp(-(big * big)) / (big * _SQRT_PI) * series
    small = 1.0 - _erf_array(xp.minimum(a, 1.0))
    out = xp.where(a < 1.0, small, xp.where(a < 8.0, out, xp.where(a < 30.0, tail, 0.0)))
    return xp.where(xp.isnan(a), a, out)


def _erfc_array(xd):
    xp = backend.array_module(xd)
    x = xd.astype(np.float64)
    with np.errstate(over='ignore', under='ignore', invalid='ignore'):
        pos = _erfc_pos(xp, xp.abs(x))
    return xp.where(x < 0, 2.0 - pos, pos).astype(xd.dtype, copy=False)


class ErfcBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x = self.saved
        xp = backend.array_module(g)
        return (g * (xp.exp(-(x * x)) * x.dtype.type(-2.0 / _SQRT_PI)),)

    def backward_graph(self, g):
        x = self.input(0, self.saved)
        return (g * ((-(x * x)).exp() * (-2.0 / _SQRT_PI)),)


def erfc(input):  # noqa: A002
    """Complementary error function ``1 - erf(x)``, accurate also where it is tiny."""
    xd = _float_data('erfc', input)
    return track(_erfc_array(xd), ErfcBackward, (input,), xd, check=(input,))


# Giles' single-precision erfinv ("Approximating the erfinv function", GPU Computing Gems)
_GILES_SMALL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_BIG = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
              -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefs, w):
    p = w * 0 + coefs[0]
    for c in coefs[1:]:
        p = p * w + c
    return p


def _erfinv_array(yd):
    """erfinv in float64: Giles' approximation refined by Newton steps on erf (erfc in the tails)."""
    xp = backend.array_module(yd)
    y = yd.astype(np.float64)
    a = xp.abs(y)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        inside = xp.where(a < 1, a, 0.0)
        w = -xp.log((1.0 - inside) * (1.0 + inside))
        x = xp.where(w < 5.0, _horner(_GILES_SMALL, w - 2.5), _horner(_GILES_BIG, xp.sqrt(w) - 3.0)) * inside
        tail = inside > 0.5
        one_minus = 1.0 - inside  # exact for inside > 0.5 (Sterbenz)
        log_q = xp.log(xp.where(tail, one_minus, 1.0))
        for _ in range(3):
            # Newton on erf(x) = y; in the tail on log(erfc(x)) = log(1 - y), nearly quadratic in x
            slope = 2.0 / _SQRT_PI * xp.exp(-(x * x))
            c = _erfc_pos(xp, x)
            step_tail = (xp.log(c) - log_q) * c / -slope
            x = x - xp.where(tail, step_tail, (_erf_array(x) - inside) / slope)
        x = xp.where(a == 1, np.inf, xp.where(a > 1, np.nan, x))
        x = xp.where(xp.isnan(y), np.nan, x)
    return (xp.copysign(x, y)).astype(yd.dtype, copy=False)


class ErfinvBackward(Node):
    __slots__ = ()

    def backward(self, g):
        y = self.saved
        xp = backend.array_module(g)
        return (g * (xp.exp(y * y) * y.dtype.type(_SQRT_PI / 2)),)

    def backward_graph(self, g):
        y = self.output(self.saved)
        return (g * ((y * y).exp() * (_SQRT_PI / 2)),)


def erfinv(input):  # noqa: A002
    """Inverse error function on ``[-1, 1]`` (``erfinv(erf(x)) == x``); +-inf at +-1, NaN outside."""
    xd = _float_data('erfinv', input)
    out = _erfinv_array(xd)
    return track(out, ErfinvBackward, (input,), out, check_out=True)


# ---------------------------------------------------------------------- powers, hypot, xlogy, logit
def float_power(input, exponent):  # noqa: A002
    """``input ** exponent`` computed in float64 (the result is float64)."""
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("float_power(): expected a Tensor among input and exponent")
        input = Tensor._wrap(backend.array_module(exponent._data).asarray(input, dtype=np.float64))
    x = input if input._data.dtype == np.float64 else cast(input, np.dtype(np.float64))
    if isinstance(exponent, Tensor) and exponent._data.dtype != np.float64:
        exponent = cast(exponent, np.dtype(np.float64))
    elif isinstance(exponent, (int, np.integer)) and not isinstance(exponent, bool):
        exponent = float(exponent)
    return pow(x, exponent)


class HypotBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b, out = self.saved
        with np.errstate(divide='ignore', invalid='ignore'):  # NaN at (0, 0), as PyTorch
            q = g / out
            return (q * a if _need(self, 0) else None, q * b if _need(self, 1) else None)

    def backward_graph(self, g):
        a, b, out = self.saved
        with np.errstate(divide='ignore', invalid='ignore'):
            q = g / self.output(out)
            return (q * _operand(self, 0, a) if _need(self, 0) else None,
                    q * _operand(self, 1, b) if _need(self, 1) else None)


def hypot(input, other):  # noqa: A002
    """Elementwise ``sqrt(input**2 + other**2)`` without intermediate overflow."""
    _tensor('hypot', input)
    a, b, ad, bd = operands('hypot', input, other)
    if ad.dtype.kind != 'f':
        raise TypeError(f"hypot: expected floating point tensors, got dtype {ad.dtype}")
    if isinstance(bd, (int, float)):
        bd = ad.dtype.type(bd)
    xp = backend.array_module(ad)
    try:
        out = xp.hypot(ad, bd)
    except ValueError:
        _broadcast_error('hypot', ad, bd)
    # each operand's gradient uses only that operand (and the output): one that needs no
    # grad is neither saved nor version-checked, as in PyTorch
    need_a, need_b = a.requires_grad, b is not None and b.requires_grad
    return track(out, HypotBackward, (a, b), (ad if need_a else None, bd if need_b else None, out),
                 check=(a,) * need_a + (b,) * need_b, check_out=True)


class XlogyBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, y = self.saved
        xp = backend.array_module(g)
        with np.errstate(divide='ignore', invalid='ignore'):
            gx = xp.where((x == 0) & (y <= 0), 0, g * xp.log(y)) if _need(self, 0) else None  # as PyTorch
            gy = g * x / y if _need(self, 1) else None
        return gx, gy

    def backward_graph(self, g):
        x, y = self.saved
        xt, yt = _operand(self, 0, x), _operand(self, 1, y)
        with np.errstate(divide='ignore', invalid='ignore'):
            gx = gy = None
            if _need(self, 0):
                log_y = yt.log() if isinstance(yt, Tensor) else math.log(yt) if yt > 0 else \
                    (-math.inf if yt == 0 else math.nan)
                gx = where(Tensor._wrap((x == 0) & (y <= 0)), 0.0, g * log_y)
            if _need(self, 1):
                gy = g * xt / yt
        return gx, gy


def xlogy(input, other):  # noqa: A002
    """Elementwise ``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError("xlogy(): expected a Tensor among input and other")
        input = Tensor._wrap(backend.array_module(other._data).asarray(
            input, dtype=other._data.dtype if other._data.dtype.kind == 'f' else DEFAULT_FLOAT))
    a, b, ad, bd = operands('xlogy', input, other)
    if ad.dtype.kind != 'f':
        ad = ad.astype(DEFAULT_FLOAT)
    if isinstance(bd, (int, float)):
        bd = ad.dtype.type(bd)
    elif bd.dtype.kind != 'f':
        bd = bd.astype(ad.dtype)
    xp = backend.array_module(ad)
    try:
        with np.errstate(divide='ignore', invalid='ignore'):
            out = xp.where((ad == 0) & ~xp.isnan(bd), ad.dtype.type(0), ad * xp.log(bd))
    except ValueError:
        _broadcast_error('xlogy', ad, bd)
    return track(out.astype(ad.dtype, copy=False), XlogyBackward, (a, b), (ad, bd),
                 check=(a,) if b is None else (a, b))


class LogitBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, eps = self.saved
        xp = backend.array_module(g)
        with np.errstate(divide='ignore', invalid='ignore'):
            d = g / (x * (1 - x))
        if eps is not None:
            d = xp.where((x < eps) | (x > 1 - eps), 0, d)
        return (d,)

    def backward_graph(self, g):
        x, eps = self.saved
        xt = self.input(0, x)
        with np.errstate(divide='ignore', invalid='ignore'):
            d = g / (xt * (1 - xt))
        if eps is not None:
            d = where(Tensor._wrap((x < eps) | (x > 1 - eps)), 0.0, d)
        return (d,)


def _operand(node, i, value):
    """Saved operand ``i`` for a ``backward_graph``: a tensor in the graph, or a
    saved scalar (a NumPy scalar becomes a Python number: float32 stays float32)."""
    if isinstance(value, np.generic):
        return value.item()
    return node.input(i, value)


def logit(input, eps=None):  # noqa: A002
    """Elementwise ``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped into ``[eps, 1 - eps]``."""
    xd = _float_data('logit', input)
    xp = backend.array_module(xd)
    z = xd if eps is None else xp.clip(xd, xd.dtype.type(eps), xd.dtype.type(1 - eps))
    with np.errstate(divide='ignore', invalid='ignore'):
        out = xp.log(z / (1 - z)).astype(xd.dtype, copy=False)
    return track(out, LogitBackward, (input,), (xd, None if eps is None else xd.dtype.type(eps)), check=(input,))


# ---------------------------------------------------------------------- cummax, cummin
def _cumext(op, input, dim, larger, result_cls):
    xd = _tensor(op, input)
    nd = xd.ndim
    axis = _dim(op, dim, max(nd, 1))
    if nd == 0:
        idx = backend.array_module(xd).zeros((), dtype=np.int64)
        return result_cls(gather(reshape(input, (1,)), 0, Tensor._wrap(idx.reshape(1))).reshape(()),
                          Tensor._wrap(idx))
    xp = backend.array_module(xd)
    ufunc = xp.maximum if larger else xp.minimum
    if xd.shape[axis] == 0:
        idx = xp.zeros(xd.shape, dtype=np.int64)
    else:
        vals = ufunc.accumulate(xd, axis=axis)
        shape = [1] * nd
        shape[axis] = xd.shape[axis]
        pos = xp.arange(xd.shape[axis], dtype=np.int64).reshape(shape)
        hit = xd == vals
        if xd.dtype.kind == 'f':
            hit |= xp.isnan(xd)
        idx = xp.maximum.accumulate(xp.where(hit, pos, 0), axis=axis)
    return result_cls(gather(input, axis, Tensor._wrap(idx)), Tensor._wrap(idx))


def cummax(input, dim):  # noqa: A002
    """Running maximum along ``dim``: ``(values, indices)``, the index of the latest maximum."""
    return _cumext('cummax', input, dim, True, return_types.cummax)


def cummin(input, dim):  # noqa: A002
    """Running minimum along ``dim``: ``(values, indices)``, the index of the latest minimum."""
    return _cumext('cummin', input, dim, False, return_types.cummin)


def _inplace(name, fn):
    def method(self, *args, **kwargs):
        return apply_inplace(self, name, lambda s: fn(s, *args, **kwargs))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``; returns the tensor."
    return method


EXPORTS = ('outer', 'ger', 'lerp', 'addcmul', 'addcdiv', 'addmm', 'baddbmm', 'erfc', 'erfinv', 'float_power',
           'hypot', 'xlogy', 'logit', 'cummax', 'cummin')
TENSOR_METHODS = {name: globals()[name] for name in EXPORTS}
TENSOR_METHODS.update({name + '_': _inplace(name + '_', globals()[name]) for name in (
    'lerp', 'addcmul', 'addcdiv', 'addmm', 'baddbmm', 'erfc', 'erfinv', 'hypot', 'xlogy', 'logit')})


def float_power_(self, exponent):
    """In-place ``float_power``: only for a float64 tensor (as PyTorch)."""
    if _tensor('float_power_', self).dtype != np.float64:
        raise RuntimeError(f"float_power_: the base dtype {self._data.dtype} does not match the result "
                           f"dtype float64")
    return apply_inplace(self, 'float_power_', lambda s: float_power(s, exponent))


TENSOR_METHODS['float_power_'] = float_power_
