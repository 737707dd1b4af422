"""Stateless neural network functions under ``torch.nn.functional``'s names.

The fused kernels live in ``tensorgrad.ops`` (``softmax``, ``losses``,
``norms``, ``linear``, ``activations``, ``embedding``, ``attention``, ``conv``)
and are re-exported here; activations with parameters and pointwise losses are
fused in ``tensorgrad.nn._elementwise``; the rest is composed of primitive ops.
Every loss takes ``reduction='none' | 'mean' | 'sum'``.
"""
import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..ops import api as _ops
from ..ops.conv import adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool2d  # noqa: F401
from ..ops.conv import unbatched
from ..ops.distance import pairwise_distance  # noqa: F401
from ..ops.activations import dropout as _dropout
from ..ops.activations import erf, gelu  # noqa: F401
from ..ops.attention import scaled_dot_product_attention  # noqa: F401
from ..ops.embedding import embedding  # noqa: F401
from ..ops.linear import linear  # noqa: F401
from ..ops.windows import pad  # noqa: F401 - constant, reflect, replicate, circular
from ..ops.losses import cross_entropy, nll_loss  # noqa: F401
from ..ops.norms import batch_norm, layer_norm  # noqa: F401
from ..ops.softmax import log_softmax, softmax  # noqa: F401
from . import _elementwise as _ew

__all__ = [
    'relu', 'relu6', 'gelu', 'silu', 'elu', 'selu', 'celu', 'leaky_relu', 'softplus', 'glu', 'hardtanh',
    'softsign', 'tanh', 'sigmoid', 'logsigmoid', 'mish', 'hardsigmoid', 'hardswish', 'tanhshrink', 'softmax',
    'log_softmax', 'softmin', 'linear', 'bilinear', 'conv1d', 'conv2d', 'max_pool1d', 'max_pool2d', 'avg_pool1d',
    'avg_pool2d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'dropout', 'embedding', 'layer_norm',
    'batch_norm', 'cross_entropy', 'nll_loss', 'mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss',
    'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'margin_ranking_loss', 'multi_margin_loss',
    'kl_div', 'sigmoid_focal_loss', 'pad', 'one_hot', 'scaled_dot_product_attention', 'normalize',
    'cosine_similarity', 'erf', 'prelu', 'pairwise_distance', 'softmax_focal_loss',
]


def _reduce(op, loss, reduction):
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'none':
        return loss
    raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _pair_check(op, input, target):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ")


def _regression_pair(op, input, target):
    """Check a regression loss's operands; mismatched shapes warn as PyTorch does
    (the loss then broadcasts them, which is rarely what was meant)."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise RuntimeError(f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
                               f"do not broadcast") from None
        warnings.warn(f"Using a target size {tuple(target.shape)} that is different to the input size "
                      f"{tuple(input.shape)}. This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)


def _float_target(target, like):
    """``target`` as a float tensor of ``like``'s dtype (a constant when it needs no grad)."""
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=like._data.dtype, device=like.device, requires_grad=False)
    if target._data.dtype != like._data.dtype:
        target = target.to(like._data.dtype) if target.requires_grad else \
            Tensor._wrap(target._data.astype(like._data.dtype))
    return target


# ---------------------------------------------------------------------- activations
def relu(input, inplace=False):
    """Elementwise ``max(x, 0)``."""
    return _ops.relu(input)


def relu6(input, inplace=False):
    """Elementwise ``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0)


def tanh(input):
    """Elementwise hyperbolic tangent."""
    return _ops.tanh(input)


def sigmoid(input):
    """Elementwise logistic sigmoid."""
    return _ops.sigmoid(input)


def silu(input, inplace=False):
    """Elementwise ``x * sigmoid(x)`` (swish)."""
    return _ew.silu(input)


def elu(input, alpha=1.0, inplace=False):
    """Elementwise ``x`` for ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return _ew.elu(input, float(alpha))


