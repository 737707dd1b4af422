"""Read checkpoints written by ``torch.save`` without torch.

Two formats: the zip archive torch writes since 1.6 (``<name>/data.pkl`` plus
one raw record ``<name>/data/<key>`` per storage) and the legacy stream
(``_use_new_zipfile_serialization=False``: magic number, protocol, system
info and the pickle, then each storage as an int64 element count and its
bytes). The very old tar format (torch < 0.4) is refused.

The pickle is read by a restricted unpickler: the only globals it resolves
are torch's tensor rebuild functions, storage types and dtypes,
``collections.OrderedDict`` and a few plain builtins, each mapped onto a
function of this module that builds NumPy arrays, never onto torch. Any
other global (a class, ``os.system``) raises ``WeightsOnlyError`` before
anything is called, so a hostile pickle cannot run code. Tensors come back as
tensorgrad Tensors (``Parameter`` for a pickled ``nn.Parameter``); tensors
that were views of one storage come back as NumPy views of one buffer, so
they share memory as they did in torch.
"""
import _compat_pickle
import io
import os
import pickle
import struct
import sys
import warnings
import zipfile
from collections import OrderedDict

import numpy as np

from .. import backend
from .._safe_pickle import WeightsOnlyError
from .._tensor import Tensor
from ..dtypes import DEVICE, to_device

__all__ = ['load_torch_checkpoint', 'is_torch_checkpoint']

_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001
_MAX_PICKLE_BYTES = 1 << 31

# torch storage class name -> NumPy dtype name ('bfloat16' needs ml_dtypes)
_STORAGE_DTYPES = {
    'FloatStorage': 'float32', 'DoubleStorage': 'float64', 'HalfStorage': 'float16', 'BFloat16Storage': 'bfloat16',
    'LongStorage': 'int64', 'IntStorage': 'int32', 'ShortStorage': 'int16', 'CharStorage': 'int8',
    'ByteStorage': 'uint8', 'BoolStorage': 'bool', 'ComplexFloatStorage': 'complex64',
    'ComplexDoubleStorage': 'complex128', 'UntypedStorage': 'uint8',
}
# torch dtype name (``torch.float32``) -> NumPy dtype name, for _rebuild_tensor_v3
_TORCH_DTYPES = {
    'float32': 'float32', 'float': 'float32', 'float64': 'float64', 'double': 'float64', 'float16': 'float16',
    'half': 'float16', 'bfloat16': 'bfloat16', 'int64': 'int64', 'long': 'int64', 'int32': 'int32', 'int': 'int32',
    'int16': 'int16', 'short': 'int16', 'int8': 'int8', 'uint8': 'uint8', 'bool': 'bool',
    'uint16': 'uint16', 'uint32': 'uint32', 'uint64': 'uint64', 'complex64': 'complex64', 'complex128': 'complex128',
}


class _Bad(Exception):
    """Internal: a malformed file; turned into CheckpointError with the file's name."""


def _np_dtype(name):
    if name == 'bfloat16':
        from ..dtypes import bfloat16_dtype  # noqa: PLC0415 - needs the optional ml_dtypes
        return bfloat16_dtype()
    return np.dtype(name)


class _StorageType:
    """Stands for ``torch.FloatStorage`` & co. inside the pickle."""
    __slots__ = ('name', 'dtype')

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _DType:
    """Stands for a ``torch.<dtype>`` object inside the pickle."""
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = _TORCH_DTYPES[name]


class _Storage:
    """A loaded storage: a flat NumPy array of its dtype (bytes for an untyped one)."""
    __slots__ = ('array', 'location')

    def __init__(self, array, location):
        self.array = array
        self.location = location


def _as_ints(value, what):
    if not isinstance(value, (tuple, list)) or not all(type(v) is int for v in value):
        raise _Bad(f"tensor {what} {value!r} is not a tuple of ints")
    return tuple(value)


