"""Data types and devices: the ``DTYPE`` and ``DEVICE`` string enums, the
``device`` class (PyTorch's ``torch.device``), and how user-facing spellings
(enum members, strings, NumPy dtypes, devices) map onto NumPy dtypes and
``DEVICE`` members.

``bfloat16`` is NumPy's ``ml_dtypes.bfloat16``: the optional ``ml_dtypes``
package is imported the first time bfloat16 is asked for, never at import.
"""
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
    BFLOAT16 = 'bfloat16'  # needs the optional ml_dtypes package

    def __str__(self):
        return self.value

    __repr__ = __str__


class DEVICE(str, Enum):
    """Supported devices. Members compare equal to their names (``DEVICE.CPU == 'cpu'``)
    and to ``device`` objects (``DEVICE.CUDA == device('cuda:0')``); like a
    ``torch.device`` they have ``.type`` and ``.index``."""
    CPU = 'cpu'
    CUDA = 'cuda'

    def __str__(self):
        return self.value

    __repr__ = __str__

    @property
    def type(self):
        """The device type, 'cpu' or 'cuda' (as ``torch.device.type``)."""
        return self.value

    @property
    def index(self):
        """The device index: None for cpu, 0 for cuda (tensorgrad uses one cuda device)."""
        return None if self.value == 'cpu' else 0

    def __eq__(self, other):
        if other.__class__ is str:
            return other == self.value or (other == 'cuda:0' and self.value == 'cuda')
        return str.__eq__(self, other)  # NotImplemented for a device: its own __eq__ answers

    __hash__ = str.__hash__


class DeviceError(RuntimeError, ValueError):
    """An unknown or unusable device spelling (a RuntimeError, as PyTorch's, and a ValueError)."""


class device:  # noqa: N801 - PyTorch's name
    """A device, as ``torch.device``: ``device('cpu')``, ``device('cuda')``,
    ``device('cuda:0')``, ``device('cuda', 0)``, ``device(0)`` (cuda 0) or a copy
    of a device / ``DEVICE`` member. ``.type`` is 'cpu' or 'cuda', ``.index`` an int
    or None. Accepted wherever a device is. Devices compare equal to each other as
    PyTorch's do (``device('cuda') != device('cuda:0')``), to ``DEVICE`` members
    and to strings (``device('cpu') == 'cpu'``)."""
    __slots__ = ('_type', '_index')

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's parameter name
        if isinstance(type, (device, DEVICE)):
            if index is None:
                index = type.index if isinstance(type, device) else None
            type = type.type
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = 'cuda', type
        elif isinstance(getattr(type, 'type', None), str):  # another library's device (torch.device)
            if index is None:
                index = getattr(type, 'index', None)
            type = type.type
        elif not isinstance(type, str):
            raise TypeError(f"device: expected a string, an int or a device, got {type.__class__.__name__}")
        name = type
        if ':' in name:
            if index is not None:
                raise DeviceError(f"device: type (string) must not include an index because index was "
                                  f"passed explicitly: {name}")
            name, _, idx = name.partition(':')
            if not idx.isdigit():
                raise DeviceError(f"device: invalid device string {type!r}")
            index = int(idx)
        if name not in ('cpu', 'cuda'):
            raise DeviceError(f"device: unknown device type {type!r}; expected 'cpu' or 'cuda'")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device: index must be an int, got {index.__class__.__name__}")
            if index < 0:
                raise DeviceError(f"device: index must not be negative, got {index}")
        self._type = name
        self._index = index

    @property
    def type(self):
        """The device type: 'cpu' or 'cuda'."""
        return self._type

    @property
    def index(self):
        """The device index (an int), or None when not given."""
        return self._index

    def __str__(self):
        return self._type if self._index is None else f'{self._type}:{self._index}'

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __eq__(self, other):
        if isinstance(other, device):
            return self._type == other._type and self._index == other._index
        if isinstance(other, DEVICE):
            return self._type == other.value and self._index in (None, 0)
        if isinstance(other, str):
            try:
                other = device(other)
            except (DeviceError, TypeError):
                return False
            return self == other
        return NotImplemented

    def __hash__(self):
        return hash(self._type)  # equal objects (devices, DEVICE members, 'cpu') share the type's hash

    def __reduce__(self):
        return (device, (self._type, self._index))


