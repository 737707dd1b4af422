"""Dropout modules: ``Dropout`` (elementwise), ``Dropout1d/2d/3d`` (whole channels),
``AlphaDropout`` / ``FeatureAlphaDropout`` (keep SELU's mean and variance), all
active in training mode only, with PyTorch's arguments, warnings and errors.

Each draws its keep-mask in ``_generate_mask(x)``: a float Tensor of 1 (keep) and
0 (drop) of ``x``'s dtype, broadcastable to ``x`` (``(N, C, 1, ...)`` for the
channel-wise modules). Overriding it (on the class or as an instance attribute)
injects a fixed mask, as the reference's tests do; the forward then applies
``x * mask / (1 - p)`` (the alpha variants their affine rule).
"""
import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..random import generator
from .module import Module

_ALPHA = 1.7580993408473766  # -SELU's scale * alpha: the value SELU saturates to


class _DropoutNd(Module):
    """Shared ``p`` / ``inplace`` handling and the masked forward."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
            raise TypeError(f"{type(self).__name__}: p must be a number, got {type(p).__name__}")
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f'p={self.p}, inplace={self.inplace}'

    # ------------------------------------------------------------------ subclass hooks
    def _check_input(self, x):
        """Validate the rank of ``x`` (warn or raise as PyTorch); runs in eval mode too."""

    def _mask_shape(self, x):
        """Shape of the keep-mask for ``x`` (broadcastable to ``x.shape``)."""
        return tuple(x._data.shape)

    # ------------------------------------------------------------------ mask and forward
    def _generate_mask(self, x):
        """A fresh keep-mask for ``x``: 1 with probability ``1 - p``, else 0, of ``x``'s dtype
        and device and shape ``_mask_shape(x)``, drawn from tensorgrad's generator."""
        xd = x._data
        u = generator().random(self._mask_shape(x), dtype=np.float32)
        keep = (u >= np.float32(self.p)).astype(xd.dtype)
        return Tensor._wrap(backend.move(keep, x.device))

    def _mask_array(self, x, mask):
        """The raw keep-mask array, cast to ``x``'s dtype, checked to broadcast to ``x``."""
        xd = x._data
        m = mask._data if isinstance(mask, Tensor) else backend.array_module(xd).asarray(mask)
        try:
            ok = np.broadcast_shapes(m.shape, xd.shape) == xd.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{type(self).__name__}: mask of shape {tuple(m.shape)} from _generate_mask does not "
                             f"broadcast to the input of shape {tuple(xd.shape)}")
        return backend.move(m, x.device).astype(xd.dtype, copy=False)

    def _multiply(self, x, factor):
        """``x * factor`` (a raw array), in place when ``inplace``."""
        f = Tensor._wrap(factor)
        return x.mul_(f) if self.inplace else x * f

    def _keep_mask(self, input):
        """The keep-mask array for ``input`` after the checks every dropout shares, or
        None when nothing is dropped (eval mode or ``p == 0``)."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got {type(input).__name__}")
        self._check_input(input)
        if not self.training or self.p == 0:
            return None
        if input._data.dtype.kind != 'f':
            raise TypeError(f"{type(self).__name__}: expected a floating input, got {input._data.dtype}")
        return self._mask_array(input, self._generate_mask(input))

    def forward(self, input):
        """The input with dropped elements/channels zeroed and the rest scaled by ``1 / (1 - p)``
        in training mode; the input itself in eval mode or with ``p == 0``."""
        m = self._keep_mask(input)
        if m is None:
            return input
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        xp = backend.array_module(m)
        return self._multiply(input, xp.asarray(m * m.dtype.type(scale)))


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    while training; the identity in eval mode. ``Dropout(p=0.5, inplace=False)``."""


def _feature_check(module, x, batched):
    """PyTorch's feature-dropout requirement: at least 2 dims once a batch dim is added."""
    if module.training and module.p != 0 and x._data.ndim + (0 if batched else 1) < 2:
        raise RuntimeError(f"{type(module).__name__}: Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {tuple(x._data.shape)}")


def _channel_mask_shape(shape, batched):
    """(N, C, 1, ...) for a batched input, (C, 1, ...) for an unbatched one."""
    lead = 2 if batched else 1
    return tuple(shape[:lead]) + (1,) * (len(shape) - lead)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or unbatched (C, L) inputs with probability ``p``
    (training only); other ranks raise a RuntimeError as PyTorch."""

    def _check_input(self, x):
        nd = x._data.ndim
        if nd not in (2, 3):
            raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
                               "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                               "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
                               "inputs).")

    def _mask_shape(self, x):
        return _channel_mask_shape(x._data.shape, x._data.ndim == 3)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (training only).
    As PyTorch, a 3-D input is taken as (N, C, L) with a warning, and other ranks warn
    (deprecated) and drop along dim 1."""

    def _check_input(self, x):
        nd = x._data.ndim
        if nd not in (3, 4):
            warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result "
                          "in an error in a future release. To retain the behavior and silence this warning, "
                          "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout "
                          "on inputs with 2 spatial dimensions, a channel dimension, and an optional batch "
                          "dimension (i.e. 3D or 4D inputs).", stacklevel=3)
        if nd == 3:
            warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                          "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                          "dim. This behavior will change in a future release to interpret the input as one "
                          "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                          "dropout behavior, please switch to using dropout1d instead.", stacklevel=3)
        _feature_check(self, x, True)

    def _mask_shape(self, x):
        return _channel_mask_shape(x._data.shape, True)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) inputs with
    probability ``p`` (training only); other ranks warn (deprecated) as PyTorch."""

    def _check_input(self, x):
        nd = x._data.ndim
        if nd not in (4, 5):
            warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result "
                          "in an error in a future release. To retain the behavior and silence this warning, "
                          "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout "
                          "on inputs with 3 spatial dimensions, a channel dimension, and an optional batch "
                          "dimension (i.e. 4D or 5D inputs).", stacklevel=3)
        _feature_check(self, x, nd == 5)

    def _mask_shape(self, x):
        return _channel_mask_shape(x._data.shape, x._data.ndim == 5)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped elements take SELU's saturation value and an
    affine map keeps zero mean and unit variance (``a * (x * keep + alpha' * (1 - keep)) + b``
    as PyTorch); training only."""

    def forward(self, input):
        """The alpha-dropped input in training mode; the input itself otherwise."""
        keep = self._keep_mask(input)
        if keep is None:
            return input
        p = self.p
        xp = backend.array_module(keep)
        if p == 1:
            return self._multiply(input, xp.asarray(keep * keep.dtype.type(0)))
        a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        t = keep.dtype.type
        shift = xp.asarray((keep - t(1)) * t(_ALPHA * a) + t(_ALPHA * a * p))
        out = self._multiply(input, xp.asarray(keep * t(a)))
        return out.add_(Tensor._wrap(shift)) if self.inplace else out + Tensor._wrap(shift)


class FeatureAlphaDropout(AlphaDropout):
    """``AlphaDropout`` of whole channels (dim 1) of an (N, C, ...) input."""

    def _check_input(self, x):
        _feature_check(self, x, True)

    def _mask_shape(self, x):
        return _channel_mask_shape(x._data.shape, True)
