"""Compiled float32 activations: one loop each way, 16 lanes on AVX-512.

Exact GELU: Phi(-|x|) = 2^(q(|x|) - log2(e) x^2 / 2), q the NumPy path's
degree-10 fit (times log2 e), one exp2. The forwards write only ``y``, as
PyTorch does; the backwards recompute what they need from ``x`` (cheaper
than a saved array: the benchmark's GELU 32x128x1024 forward went from
5.3 ms to ~2.2 ms, about a third of that the second 16 MB output and its
page faults). tanh GELU: ``x * sigmoid(2u)``, one exp and one division,
accurate on both tails (``0.5 x (1 + tanh u)`` cancels for negative x).
erf: Cephes' odd polynomial below 1, the GELU tail above.

Then the pointwise ops of nn.functional (sigmoid, SiLU, softplus, ELU, ...):
see the section below. Other dtypes and arrays go to the NumPy functions."""
import numpy as np
from numba import prange

from ..activations import _INV_SQRT_2PI, _LOG_PHI_NEG, _SQRT_2_OVER_PI
from ._jit import _i32_as_f32, exp32, fdiv, helper, is_f32, kernel, wide_vectors

f32 = np.float32
# the exact GELU's fit (activations._LOG_PHI_NEG), written out here because numba's cache only
# watches this file: a changed global of another file would leave the stale compiled constants
# in use. (Passed as an argument instead, the 11 values spilled registers: 9% slower, measured.)
_FIT = (-1.1783520619951663e-08, 3.764717083123164e-07, -5.152500389139828e-06, 3.8046598449201925e-05,
        -0.0001397216264652242, -0.00011857677737045619, 0.004968973692945885, -0.03645992518939278,
        0.18173043885900958, -0.797889051294044, -0.6931471824645996)
if tuple(map(f32, _FIT)) != tuple(map(f32, _LOG_PHI_NEG)):
    raise RuntimeError('kernels/activations.py: _FIT must equal activations._LOG_PHI_NEG (update both)')
# the GELU / erf kernels take exp(z) as 2^(z log2 e), the log2 e folded into the coefficients
# before it (measured, exact GELU forward 65536 floats: 31.6 us with exp, 29.1 us with this)
_LOG2E_64 = 1.4426950408889634
_Q0, _Q1, _Q2, _Q3, _Q4, _Q5, _Q6, _Q7, _Q8, _Q9, _Q10 = (f32(c * _LOG2E_64) for c in _FIT)
_HALF_LOG2E = f32(0.5 * _LOG2E_64)
_LOG2E = f32(_LOG2E_64)
_LN2 = f32(np.log(2.0))
_PDF = f32(_INV_SQRT_2PI)
# tanh GELU: u = x (K0 + K1 x^2), du/dx = K0 + K3 x^2; W0, W1: those of 2 log2(e) u
_K0 = f32(_SQRT_2_OVER_PI)
_K3 = f32(3 * _SQRT_2_OVER_PI * 0.044715)
_W0 = f32(2 * _LOG2E_64 * _SQRT_2_OVER_PI)
_W1 = f32(2 * _LOG2E_64 * _SQRT_2_OVER_PI * 0.044715)
_SQRT2 = f32(np.sqrt(2.0))
# 2^f on [-1/2, 1/2]: a minimax fit of degree 6 with the constant term 1 (within 2e-9; 1e-7 in float32)
_E6, _E5, _E4, _E3, _E2, _E1 = (f32(c) for c in (
    0.00015353246295404625, 0.0013398815895155902, 0.009618437272333396, 0.055503326156616496,
    0.24022647918552792, 0.6931472027922603))
# Cephes erff: erf(x) = x T(x^2) for |x| < 1
_T0, _T1, _T2, _T3, _T4, _T5, _T6 = (f32(c) for c in (
    7.853861353153693e-5, -8.010193625184903e-4, 5.188327685732524e-3, -2.685381193529856e-2,
    1.128358514861418e-1, -3.761262582423300e-1, 1.128379165726710e0))


@helper
def _exp2_neg(w):
    """2^w for w <= 0, float32: exactly 0 below -126 (never a subnormal), NaN stays NaN."""
    w = f32(-127.0) if w < f32(-126.0) else w  # 2^-127 has exponent bits 0: the result is 0
    k = np.rint(w)
    f = w - k
    p = _E6 * f + _E5
    p = p * f + _E4
    p = p * f + _E3
    p = p * f + _E2
    p = p * f + _E1
    p = p * f + f32(1.0)
    return p * _i32_as_f32((np.int32(k) + np.int32(127)) << np.int32(23))


