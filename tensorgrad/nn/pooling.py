"""Pooling layers (kernels in ``tensorgrad.ops.conv``)."""
from . import functional as F
from .module import Module


def _unsupported(name, **flags):
    bad = [k for k, v in flags.items() if v]
    if bad:
        raise NotImplementedError(f"{name}: {', '.join(bad)} is not supported")


class MaxPool2d(Module):
    """Max over ``kernel_size`` windows of ``(B, C, H, W)`` moved by ``stride`` (default: the kernel size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _unsupported('MaxPool2d', dilation=dilation not in (1, (1, 1)), return_indices=return_indices,
                     ceil_mode=ceil_mode)
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, '
                f'dilation=1, ceil_mode=False')


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows of ``(B, C, H, W)``; padded zeros count unless
    ``count_include_pad=False``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        _unsupported('AvgPool2d', ceil_mode=ceil_mode, divisor_override=divisor_override is not None)
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'


class MaxPool1d(MaxPool2d):
    """Max over ``kernel_size`` windows of ``(B, C, L)``."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding)


class AvgPool1d(AvgPool2d):
    """Mean over ``kernel_size`` windows of ``(B, C, L)``."""

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Average pooling of ``(B, C, H, W)`` to a fixed ``output_size`` (int or pair)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f'output_size={self.output_size}'


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of ``(B, C, L)`` to a fixed length ``output_size``."""

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)
