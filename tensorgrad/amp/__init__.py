"""Automatic mixed precision, as ``torch.amp``: ``autocast`` and ``GradScaler``
(see their modules for what tensorgrad does and does not change)."""
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ['GradScaler', 'autocast', 'get_autocast_dtype', 'is_autocast_enabled']