@helper
def _exp_neg(z):
    """exp(z) for z <= 0, float32: _jit.exp32 without its overflow branch (within 3e-7
    relative; ``_exp2_neg(z log2 e)`` would lose |z| 4e-8 relative to the rounding of z log2 e),
    exactly 0 below -87.3 (never a subnormal), NaN stays NaN."""
    z = f32(-88.0) if z < f32(-87.3) else z  # k = -127 there: 2^k has exponent bits 0, the result is 0
    k = np.rint(z * _LOG2E)
    r = z - k * _LN2  # (LLVM fuses Cephes' two-constant ln 2 into one FMA anyway)
    p = f32(1.9875691500E-4) * r + f32(1.3981999507E-3)
    p = p * r + f32(8.3334519073E-3)
    p = p * r + f32(4.1665795894E-2)
    p = p * r + f32(1.6666665459E-1)
    p = p * r + f32(5.0000001201E-1)
    p = p * r * r + r + f32(1.0)
    return p * _i32_as_f32((np.int32(k) + np.int32(127)) << np.int32(23))


@helper
def _log2_tail(v):
    """log2 Phi(-|v|) + log2(e) v^2 / 2 (the fit, held at |v| = 5.6)."""
    a = min(abs(v), f32(5.6))
    p = _Q0 * a + _Q1
    p = p * a + _Q2
    p = p * a + _Q3
    p = p * a + _Q4
    p = p * a + _Q5
    p = p * a + _Q6
    p = p * a + _Q7
    p = p * a + _Q8
    p = p * a + _Q9
    return p * a + _Q10


@kernel
def _gelu_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        tail = _exp2_neg(_log2_tail(v) - _HALF_LOG2E * v * v)  # Phi(-|v|); NaN in, NaN out
        y[i] = v * (tail if v < 0 else f32(1.0) - tail)


@kernel
def _gelu_bwd(x, g, out):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        h = -_HALF_LOG2E * v * v  # log2 of exp(-v^2 / 2)
        tail = _exp2_neg(_log2_tail(v) + h)
        cdf = tail if v < 0 else f32(1.0) - tail
        out[i] = g[i] * (cdf + v * _PDF * _exp2_neg(h))


@helper
def _sig2u(v):
    """(E, r) with E = exp(-2|u|), r = 1 / (1 + E): sigmoid(2u) is r (u >= 0) or
    E r (u < 0), sigmoid(2u) (1 - sigmoid(2u)) = E r^2 on both sides."""
    e = _exp2_neg(-abs(v * (_W0 + _W1 * v * v)))
    return e, fdiv(f32(1.0), f32(1.0) + e)


@kernel
def _gelu_tanh_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        e, r = _sig2u(v)
        y[i] = v * (r if v >= 0 else e * r)  # sign(u) = sign(v)


@kernel
def _gelu_tanh_bwd(x, g, out):
    # d/dx x s(2u) = s + 2 x s (1 - s) u'
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        e, r = _sig2u(v)
        s = r if v >= 0 else e * r
        out[i] = g[i] * (s + f32(2.0) * v * (e * r * r) * (_K0 + _K3 * v * v))


@kernel
def _erf_fwd(x, out):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        z = v * v
        p = _T0 * z + _T1
        p = p * z + _T2
        p = p * z + _T3
        p = p * z + _T4
        p = p * z + _T5
        p = p * z + _T6
        w = v * _SQRT2  # erf(v) = 1 - 2 Phi(-|w|) for v >= 0
        big = f32(1.0) - f32(2.0) * _exp2_neg(_log2_tail(w) - _LOG2E * z)
        out[i] = v * p if abs(v) < f32(1.0) else (big if v >= 0 else -big)  # NaN: -big, NaN


def _unary(kern, x):
    """``kern(x, y)`` over the flattened ``x`` into a new C-ordered array of its shape."""
    y = np.empty(x.shape, dtype=x.dtype)
    xf = np.ascontiguousarray(x).reshape(-1)
    kern.pick(xf.size)(xf, y.reshape(-1))
    return y


def _binary(kern, x, g):
    """``kern(x, g, out)`` over the flattened same-shape ``x`` and ``g``."""
    out = np.empty(x.shape, dtype=x.dtype)
    xf, gf = np.ascontiguousarray(x).reshape(-1), np.ascontiguousarray(g).reshape(-1)
    kern.pick(xf.size)(xf, gf, out.reshape(-1))
    return out


