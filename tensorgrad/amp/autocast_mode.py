"""``autocast``: PyTorch's mixed-precision context manager and decorator.

tensorgrad records the autocast state (``is_autocast_enabled``,
``get_autocast_dtype``) with PyTorch's validation and warnings, but its ops
do not change dtype under autocast: on cpu a bfloat16/float16 autocast runs
every op in the dtype of its inputs (float32 for a float32 model), so results
are full precision rather than low precision, never silently wrong.
"""
import functools
import threading
import warnings

from .. import backend
from ..dtypes import DTYPE, to_numpy_dtype

_DEFAULT_DTYPES = {'cpu': DTYPE.BFLOAT16, 'cuda': DTYPE.FLOAT16}
_CPU_DTYPES = ('bfloat16', 'float16')
_CUDA_DTYPES = ('bfloat16', 'float16', 'float32')


class _State(threading.local):
    """Autocast state per thread, as PyTorch's: device type -> (enabled, dtype)."""

    def __init__(self):
        self.enabled = {'cpu': False, 'cuda': False}
        self.dtype = dict(_DEFAULT_DTYPES)


_STATE = _State()


def _device_type(device_type, who):
    if not isinstance(device_type, str):
        raise ValueError(f"{who}: expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in ('cpu', 'cuda'):
        raise RuntimeError(f"{who}: unsupported autocast device_type {device_type!r}; expected 'cpu' or 'cuda'")
    return device_type


def _dtype_name(dtype):
    """The dtype's name without loading ml_dtypes for bfloat16 (autocast never computes in it)."""
    if isinstance(dtype, str) or isinstance(dtype, DTYPE):
        name = str(getattr(dtype, 'value', dtype))
        return name if name == 'bfloat16' else to_numpy_dtype(name).name
    return to_numpy_dtype(dtype).name


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` in this thread (default 'cuda', as PyTorch)."""
    return _STATE.enabled[_device_type('cuda' if device_type is None else device_type, 'is_autocast_enabled')]


def get_autocast_dtype(device_type):
    """The dtype autocast would use on ``device_type`` (bfloat16 on cpu, float16 on cuda by default)."""
    return _STATE.dtype[_device_type(device_type, 'get_autocast_dtype')]


class autocast:  # noqa: N801 - PyTorch's name
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context
    manager (and decorator) marking a region for mixed precision, as ``torch.autocast``.
    cpu accepts bfloat16 (default) and float16; another dtype warns and disables it.
    cuda without CUDA warns and disables it. Ops still compute in their inputs' dtype
    (float32 stays float32): autocast changes no result in tensorgrad."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _device_type(device_type, 'autocast')
        self.fast_dtype = _DEFAULT_DTYPES[self.device] if dtype is None else dtype
        name = _dtype_name(self.fast_dtype)
        self.fast_dtype = DTYPE(name)
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        self._prev = []
        if not self._enabled:
            return
        if self.device == 'cpu' and name not in _CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                          "CPU Autocast only supports dtypes of tensorgrad.bfloat16, tensorgrad.float16 "
                          "currently.", UserWarning, stacklevel=2)
            self._enabled = False
        elif self.device == 'cuda':
            if not backend.is_cuda_available():
                warnings.warn("CUDA is not available. Disabling autocast.", UserWarning, stacklevel=2)
                self._enabled = False
            elif name not in _CUDA_DTYPES:
                warnings.warn("In CUDA autocast, but the target dtype is not supported. Disabling autocast.",
                              UserWarning, stacklevel=2)
                self._enabled = False

    def __enter__(self):
        st = _STATE
        self._prev.append((st.enabled[self.device], st.dtype[self.device]))
        st.enabled[self.device] = self._enabled
        st.dtype[self.device] = self.fast_dtype
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        st = _STATE
        st.enabled[self.device], st.dtype[self.device] = self._prev.pop()
        return False

    def __call__(self, func):
        """Use as a decorator: ``func`` runs inside this autocast region."""
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast
