"""PyTorch's ``torch.nn.modules.container`` path: the containers."""
from .. import containers as _src
from ..containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from ._forward import _forward

__all__ = ['Sequential', 'ModuleList', 'ModuleDict', 'ParameterList', 'ParameterDict']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.containers`` later are found here too."""
    return _forward(_src, __name__, name)

