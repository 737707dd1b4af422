"""PyTorch's ``torch.nn.modules.dropout`` path: the dropout layers."""
from .. import dropout as _src
from ..dropout import Dropout  # noqa: F401
from ._forward import _forward

__all__ = ['Dropout']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.dropout`` later are found here too."""
    return _forward(_src, __name__, name)