def _view(storage, offset, size, stride, dtype=None):
    """The array of a tensor: ``size``/``stride`` (in elements) from ``offset`` in ``storage``,
    checked to lie inside it; a view sharing the storage's memory."""
    if not isinstance(storage, _Storage):
        raise _Bad("tensor rebuilt from something that is not a storage")
    flat = storage.array
    if dtype is not None:
        dt = _np_dtype(dtype)
        if flat.dtype != dt:
            if flat.nbytes % dt.itemsize:
                raise _Bad(f"storage of {flat.nbytes} bytes is not a whole number of {dtype} elements")
            flat = flat.view(dt)
    size, stride = _as_ints(size, 'size'), _as_ints(stride, 'stride')
    if type(offset) is not int or offset < 0 or len(size) != len(stride):
        raise _Bad(f"bad tensor geometry: offset {offset!r}, size {size}, stride {stride}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise _Bad(f"negative size or stride: size {size}, stride {stride}")
    if 0 in size:
        return np.empty(size, dtype=flat.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= flat.size:
        raise _Bad(f"tensor of size {size}, stride {stride} at offset {offset} reaches element {last} "
                   f"of a storage of {flat.size} elements")
    item = flat.dtype.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:], shape=size, strides=tuple(s * item for s in stride),
                                           writeable=flat.flags.writeable)


class _Reader:
    """Rebuilds the object tree of one torch checkpoint."""

    def __init__(self, where, load_storage, map_location):
        self.where = where
        self.load_storage = load_storage  # (key, dtype name, numel, location) -> flat array
        self.map_location = map_location
        self.storages = {}
        self.warned = False

    # -------------------------------------------------------------- devices
    def device(self, location):
        loc = self.map_location
        if callable(loc):
            loc = loc(location)
        elif isinstance(loc, dict):
            loc = loc.get(location, location)
        target = loc if loc is not None else location
        dev = to_device(str(target).split(':')[0] if isinstance(target, str) else target)
        if dev is DEVICE.CUDA and not backend.is_cuda_available():
            if loc is None:
                if not self.warned:
                    warnings.warn(f"load: {self.where} holds cuda tensors but CUDA is not available; "
                                  f"loading them on the cpu", stacklevel=4)
                    self.warned = True
                return DEVICE.CPU
            raise RuntimeError(f"load: map_location={self.map_location!r} asks for cuda but CUDA is not available")
        return dev

    # -------------------------------------------------------------- rebuild functions
    def tensor(self, arr, storage, requires_grad=False, cls=Tensor):
        dev = self.device(storage.location)
        if arr.dtype.kind == 'c' or arr.dtype.name in ('uint16', 'uint32', 'uint64'):
            raise _Bad(f"tensors of dtype {arr.dtype} are not supported by tensorgrad")
        if dev is not DEVICE.CPU:
            arr = backend.move(arr, dev)
        return cls._wrap(arr, requires_grad=bool(requires_grad) and arr.dtype.kind == 'f')

    def rebuild_tensor(self, storage, offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
        return self.tensor(_view(storage, offset, size, stride), storage, requires_grad)

    def rebuild_tensor_v1(self, storage, offset, size, stride):
        return self.rebuild_tensor(storage, offset, size, stride)

    def rebuild_tensor_v3(self, storage, offset, size, stride, requires_grad, backward_hooks, dtype,
                          metadata=None):
        if not isinstance(dtype, _DType):
            raise _Bad(f"_rebuild_tensor_v3 with dtype {dtype!r}")
        return self.tensor(_view(storage, offset, size, stride, dtype.name), storage, requires_grad)

    def rebuild_parameter(self, data, requires_grad, backward_hooks, state=None):
        if not isinstance(data, Tensor):
            raise _Bad("_rebuild_parameter of something that is not a tensor")
        from ..nn import Parameter  # noqa: PLC0415 - nn loads lazily
        return Parameter._wrap(data._data, requires_grad=bool(requires_grad) and data._data.dtype.kind == 'f')

    def rebuild_from_type(self, func, new_type, args, state):
        out = func(*args)
        if new_type == 'Parameter' and not type(out).__name__ == 'Parameter':
            from ..nn import Parameter  # noqa: PLC0415
            out = Parameter._wrap(out._data, requires_grad=out.requires_grad)
        return out

    # -------------------------------------------------------------- pickle plumbing
    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5:
            raise _Bad(f"unknown persistent id {pid!r}")
        kind = pid[0].decode('ascii') if isinstance(pid[0], bytes) else pid[0]
        if kind != 'storage':
            raise _Bad(f"unknown persistent id type {kind!r}")
        storage_type, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) > 5 else None
        if isinstance(location, bytes):
            location = location.decode('ascii')
        if not isinstance(storage_type, _StorageType) or type(numel) is not int or numel < 0:
            raise _Bad(f"bad storage reference {pid!r}")
        key = str(key)
        st = self.storages.get(key)
        if st is None:
            st = _Storage(self.load_storage(key, storage_type.dtype, numel, location), str(location))
            self.storages[key] = st
        if view is not None:  # legacy format: a storage that is a slice of another
            vkey, off, vsize = view
            if type(off) is not int or type(vsize) is not int or off < 0 or off + vsize > st.array.size:
                raise _Bad(f"storage view {view!r} outside its storage of {st.array.size} elements")
            st = self.storages.setdefault(str(vkey), _Storage(st.array[off:off + vsize], st.location))
        return st

    def find_class(self, module, name):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol 2 names Python 2 modules
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        if full in ('collections.OrderedDict',):
            return OrderedDict
        simple = {'builtins.set': set, 'builtins.frozenset': frozenset, 'builtins.complex': complex,
                  'builtins.bytearray': bytearray, 'builtins.slice': slice, 'torch.Size': tuple}
        if full in simple:
            return simple[full]
        if full == '_codecs.encode':
            import codecs  # noqa: PLC0415
            return codecs.encode
        rebuild = {
            'torch._utils._rebuild_tensor': self.rebuild_tensor_v1,
            'torch._utils._rebuild_tensor_v2': self.rebuild_tensor,
            'torch._utils._rebuild_tensor_v3': self.rebuild_tensor_v3,
            'torch._utils._rebuild_parameter': self.rebuild_parameter,
            'torch._utils._rebuild_parameter_with_state': self.rebuild_parameter,
            'torch._tensor._rebuild_from_type_v2': self.rebuild_from_type,
        }
        if full in rebuild:
            return rebuild[full]
        if module == 'torch' and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == 'torch' and name in _TORCH_DTYPES:
            return _DType(name)
        if full == 'torch.nn.parameter.Parameter':
            return 'Parameter'
        if full == 'torch.Tensor':
            return 'Tensor'
        raise WeightsOnlyError(
            f"load: {self.where}: the PyTorch checkpoint names the global {full}, which tensorgrad does not "
            f"load: only tensors, storages, OrderedDicts and plain containers are rebuilt from torch files "
            f"(no other class, no code execution)")

    def unpickle(self, data):
        reader = self

        class _Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                return reader.find_class(module, name)

            def persistent_load(self, pid):
                return reader.persistent_load(pid)

        return _Unpickler(data, encoding='utf-8').load()