_Device = device  # the class, for functions whose parameter is named ``device``

_NP_DTYPES = {m.value: np.dtype(m.value) for m in DTYPE if m is not DTYPE.BFLOAT16}
_ALIASES = {'float': 'float32', 'double': 'float64', 'half': 'float16', 'long': 'int64',
            'int': 'int64', 'short': 'int16'}
_DTYPE_BY_NP = {np.dtype(m.value): m for m in DTYPE if m is not DTYPE.BFLOAT16}


def bfloat16_dtype():
    """NumPy's bfloat16 dtype (``ml_dtypes.bfloat16``), loading ml_dtypes on first use;
    a clear ImportError naming the package when it is not installed."""
    dt = _NP_DTYPES.get('bfloat16')
    if dt is None:
        try:
            import ml_dtypes  # noqa: PLC0415 - optional dependency, loaded on first use
        except ImportError:
            raise ImportError("bfloat16 needs the ml_dtypes package: pip install ml_dtypes "
                              "(or pip install 'tensorgrad[bf16]')") from None
        dt = np.dtype(ml_dtypes.bfloat16)
        _NP_DTYPES['bfloat16'] = dt
        _DTYPE_BY_NP[dt] = DTYPE.BFLOAT16
    return dt
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
            if name == 'bfloat16':
                return bfloat16_dtype()
            raise TypeError(f"unsupported dtype {dtype!r}; expected one of "
                            f"{sorted({m.value for m in DTYPE})}") from None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unsupported dtype {dtype!r}") from None


def from_numpy_dtype(np_dtype):
    """The ``DTYPE`` member for a NumPy dtype (its name string when not in the enum)."""
    member = _DTYPE_BY_NP.get(np_dtype)
    if member is None:
        return DTYPE.BFLOAT16 if np_dtype.name == 'bfloat16' else np_dtype.name
    return member


def to_device(device):
    """Resolve ``device`` (DEVICE member, ``device`` object, 'cpu', 'cuda', 'cuda:0',
    an int cuda index, None) to a DEVICE member: the one conversion point for devices.
    Unknown spellings raise ``DeviceError`` (a RuntimeError and a ValueError)."""
    if device is None:
        return None
    if isinstance(device, DEVICE):
        return device
    if device.__class__ is str and device in ('cpu', 'cuda'):
        return DEVICE(device)
    try:
        dev = device if isinstance(device, _Device) else _Device(device)
    except TypeError:
        raise DeviceError(f"unknown device {device!r}; expected 'cpu' or 'cuda'") from None
    except DeviceError as e:
        raise DeviceError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:0' ({e})") from None
    if dev.type == 'cuda' and dev.index not in (None, 0):
        raise DeviceError(f"device {str(dev)!r}: tensorgrad uses a single cuda device, 'cuda' or 'cuda:0'")
    return DEVICE(dev.type)


def is_floating(np_dtype):
    """True for floating-point NumPy dtypes (the ones that can carry gradients), bfloat16 included."""
    return np_dtype.kind == 'f' or np_dtype.name == 'bfloat16'


def _category(np_dtype):
    """PyTorch's promotion category: bool < integer < floating < complex."""
    k = np_dtype.kind
    return 0 if k == 'b' else 1 if k in 'iu' else 3 if k == 'c' else 2


def promote(d1, d2, ndim1=1, ndim2=1):
    """Result dtype of a binary op, following PyTorch: a float operand wins over
    an integer/bool one and keeps its own width (float32 + int64 -> float32);
    a 0-d tensor (``ndim`` 0) decides only when its category is higher than the
    dimensioned one's (float32 [2] + float64 0-d -> float32; int [2] + float64 0-d -> float64)."""
    if d1 is d2 or d1 == d2:
        return d1
    if (ndim1 == 0) != (ndim2 == 0):
        dims, zero = (d1, d2) if ndim1 else (d2, d1)
        return dims if _category(zero) <= _category(dims) else zero
    f1, f2 = is_floating(d1), is_floating(d2)
    if f1 and not f2:
        return d1
    if f2 and not f1:
        return d2
    if f1 and 'bfloat16' in (d1.name, d2.name):  # bfloat16 with float16 -> float32, as PyTorch
        return np.promote_types(np.promote_types(d1, d2), np.float32)
    return np.promote_types(d1, d2)
