"""``Linear``, ``Bilinear`` and ``Identity``."""
import math

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter


def _empty(*shape):
    return Parameter(np.empty(shape, dtype=np.float32))


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last dimension.

    Weight ``(out_features, in_features)`` and bias ``(out_features,)`` are
    initialised from U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        if self.in_features < 0 or self.out_features < 0:
            raise RuntimeError(f"Linear: in_features and out_features must be non-negative, got "
                               f"({in_features}, {out_features})")
        self.weight = _empty(self.out_features, self.in_features)
        self.bias = _empty(self.out_features) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the parameters with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f'in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}'


class Bilinear(Module):
    """``y_k = x1 @ weight[k] @ x2 + bias[k]``; weight ``(out, in1, in2)``."""

    def __init__(self, in1_features, in2_features, out_features, bias=True):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = int(in1_features), int(in2_features), \
            int(out_features)
        self.weight = _empty(self.out_features, self.in1_features, self.in2_features)
        self.bias = _empty(self.out_features) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the parameters from U(-1/sqrt(in1), 1/sqrt(in1)), as PyTorch."""
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f'in1_features={self.in1_features}, in2_features={self.in2_features}, '
                f'out_features={self.out_features}, bias={self.bias is not None}')
