"""The safetensors format, read and written with NumPy alone.

A file is: an unsigned little-endian 64-bit header length N, N bytes of JSON
(``{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..],
"data_offsets": [begin, end]}, ...}``, padded with spaces to a multiple of 8),
then the tensors' bytes, row-major little-endian, back to back. The writer
orders tensors and formats the header exactly as the ``safetensors`` package
does (by dtype, widest first, then name; compact JSON), so files are
byte-identical to ``safetensors.numpy.save_file``'s.

The reader validates everything before it allocates: the header size (at
most 100 MB, inside the file), the JSON (an object, no duplicate names), each
entry (a known dtype, a shape of non-negative ints, offsets that match the
shape), and that the byte ranges tile the data exactly (no gaps, overlaps or
bytes past the last tensor). Loading maps the file (copy on write) by default.
"""
import json
import os
import struct

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..dtypes import DEVICE, to_device
from ..serialization import write_atomic

__all__ = ['save_safetensors', 'load_safetensors', 'SafetensorsError']

MAX_HEADER = 100_000_000
# the package's dtype order (its Rust enum); tensors are written widest-first in this order
_ORDER = ['BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'I16', 'U16', 'F16',
          'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64']
_NUMPY = {'BOOL': 'bool', 'U8': 'uint8', 'I8': 'int8', 'I16': 'int16', 'U16': 'uint16', 'F16': 'float16',
          'I32': 'int32', 'U32': 'uint32', 'F32': 'float32', 'C64': 'complex64', 'F64': 'float64', 'I64': 'int64',
          'U64': 'uint64'}
