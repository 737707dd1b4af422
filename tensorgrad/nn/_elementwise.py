"""Fused elementwise activations and pointwise losses for ``nn.functional``.

Each op is one graph node: ``forward(xp, x, *params)`` gives the output and
``grad(xp, g, x, y, *params)`` the vector-Jacobian product, so an activation
such as ELU or Softplus costs one pass forward and one backward instead of a
chain of primitive nodes. Parameters (slopes, thresholds) are Python floats
and never upcast float32.
"""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.graph_xp import TENSOR_XP
from ..autograd.node import Node
from ..dtypes import DEFAULT_FLOAT
from ..ops import kernels
from ..ops._gradmask import keep_where, zero_where

_ndarray = np.ndarray


def pointwise(name, forward, grad, saves='x', kernel=(None, None)):
    """A differentiable unary op ``op(x, *params)`` from ``forward`` and ``grad``;
    ``saves`` says what backward needs: 'x', 'y' or 'xy'. ``kernel``: the names of
    compiled versions of ``forward`` and ``grad`` (or None) in ops/kernels/activations.py,
    used under the numba backend (``backward_graph`` keeps ``grad``, on tensors)."""
    save_x, save_y = 'x' in saves, 'y' in saves
    fns = {'forward': forward, 'grad': grad}
    for key, spec in zip(('forward', 'grad'), kernel):
        if spec is not None:
            kernels.hook(fns, key, f'activations.{spec}')

    class _Backward(Node):
        __slots__ = ()

        def backward(self, g):
            x, y, params = self.saved
            return (fns['grad'](backend.array_module(g), g, x, y, *params),)

        def backward_graph(self, g):  # the same formula on tensors (create_graph)
            x, y, params = self.saved
            return (grad(TENSOR_XP, g, None if x is None else self.input(0, x),
                         None if y is None else self.output(y), *params),)

    _Backward.__name__ = _Backward.__qualname__ = f'{name}Backward'

    def op(x, *params):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        xd = x._data
        if xd.dtype.kind != 'f':
            xd = xd.astype(DEFAULT_FLOAT)
        xp = np if xd.__class__ is _ndarray else backend.array_module(xd)
        y = fns['forward'](xp, xd, *params)
        if y.dtype != xd.dtype:
            y = y.astype(xd.dtype)
        return track(y, _Backward, (x,), (xd if save_x else None, y if save_y else None, params),
                     check=(x,) if save_x else None, check_out=save_y)

    op.__name__ = op.__qualname__ = name
    op.node_cls = _Backward
    return op


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus_raw(xp, x):
    """log(1 + exp(x)) without overflow."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)


leaky_relu = pointwise(
    'leaky_relu',
    lambda xp, x, s: xp.where(x > 0, x, x * s),
    lambda xp, g, x, y, s: xp.where(x > 0, g, g * s), kernel=('leaky_relu_forward', 'leaky_relu_grad'))

elu = pointwise(
    'elu',
    lambda xp, x, a: xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0))),
    lambda xp, g, x, y, a: xp.where(x > 0, g, g * (a * xp.exp(xp.minimum(x, 0)))), saves='x',
    kernel=('elu_forward', 'elu_grad'))

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SA = _SELU_ALPHA * _SELU_SCALE

selu = pointwise(
    'selu',
    lambda xp, x: xp.where(x > 0, _SELU_SCALE * x, _SA * xp.expm1(xp.minimum(x, 0))),
    lambda xp, g, x, y: xp.where(x > 0, g * _SELU_SCALE, g * (_SA * xp.exp(xp.minimum(x, 0)))), saves='x',
    kernel=('selu_forward', 'selu_grad'))

celu = pointwise(
    'celu',
    lambda xp, x, a: xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0) / a)),
    lambda xp, g, x, y, a: xp.where(x > 0, g, g * xp.exp(xp.minimum(x, 0) / a)), saves='x',
    kernel=('celu_forward', 'celu_grad'))


def _silu_grad(xp, g, x, y):
    s = _sigmoid(xp, x)
    return g * (s * (1 + x * (1 - s)))


silu = pointwise('silu', lambda xp, x: x * _sigmoid(xp, x), _silu_grad, kernel=('silu_forward', 'silu_grad'))


def _softplus(xp, x, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, x, _softplus_raw(xp, bx) / beta)


softplus = pointwise(
    'softplus', _softplus,
    lambda xp, g, x, y, beta, threshold: xp.where(x * beta > threshold, g, g * _sigmoid(xp, x * beta)),
    kernel=('softplus_forward', 'softplus_grad'))

logsigmoid = pointwise(
    'logsigmoid',
    lambda xp, x: -_softplus_raw(xp, -x),
    lambda xp, g, x, y: g * _sigmoid(xp, -x), kernel=('logsigmoid_forward', 'logsigmoid_grad'))


def _mish_grad(xp, g, x, y):
    t = xp.tanh(_softplus_raw(xp, x))
    return g * (t + x * _sigmoid(xp, x) * (1 - t * t))


mish = pointwise('mish', lambda xp, x: x * xp.tanh(_softplus_raw(xp, x)), _mish_grad,
                 kernel=('mish_forward', 'mish_grad'))

hardtanh = pointwise(
    'hardtanh',
    lambda xp, x, lo, hi: xp.clip(x, lo, hi),  # PyTorch: 0 at and beyond the bounds, g at nan
    lambda xp, g, x, y, lo, hi: zero_where(xp, (x <= lo) | (x >= hi), g),
    kernel=('hardtanh_forward', 'hardtanh_grad'))

softsign = pointwise(
    'softsign',
    lambda xp, x: x / (1 + xp.abs(x)),
    lambda xp, g, x, y: g / ((1 + xp.abs(x)) ** 2))

hardsigmoid = pointwise(
    'hardsigmoid',
    lambda xp, x: xp.clip(x / 6 + 0.5, 0, 1),
    lambda xp, g, x, y: keep_where(xp, (x > -3) & (x < 3), g / 6), kernel=('hardsigmoid_forward', 'hardsigmoid_grad'))

hardswish = pointwise(
    'hardswish',
    lambda xp, x: x * xp.clip(x / 6 + 0.5, 0, 1),
    # PyTorch: 0 for x <= -3, g * (x / 3 + 1/2) for -3 < x < 3, g from 3 on (and at nan)
    lambda xp, g, x, y: zero_where(xp, x <= -3, xp.where(x < 3, g * (x / 3 + 0.5), g)),
    kernel=('hardswish_forward', 'hardswish_grad'))

tanhshrink = pointwise(
    'tanhshrink',
    lambda xp, x: x - xp.tanh(x),
    lambda xp, g, x, y: g * xp.tanh(x) ** 2)


def _smooth_l1(xp, d, beta):
    ad = xp.abs(d)
    if beta == 0:
        return ad
    return xp.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)


smooth_l1 = pointwise(
    'smooth_l1', _smooth_l1,
    lambda xp, g, d, y, beta: g * xp.sign(d) if beta == 0 else
    xp.where(xp.abs(d) < beta, g * d / beta, g * xp.sign(d)))

huber = pointwise(
    'huber',
    lambda xp, d, delta: xp.where(xp.abs(d) < delta, 0.5 * d * d, delta * (xp.abs(d) - 0.5 * delta)),
    lambda xp, g, d, y, delta: g * xp.clip(d, -delta, delta))


# ---------------------------------------------------------------------- binary cross entropy
class BinaryCrossEntropyBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, t = self.saved
        xp = backend.array_module(x)
        gx = gt = None
        if self.next[0] is not None:
            gx = g * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if self.next[1] is not None:  # unclamped, as PyTorch (infinite where x is 0 or 1)
            with np.errstate(divide='ignore'):
                gt = g * (xp.log1p(-x) - xp.log(x))
        return gx, gt

    def backward_graph(self, g):
        x, t = self.input(0, self.saved[0]), self.input(1, self.saved[1])
        xp = TENSOR_XP
        gx = gt = None
        if self.next[0] is not None:
            gx = g * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if self.next[1] is not None:
            with np.errstate(divide='ignore'):
                gt = g * (xp.log1p(-x) - xp.log(x))
        return gx, gt


def binary_cross_entropy_pointwise(x, t):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with logs clamped at -100 (PyTorch's rule)."""
    xd, td = x._data, t._data
    xp = backend.array_module(xd)
    with np.errstate(divide='ignore', invalid='ignore'):
        out = -(td * xp.maximum(xp.log(xd), -100) + (1 - td) * xp.maximum(xp.log1p(-xd), -100))
    return track(out.astype(xd.dtype, copy=False), BinaryCrossEntropyBackward, (x, t), (xd, td), check=(x, t))


class BCEWithLogitsBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, t, pw = self.saved
        xp = backend.array_module(x)
        gx = gt = None
        if self.next[0] is not None:
            if pw is None:
                gx = g * (_sigmoid(xp, x) - t)
            else:
                lw = 1 + (pw - 1) * t
                gx = g * ((1 - t) - lw * _sigmoid(xp, -x))
        if self.next[1] is not None:
            gt = -g * x if pw is None else g * ((pw - 1) * _softplus_raw(xp, -x) - x)
        return gx, gt

    def backward_graph(self, g):
        x, t = self.input(0, self.saved[0]), self.input(1, self.saved[1])
        pw = self.saved[2]
        pw = None if pw is None else Tensor._wrap(pw)  # pos_weight enters as a constant
        xp = TENSOR_XP
        gx = gt = None
        if self.next[0] is not None:
            if pw is None:
                gx = g * (_sigmoid(xp, x) - t)
            else:
                gx = g * ((1 - t) - (1 + (pw - 1) * t) * _sigmoid(xp, -x))
        if self.next[1] is not None:
            gt = -g * x if pw is None else g * ((pw - 1) * _softplus_raw(xp, -x) - x)
        return gx, gt


def bce_with_logits_pointwise(x, t, pos_weight=None):
    """Elementwise ``-[pw t log s(x) + (1 - t) log(1 - s(x))]``, computed stably from logits."""
    xd, td = x._data, t._data
    xp = backend.array_module(xd)
    pw = None if pos_weight is None else (pos_weight._data if isinstance(pos_weight, Tensor)
                                           else xp.asarray(pos_weight, dtype=xd.dtype))
    sp = _softplus_raw(xp, -xd)
    out = (1 - td) * xd + (sp if pw is None else (1 + (pw - 1) * td) * sp)
    return track(out.astype(xd.dtype, copy=False), BCEWithLogitsBackward, (x, t), (xd, td, pw), check=(x, t))