def _unary_factory(kern, name, wrap=lambda y: y):
    """The factory of a compiled ``name(x)``: ``wrap(kern over x)`` for float32, else ``numpy_fn(x)``."""
    def factory(numpy_fn):
        def compiled(x):
            if not is_f32(x):
                return numpy_fn(x)
            return wrap(_unary(kern, x))
        compiled.__name__ = compiled.__qualname__ = name
        compiled.__doc__ = f"``_{name}(x)`` compiled for float32."
        return compiled
    return factory


def _grad_factory(kern, name, unused=0):
    """The factory of a compiled ``name(x, *unused, g)``: ``kern(x, g)`` for float32 ``x``
    and ``g`` of one shape (the ``unused`` middle arguments are not read), else ``numpy_fn``."""
    def factory(numpy_fn):
        def compiled(x, *rest):
            g = rest[unused]
            if not is_f32(x, g) or g.shape != x.shape:
                return numpy_fn(x, *rest)
            return _binary(kern, x, g)
        compiled.__name__ = compiled.__qualname__ = name
        compiled.__doc__ = f"``_{name}`` compiled for float32."
        return compiled
    return factory


# the exact GELU's forward stores no cdf: (None, y); its gradient recomputes the cdf from x
gelu_float32 = _unary_factory(_gelu_fwd, 'gelu_float32', wrap=lambda y: (None, y))
gelu_grad = _grad_factory(_gelu_bwd, 'gelu_grad', unused=1)  # (x, cdf, g)
gelu_tanh = _unary_factory(_gelu_tanh_fwd, 'gelu_tanh')
gelu_tanh_grad = _grad_factory(_gelu_tanh_bwd, 'gelu_tanh_grad')  # (x, g)
erf_array = _unary_factory(_erf_fwd, 'erf_array')


# ---------------------------------------------------------------------- nn.functional's pointwise ops
# forward(xp, x, *params) and grad(xp, g, x, y, *params) of the ops built by
# nn/_elementwise.pointwise and ops/elementwise.unary_op (which hook them by name: their
# ``kernel=`` argument), compiled for float32: one pass, where the NumPy versions take 3-12, and
# np.where with a data-dependent mask mispredicts a branch per element (measured, 65536 float32
# forwards: leaky_relu 245 us in NumPy, 7 us here; sigmoid 312 us, 21 us; the whole family is
# now within 1.2x of PyTorch's time at 256x256 and 32x128x1024, forward and backward).

@helper
def _sigmoid(v):
    """1 / (1 + exp(-v)) from e = exp(-|v|): 1 / (1 + e), or e / (1 + e) for v < 0."""
    e = _exp_neg(-abs(v))
    r = fdiv(f32(1.0), f32(1.0) + e)
    return r if v >= 0 else e * r


@helper
def _log1p_01(e):
    """log(1 + e) for e in [0, 1]: 2 atanh(s), s = e / (2 + e) <= 1/3, by its series to s^15
    (truncation 1.5e-9 relative)."""
    s = fdiv(e, f32(2.0) + e)
    z = s * s
    p = f32(1 / 15) * z + f32(1 / 13)
    p = p * z + f32(1 / 11)
    p = p * z + f32(1 / 9)
    p = p * z + f32(1 / 7)
    p = p * z + f32(1 / 5)
    p = p * z + f32(1 / 3)
    return f32(2.0) * s + f32(2.0) * s * (p * z)


@helper
def _softplus0(v):
    """log(1 + exp(v)) without overflow: log1p(exp(-|v|)) + max(v, 0)."""
    return _log1p_01(_exp_neg(-abs(v))) + (v if v > 0 else f32(0.0))


@helper
def _expm1_neg(v):
    """exp(v) - 1 for v <= 0, without the cancellation near 0: Taylor to v^9 above -0.5
    (truncation 3e-9 relative), exp(v) - 1 below."""
    p = f32(1 / 362880) * v + f32(1 / 40320)
    p = p * v + f32(1 / 5040)
    p = p * v + f32(1 / 720)
    p = p * v + f32(1 / 120)
    p = p * v + f32(1 / 24)
    p = p * v + f32(1 / 6)
    p = p * v + f32(0.5)
    small = v + v * (p * v)
    return small if v > f32(-0.5) else _exp_neg(v) - f32(1.0)


@kernel
def _sigmoid_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        y[i] = _sigmoid(x[i])


@kernel
def _sigmoid_bwd(g, y, out):
    for i in prange(y.shape[0]):
        wide_vectors()
        s = y[i]
        out[i] = g[i] * s * (f32(1.0) - s)


