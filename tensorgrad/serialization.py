"""``save`` / ``load``: checkpoints of tensors, arrays, nested containers and,
as in PyTorch, whole modules or any other picklable object.

Format: a zip archive holding ``manifest.json`` (the structure: dicts,
lists, tuples, numbers, strings, None, bools, and references to arrays) and
one ``.npy`` file per array, read back with ``allow_pickle=False``. An object
the manifest cannot describe (a ``Module``, a custom class) is stored as a
pickle entry (``pickles/N.pkl``) whose tensors and arrays still live in the
``.npy`` entries (see ``_safe_pickle``); such archives are version 2.

``load`` (default ``weights_only=True``) never executes code from the file:
pickle entries are refused unless every class they name is allow-listed with
``add_safe_globals`` / ``safe_globals``. ``load(..., weights_only=False)``
unpickles anything: it can run arbitrary code, use it only on trusted files.
``save`` writes atomically: a temporary file in the target's directory, fsync,
then ``os.replace`` onto the path; a failing save leaves the target as it was.
"""
import io
import json
import os
import pickle
import tempfile
import warnings
import zipfile
from collections import OrderedDict

import numpy as np

from . import _safe_pickle, backend
from ._safe_pickle import WeightsOnlyError, add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._tensor import Tensor
from .dtypes import DEVICE, DTYPE, to_device

__all__ = ['save', 'load', 'CheckpointError', 'WeightsOnlyError', 'add_safe_globals', 'clear_safe_globals',
           'get_safe_globals', 'safe_globals']

FORMAT = 'tensorgrad-checkpoint'
VERSION = 2  # version 1: no pickle entries (still what is written when none is needed)
_READABLE = (1, 2)
DEFAULT_PROTOCOL = 2
_MANIFEST = 'manifest.json'


class CheckpointError(ValueError):
    """A file that is not a readable tensorgrad checkpoint."""


