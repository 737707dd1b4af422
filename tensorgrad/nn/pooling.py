"""Pooling layers (kernels in ``tensorgrad.ops.conv``)."""
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """Max over ``kernel_size`` windows of ``(B, C, H, W)`` moved by ``stride`` (default: the kernel size),
    with torch's ``padding``, ``dilation``, ``return_indices`` and ``ceil_mode``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, '
                f'dilation={self.dilation}, ceil_mode={self.ceil_mode}')


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows of ``(B, C, H, W)``; padded zeros count unless
    ``count_include_pad=False``; torch's ``ceil_mode`` and ``divisor_override``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        # torch shows only the first three; the others appear when they differ from the default
        s = f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'
        if self.ceil_mode:
            s += ', ceil_mode=True'
        if not self.count_include_pad:
            s += ', count_include_pad=False'
        if self.divisor_override is not None:
            s += f', divisor_override={self.divisor_override}'
        return s


class MaxPool1d(MaxPool2d):
    """Max over ``kernel_size`` windows of ``(B, C, L)``."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool1d(AvgPool2d):
    """Mean over ``kernel_size`` windows of ``(B, C, L)`` (torch's AvgPool1d has no ``divisor_override``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


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