@kernel
def _tanh_bwd(g, y, out):
    for i in prange(y.shape[0]):
        wide_vectors()
        t = y[i]
        out[i] = g[i] * (f32(1.0) - t * t)


@kernel
def _relu_bwd(g, y, out):
    # as PyTorch: where(y <= 0, 0, g); y is >= 0 or NaN, so y != 0 is not (y <= 0)
    for i in prange(y.shape[0]):
        wide_vectors()
        out[i] = g[i] if y[i] != 0 else f32(0.0)


@kernel
def _silu_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        y[i] = v * _sigmoid(v)


@kernel
def _silu_bwd(g, x, out):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        s = _sigmoid(v)
        out[i] = g[i] * (s * (f32(1.0) + v * (f32(1.0) - s)))


@kernel
def _softplus_fwd(x, y, beta, threshold):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        bv = v * beta
        y[i] = v if bv > threshold else fdiv(_softplus0(bv), beta)


@kernel
def _softplus_bwd(g, x, out, beta, threshold):
    for i in prange(x.shape[0]):
        wide_vectors()
        bv = x[i] * beta
        out[i] = g[i] if bv > threshold else g[i] * _sigmoid(bv)


@kernel
def _logsigmoid_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        y[i] = -_softplus0(-x[i])


@kernel
def _logsigmoid_bwd(g, x, out):
    for i in prange(x.shape[0]):
        wide_vectors()
        out[i] = g[i] * _sigmoid(-x[i])


@helper
def _mish_parts(v):
    """(tanh(softplus(v)), sigmoid(v)): with e = exp(v) and n = e (e + 2), tanh(log(1 + e)) is
    n / (n + 2) (no cancellation for negative v); e is held at exp(20), where that is 1."""
    e = exp32(min(v, f32(20.0)))
    n = e * (e + f32(2.0))
    return fdiv(n, n + f32(2.0)), fdiv(e, f32(1.0) + e), n


@kernel
def _mish_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        t, _, _ = _mish_parts(v)
        y[i] = v * t


@kernel
def _mish_bwd(g, x, out):
    # d/dx x tanh(sp) = tanh(sp) + x sigmoid(x) (1 - tanh^2(sp)),  1 - tanh^2 = 4 (n + 1) / (n + 2)^2
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        t, s, n = _mish_parts(v)
        d = n + f32(2.0)
        sech2 = fdiv(f32(4.0) * (n + f32(1.0)), d * d)  # < 1e-17 from v = 20 on, where n is held: 0
        out[i] = g[i] * (t + v * (f32(0.0) if v > f32(20.0) else s * sech2))  # (+inf: NaN, as PyTorch)


@kernel
def _elu_fwd(x, y, alpha, scale, inv_alpha):
    # scale * (x if x > 0 else alpha * expm1(x * inv_alpha)): ELU (scale 1, inv_alpha 1), SELU, CELU
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        y[i] = scale * (v if v > 0 else alpha * _expm1_neg(min(v * inv_alpha, f32(0.0))))


@kernel
def _elu_bwd(g, x, out, alpha, scale, inv_alpha):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        d = alpha * inv_alpha * _exp_neg(min(v * inv_alpha, f32(0.0)))  # NaN stays NaN
        out[i] = g[i] * (scale if v > 0 else scale * d)


@kernel
def _leaky_relu_fwd(x, y, slope):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        y[i] = v if v > 0 else v * slope


@kernel
def _leaky_relu_bwd(g, x, out, slope):
    for i in prange(x.shape[0]):
        wide_vectors()
        out[i] = g[i] if x[i] > 0 else g[i] * slope


@kernel
def _hardsigmoid_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        y[i] = min(max(fdiv(x[i], f32(6.0)) + f32(0.5), f32(0.0)), f32(1.0))


@kernel
def _hardsigmoid_bwd(g, x, out):
    # as PyTorch: g / 6 inside (-3, 3), exactly 0 elsewhere (and at NaN)
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        out[i] = fdiv(g[i], f32(6.0)) if f32(-3.0) < v < f32(3.0) else f32(0.0)


@kernel
def _hardswish_fwd(x, y):
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        y[i] = v * min(max(fdiv(v, f32(6.0)) + f32(0.5), f32(0.0)), f32(1.0))


@kernel
def _hardswish_bwd(g, x, out):
    # as PyTorch: 0 for x <= -3, g (x / 3 + 1/2) below 3, g from 3 on (and at NaN)
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        gi = g[i]
        d = gi * (fdiv(v, f32(3.0)) + f32(0.5)) if v < f32(3.0) else gi
        out[i] = f32(0.0) if v <= f32(-3.0) else d


