"""PyTorch's ``torch.nn.modules.module`` path: ``Module``."""
from .. import module as _src
from ..module import Module  # noqa: F401
from ._forward import _forward

__all__ = ['Module']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.module`` later are found here too."""
    return _forward(_src, __name__, name)

