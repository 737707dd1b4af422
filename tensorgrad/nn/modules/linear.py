"""PyTorch's ``torch.nn.modules.linear`` path: the linear layers."""
from .. import linear as _src
from ..linear import Bilinear, Identity, Linear  # noqa: F401
from ._forward import _forward

__all__ = ['Identity', 'Linear', 'Bilinear']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.linear`` later are found here too."""
    return _forward(_src, __name__, name)