@kernel
def _hardtanh_fwd(x, y, lo, hi):
    for i in prange(x.shape[0]):
        wide_vectors()
        y[i] = min(max(x[i], lo), hi)  # numba's max / min: a NaN first argument wins


@kernel
def _hardtanh_bwd(g, x, out, lo, hi):
    # as PyTorch: 0 at and beyond the bounds, g inside (and at NaN)
    for i in prange(x.shape[0]):
        wide_vectors()
        v = x[i]
        out[i] = f32(0.0) if v <= lo or v >= hi else g[i]


def _pointwise_forward(kern, params=lambda *p: p):
    """The factory of a compiled ``forward(xp, x, *params)``: ``kern(x, y, *params(*p))``
    on float32 NumPy arrays (``params`` maps the op's parameters to the kernel's, as float32)."""
    def factory(numpy_fn):
        """The compiled ``forward(xp, x, *params)``; ``numpy_fn`` takes what it does not cover."""
        def forward(xp, x, *p):
            if not is_f32(x):
                return numpy_fn(xp, x, *p)
            y = np.empty(x.shape, dtype=np.float32)
            xf = np.ascontiguousarray(x).reshape(-1)
            kern.pick(xf.size)(xf, y.reshape(-1), *[f32(v) for v in params(*p)])
            return y
        forward.__doc__ = numpy_fn.__doc__
        return forward
    return factory


def _pointwise_grad(kern, uses='x', params=lambda *p: p):
    """The factory of a compiled ``grad(xp, g, x, y, *params)``: ``kern(g, x or y, out, ...)``."""
    def factory(numpy_fn):
        """The compiled ``grad(xp, g, x, y, *params)``; ``numpy_fn`` takes what it does not cover."""
        def grad(xp, g, x, y, *p):
            a = x if uses == 'x' else y
            if not is_f32(g, a) or g.shape != a.shape:
                return numpy_fn(xp, g, x, y, *p)
            out = np.empty(a.shape, dtype=np.float32)
            gf, af = np.ascontiguousarray(g).reshape(-1), np.ascontiguousarray(a).reshape(-1)
            kern.pick(af.size)(gf, af, out.reshape(-1), *[f32(v) for v in params(*p)])
            return out
        grad.__doc__ = numpy_fn.__doc__
        return grad
    return factory


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_elu_params = {'elu': lambda a: (a, 1.0, 1.0), 'selu': lambda: (_SELU_ALPHA, _SELU_SCALE, 1.0),
               'celu': lambda a: (a, 1.0, 1.0 / a)}

sigmoid_forward = _pointwise_forward(_sigmoid_fwd)
sigmoid_grad = _pointwise_grad(_sigmoid_bwd, 'y')
tanh_grad = _pointwise_grad(_tanh_bwd, 'y')
relu_grad = _pointwise_grad(_relu_bwd, 'y')
silu_forward = _pointwise_forward(_silu_fwd)
silu_grad = _pointwise_grad(_silu_bwd)
softplus_forward = _pointwise_forward(_softplus_fwd)
softplus_grad = _pointwise_grad(_softplus_bwd)
logsigmoid_forward = _pointwise_forward(_logsigmoid_fwd)
logsigmoid_grad = _pointwise_grad(_logsigmoid_bwd)
mish_forward = _pointwise_forward(_mish_fwd)
mish_grad = _pointwise_grad(_mish_bwd)
elu_forward = _pointwise_forward(_elu_fwd, _elu_params['elu'])
elu_grad = _pointwise_grad(_elu_bwd, params=_elu_params['elu'])
selu_forward = _pointwise_forward(_elu_fwd, _elu_params['selu'])
selu_grad = _pointwise_grad(_elu_bwd, params=_elu_params['selu'])
celu_forward = _pointwise_forward(_elu_fwd, _elu_params['celu'])
celu_grad = _pointwise_grad(_elu_bwd, params=_elu_params['celu'])
leaky_relu_forward = _pointwise_forward(_leaky_relu_fwd)
leaky_relu_grad = _pointwise_grad(_leaky_relu_bwd)
hardsigmoid_forward = _pointwise_forward(_hardsigmoid_fwd)
hardsigmoid_grad = _pointwise_grad(_hardsigmoid_bwd)
hardswish_forward = _pointwise_forward(_hardswish_fwd)
hardswish_grad = _pointwise_grad(_hardswish_bwd)
hardtanh_forward = _pointwise_forward(_hardtanh_fwd)
hardtanh_grad = _pointwise_grad(_hardtanh_bwd)
