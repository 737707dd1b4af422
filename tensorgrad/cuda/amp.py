"""``tensorgrad.cuda.amp``: PyTorch's deprecated cuda spellings of ``autocast`` and
``GradScaler`` (they warn, as PyTorch's, and forward to ``tensorgrad.amp`` with 'cuda')."""
import warnings

from .. import amp as _amp
from ..dtypes import DTYPE


class autocast(_amp.autocast):  # noqa: N801 - PyTorch's name
    """``tensorgrad.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)``:
    ``tensorgrad.amp.autocast('cuda', ...)`` (deprecated, as PyTorch's)."""

    def __init__(self, enabled=True, dtype=DTYPE.FLOAT16, cache_enabled=True):
        warnings.warn("`tensorgrad.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`tensorgrad.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__('cuda', dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``tensorgrad.cuda.amp.GradScaler(init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``: ``tensorgrad.amp.GradScaler('cuda', ...)``
    (deprecated, as PyTorch's; without CUDA it warns and disables itself)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warnings.warn("`tensorgrad.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`tensorgrad.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__('cuda', init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)


__all__ = ['GradScaler', 'autocast']
