"""Loss modules: thin wrappers over ``nn.functional`` holding the options.
Every loss takes ``reduction='none' | 'mean' | 'sum'`` (default 'mean')."""
from . import functional as F
from .module import Module

_REDUCTIONS = ('none', 'mean', 'sum')


class _Loss(Module):
    def __init__(self, reduction='mean'):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return '' if self.reduction == 'mean' else f'reduction={self.reduction!r}'


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction='mean'):
        super().__init__(reduction)
        self.register_buffer('weight', weight)


class MSELoss(_Loss):
    """Mean squared error between ``input`` and ``target`` of the same shape (other
    shapes that broadcast warn, as in PyTorch, and are broadcast)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (see ``functional.smooth_l1_loss``)."""

    def __init__(self, reduction='mean', beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, ``delta``-scaled linear above (see ``functional.huber_loss``)."""

    def __init__(self, reduction='mean', delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy between logits ``(B, C)`` (or ``(B, C, *)``) and class indices ``(B,)``
    (or class probabilities); ``weight`` per class, ``ignore_index``, ``label_smoothing``."""

    def __init__(self, weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities ``(B, C)`` at class indices ``(B,)``."""

    def __init__(self, weight=None, ignore_index=-100, reduction='mean'):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities (logs clamped at -100)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from logits; ``pos_weight``
    weighs positive examples."""

    def __init__(self, weight=None, reduction='mean', pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer('pos_weight', pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class FocalLoss(_Loss):
    """Focal loss for binary logits (torchvision's ``sigmoid_focal_loss``):
    ``alpha_t (1 - p_t)^gamma BCE``; ``alpha < 0`` disables the class weighting."""

    def __init__(self, alpha=0.25, gamma=2.0, reduction='mean'):
        super().__init__(reduction)
        self.alpha, self.gamma = alpha, gamma

    def forward(self, input, target):
        return F.sigmoid_focal_loss(input, target, self.alpha, self.gamma, self.reduction)

    def extra_repr(self):
        return f'alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}'


class MarginRankingLoss(_Loss):
    """``max(0, -target * (input1 - input2) + margin)`` with ``target`` in {1, -1}."""

    def __init__(self, margin=0.0, reduction='mean'):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (``p`` = 1 or 2, ``margin``, per-class ``weight``)."""

    def __init__(self, p=1, margin=1.0, weight=None, reduction='mean'):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target``
    (``reduction`` also 'batchmean')."""

    def __init__(self, reduction='mean', log_target=False):
        if reduction == 'batchmean':
            super().__init__('mean')
            self.reduction = 'batchmean'
        else:
            super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)
