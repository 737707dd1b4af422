"""PyTorch's ``torch.nn.modules.batchnorm`` path: the batch norm layers."""
from .. import normalization as _src
from ..normalization import BatchNorm1d, BatchNorm2d, _BatchNorm  # noqa: F401
from ._forward import _forward

__all__ = ['_BatchNorm', 'BatchNorm1d', 'BatchNorm2d']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.normalization`` later are found here too."""
    return _forward(_src, __name__, name)