# ------------------------------------------------------------------------ format detection
def _zip_prefix(zf):
    """The archive's record prefix ('archive/' ...) when it is a torch zip checkpoint, else None."""
    for name in zf.namelist():
        if name.endswith('/data.pkl') and name.count('/') == 1:
            return name[:-len('data.pkl')]
        if name == 'data.pkl':
            return ''
    return None


def is_torch_checkpoint(fileobj):
    """True when the seekable binary ``fileobj`` holds a ``torch.save`` file (zip or legacy);
    leaves the position at 0."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    if head[:2] == b'\x80\x02' and head[2:3] == b'\x8a':  # protocol 2, LONG1: the legacy magic number
        try:
            return pickle.load(fileobj) == _LEGACY_MAGIC
        except Exception:  # noqa: BLE001 - anything unreadable is simply not a torch file
            return False
        finally:
            fileobj.seek(0)
    if head[:4] != b'PK\x03\x04':
        return False
    try:
        with zipfile.ZipFile(fileobj) as zf:
            return _zip_prefix(zf) is not None and 'manifest.json' not in zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    finally:
        fileobj.seek(0)


# ------------------------------------------------------------------------ readers
def _record_offset(fileobj, info):
    """Where the bytes of an uncompressed zip entry start in the file."""
    fileobj.seek(info.header_offset)
    local = fileobj.read(30)
    if len(local) != 30 or local[:4] != b'PK\x03\x04':
        raise _Bad(f"bad local header for {info.filename!r}")
    name_len, extra_len = struct.unpack('<HH', local[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _load_zip(fileobj, reader, path, mmap):
    with zipfile.ZipFile(fileobj) as zf:
        prefix = _zip_prefix(zf)
        names = set(zf.namelist())
        swap = False
        if prefix + 'byteorder' in names:
            order = zf.read(prefix + 'byteorder').decode('ascii', 'replace').strip()
            if order not in ('little', 'big'):
                raise _Bad(f"unknown byteorder {order!r}")
            swap = order != sys.byteorder
        size = os.fstat(fileobj.fileno()).st_size if path is not None else None

        def load_storage(key, dtype, numel, location):
            name = f"{prefix}data/{key}"
            if name not in names:
                raise _Bad(f"missing storage record {name!r}")
            info = zf.getinfo(name)
            dt = _np_dtype(dtype)
            if info.file_size != numel * dt.itemsize:
                raise _Bad(f"storage record {name!r} holds {info.file_size} bytes, the pickle says {numel} "
                           f"elements of {dtype} ({numel * dt.itemsize} bytes)")
            if mmap and path is not None and info.compress_type == zipfile.ZIP_STORED:
                start = _record_offset(fileobj, info)
                if start + info.file_size > size:
                    raise _Bad(f"storage record {name!r} runs past the end of the file")
                arr = np.memmap(path, dtype=dt, mode='c', offset=start, shape=(numel,)).view(np.ndarray) \
                    if numel else np.empty(0, dt)
            else:
                arr = np.frombuffer(bytearray(zf.read(name)), dtype=dt)
            if swap and dt.itemsize > 1:
                arr = arr.byteswap()
            return arr

        reader.load_storage = load_storage
        info = zf.getinfo(prefix + 'data.pkl')
        if info.file_size > _MAX_PICKLE_BYTES:
            raise _Bad(f"data.pkl of {info.file_size} bytes is implausibly large")
        return reader.unpickle(io.BytesIO(zf.read(prefix + 'data.pkl')))


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data only: every global is refused."""

    def find_class(self, module, name):
        raise _Bad(f"a header pickle names the global {module}.{name}")


