"""PyTorch's ``torch.nn.modules.flatten`` path: ``Flatten`` and ``Unflatten``."""
from .. import flatten as _src
from ..flatten import Flatten, Unflatten  # noqa: F401
from ._forward import _forward

__all__ = ['Flatten', 'Unflatten']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.flatten`` later are found here too."""
    return _forward(_src, __name__, name)

