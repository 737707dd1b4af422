"""erf, GELU and dropout."""
import math

import numpy as np

from .. import backend
from .. import random as _random
from .._tensor import Tensor, track
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT
from . import kernels
from ._checks import _array, _float_array
from ._parallel import elementwise, parallel_rows
from ._rowops import _scalar

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
    # inner where small else outer, as a blend (both are finite or both NaN): np.where with a
    # random mask mispredicts a branch per element (measured, 65536 float32: where 200 us, this 35 us)
    big = xp.logical_not(small)
    inner *= small
    outer *= big
    inner += outer
    return inner


def _erf_array(x):
    """erf of a float array, computed in its own dtype (float16 in float32):
    within 1.4e-7 of the exact erf in float32, a few ulp in float64."""
    xd = x if x.dtype.itemsize >= 4 else x.astype(np.float32)
    out = elementwise(_erf_kernel, backend.array_module(xd).empty(xd.shape, dtype=xd.dtype), xd)
    return out.astype(x.dtype, copy=False)


class ErfBackward(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved
        xp = backend.array_module(x)
        return (g * (xp.exp(-(x * x)) * _scalar(_TWO_OVER_SQRT_PI, x.dtype)),)

    def backward_graph(self, g):
        x = self.input(0, self.saved[0])
        return (g * ((-(x * x)).exp() * _TWO_OVER_SQRT_PI),)


def erf(x):
    """The Gauss error function, elementwise."""
    xd = _array('erf', x)
    if xd.dtype.kind != 'f':
        xd = xd.astype(DEFAULT_FLOAT)
    return track(_erf_array(xd), ErfBackward, (x,), (xd,), check=(x,))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# log(Phi(-a)) + a^2 / 2 for a in [0, 5.6] (Phi: the normal CDF), highest degree first: a
# minimax fit of degree 10 (the a^2 / 2 taken out leaves a smooth function that a low degree
# fits) with the constant term float32(-ln 2), so Phi(0) is 1/2: within 1.6e-7 (float32
# Horner: 3e-7 below a = 3, 1.2e-6 near 5.6, where Phi(-a) < 1e-7). Beyond 5.6 the fit is held
# at 5.6 while -a^2 / 2 keeps falling, so Phi(-a) -> 0.
_LOG_PHI_NEG = (-1.1783520619951663e-08, 3.764717083123164e-07, -5.152500389139828e-06,
                3.8046598449201925e-05, -0.0001397216264652242, -0.00011857677737045619,
                0.004968973692945885, -0.03645992518939278, 0.18173043885900958,
                -0.797889051294044, -0.6931471824645996)


def _gelu_float32(x):
    """(Phi(x), x * Phi(x)) of a float32 array, within 2e-7 (+ 2e-7 relative)
    of the exact GELU: Phi(-|x|) = exp(poly(|x|) - x^2 / 2), one exp and ~28
    cheap passes over cache-sized blocks (erf costs ~60)."""
    xp = backend.array_module(x)
    f32 = np.float32
    c = tuple(f32(v) for v in _LOG_PHI_NEG)
    half, clip = f32(0.5), f32(5.6)
    # C-ordered outputs (not empty_like, which keeps a transposed input's layout), so that
    # reshape(-1) below is a view and the blockwise writes land in them
    cdf = xp.empty(x.shape, dtype=x.dtype)
    y = xp.empty(x.shape, dtype=x.dtype)
    xf, cf, yf = x.reshape(-1), cdf.reshape(-1), y.reshape(-1)

    def run(lo, hi):
        xb, acc = xf[lo:hi], cf[lo:hi]
        a = xp.abs(xb)
        xp.minimum(a, clip, out=a)
        xp.multiply(a, c[0], out=acc)
        acc += c[1]
        for k in c[2:]:
            acc *= a
            acc += k
        xp.multiply(xb, xb, out=a)
        a *= half
        acc -= a
        xp.exp(acc, out=acc)  # Phi(-|x|)
        # Phi(x) = [x >= 0] - sign(x) Phi(-|x|): 1 - Phi(-|x|), or Phi(-|x|) itself for x < 0 (no
        # cancellation there); the sign bit, so that -0 gives 1/2 too
        xp.copysign(acc, xb, out=acc)
        xp.subtract(xp.logical_not(xp.signbit(xb)), acc, out=acc)
        xp.multiply(xb, acc, out=yf[lo:hi])
    parallel_rows(run, xf.size, xf.size, xp, 1 << 16)
    return cdf, y


_gelu_float32_numpy = _gelu_float32  # (the hook below may replace the module name)


def _gelu_grad(x, cdf, g):
    """g * (Phi(x) + x * pdf(x)), blockwise (the passes stay in cache);
    ``cdf`` is Phi(x), or None (the compiled forward keeps none): float32, recomputed."""
    xp = backend.array_module(x)
    dt = x.dtype
    if cdf is None:
        cdf = _gelu_float32_numpy(x)[0]
    mhalf, c = _scalar(-0.5, dt), _scalar(_INV_SQRT_2PI, dt)
    out = xp.empty(x.shape, dtype=dt)
    xf, cf, of = x.reshape(-1), cdf.reshape(-1), out.reshape(-1)
    gf = g.reshape(-1)

    def run(lo, hi):
        xb, ob = xf[lo:hi], of[lo:hi]
        xp.multiply(xb, xb, out=ob)
        ob *= mhalf
        xp.exp(ob, out=ob)
        ob *= xb
        ob *= c
        ob += cf[lo:hi]
        ob *= gf[lo:hi]
    parallel_rows(run, xf.size, xf.size, xp, 1 << 16)
    return out


def _tanh_u(x):
    """u = sqrt(2 / pi) (x + 0.044715 x^3) and du/dx of the tanh GELU."""
    dt = x.dtype
    x2 = x * x
    u = x * (_scalar(_SQRT_2_OVER_PI, dt) + _scalar(_SQRT_2_OVER_PI * 0.044715, dt) * x2)
    return u, _scalar(_SQRT_2_OVER_PI, dt) + _scalar(3 * _SQRT_2_OVER_PI * 0.044715, dt) * x2


def _gelu_tanh(x):
    """0.5 x (1 + tanh u) as x sigmoid(2u) = x / (1 + exp(-2u)), which does not cancel for
    negative x as 1 + tanh u does (float32: 1e-3 relative error at x = -3). Nothing but x is
    kept for the backward (its 1 - tanh^2 u is taken as 1 / cosh^2 u, again without cancellation)."""
    xp = backend.array_module(x)
    with np.errstate(over='ignore', invalid='ignore'):  # u -> -inf: y -> -0, as it should; +-inf: nan
        d = xp.exp(_scalar(-2, x.dtype) * _tanh_u(x)[0])
        d += 1
        return x / d


def _gelu_tanh_grad(x, g):
    """g * (sigmoid(2u) + x u' / (2 cosh^2 u)), the derivative of the tanh GELU."""
    xp = backend.array_module(x)
    with np.errstate(over='ignore', invalid='ignore'):
        u, du = _tanh_u(x)
        s = xp.exp(_scalar(-2, x.dtype) * u)
        c = xp.cosh(u)
        s += 1
        c *= c
        du *= x
        du /= c
        du *= _scalar(0.5, x.dtype)
        du += 1 / s
        du *= g
        return du


class GeluBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, aux, approximate = self.saved
        if approximate == 'tanh':
            return (_gelu_tanh_grad(x, g),)
        return (_gelu_grad(x, aux, g),)

    def backward_graph(self, g):  # d gelu / dx recomputed from x with tensor ops
        x, _, approximate = self.saved
        x = self.input(0, x)
        if approximate == 'tanh':
            t = (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh()
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x))
        else:
            d = 0.5 * (1 + erf(x * (1 / math.sqrt(2.0)))) + x * ((-0.5 * x * x).exp() * _INV_SQRT_2PI)
        return (g * d,)


