"""PyTorch's ``torch.nn.modules.pooling`` path: the pooling layers."""
from .. import pooling as _src
from ..pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d  # noqa: F401
from ._forward import _forward

__all__ = ['MaxPool1d', 'MaxPool2d', 'AvgPool1d', 'AvgPool2d', 'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.pooling`` later are found here too."""
    return _forward(_src, __name__, name)

