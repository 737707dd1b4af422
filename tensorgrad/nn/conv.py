"""Convolution layers ``Conv1d`` and ``Conv2d`` (kernels in ``tensorgrad.ops.conv``)."""
import math

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter


def _ntuple(v, n, what):
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{what} must be an int or a tuple of {n} ints, got {v}")
        return tuple(int(e) for e in v)
    return (int(v),) * n


class _ConvNd(Module):
    _n = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode='zeros'):
        super().__init__()
        name = type(self).__name__
        n = self._n
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        if padding_mode not in ('zeros', 'reflect', 'replicate', 'circular'):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _ntuple(kernel_size, n, 'kernel_size')
        self.stride = _ntuple(stride, n, 'stride')
        self.dilation = _ntuple(dilation, n, 'dilation')
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ('same', 'valid'):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
            if padding == 'same' and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
            same = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                    for k, d in zip(self.kernel_size, self.dilation)]
            if padding == 'valid':
                self._pad, self._extra_pad = (0,) * n, None
            elif all(lo == hi for lo, hi in same):
                self._pad, self._extra_pad = tuple(lo for lo, _ in same), None
            else:  # even kernels: asymmetric padding done by F.pad before the convolution
                flat = []
                for lo, hi in reversed(same):
                    flat += [lo, hi]
                self._pad, self._extra_pad = (0,) * n, tuple(flat)
        else:
            self.padding = _ntuple(padding, n, 'padding')
            self._pad, self._extra_pad = self.padding, None
        if padding_mode != 'zeros' and any(self._pad):  # pad explicitly in that mode, convolve unpadded
            flat = list(self._extra_pad or ())
            if not flat:
                for p in reversed(self._pad):
                    flat += [p, p]
            self._pad, self._extra_pad = (0,) * n, tuple(flat)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // self.groups) + self.kernel_size,
                                         dtype=np.float32))
        self.bias = Parameter(np.empty(self.out_channels, dtype=np.float32)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform(a=sqrt(5)) weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        n = self._n
        unbatched = input.ndim == n + 1
        if input.ndim != n + 2 and not unbatched:
            raise ValueError(f"{type(self).__name__}: expected {n + 2}D (batched) or {n + 1}D input, got shape "
                             f"{tuple(input.shape)}")
        if unbatched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}: expected {self.in_channels} input channels, got input of "
                             f"shape {tuple(input.shape)}")
        if self._extra_pad is not None:
            mode = 'constant' if self.padding_mode == 'zeros' else self.padding_mode
            input = F.pad(input, self._extra_pad, mode)
        # looked up per call so that a device override (tensorgrad.extensions) is honoured
        fn = F.conv2d if n == 2 else F.conv1d
        out = fn(input, self.weight, self.bias, self.stride, self._pad, self.dilation, self.groups)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        s = f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}'
        if self.padding != (0,) * self._n:
            s += f', padding={self.padding}'
        if self.dilation != (1,) * self._n:
            s += f', dilation={self.dilation}'
        if self.groups != 1:
            s += f', groups={self.groups}'
        if self.bias is None:
            s += ', bias=False'
        if self.padding_mode != 'zeros':
            s += f', padding_mode={self.padding_mode}'
        return s


class Conv1d(_ConvNd):
    """1D convolution over ``(B, C_in, L)``; weight ``(C_out, C_in / groups, K)``."""
    _n = 1


class Conv2d(_ConvNd):
    """2D convolution over ``(B, C_in, H, W)``; weight ``(C_out, C_in / groups, KH, KW)``.
    ``padding`` may be an int, a pair, ``'same'`` (stride 1) or ``'valid'``."""
    _n = 2
