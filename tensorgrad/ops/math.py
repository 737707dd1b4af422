"""The wider math library: trigonometric and hyperbolic functions and their
inverses, exp/log variants, ``logaddexp``, powers (``square``, ``cbrt``,
``reciprocal``, ``rsqrt``), ``arctan2``, cumulative sums/products,
``tril``/``triu``, ``roll``, ``atleast_nd`` and MyGrad's math-level
activations (``hard_tanh``, ``soft_sign``, ``glu``, ``elu``, ``selu``).

Each op is differentiable, keeps float32 float32, and is bound as a Tensor
method where PyTorch has one (NumPy and PyTorch spellings both).
"""
import math as _pymath

import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.graph_xp import TENSOR_XP
from ..autograd.node import Node
from . import elementwise as _ew
from .elementwise import _need, clamp, mul, operands, sigmoid, unary_op
from .shape import _dim, reshape

_LN2, _LN10 = _pymath.log(2.0), _pymath.log(10.0)


def _c(x, v):
    """The Python number ``v`` in ``x``'s dtype (so float32 stays float32); for a
    Tensor (a formula run on tensors under create_graph) the Python number itself."""
    return v if isinstance(x, Tensor) else x.dtype.type(v)


# ---------------------------------------------------------------------- unary
tan = unary_op('tan', lambda xp, x: xp.tan(x), lambda xp, g, x, y: g * (1 + y * y), saves='y',
               doc="Elementwise tangent.")
arcsin = unary_op('arcsin', lambda xp, x: xp.arcsin(x), lambda xp, g, x, y: g / xp.sqrt(1 - x * x),
                  doc="Elementwise inverse sine.")
arccos = unary_op('arccos', lambda xp, x: xp.arccos(x), lambda xp, g, x, y: -g / xp.sqrt(1 - x * x),
                  doc="Elementwise inverse cosine.")
arctan = unary_op('arctan', lambda xp, x: xp.arctan(x), lambda xp, g, x, y: g / (1 + x * x),
                  doc="Elementwise inverse tangent.")
sinh = unary_op('sinh', lambda xp, x: xp.sinh(x), lambda xp, g, x, y: g * xp.cosh(x),
                doc="Elementwise hyperbolic sine.")
cosh = unary_op('cosh', lambda xp, x: xp.cosh(x), lambda xp, g, x, y: g * xp.sinh(x),
                doc="Elementwise hyperbolic cosine.")
arcsinh = unary_op('arcsinh', lambda xp, x: xp.arcsinh(x), lambda xp, g, x, y: g / xp.sqrt(x * x + 1),
                   doc="Elementwise inverse hyperbolic sine.")
arccosh = unary_op('arccosh', lambda xp, x: xp.arccosh(x), lambda xp, g, x, y: g / xp.sqrt(x * x - 1),
                   doc="Elementwise inverse hyperbolic cosine.")
arctanh = unary_op('arctanh', lambda xp, x: xp.arctanh(x), lambda xp, g, x, y: g / (1 - x * x),
                   doc="Elementwise inverse hyperbolic tangent.")
exp2 = unary_op('exp2', lambda xp, x: xp.exp2(x), lambda xp, g, x, y: g * y * _c(y, _LN2), saves='y',
                doc="Elementwise ``2 ** x``.")
expm1 = unary_op('expm1', lambda xp, x: xp.expm1(x), lambda xp, g, x, y: g * (y + 1), saves='y',
                 doc="Elementwise ``exp(x) - 1``, accurate for small ``x``.")
log2 = unary_op('log2', lambda xp, x: xp.log2(x), lambda xp, g, x, y: g / (x * _c(x, _LN2)),
                doc="Elementwise base-2 logarithm.")
log10 = unary_op('log10', lambda xp, x: xp.log10(x), lambda xp, g, x, y: g / (x * _c(x, _LN10)),
                 doc="Elementwise base-10 logarithm.")
log1p = unary_op('log1p', lambda xp, x: xp.log1p(x), lambda xp, g, x, y: g / (1 + x),
                 doc="Elementwise ``log(1 + x)``, accurate for small ``x``.")
cbrt = unary_op('cbrt', lambda xp, x: xp.cbrt(x), lambda xp, g, x, y: g / (3 * y * y), saves='y',
                doc="Elementwise cube root.")
square = unary_op('square', lambda xp, x: x.astype(np.int64) ** 2 if x.dtype == np.bool_ else x * x,  # torch: int64
                  lambda xp, g, x, y: g * 2 * x, float_only=False,
                  doc="Elementwise ``x * x``.")
reciprocal = unary_op('reciprocal', lambda xp, x: 1 / x, lambda xp, g, x, y: -g * y * y, saves='y',
                      doc="Elementwise ``1 / x``.")
rsqrt = unary_op('rsqrt', lambda xp, x: 1 / xp.sqrt(x), lambda xp, g, x, y: g * _c(y, -0.5) * y * y * y,
                 saves='y', doc="Elementwise ``1 / sqrt(x)``.")
positive = unary_op('positive', lambda xp, x: x.copy(), lambda xp, g, x, y: g, saves='', float_only=False,
                    doc="Elementwise ``+x`` (a copy).")
soft_sign = unary_op('soft_sign', lambda xp, x: x / (1 + xp.abs(x)),
                     lambda xp, g, x, y: g / ((1 + xp.abs(x)) ** 2),
                     doc="MyGrad's soft sign ``x / (1 + |x|)``.")
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
softsign = soft_sign


def _elu_fwd(alpha, scale):
    def fwd(xp, x):
        a = _c(x, alpha)
        return (_c(x, scale) * xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0)))).astype(x.dtype, copy=False)

    def grad(xp, g, x, y):
        return g * xp.where(x > 0, _c(x, scale), _c(x, scale * alpha) * xp.exp(xp.minimum(x, 0)))
    return fwd, grad


