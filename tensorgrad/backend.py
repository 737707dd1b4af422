"""Array backends: NumPy for cpu, CuPy for cuda.

CuPy is imported lazily and only when cuda is asked for, so the cpu path
never touches it and ``import tensorgrad`` works without it.
"""
import numpy as np

from .dtypes import DEVICE

_cupy = None
_cupy_checked = False


def _load_cupy():
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415 - optional dependency
            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # noqa: BLE001 - any failure means "no usable cuda"
            _cupy = None
    return _cupy


def is_cuda_available():
    """Return whether a CUDA device is usable (CuPy installed and a GPU present)."""
    return _load_cupy() is not None


def cupy():
    """The CuPy module; raises a clear error when cuda is not available."""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError("device 'cuda' requested but CUDA is not available: install CuPy "
                           "(pip install 'tensorgrad[cuda]') on a machine with an NVIDIA GPU")
    return cp


def xp_for(device):
    """Array module (numpy or cupy) for a DEVICE member."""
    return np if device is DEVICE.CPU else cupy()


def array_module(arr):
    """Array module of an array: numpy for ndarrays, cupy for cupy arrays."""
    if type(arr) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(arr)


def device_of(arr):
    """DEVICE member an array lives on."""
    if isinstance(arr, np.ndarray) or _cupy is None or not isinstance(arr, _cupy.ndarray):
        return DEVICE.CPU
    return DEVICE.CUDA


def move(arr, device):
    """Copy ``arr`` to ``device`` (no copy when it is already there)."""
    if device is DEVICE.CPU:
        if isinstance(arr, np.ndarray):
            return arr
        return arr.get()
    cp = cupy()
    if isinstance(arr, cp.ndarray):
        return arr
    return cp.asarray(arr)


def array_types():
    """Tuple of array classes a Tensor may hold."""
    return (np.ndarray,) if _cupy is None else (np.ndarray, _cupy.ndarray)