# ---------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns an object tree into JSON-able nodes, collecting arrays by name (and
    pickles of the objects JSON cannot describe)."""

    def __init__(self, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL):
        self.pickle_module = pickle_module
        self.pickle_protocol = max(2, int(pickle_protocol))
        self.pickles = []  # (entry name, bytes)
        self.arrays = []  # (entry name, numpy array)
        self.memo = {}  # id(tensor or array) -> entry name (shared objects are stored once)
        self.keep = []  # keeps memoised objects alive while encoding
        self.tensor_ids = {}  # id(tensor) -> index (a tensor saved twice loads as one object)

    def array(self, arr):
        key = id(arr)
        name = self.memo.get(key)
        if name is None:
            if arr.dtype.hasobject:
                raise TypeError(f"save: arrays of dtype {arr.dtype} (Python objects) cannot be saved")
            name = f'arrays/{len(self.arrays)}.npy'
            self.arrays.append((name, arr))  # cuda arrays are copied to the host one at a time on writing
            self.memo[key] = name
            self.keep.append(arr)
        return name

    def encode(self, obj, depth=0):
        if depth > 200:
            raise ValueError("save: structure is nested more than 200 levels deep (or contains a cycle)")
        if obj is None:
            return {'T': 'none'}
        if isinstance(obj, bool):
            return {'T': 'bool', 'v': obj}
        if isinstance(obj, (DTYPE, DEVICE)):
            return {'T': type(obj).__name__.lower(), 'v': obj.value}
        if isinstance(obj, int):
            return {'T': 'int', 'v': int(obj)}
        if isinstance(obj, float):
            return {'T': 'float', 'v': float(obj).hex()}
        if isinstance(obj, str):
            return {'T': 'str', 'v': obj}
        if isinstance(obj, Tensor):
            tid = self.tensor_ids.setdefault(id(obj), len(self.tensor_ids))
            self.keep.append(obj)
            node = {'T': 'tensor', 'a': self.array(obj._data), 'rg': bool(obj.requires_grad),
                    'dev': obj.device.value, 'id': tid}
            if obj.name is not None:
                node['name'] = str(obj.name)
            if type(obj).__name__ == 'Parameter':
                node['param'] = True
            return node
        if isinstance(obj, backend.array_types()):
            return {'T': 'ndarray', 'a': self.array(obj), 'dev': backend.device_of(obj).value}
        if isinstance(obj, np.generic):
            return {'T': 'npscalar', 'a': self.array(np.asarray(obj))}
        if isinstance(obj, dict):
            node = {'T': 'dict', 'k': [self.encode(k, depth + 1) for k in obj],
                    'v': [self.encode(v, depth + 1) for v in obj.values()]}
            if isinstance(obj, OrderedDict):
                node['ordered'] = True
            return node
        if isinstance(obj, (list, tuple)):
            return {'T': 'list' if isinstance(obj, list) else 'tuple',
                    'v': [self.encode(v, depth + 1) for v in obj]}
        if isinstance(obj, complex):
            return {'T': 'complex', 'v': [obj.real.hex(), obj.imag.hex()]}
        return self.pickled(obj)

    def pickled(self, obj):
        """A pickle entry for ``obj``; its tensors/arrays become ordinary nodes."""
        buf = io.BytesIO()
        handles = (Tensor, np.generic, DTYPE, DEVICE) + tuple(backend.array_types())
        base = getattr(self.pickle_module, 'Pickler', None)
        if base is not None and base is not pickle.Pickler:
            raise TypeError("save: pickle_module must be None or the pickle module")
        try:
            _safe_pickle.Pickler(buf, self.pickle_protocol, self.encode, handles).dump(obj)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            raise TypeError(f"save: cannot save an object of type {type(obj).__name__}: it is not a tensor, "
                            f"array, number, string, None or container of them, and pickling it failed: "
                            f"{type(e).__name__}: {e}") from e
        name = f'pickles/{len(self.pickles)}.pkl'
        self.pickles.append((name, buf.getvalue()))
        cls = type(obj)
        return {'T': 'pickle', 'p': name, 'cls': f'{cls.__module__}.{cls.__qualname__}'}


def _write_array(zf, name, arr):
    """Write one array as a ``.npy`` entry (no pickles)."""
    with zf.open(name, 'w', force_zip64=True) as f:
        np.lib.format.write_array(f, arr, allow_pickle=False)


def _write_archive(fileobj, root, enc):
    version = VERSION if enc.pickles else 1
    manifest = json.dumps({'format': FORMAT, 'version': version, 'root': root}, ensure_ascii=True)
    with zipfile.ZipFile(fileobj, 'w', compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_MANIFEST, manifest)
        for name, data in enc.pickles:
            zf.writestr(name, data)
        for name, arr in enc.arrays:
            _write_array(zf, name, backend.move(arr, DEVICE.CPU))


def _umask():
    # os.umask can only be read by setting it; restore it at once
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL):
    """Save ``obj`` to ``f``, a path or a writable binary file object: tensors,
    arrays, numbers, strings, None and dicts/lists/tuples of them (state dicts)
    are stored without pickle; anything else (a whole ``Module``, an object of
    your own class) is pickled, its tensors still stored as arrays, and needs
    ``load(..., weights_only=False)`` or ``add_safe_globals`` to load.

    Writing to a path is atomic: a crash or error never leaves a partial file at ``f``."""
    enc = _Encoder(pickle_module, pickle_protocol)
    root = enc.encode(obj)
    if hasattr(f, 'write'):
        _write_archive(f, root, enc)
        return
    write_atomic(f, lambda out: _write_archive(out, root, enc))


def write_atomic(path, write):
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it onto
    ``path``: a crash or error never leaves a partial file there (and removes the
    temporary). An existing file's permissions are kept."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, zf, where, map_location, weights_only=True, unpickler=pickle.Unpickler, pickle_kwargs=None):
        self.zf = zf
        self.where = where
        self.map_location = map_location
        self.weights_only = weights_only
        self.unpickler = unpickler
        self.pickle_kwargs = pickle_kwargs or {}
        self.names = set(zf.namelist())
        self.cache = {}  # entry name -> loaded numpy array
        self.objects = {}  # restored arrays and tensors, so that sharing survives
        self.warned = False

    def bad(self, why):
        return CheckpointError(f"load: {self.where} is not a valid tensorgrad checkpoint ({why})")

    def read_array(self, name):
        arr = self.cache.get(name)
        if arr is None:
            if not isinstance(name, str) or name not in self.names or not name.startswith('arrays/'):
                raise self.bad(f"missing array entry {name!r}")
            arr = self._read_npy(name)
            self.cache[name] = arr
        return arr

    def _read_npy(self, name):
        """The .npy entry ``name``, its size checked against the archive's directory
        before anything is allocated (a header may claim any shape)."""
        size = self.zf.getinfo(name).file_size
        fmt = np.lib.format
        with self.zf.open(name) as fh:
            try:
                version = fmt.read_magic(fh)
                read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                shape, fortran, dtype = read_header(fh)
            except ValueError as e:
                raise self.bad(f"array entry {name!r} is not a plain array: {e}") from None
            if dtype.hasobject:
                raise self.bad(f"array entry {name!r} is not a plain array: it holds Python objects")
            need = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if size - fh.tell() != need:
                raise self.bad(f"array entry {name!r} claims shape {shape} of {dtype} ({need} bytes) but "
                               f"holds {size - fh.tell()} bytes")
            buf = bytearray(need)
            if fh.readinto(buf) != need or fh.read(1):
                raise self.bad(f"array entry {name!r} is truncated or has trailing data")
        arr = np.frombuffer(buf, dtype=dtype)
        return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)

    def device(self, saved):
        loc = self.map_location
        if callable(loc):
            loc = loc(saved)
        elif isinstance(loc, dict):
            loc = loc.get(saved, saved)
        dev = to_device(loc if loc is not None else saved)
        if dev is DEVICE.CUDA and not backend.is_cuda_available():
            if loc is None:
                if not self.warned:
                    warnings.warn(f"load: {self.where} holds cuda tensors but CUDA is not available; "
                                  f"loading them on the cpu", stacklevel=3)
                    self.warned = True
                return DEVICE.CPU
            raise RuntimeError(f"load: map_location={self.map_location!r} asks for cuda but CUDA is not available")
        return dev

    def decode(self, node, depth=0):
        if depth > 200:
            raise self.bad("structure nested too deeply")
        if not isinstance(node, dict) or 'T' not in node:
            raise self.bad("malformed manifest node")
        kind = node['T']
        if kind == 'none':
            return None
        if kind in ('bool', 'int', 'str'):
            value = node.get('v')
            expected = {'bool': bool, 'int': int, 'str': str}[kind]
            if type(value) is not expected:
                raise self.bad(f"bad {kind} value")
            return value
        if kind == 'float':
            return float.fromhex(node['v'])
        if kind == 'complex':
            return complex(float.fromhex(node['v'][0]), float.fromhex(node['v'][1]))
        if kind == 'dtype':
            return DTYPE(node['v'])
        if kind == 'device':
            return DEVICE(node['v'])
        if kind in ('list', 'tuple'):
            items = [self.decode(v, depth + 1) for v in node['v']]
            return items if kind == 'list' else tuple(items)
        if kind == 'dict':
            keys = [self.decode(k, depth + 1) for k in node['k']]
            values = [self.decode(v, depth + 1) for v in node['v']]
            if len(keys) != len(values):
                raise self.bad("dict with mismatched keys and values")
            cls = OrderedDict if node.get('ordered') else dict
            return cls(zip(keys, values))
        if kind == 'npscalar':
            return self.read_array(node['a'])[()]
        if kind in ('tensor', 'ndarray'):
            name = node['a']
            dev = self.device(node.get('dev', 'cpu'))
            akey = ('array', name, dev)
            arr = self.objects.get(akey)
            if arr is None:
                arr = self.read_array(name)
                if dev is not DEVICE.CPU:
                    arr = backend.move(arr, dev)
                self.objects[akey] = arr
            if kind == 'ndarray':
                return arr
            tkey = ('tensor', node.get('id'), dev)
            if node.get('id') is not None and tkey in self.objects:
                return self.objects[tkey]
            cls = _parameter_class() if node.get('param') else Tensor
            out = cls._wrap(arr, requires_grad=bool(node.get('rg')) and arr.dtype.kind == 'f')
            if node.get('name') is not None:
                out.name = str(node['name'])
            self.objects[tkey] = out
            return out
        if kind == 'pickle':
            return self.unpickle(node)
        raise self.bad(f"unknown node type {kind!r}")

    def unpickle(self, node):
        name = node.get('p')
        if not isinstance(name, str) or name not in self.names or not name.startswith('pickles/'):
            raise self.bad(f"missing pickle entry {name!r}")
        key = ('pickle', name)
        if key not in self.objects:
            data = self.zf.read(name)
            u = _safe_pickle.make_unpickler(io.BytesIO(data), self.decode, self.weights_only, self.where,
                                            base=self.unpickler, **self.pickle_kwargs)
            try:
                self.objects[key] = u.load()
            except (CheckpointError, WeightsOnlyError):
                raise
            except Exception as e:  # noqa: BLE001 - whatever the pickled object's code raised
                raise _UnpickleFailed(f"load: {self.where}: cannot rebuild the pickled {node.get('cls')!r}: "
                                      f"{type(e).__name__}: {e}") from e
        return self.objects[key]


def _parameter_class():
    try:
        from .nn import Parameter  # noqa: PLC0415 - nn is optional at import time
    except ImportError:
        return Tensor
    return Parameter


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``save`` from ``f`` (a path or a readable binary
    file object). Tensors return to the device they were saved from (cpu, with a
    warning, when CUDA is not available) unless ``map_location`` ('cpu', 'cuda',
    a dict {saved: target} or a callable saved -> target) says otherwise.

    ``weights_only`` (default True, as PyTorch): tensors, arrays and plain
    containers load without running code from the file; a pickled object (a
    saved ``Module``) loads only if every class it names is allow-listed with
    ``add_safe_globals`` / ``safe_globals``, else ``WeightsOnlyError`` (a
    ``pickle.UnpicklingError``) says how to opt in. ``weights_only=False``
    unpickles anything (with ``pickle_module.Unpickler`` and
    ``pickle_load_args`` when given): UNSAFE, it can execute arbitrary code;
    only load files you trust that way.

    Other formats are recognised by their content: a file written by
    ``torch.save`` (zip or legacy) is read without torch by
    ``interop.torch_pt`` (always restricted to tensors, storages, OrderedDicts
    and containers, whatever ``weights_only`` says); a ``.safetensors`` file
    (suffix or content) loads as a dict of tensors. ``mmap=True`` maps the
    tensors of those two from the file; tensorgrad checkpoints do not support it."""
    if weights_only is None:
        weights_only = True
    if weights_only and pickle_module is not None:
        raise RuntimeError("load: can not safely load weights when explicit pickle_module is specified")
    foreign = _load_foreign(f, map_location, mmap)
    if foreign is not _NOT_FOREIGN:
        return foreign
    if mmap:
        raise ValueError("load: mmap=True is not supported by tensorgrad checkpoints")
    unpickler = getattr(pickle_module, 'Unpickler', pickle.Unpickler) if pickle_module is not None \
        else pickle.Unpickler
    opts = (map_location, bool(weights_only), unpickler, pickle_load_args)
    if hasattr(f, 'read'):
        where = getattr(f, 'name', '<file object>')
        if not (hasattr(f, 'seekable') and f.seekable()):
            f = io.BytesIO(f.read())
        return _load(f, str(where), *opts)
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    with open(path, 'rb') as fh:
        return _load(fh, path, *opts)


