"""PyTorch's ``torch.nn.modules`` paths: ``tensorgrad.nn.modules.linear.Linear``,
``.conv.Conv2d``, ``.module.Module`` ... thin re-exports of the classes defined
in ``tensorgrad.nn`` (they are the same objects). The layer classes are also
available here directly; ``transformer`` loads on first use."""
import importlib

from .activation import *  # noqa: F401,F403
from .batchnorm import BatchNorm1d, BatchNorm2d  # noqa: F401
from .container import *  # noqa: F401,F403
from .conv import Conv1d, Conv2d  # noqa: F401
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from . import utils  # noqa: F401

_LAZY = {'transformer': None, 'Transformer': 'transformer', 'TransformerEncoder': 'transformer',
         'TransformerDecoder': 'transformer', 'TransformerEncoderLayer': 'transformer',
         'TransformerDecoderLayer': 'transformer'}


def __getattr__(name):
    """``transformer`` and its classes load on first use."""
    if name in _LAZY:
        mod = importlib.import_module(f'{__name__}.transformer')
        return mod if _LAZY[name] is None else getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