def celu(input, alpha=1.0, inplace=False):
    """Elementwise ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _ew.celu(input, float(alpha))


def selu(input, inplace=False):
    """Elementwise scaled ELU with the self-normalising constants."""
    return _ew.selu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Elementwise ``x`` for ``x > 0`` else ``negative_slope * x``."""
    return _ew.leaky_relu(input, float(negative_slope))


def softplus(input, beta=1.0, threshold=20.0):
    """Elementwise ``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return _ew.softplus(input, float(beta), float(threshold))


def logsigmoid(input):
    """Elementwise ``log(sigmoid(x))``, computed stably."""
    return _ew.logsigmoid(input)


def mish(input, inplace=False):
    """Elementwise ``x * tanh(softplus(x))``."""
    return _ew.mish(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Elementwise clamp into ``[min_val, max_val]`` (gradient zero outside, and at the bounds)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
    if isinstance(input, Tensor) and input._data.dtype.kind in "iu":  # integers stay integers, as torch
        xp = backend.array_module(input._data)
        return Tensor._wrap(xp.clip(input._data, int(np.ceil(min_val)), int(np.floor(max_val))))
    return _ew.hardtanh(input, float(min_val), float(max_val))


def softsign(input):
    """Elementwise ``x / (1 + |x|)``."""
    return _ew.softsign(input)


def hardsigmoid(input, inplace=False):
    """Elementwise piecewise-linear sigmoid ``clamp(x / 6 + 1/2, 0, 1)``."""
    return _ew.hardsigmoid(input)


def hardswish(input, inplace=False):
    """Elementwise ``x * hardsigmoid(x)``."""
    return _ew.hardswish(input)


def tanhshrink(input):
    """Elementwise ``x - tanh(x)``."""
    return _ew.tanhshrink(input)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    n = input.shape[dim]
    if n % 2:
        raise ValueError(f"glu: halving dimension {dim} of shape {tuple(input.shape)} needs an even size")
    a, b = _ops.chunk(input, 2, dim)
    return a * _ops.sigmoid(b)


def prelu(input, weight):
    """``x`` for ``x > 0`` else ``weight * x``; ``weight`` has 1 entry or one per channel (dim 1)."""
    w = weight
    if weight._data.size > 1:
        if input.ndim < 2 or input.shape[1] != weight._data.size:
            raise ValueError(f"prelu: weight of {weight._data.size} entries needs input with that many channels "
                             f"in dim 1, got shape {tuple(input.shape)}")
        w = weight.reshape(1, -1, *([1] * (input.ndim - 2)))
    return _ops.where(input > 0, input, w * input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` when ``training``."""
    return _dropout(input, p, training)


def softmin(input, dim=None):
    """``softmax(-input, dim)``."""
    return softmax(-input, dim)


# ---------------------------------------------------------------------- layers
def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1 @ W_k @ x2 + b_k`` for ``weight`` of shape ``(out, in1, in2)``."""
    # (..., in1) x (out, in1, in2) -> (..., out, in2), then contract with x2
    t = _ops.matmul(input1.unsqueeze(-2).unsqueeze(-2), weight).squeeze(-2)
    out = (t * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


@unbatched(3)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1D max pooling over the last dimension of ``(B, C, L)`` or ``(C, L)`` (torch's arguments); with
    ``return_indices`` returns ``(output, indices)``, indices being int64 positions in L."""
    k, p, d = _single(kernel_size), _single(padding), _single(dilation)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else _single(stride)
    _check_3d('max_pool1d', input)
    out = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


@unbatched(3)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1D average pooling over the last dimension of ``(B, C, L)`` or ``(C, L)`` (torch's arguments)."""
    k, p = _single(kernel_size), _single(padding)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else _single(stride)
    _check_3d('avg_pool1d', input)
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def _check_3d(op, input):
    if not isinstance(input, Tensor) or input.ndim != 3:
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: input of shape {shape} must be 2-D (C, L) or 3-D (B, C, L)")


@unbatched(3)
def adaptive_avg_pool1d(input, output_size):
    """1D adaptive average pooling of ``(B, C, L)`` or ``(C, L)`` to length ``output_size``."""
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _single(output_size))).squeeze(-2)


