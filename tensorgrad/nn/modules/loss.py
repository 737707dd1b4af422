"""PyTorch's ``torch.nn.modules.loss`` path: the loss modules."""
from .. import loss as _src
from ..loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
    MultiMarginLoss, NLLLoss, SmoothL1Loss, _Loss, _WeightedLoss,
)
from ._forward import _forward

__all__ = ['_Loss', '_WeightedLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'HuberLoss', 'CrossEntropyLoss',
           'NLLLoss', 'BCELoss', 'BCEWithLogitsLoss', 'MarginRankingLoss', 'MultiMarginLoss', 'KLDivLoss']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.loss`` later are found here too."""
    return _forward(_src, __name__, name)
