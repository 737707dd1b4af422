"""``GradScaler``: PyTorch's loss scaling for mixed-precision training.

It works on any device tensorgrad runs on: ``scale(loss)`` multiplies by the
scale, ``unscale_(opt)`` divides the gradients back and looks for inf/NaN,
``step(opt)`` skips the step when it found one, ``update()`` grows or backs
off the scale. ``GradScaler('cuda')`` without CUDA warns and disables itself
(every call a pass-through), as PyTorch.
"""
import warnings
from collections import defaultdict

from .. import backend

_READY, _UNSCALED, _STEPPED = 0, 1, 2


def _fresh_state():
    return {'stage': _READY, 'found_inf': None}


class GradScaler:
    """``GradScaler(device='cuda', init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``, as ``torch.amp.GradScaler``: ``scale``, ``unscale_``,
    ``step``, ``update``, ``get_scale``, ``state_dict`` / ``load_state_dict``. Disabled, every
    method is a pass-through (``scale`` returns its input, ``step`` calls ``optimizer.step()``)."""

    def __init__(self, device='cuda', init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        from ..dtypes import to_device  # noqa: PLC0415
        self._device = to_device(device).value
        self._enabled = bool(enabled)
        if self._enabled and self._device == 'cuda' and not backend.is_cuda_available():
            warnings.warn("tensorgrad.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise AssertionError("GradScaler: the growth factor must be > 1.0.")
            if not backoff_factor < 1.0:
                raise AssertionError("GradScaler: the backoff factor must be < 1.0.")
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = defaultdict(_fresh_state)

    # ------------------------------------------------------------------ the training-step API
    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple/iterable of them) times the scale."""
        if not self._enabled:
            return outputs
        s = self._scale

        def apply(v):
            if hasattr(v, '_data'):
                return v * s
            if isinstance(v, (list, tuple)):
                return type(v)(apply(x) for x in v)
            if hasattr(v, '__iter__'):
                return map(apply, v)
            raise ValueError("GradScaler.scale: outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def unscale_(self, optimizer):
        """Divide the gradients of ``optimizer``'s parameters by the scale, in place, and record
        whether any is inf or NaN. At most once per optimizer between ``update()`` calls."""
        if not self._enabled:
            return
        state = self._per_optimizer[id(optimizer)]
        if state['stage'] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state['stage'] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = 1.0 / self._scale
        found = False
        checked = 0
        for group in optimizer.param_groups:
            for p in group['params']:
                g = p.grad
                if g is None:
                    continue
                xp = backend.array_module(g._data)
                arr = g._data * inv
                if arr.dtype != g._data.dtype:
                    arr = arr.astype(g._data.dtype)
                found = found or not bool(xp.isfinite(arr).all())
                g._data = arr
                checked += 1
        state['found_inf'] = found if checked else None
        state['stage'] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` after unscaling its gradients, skipped (returns
        None) when they hold inf or NaN; returns what ``optimizer.step`` returned."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if 'closure' in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._per_optimizer[id(optimizer)]
        if state['stage'] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state['stage'] == _READY:
            self.unscale_(optimizer)
        if state['found_inf'] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not state['found_inf']:
            retval = optimizer.step(*args, **kwargs)
        state['stage'] = _STEPPED
        return retval

    def update(self, new_scale=None):
        """Set the scale for the next iteration: ``new_scale`` when given (a number or a
        one-element tensor), else back off after an inf/NaN step or grow after
        ``growth_interval`` clean ones."""
        if not self._enabled:
            return
        if new_scale is not None:
            if hasattr(new_scale, '_data'):
                if new_scale._data.size != 1:
                    raise ValueError("GradScaler.update: new_scale should be a one-element tensor")
                new_scale = new_scale.item()
            self._scale = float(new_scale)
        else:
            found = [s['found_inf'] for s in self._per_optimizer.values() if s['found_inf'] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = defaultdict(_fresh_state)

    # ------------------------------------------------------------------ getters / setters
    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        """The factor the scale grows by."""
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Set the factor the scale grows by."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        """The factor the scale backs off by."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Set the factor the scale backs off by."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        """The number of clean steps between growths."""
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Set the number of clean steps between growths."""
        self._growth_interval = int(new_interval)

    def is_enabled(self):
        """Whether scaling is on."""
        return self._enabled

    def state_dict(self):
        """The scaler's state as a dict (empty when disabled), as PyTorch."""
        if not self._enabled:
            return {}
        return {'scale': self.get_scale(), 'growth_factor': self._growth_factor,
                'backoff_factor': self._backoff_factor, 'growth_interval': self._growth_interval,
                '_growth_tracker': self._growth_tracker}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict['scale'])
        self._growth_factor = float(state_dict['growth_factor'])
        self._backoff_factor = float(state_dict['backoff_factor'])
        self._growth_interval = int(state_dict['growth_interval'])
        self._growth_tracker = int(state_dict['_growth_tracker'])