def _load_legacy(fileobj, reader):
    fileobj.seek(0, os.SEEK_END)
    total = fileobj.tell()
    fileobj.seek(0)

    def header():  # the header pickles hold only numbers, strings, lists and dicts
        return _PlainUnpickler(fileobj).load()

    if header() != _LEGACY_MAGIC:
        raise _Bad("bad magic number")
    if header() != _LEGACY_PROTOCOL:
        raise _Bad("unsupported legacy protocol version")
    info = header()
    if isinstance(info, dict) and info.get('little_endian') is False:
        raise _Bad("big-endian legacy checkpoints are not supported")
    wanted = {}

    def load_storage(key, dtype, numel, location):
        arr = np.empty(numel, dtype=_np_dtype(dtype))
        wanted[key] = arr
        return arr

    reader.load_storage = load_storage
    result = reader.unpickle(fileobj)
    keys = header()
    if not isinstance(keys, list):
        raise _Bad("storage key list missing")
    for key in keys:
        arr = wanted.get(str(key))
        if arr is None:
            raise _Bad(f"storage {key!r} is not referenced by the pickle")
        raw = fileobj.read(8)
        if len(raw) != 8:
            raise _Bad("truncated storage header")
        (numel,) = struct.unpack('<q', raw)
        nbytes = numel * arr.dtype.itemsize
        if numel != arr.size or nbytes > total - fileobj.tell():
            raise _Bad(f"storage {key!r} claims {numel} elements, the pickle says {arr.size}, "
                       f"{total - fileobj.tell()} bytes are left")
        if fileobj.readinto(memoryview(arr.view(np.uint8))) != nbytes:
            raise _Bad("truncated storage data")
    return result


def load_torch_checkpoint(f, map_location=None, mmap=False):
    """Load a file written by ``torch.save`` (a path or a seekable binary file object)
    without torch: tensors become tensorgrad Tensors (``Parameter`` where torch had one),
    OrderedDicts and containers stay as they are. ``map_location`` as ``tensorgrad.load``
    (the saved location is a string like ``'cpu'`` or ``'cuda:0'``); ``mmap=True`` maps the
    storages of a zip checkpoint from the file (copy on write) instead of reading them."""
    from ..serialization import CheckpointError  # noqa: PLC0415 - serialization imports this lazily

    if hasattr(f, 'read'):
        where, path, fh, close = str(getattr(f, 'name', '<file object>')), None, f, False
    else:
        path = os.fspath(f)
        where, fh, close = path, open(path, 'rb'), True
    reader = _Reader(where, None, map_location)
    try:
        if not is_torch_checkpoint(fh):
            raise CheckpointError(f"load: {where} is not a PyTorch checkpoint")
        head = fh.read(2)
        fh.seek(0)
        if head == b'PK':
            return _load_zip(fh, reader, path, mmap)
        return _load_legacy(fh, reader)
    except (CheckpointError, WeightsOnlyError, RuntimeError, ImportError):
        raise
    except _Bad as e:
        raise CheckpointError(f"load: {where} is not a valid PyTorch checkpoint ({e})") from None
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            IndexError, AttributeError, RecursionError, MemoryError, struct.error) as e:
        raise CheckpointError(f"load: {where} is not a valid PyTorch checkpoint (corrupt or truncated: "
                              f"{type(e).__name__}: {e})") from None
    finally:
        if close:
            fh.close()
