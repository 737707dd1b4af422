"""PyTorch's ``torch.nn.modules.conv`` path: the convolution layers."""
from .. import conv as _src
from ..conv import Conv1d, Conv2d, _ConvNd  # noqa: F401
from ._forward import _forward

__all__ = ['_ConvNd', 'Conv1d', 'Conv2d']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.conv`` later are found here too."""
    return _forward(_src, __name__, name)