_NOT_FOREIGN = object()


def _load_foreign(f, map_location, mmap):
    """Load ``f`` with the torch or safetensors reader when it is such a file, else _NOT_FOREIGN."""
    from .interop import safetensors as st, torch_pt  # noqa: PLC0415 - only needed for foreign files

    if hasattr(f, 'read'):
        if hasattr(f, 'seekable') and f.seekable() and torch_pt.is_torch_checkpoint(f):
            return torch_pt.load_torch_checkpoint(f, map_location, mmap=False)
        return _NOT_FOREIGN
    path = os.fspath(f)
    if not os.path.isfile(path):
        return _NOT_FOREIGN
    with open(path, 'rb') as fh:
        head = fh.read(9)
        is_torch = torch_pt.is_torch_checkpoint(fh)
    if is_torch:
        return torch_pt.load_torch_checkpoint(path, map_location, mmap=bool(mmap))
    if path.endswith('.safetensors') or (len(head) == 9 and head[8:9] == b'{'
                                         and int.from_bytes(head[:8], 'little') < os.path.getsize(path)):
        device = map_location if isinstance(map_location, (str, DEVICE)) else 'cpu'
        return st.load_safetensors(path, device=device, mmap=mmap is None or bool(mmap))
    return _NOT_FOREIGN