def _single(v):
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"expected a single int, got {v}")
        return int(v[0])
    return int(v)


# ---------------------------------------------------------------------- losses
def mse_loss(input, target, reduction='mean'):
    """Mean squared error ``(input - target)^2``."""
    _regression_pair('mse_loss', input, target)
    d = input - target
    return _reduce('mse_loss', d * d, reduction)


def l1_loss(input, target, reduction='mean'):
    """Mean absolute error ``|input - target|``."""
    _regression_pair('l1_loss', input, target)
    return _reduce('l1_loss', _ops.abs(input - target), reduction)


def smooth_l1_loss(input, target, reduction='mean', beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta`` else ``|d| - 0.5 beta`` for ``d = input - target``."""
    _regression_pair('smooth_l1_loss', input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return _reduce('smooth_l1_loss', _ew.smooth_l1(input - target, float(beta)), reduction)


def huber_loss(input, target, reduction='mean', delta=1.0):
    """``0.5 d^2`` where ``|d| < delta`` else ``delta (|d| - 0.5 delta)`` for ``d = input - target``."""
    _regression_pair('huber_loss', input, target)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _reduce('huber_loss', _ew.huber(input - target, float(delta)), reduction)


def binary_cross_entropy(input, target, weight=None, reduction='mean'):
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``input``; logs are clamped at -100."""
    _pair_check('binary_cross_entropy', input, target)
    xd = input._data
    xp = backend.array_module(xd)
    if bool(xp.any((xd < 0) | (xd > 1))):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    loss = _ew.binary_cross_entropy_pointwise(input, _float_target(target, input))
    if weight is not None:
        loss = loss * weight
    return _reduce('binary_cross_entropy', loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction='mean', pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits;
    ``pos_weight`` weighs the positive term (broadcast over the last dimension)."""
    _pair_check('binary_cross_entropy_with_logits', input, target)
    loss = _ew.bce_with_logits_pointwise(input, _float_target(target, input), pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce('binary_cross_entropy_with_logits', loss, reduction)


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction='none'):
    """Focal loss for binary logits (torchvision's ``sigmoid_focal_loss``):
    ``alpha_t (1 - p_t)^gamma BCE(inputs, targets)``; ``alpha < 0`` disables the weighting."""
    _pair_check('sigmoid_focal_loss', inputs, targets)
    t = _float_target(targets, inputs)
    p = _ops.sigmoid(inputs)
    ce = _ew.bce_with_logits_pointwise(inputs, t)
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return _reduce('sigmoid_focal_loss', loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction='mean'):
    """``max(0, -target * (input1 - input2) + margin)``; the three have the same number of
    dims and broadcast (an (N, 1) target against (N, D) inputs), as PyTorch."""
    if not (input1.ndim == input2.ndim == target.ndim):
        raise ValueError(f"margin_ranking_loss: all input tensors should have the same number of dimensions, "
                         f"got shapes {tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}")
    try:
        np.broadcast_shapes(tuple(input1.shape), tuple(input2.shape), tuple(target.shape))
    except ValueError:
        raise ValueError(f"margin_ranking_loss: shapes {tuple(input1.shape)}, {tuple(input2.shape)} and "
                         f"{tuple(target.shape)} cannot be broadcast together") from None
    target = _float_target(target, input1)
    return _reduce('margin_ranking_loss', _ops.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction='mean'):
    """Multi-class hinge loss: per sample ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C``,
    each term scaled by ``weight[y]`` when given."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    squeeze = input.ndim == 1
    if squeeze:
        input, target = input.unsqueeze(0), target.reshape(1)
    if input.ndim != 2 or target.ndim != 1 or target.shape[0] != input.shape[0]:
        raise ValueError(f"multi_margin_loss: expected input (N, C) and target (N,), got "
                         f"{tuple(input.shape)} and {tuple(target.shape)}")
    n, c = input.shape
    td = target._data.astype(np.int64, copy=False)
    xp = backend.array_module(input._data)
    if n and (int(td.min()) < 0 or int(td.max()) >= c):
        raise IndexError(f"multi_margin_loss: target out of range [0, {c})")
    idx = Tensor._wrap(td.reshape(n, 1))
    x_y = _ops.gather(input, 1, idx)
    z = _ops.relu((margin - x_y) + input)
    if p == 2:
        z = z * z
    keep = xp.ones((n, c), dtype=input._data.dtype)
    keep[xp.arange(n), td] = 0
    if weight is not None:
        wd = weight._data if isinstance(weight, Tensor) else xp.asarray(weight, dtype=input._data.dtype)
        keep = keep * wd[td][:, None]
    loss = (z * Tensor._wrap(keep)).sum(1) / c
    if squeeze and reduction == 'none':
        loss = loss.reshape(())
    return _reduce('multi_margin_loss', loss, reduction)


def kl_div(input, target, reduction='mean', log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities ``input``;
    ``reduction='batchmean'`` divides the sum by the batch size."""
    _pair_check('kl_div', input, target)
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:
        td = target._data
        xp = backend.array_module(td)
        pos = td > 0
        safe = Tensor._wrap(xp.where(pos, td, 1).astype(td.dtype, copy=False))
        logt = _ops.log(safe) if not target.requires_grad else _ops.log(_ops.where(Tensor._wrap(pos), target, safe))
        loss = target * (logt - input)
    if reduction == 'batchmean':
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce('kl_div', loss, reduction)


# ---------------------------------------------------------------------- misc
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding: a new last dimension of size ``num_classes`` (inferred as max + 1 when -1)."""
    td = tensor._data
    if td.dtype.kind not in 'iu':
        raise TypeError(f"one_hot: expected an integer tensor, got {td.dtype}")
    xp = backend.array_module(td)
    if num_classes < 0:
        num_classes = int(td.max()) + 1 if td.size else 0
    if td.size and (int(td.min()) < 0 or int(td.max()) >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes})")
    out = (td[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._wrap(out)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if p == 2:
        norm = _ops.sqrt((input * input).sum(dim, keepdim=True))
    elif p == 1:
        norm = _ops.abs(input).sum(dim, keepdim=True)
    else:
        norm = (_ops.abs(input) ** p).sum(dim, keepdim=True) ** (1.0 / p)
    return input / _ops.clamp(norm, min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``."""
    n1 = _ops.sqrt((x1 * x1).sum(dim))
    n2 = _ops.sqrt((x2 * x2).sum(dim))
    return (x1 * x2).sum(dim) / (_ops.clamp(n1, min=eps) * _ops.clamp(n2, min=eps))


def softmax_focal_loss(input, target, alpha=1.0, gamma=0.0, reduction='none'):
    """MyGrad's multiclass focal loss of scores ``input`` (N, C) and class indices ``target``
    (N,): ``-alpha * (1 - p_t)^gamma * log(p_t)`` with ``p = softmax(input, 1)``, per datum
    (``reduction='none'``, MyGrad's result) or reduced by ``'mean'`` / ``'sum'``. With
    ``gamma=0`` and ``alpha=1`` it is the cross-entropy."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"softmax_focal_loss: expected Tensors, got {type(input).__name__} and "
                        f"{type(target).__name__}")
    if input.ndim != 2 or target.ndim != 1 or target.shape[0] != input.shape[0]:
        raise ValueError(f"softmax_focal_loss: expected input (N, C) and target (N,), got shapes "
                         f"{tuple(input.shape)} and {tuple(target.shape)}")
    if target._data.dtype.kind not in 'iu':
        raise TypeError(f"softmax_focal_loss: target must hold integer class indices, got dtype {target.dtype}")
    if gamma < 0:
        raise ValueError(f"softmax_focal_loss: gamma must be non-negative, got {gamma}")
    logp = _ops.gather(log_softmax(input, 1), 1, target.reshape(-1, 1)).reshape(-1)
    loss = -alpha * logp
    if gamma != 0:
        loss = loss * (1 - _ops.exp(logp)) ** gamma
    return _reduce('softmax_focal_loss', loss, reduction)
