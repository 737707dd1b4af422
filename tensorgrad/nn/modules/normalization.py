"""PyTorch's ``torch.nn.modules.normalization`` path: ``LayerNorm`` and ``GroupNorm``."""
from .. import normalization as _src
from ..normalization import GroupNorm, LayerNorm  # noqa: F401
from ._forward import _forward

__all__ = ['LayerNorm', 'GroupNorm']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.normalization`` later are found here too."""
    return _forward(_src, __name__, name)

