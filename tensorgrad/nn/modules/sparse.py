"""PyTorch's ``torch.nn.modules.sparse`` path: ``Embedding``."""
from .. import embedding as _src
from ..embedding import Embedding  # noqa: F401
from ._forward import _forward

__all__ = ['Embedding']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.embedding`` later are found here too."""
    return _forward(_src, __name__, name)

