"""Data types and devices: the ``DTYPE`` and ``DEVICE`` string enums and
how user-facing spellings (enum members, strings, NumPy dtypes) map onto
NumPy dtypes."""
from enum import Enum

import numpy as np


class DTYPE(str, Enum):
    """Supported data types. Members compare equal to their names: ``DTYPE.FLOAT32 == 'float32'``."""
    FLOAT16 = 'float16'
    FLOAT32 = 'float32'
    FLOAT64 = 'float64'
    INT8 = 'int8'
    UINT8 = 'uint8'
    INT16 = 'int16'
    INT32 = 'int32'
    INT64 = 'int64'
    BOOL = 'bool'

    def __str__(self):
        return self.value

    __repr__ = __str__


class DEVICE(str, Enum):
    """Supported devices. Members compare equal to their names: ``DEVICE.CPU == 'cpu'``."""
    CPU = 'cpu'
    CUDA = 'cuda'

    def __str__(self):
        return self.value

    __repr__ = __str__


_NP_DTYPES = {m.value: np.dtype(m.value) for m in DTYPE}
_ALIASES = {'float': 'float32', 'double': 'float64', 'half': 'float16', 'long': 'int64',
            'int': 'int64', 'short': 'int16'}
_DTYPE_BY_NP = {np.dtype(m.value): m for m in DTYPE}
# NumPy dtype -> enum member, falling back to the dtype's name for dtypes outside the enum
DEFAULT_FLOAT = np.dtype('float32')


def to_numpy_dtype(dtype):
    """Resolve ``dtype`` (DTYPE member, string, NumPy dtype or type, or None) to a NumPy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
        try:
            return _NP_DTYPES[name]
        except KeyError:
            raise TypeError(f"unsupported dtype {dtype!r}; expected one of "
                            f"{sorted(_NP_DTYPES)}") from None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unsupported dtype {dtype!r}") from None


def from_numpy_dtype(np_dtype):
    """The ``DTYPE`` member for a NumPy dtype (its name string when not in the enum)."""
    member = _DTYPE_BY_NP.get(np_dtype)
    return member if member is not None else np_dtype.name


def to_device(device):
    """Resolve ``device`` (DEVICE member, 'cpu', 'cuda', 'cuda:0', None) to a DEVICE member."""
    if device is None:
        return None
    if isinstance(device, DEVICE):
        return device
    name = str(getattr(device, 'type', device))
    name = name.split(':')[0]
    try:
        return DEVICE(name)
    except ValueError:
        raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'") from None


def is_floating(np_dtype):
    """True for floating-point NumPy dtypes (the ones that can carry gradients)."""
    return np_dtype.kind == 'f'


def promote(d1, d2):
    """Result dtype of a binary op, following PyTorch: a float operand wins over
    an integer/bool one and keeps its own width (float32 + int64 -> float32)."""
    if d1 is d2 or d1 == d2:
        return d1
    f1, f2 = d1.kind == 'f', d2.kind == 'f'
    if f1 and not f2:
        return d1
    if f2 and not f1:
        return d2
    return np.promote_types(d1, d2)