def gelu(x, approximate='none'):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the
    tanh approximation."""
    xd = _float_array('gelu', x)
    if approximate not in ('none', 'tanh'):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    dt = xd.dtype
    if approximate == 'tanh':
        aux, y = None, _gelu_tanh(xd)
    elif dt == np.float32:
        aux, y = _gelu_float32(xd)
    else:
        aux = _erf_array(xd * _scalar(1 / math.sqrt(2.0), dt))
        aux += 1
        aux *= _scalar(0.5, dt)
        y = xd * aux
    return track(y, GeluBackward, (x,), (xd, aux, approximate), check=(x,))


# the compiled (numba) versions of the array-level kernels, when that backend is on
kernels.hook(globals(), '_erf_array', 'activations.erf_array')
kernels.hook(globals(), '_gelu_float32', 'activations.gelu_float32')
kernels.hook(globals(), '_gelu_grad', 'activations.gelu_grad')
kernels.hook(globals(), '_gelu_tanh', 'activations.gelu_tanh')
kernels.hook(globals(), '_gelu_tanh_grad', 'activations.gelu_tanh_grad')

# ---------------------------------------------------------------------- dropout
class DropoutBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (g * self.saved,)

    def backward_graph(self, g):
        return (g * Tensor._wrap(self.saved),)


def dropout_mask(shape, p, dt, xp):
    """Inverted-dropout multiplier of ``shape``: 0 with probability ``p``, else
    ``1 / (1 - p)``, drawn from tensorgrad's generator (on the host, then moved)."""
    if p == 1:
        return xp.zeros(shape, dtype=dt)
    u = _random.generator().random(shape, dtype=np.float32)
    mask = (u >= np.float32(p)).astype(dt)
    mask *= _scalar(1.0 / (1.0 - p), dt)
    return mask if xp is np else xp.asarray(mask)


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability ``p`` and scale the
    rest by ``1 / (1 - p)``; the identity when not ``training`` or ``p == 0``."""
    xd = _float_array('dropout', x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    mask = dropout_mask(xd.shape, p, xd.dtype, backend.array_module(xd))
    return track(xd * mask, DropoutBackward, (x,), mask)


TENSOR_METHODS = {'erf': erf}
EXPORTS = ('erf', 'gelu', 'dropout')