_ELU_CACHE = {}


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    key = ('elu', float(alpha))
    op = _ELU_CACHE.get(key)
    if op is None:
        fwd, grad = _elu_fwd(float(alpha), 1.0)
        op = _ELU_CACHE[key] = unary_op('elu', fwd, grad, doc=elu.__doc__)
    return op(x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_selu_fwd, _selu_grad = _elu_fwd(_SELU_ALPHA, _SELU_SCALE)
selu = unary_op('selu', _selu_fwd, _selu_grad,
                doc="Scaled exponential linear unit ``scale * elu(x, alpha)`` with the self-normalising constants.")


def hard_tanh(x, lower_bound=-1, upper_bound=1):
    """MyGrad's hard tanh: ``x`` clipped into ``[lower_bound, upper_bound]``."""
    if lower_bound > upper_bound:
        raise ValueError(f"hard_tanh: lower_bound {lower_bound} exceeds upper_bound {upper_bound}")
    return clamp(x, lower_bound, upper_bound)


def glu(x, dim=-1, axis=None):
    """Gated linear unit: ``x`` is split in half along ``dim`` into ``a, b``; returns ``a * sigmoid(b)``."""
    if axis is not None:
        dim = axis
    d = _dim('glu', dim, x._data.ndim)
    n = x._data.shape[d]
    if n % 2:
        raise ValueError(f"glu: dimension {dim} of shape {x._data.shape} must have an even size")
    from .indexing import getitem  # noqa: PLC0415
    pre = (slice(None),) * d
    a = getitem(x, pre + (slice(0, n // 2),))
    b = getitem(x, pre + (slice(n // 2, n),))
    return mul(a, sigmoid(b))


# ---------------------------------------------------------------------- binary
class Arctan2Backward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved
        den = a * a + b * b
        return (g * b / den if _need(self, 0) else None, -g * a / den if _need(self, 1) else None)

    def backward_graph(self, g):
        a, b = _operand(self, 0, self.saved[0]), _operand(self, 1, self.saved[1])
        den = a * a + b * b
        return (g * b / den if _need(self, 0) else None, -g * a / den if _need(self, 1) else None)


def _operand(node, i, value):
    """Saved operand ``i`` for a ``backward_graph``: a tensor in the graph, or a
    saved scalar (a NumPy scalar becomes a Python number: float32 stays float32)."""
    if isinstance(value, np.generic):
        return value.item()
    return node.input(i, value)


def arctan2(a, b):
    """Elementwise angle of the point ``(b, a)``: ``arctan(a / b)`` in the right quadrant."""
    a, b, ad, bd = operands('arctan2', a, b)
    ad, bd = _float(ad), _float(bd)
    xp = backend.array_module(ad)
    out = xp.arctan2(ad, bd)
    if isinstance(bd, (int, float)):
        bd = _c(ad, bd)
    return track(out.astype(ad.dtype, copy=False), Arctan2Backward, (a, b), (ad, bd),
                 check=(a,) if b is None else (a, b))


class LogAddExpBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b, out, base2 = self.saved
        xp = backend.array_module(g)
        if base2:
            wa, wb = xp.exp2(a - out), xp.exp2(b - out)
        else:
            wa, wb = xp.exp(a - out), xp.exp(b - out)
        return (g * wa if _need(self, 0) else None, g * wb if _need(self, 1) else None)

    def backward_graph(self, g):
        a, b, out, base2 = self.saved
        a, b, out = _operand(self, 0, a), _operand(self, 1, b), self.output(out)
        w = exp2 if base2 else _ew.exp
        return (g * w(a - out) if _need(self, 0) else None, g * w(b - out) if _need(self, 1) else None)


def _float(d):
    if isinstance(d, (int, float, bool)):
        return float(d)
    return d if d.dtype.kind == 'f' else d.astype(np.float32)


def _logaddexp(name, a, b, base2):
    a, b, ad, bd = operands(name, a, b)
    ad, bd = _float(ad), _float(bd)
    if isinstance(bd, float):
        bd = _c(ad, bd)
    xp = backend.array_module(ad)
    out = (xp.logaddexp2 if base2 else xp.logaddexp)(ad, bd)
    return track(out, LogAddExpBackward, (a, b), (ad, bd, out, base2), check=(a,) if b is None else (a, b),
                 check_out=True)


def logaddexp(a, b):
    """Elementwise ``log(exp(a) + exp(b))``, computed stably."""
    return _logaddexp('logaddexp', a, b, False)


def logaddexp2(a, b):
    """Elementwise ``log2(2 ** a + 2 ** b)``, computed stably."""
    return _logaddexp('logaddexp2', a, b, True)


atan2 = arctan2


# ---------------------------------------------------------------------- cumulative
def _revcumsum(xp, a, axis):
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class CumsumBackward(Node):
    __slots__ = ()
    saves_arrays = False  # only shapes/axes: a second backward needs no retain_graph

    def backward(self, g):
        axis, shape = self.saved
        xp = backend.array_module(g)
        if g.ndim == 0:
            return (g,)
        return (_revcumsum(xp, g, axis).reshape(shape),)

    def backward_graph(self, g):
        axis, shape = self.saved
        if g.ndim == 0:
            return (g,)
        return (_revcumsum(TENSOR_XP, g, axis).reshape(shape),)


def _cum_axis(op, x, dim):
    xd = x._data
    if dim is None:
        return xd.reshape(-1), 0
    ax = _dim(op, dim, max(xd.ndim, 1))  # a 0-d tensor takes dim 0 or -1, as PyTorch
    return xd, ax if xd.ndim else 0


def cumsum(x, dim=None, axis=None):
    """Cumulative sum along ``dim`` (NumPy's ``axis``; None flattens first, as NumPy)."""
    if axis is not None:
        dim = axis
    xd, ax = _cum_axis('cumsum', x, dim)
    xp = backend.array_module(xd)
    if xd.ndim == 0:
        xd = xd.reshape(1)
    out = xp.cumsum(xd, axis=ax, dtype=xd.dtype if xd.dtype.kind == 'f' else np.int64)
    if x._data.ndim == 0:
        out = out.reshape(())
    return track(out, CumsumBackward, (x,), (ax, x._data.shape))


class CumprodBackward(Node):
    __slots__ = ()

    def backward(self, g):
        xd, out, axis, shape = self.saved
        if xd.shape[axis] == 1:  # the identity, as PyTorch (out / x would turn an inf x into nan)
            return (g.reshape(shape),)
        xp = backend.array_module(g)
        g = g.reshape(out.shape)
        zero = xd == 0
        nz = xp.cumsum(zero, axis=axis)
        before = nz == 0  # positions before the first zero of their line
        # before the first zero: d out_j / d x_i = out_j / x_i
        safe = xp.where(before, xd, _c(xd, 1))
        gx = xp.where(before, _revcumsum(xp, g * out, axis) / safe, _c(xd, 0))
        # at the first zero: products with that zero replaced by one (computed unconditionally:
        # testing first.any() would be a device-to-host sync on cuda)
        first = zero & (nz == 1)
        y1 = xp.cumprod(xp.where(first, _c(xd, 1), xd), axis=axis)
        gx = xp.where(first, _revcumsum(xp, g * y1, axis), gx)
        return (gx.reshape(shape),)

    def backward_graph(self, g):
        xd, out, axis, shape = self.saved
        if xd.shape[axis] == 1:
            return (g.reshape(shape),)
        g = g.reshape(out.shape)
        x = self.input(0, xd.reshape(shape)).reshape(xd.shape)
        if not (xd == 0).any():  # d out_j / d x_i = out_j / x_i, an identity wherever x_i != 0
            y = self.output(out.reshape(self.shape)).reshape(out.shape)
            return ((_revcumsum(TENSOR_XP, g * y, axis) / x).reshape(shape),)
        # with zeros: d out_j / d x_i (j >= i) is the cumulative product of x with x_i replaced
        # by one; O(n^2), but exact to any order (create_graph only), as PyTorch's
        from .indexing import where  # noqa: PLC0415 - indexing imports this module
        xp = backend.array_module(xd)
        n = xd.shape[axis]
        xm, gm = x.movedim(axis, -1), g.movedim(axis, -1)
        rows = where(Tensor._wrap(xp.eye(n, dtype=bool)), 1.0, xm.unsqueeze(-2)).cumprod(-1)
        upper = Tensor._wrap(xp.triu(xp.ones((n, n), dtype=xd.dtype)))  # j >= i
        gx = (rows * gm.unsqueeze(-2) * upper).sum(-1)
        return (gx.movedim(-1, axis).reshape(shape),)


def cumprod(x, dim=None, axis=None):
    """Cumulative product along ``dim`` (None flattens first); exact gradient also with zeros."""
    if axis is not None:
        dim = axis
    xd, ax = _cum_axis('cumprod', x, dim)
    if xd.ndim == 0:
        xd = xd.reshape(1)
    xp = backend.array_module(xd)
    out = xp.cumprod(xd, axis=ax, dtype=xd.dtype if xd.dtype.kind == 'f' else np.int64)
    res = out.reshape(()) if x._data.ndim == 0 else out
    return track(res, CumprodBackward, (x,), (xd, out, ax, x._data.shape), check=(x,), check_out=True)


# ---------------------------------------------------------------------- triangles, roll
class MaskBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (g * self.saved,)

    def backward_graph(self, g):  # the mask is constant
        return (g * Tensor._wrap(self.saved.astype(g._data.dtype)),)


def _tri(op, x, diagonal, lower):
    xd = x._data
    if xd.ndim < 2:
        raise ValueError(f"{op}: expected a tensor with at least 2 dimensions, got shape {xd.shape}")
    xp = backend.array_module(xd)
    n, m = xd.shape[-2:]
    mask = xp.tri(n, m, k=diagonal, dtype=bool)
    if not lower:
        mask = ~xp.tri(n, m, k=diagonal - 1, dtype=bool)
    out = xp.where(mask, xd, xd.dtype.type(0))
    if not out.flags.c_contiguous:  # torch's result is contiguous whatever the input's layout (view() relies on it)
        out = xp.ascontiguousarray(out)
    return track(out, MaskBackward, (x,), mask)


def tril(x, diagonal=0, k=None):
    """The lower triangle of the last two dims (on and below ``diagonal``); the rest is zero."""
    return _tri('tril', x, diagonal if k is None else k, True)


def triu(x, diagonal=0, k=None):
    """The upper triangle of the last two dims (on and above ``diagonal``); the rest is zero."""
    return _tri('triu', x, diagonal if k is None else k, False)


class RollBackward(Node):
    __slots__ = ()
    saves_arrays = False  # only shapes/axes: a second backward needs no retain_graph

    def backward(self, g):
        shifts, axes, shape = self.saved
        xp = backend.array_module(g)
        if axes is None:
            return (xp.roll(g.reshape(-1), -shifts).reshape(shape),)
        return (xp.roll(g, tuple(-s for s in shifts), axis=axes),)

    def backward_graph(self, g):
        shifts, axes, shape = self.saved
        if axes is None:
            return (roll(g.reshape(-1), -shifts).reshape(shape),)
        return (roll(g, tuple(-s for s in shifts), axes),)


def roll(x, shifts, dims=None, axis=None):
    """Shift elements along ``dims`` by ``shifts`` (wrapping around); with no dims the
    tensor is rolled as if flattened."""
    if axis is not None:
        dims = axis
    xd = x._data
    xp = backend.array_module(xd)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise TypeError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        out = xp.roll(xd.reshape(-1), int(shifts)).reshape(xd.shape)
        return track(out, RollBackward, (x,), (int(shifts), None, xd.shape))
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts given for {len(dims)} dims")
    axes = tuple(_dim('roll', d, xd.ndim) for d in dims)
    shifts = tuple(int(s) for s in shifts)
    out = xp.roll(xd, shifts, axis=axes)
    return track(out, RollBackward, (x,), (shifts, axes, xd.shape))


# ---------------------------------------------------------------------- atleast_nd
def _atleast(n, tensors):
    out = []
    for t in tensors:
        if not isinstance(t, Tensor):
            t = Tensor(t, requires_grad=False)
        s = t._data.shape
        if len(s) >= n:
            out.append(t)
            continue
        if n == 1:
            new = (1,)
        elif n == 2:
            new = (1,) * (2 - len(s)) + s
        else:  # NumPy: (N,) -> (1, N, 1); (M, N) -> (M, N, 1)
            new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)]
        out.append(reshape(t, new))
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dimension (a list when several are given)."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dimensions (leading ones added, as NumPy)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dimensions (NumPy's placement of the new axes)."""
    return _atleast(3, tensors)


def sinc(x):
    """Normalised sinc ``sin(pi x) / (pi x)`` (1 at 0)."""
    xd = x._data if x._data.dtype.kind == 'f' else x._data.astype(np.float32)
    xp = backend.array_module(xd)
    out = xp.sinc(xd).astype(xd.dtype, copy=False)
    return track(out, SincBackward, (x,), (xd, out), check=(x,))


class SincBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, _ = self.saved
        xp = backend.array_module(g)
        # d/dx sinc = (cos(pi x) - sinc(x)) / x cancels badly near 0 (in float32 the error
        # reaches 3e-4): evaluate it in float64, with its Taylor series where |x| < 1e-3
        x64 = x.astype(np.float64)
        small = xp.abs(x64) < 1e-3
        safe = xp.where(small, 1.0, x64)
        exact = (xp.cos(np.pi * safe) - xp.sinc(safe)) / safe
        x2 = x64 * x64
        series = x64 * (-np.pi ** 2 / 3 + (np.pi ** 4 / 30) * x2)
        d = xp.where(small, series, exact).astype(x.dtype, copy=False)
        return (g * d,)

    def backward_graph(self, g):  # the same evaluation on tensors
        from .indexing import where  # noqa: PLC0415 - indexing imports this module
        x, _ = self.saved
        small = Tensor._wrap(backend.array_module(x).abs(x) < 1e-3)
        x64 = self.input(0, x)
        if x.dtype != np.float64:
            x64 = _ew.cast(x64, np.dtype(np.float64))
        safe = where(small, 1.0, x64)
        exact = ((np.pi * safe).cos() - sinc(safe)) / safe
        series = x64 * (-np.pi ** 2 / 3 + (np.pi ** 4 / 30) * (x64 * x64))
        d = where(small, series, exact)
        if x.dtype != np.float64:
            d = _ew.cast(d, x.dtype)
        return (g * d,)


# ---------------------------------------------------------------------- MyGrad / NumPy names
def leaky_relu(x, slope=0.01):
    """MyGrad's leaky ReLU ``max(x, 0) + slope * min(x, 0)``; ``slope`` may be a tensor."""
    from .indexing import where  # noqa: PLC0415
    return where(x._data > 0, x, mul(x, slope))


def add_sequence(*tensors):
    """``tensors[0] + tensors[1] + ...`` (MyGrad's ``add_sequence``)."""
    if len(tensors) < 2:
        raise ValueError(f"add_sequence: expected at least 2 tensors, got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = _ew.add(out, t)
    return out


def multiply_sequence(*tensors):
    """``tensors[0] * tensors[1] * ...`` (MyGrad's ``multiply_sequence``)."""
    if len(tensors) < 2:
        raise ValueError(f"multiply_sequence: expected at least 2 tensors, got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = mul(out, t)
    return out


def expand_dims(x, axis):
    """NumPy's ``expand_dims``: a view with size-1 dims inserted at ``axis`` (an int or a tuple)."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    nd = x._data.ndim + len(axes)
    norm_axes = sorted(_dim('expand_dims', a, nd) for a in axes)
    if len(set(norm_axes)) != len(norm_axes):
        raise ValueError(f"expand_dims: axis {axis} repeats a dimension")
    shape = list(x._data.shape)
    for a in norm_axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def ravel(x):
    """The tensor flattened to 1-D (a view when possible)."""
    return reshape(x, (-1,))


def negative(x):
    """Elementwise ``-x`` (NumPy's name)."""
    return _ew.neg(x)


def absolute(x):
    """Elementwise ``|x|`` (NumPy's name)."""
    return _ew.abs(x)


def power(a, b):
    """Elementwise ``a ** b`` with broadcasting (NumPy's name)."""
    return _ew.pow(a, b)


# ---------------------------------------------------------------------- norms, chains (tensorgrad.linalg)
def norm(x, p='fro', dim=None, keepdim=False, dtype=None):
    """``torch.norm``: ``p='fro'`` or a number is the vector norm over ``dim`` (all
    elements when None), ``'nuc'`` the nuclear norm; see ``tensorgrad.linalg.norm``."""
    from .. import linalg  # noqa: PLC0415 - the namespace module builds on ops
    return linalg.torch_norm(x, p, dim, keepdim, dtype)


def multi_matmul(tensors):
    """Product of a chain of matrices in the cheapest order (MyGrad's ``multi_matmul``)."""
    from .. import linalg  # noqa: PLC0415
    return linalg.multi_dot(tensors)


_UNARY = ('tan', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'arcsinh', 'arccosh', 'arctanh', 'asin',
          'acos', 'atan', 'asinh', 'acosh', 'atanh', 'exp2', 'expm1', 'log2', 'log10', 'log1p', 'cbrt',
          'square', 'reciprocal', 'rsqrt', 'positive', 'sinc')
EXPORTS = _UNARY + ('arctan2', 'atan2', 'logaddexp', 'logaddexp2', 'cumsum', 'cumprod', 'tril', 'triu',
                    'roll', 'atleast_1d', 'atleast_2d', 'atleast_3d', 'hard_tanh', 'soft_sign', 'softsign',
                    'glu', 'elu', 'selu', 'norm', 'multi_matmul', 'leaky_relu', 'add_sequence',
                    'multiply_sequence', 'expand_dims', 'ravel', 'negative', 'absolute', 'power')
TENSOR_METHODS = {name: globals()[name] for name in _UNARY + (
    'arctan2', 'atan2', 'logaddexp', 'logaddexp2', 'cumsum', 'cumprod', 'tril', 'triu', 'roll', 'norm', 'ravel',
    'negative', 'absolute', 'power')}