def _load(fileobj, where, map_location, weights_only, unpickler, pickle_kwargs):
    def bad(why):
        return CheckpointError(f"load: {where} is not a tensorgrad checkpoint ({why})")

    try:
        zf = zipfile.ZipFile(fileobj, 'r')
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise bad(f"not a zip archive or truncated: {e}") from None
    with zf:
        try:
            names = zf.namelist()
            if _MANIFEST not in names:
                hint = '; pickle payloads are never loaded' if any(n.endswith('.pkl') for n in names) else ''
                raise bad(f"no {_MANIFEST}{hint}")
            manifest = json.loads(zf.read(_MANIFEST).decode('utf-8'))
            if not isinstance(manifest, dict) or manifest.get('format') != FORMAT:
                raise bad("manifest has the wrong format tag")
            if manifest.get('version') not in _READABLE:
                raise bad(f"unsupported version {manifest.get('version')!r} (this tensorgrad reads "
                          f"{', '.join(map(str, _READABLE))})")
            decoder = _Decoder(zf, where, map_location, weights_only, unpickler, pickle_kwargs)
            return decoder.decode(manifest.get('root'))
        except (CheckpointError, WeightsOnlyError, _UnpickleFailed):
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError, IndexError,
                AttributeError, RecursionError, zipfile.LargeZipFile) as e:
            raise bad(f"corrupt or truncated: {type(e).__name__}: {e}") from None


class _UnpickleFailed(CheckpointError):
    """A pickle entry that could not be rebuilt (a class that no longer exists, ...)."""