_ML_DTYPES = {'BF16': 'bfloat16', 'F8_E5M2': 'float8_e5m2', 'F8_E4M3': 'float8_e4m3fn', 'F8_E8M0': 'float8_e8m0fnu'}
_TENSOR_DTYPES = {'bool', 'uint8', 'int8', 'int16', 'float16', 'int32', 'float32', 'float64', 'int64', 'bfloat16'}


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file, or a state dict that cannot be written as one."""


def _dtype_of_code(code):
    """The NumPy dtype of a safetensors dtype code (ml_dtypes ones need that package)."""
    if code in _NUMPY:
        return np.dtype(_NUMPY[code])
    if code in _ML_DTYPES:
        try:
            import ml_dtypes  # noqa: PLC0415 - optional
        except ImportError:
            raise ImportError(f"safetensors dtype {code} needs the ml_dtypes package: pip install ml_dtypes") from None
        if not hasattr(ml_dtypes, _ML_DTYPES[code]):
            raise SafetensorsError(f"safetensors dtype {code} is not known to this ml_dtypes version")
        return np.dtype(getattr(ml_dtypes, _ML_DTYPES[code]))
    raise SafetensorsError(f"unsupported safetensors dtype {code!r}")


def _code_of_dtype(dt, name):
    for code, npname in _NUMPY.items():
        if dt.name == npname:
            return code
    for code, mlname in _ML_DTYPES.items():
        if dt.name == mlname:
            return code
    raise SafetensorsError(f"save_safetensors: tensor {name!r} has dtype {dt}, which safetensors cannot store")


def _array_of(value, name):
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, backend.array_types()):
        arr = value
    elif hasattr(value, 'detach') and hasattr(value, 'numpy'):  # a torch tensor
        t = value.detach().cpu()
        if str(t.dtype) == 'torch.bfloat16':
            from ..dtypes import bfloat16_dtype  # noqa: PLC0415
            return t.view(dtype=__import__('torch').int16).numpy().view(bfloat16_dtype())
        arr = t.numpy()
    else:
        raise SafetensorsError(f"save_safetensors: value of {name!r} is a {type(value).__name__}, "
                               f"not a tensor or array")
    return backend.move(arr, DEVICE.CPU)


def _header_bytes(header):
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    return text + b' ' * (-len(text) % 8)


def save_safetensors(tensors, path, metadata=None):
    """Write ``tensors`` (a dict name -> Tensor / NumPy array / torch tensor, such as a
    ``state_dict()``) to ``path`` in the safetensors format, with optional
    ``metadata`` (a dict of str -> str). Tensors sharing memory are written as
    separate copies. Written atomically (temporary file, then rename)."""
    if not hasattr(tensors, 'items'):
        raise TypeError(f"save_safetensors: expected a dict of tensors, got {type(tensors).__name__}")
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    entries = []
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: tensor names must be str, got {type(name).__name__}")
        if name == '__metadata__':
            raise SafetensorsError("save_safetensors: '__metadata__' is reserved for the metadata")
        arr = _array_of(value, name)
        code = _code_of_dtype(arr.dtype, name)
        entries.append((name, code, arr))
    entries.sort(key=lambda e: (-_ORDER.index(e[1]), e[0]))
    header, offset = {}, 0
    if metadata:
        header['__metadata__'] = dict(metadata)
    for name, code, arr in entries:
        header[name] = {'dtype': code, 'shape': list(arr.shape), 'data_offsets': [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    head = _header_bytes(header)
    def write(out):
        out.write(struct.pack('<Q', len(head)))
        out.write(head)
        for _, _, arr in entries:
            if arr.dtype.byteorder == '>':
                arr = arr.astype(arr.dtype.newbyteorder('<'))
            out.write(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)
    write_atomic(path, write)


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise SafetensorsError(f"duplicate key {k!r} in the header")
        out[k] = v
    return out


def read_header(fh, size, where='<file>'):
    """Validate the header of an open safetensors file of ``size`` bytes; returns
    ``(entries, metadata, data_start)`` with entries ``[(name, dtype code, shape, begin, end)]``."""
    def bad(why):
        return SafetensorsError(f"load_safetensors: {where} is not a valid safetensors file ({why})")

    raw = fh.read(8)
    if len(raw) < 8:
        raise bad(f"file of {size} bytes is too short for the header length")
    (n,) = struct.unpack('<Q', raw)
    if n > MAX_HEADER:
        raise bad(f"header length {n} exceeds the {MAX_HEADER}-byte limit")
    if 8 + n > size:
        raise bad(f"header length {n} runs past the end of the {size}-byte file")
    text = fh.read(n)
    if len(text) != n:
        raise bad("truncated header")
    if not text.startswith(b'{'):
        raise bad("header is not a JSON object")
    try:
        header = json.loads(text.decode('utf-8'), object_pairs_hook=_no_duplicates)
    except SafetensorsError as e:
        raise bad(str(e)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise bad(f"header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    metadata = header.pop('__metadata__', None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str)
                                                                        for v in metadata.values())):
        raise bad("__metadata__ must map str to str")
    data_len = size - 8 - n
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) - {'dtype', 'shape', 'data_offsets'} or len(info) != 3:
            raise bad(f"entry {name!r} must have exactly dtype, shape and data_offsets")
        code, shape, offs = info['dtype'], info['shape'], info['data_offsets']
        if not isinstance(code, str) or code not in _ORDER:
            raise bad(f"entry {name!r} has unknown dtype {code!r}")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise bad(f"entry {name!r} has bad shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
                and 0 <= offs[0] <= offs[1]):
            raise bad(f"entry {name!r} has bad data_offsets {offs!r}")
        numel = 1
        for d in shape:
            numel *= d
        itemsize = _dtype_of_code(code).itemsize
        if offs[1] - offs[0] != numel * itemsize:
            raise bad(f"entry {name!r}: data_offsets {offs} hold {offs[1] - offs[0]} bytes, shape {shape} of "
                      f"{code} needs {numel * itemsize}")
        entries.append((name, code, tuple(shape), offs[0], offs[1]))
    end = 0
    for name, _, _, begin, stop in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != end:
            raise bad(f"entry {name!r} starts at byte {begin}, expected {end} "
                      f"({'overlapping' if begin < end else 'a gap between'} tensors)")
        end = stop
    if end != data_len:
        raise bad(f"the tensors cover {end} bytes but the file holds {data_len} bytes of data "
                  f"({'truncated' if end > data_len else 'trailing bytes'})")
    return entries, metadata, 8 + n


def load_safetensors(path, device='cpu', mmap=True, metadata=False):
    """Read a safetensors file into a dict name -> Tensor (in file order of names as
    stored). Values of dtypes tensorgrad has no tensor dtype for (uint16/32/64,
    complex64, float8) are NumPy arrays. ``mmap=True`` (default) maps the file copy
    on write instead of reading it; ``metadata=True`` returns ``(tensors, metadata)``."""
    path = os.fspath(path)
    dev = to_device(device)
    size = os.path.getsize(path)
    with open(path, 'rb') as fh:
        entries, meta, start = read_header(fh, size, path)
        data_len = size - start
        if mmap and data_len:
            buf = np.memmap(path, dtype=np.uint8, mode='c', offset=start, shape=(data_len,)).view(np.ndarray)
        else:
            buf = np.frombuffer(bytearray(fh.read(data_len)), dtype=np.uint8)
            if buf.size != data_len:
                raise SafetensorsError(f"load_safetensors: {path} is truncated")
    out = {}
    for name, code, shape, begin, stop in entries:
        dt = _dtype_of_code(code)
        arr = buf[begin:stop].view(dt).reshape(shape) if stop > begin else np.zeros(shape, dtype=dt)
        if dt.name in _TENSOR_DTYPES:
            if dev is not DEVICE.CPU:
                arr = backend.move(arr, dev)
            out[name] = Tensor._wrap(arr)
        else:
            out[name] = arr
    return (out, meta or {}) if metadata else out
