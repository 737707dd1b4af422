"""The pickled parts of a checkpoint (whole modules, custom objects) and the
allow-list that lets ``load(weights_only=True)`` rebuild them without running
code from the file: as PyTorch's ``add_safe_globals`` / ``safe_globals``.

Tensors, arrays, NumPy scalars, dtypes and devices never go through pickle:
the pickler hands them to the checkpoint's own encoder (``persistent_id``), so
their bytes stay in ``.npy`` entries and sharing with the rest of the
checkpoint survives. What is left in a pickle is plain structure and class
references; the safe unpickler resolves a class reference only when it is
allow-listed (a few builtins, plus what ``add_safe_globals`` added)."""
import _compat_pickle
import contextlib
import pickle

__all__ = ['add_safe_globals', 'clear_safe_globals', 'get_safe_globals', 'safe_globals', 'WeightsOnlyError']

# builtins that only build plain data; `_codecs.encode` is how protocol 2 writes bytes
_BUILTIN_SAFE = {
    'collections.OrderedDict', 'collections.defaultdict', 'builtins.set', 'builtins.frozenset', 'builtins.slice',
    'builtins.complex', 'builtins.bytearray', 'builtins.range', '_codecs.encode', 'builtins.object',
}

_user_safe = []  # entries as given: a class/function, or (object, "module.name")


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def add_safe_globals(safe_globals):
    """Allow ``load(weights_only=True)`` to rebuild these classes/functions:
    a list of objects, or of ``(object, "module.name")`` pairs for an object
    saved under another name."""
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise TypeError(f"add_safe_globals: expected an object or (object, 'module.name'), got {entry!r}")
        elif not callable(entry):
            raise TypeError(f"add_safe_globals: expected classes or functions, got {type(entry).__name__}")
    _user_safe.extend(safe_globals)


def get_safe_globals():
    """The user-added allow-list (what ``add_safe_globals`` added), as a list."""
    return list(_user_safe)


def clear_safe_globals():
    """Empty the user-added allow-list."""
    _user_safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager: ``add_safe_globals(safe_globals)`` inside the block only."""
    saved = list(_user_safe)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_safe[:] = saved


def _lookup_safe(module, name):
    # protocol 2 pickles name Python 2 modules (__builtin__.set): map them as pickle itself does
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    full = f"{module}.{name}"
    for entry in _user_safe:
        obj, key = entry if isinstance(entry, tuple) else (entry, _qualname(entry))
        if key == full:
            return obj
    if full in _BUILTIN_SAFE:
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name)
    return None


class WeightsOnlyError(pickle.UnpicklingError):
    """``load(weights_only=True)`` met something it may not rebuild."""


def weights_only_message(where, detail):
    return (f"load: weights only load of {where} failed: {detail}. Re-running `tensorgrad.load` with "
            f"`weights_only=False` will likely succeed, but it can result in arbitrary code execution: do it only "
            f"if you got the file from a trusted source. Or allow-list the classes you trust with "
            f"`tensorgrad.serialization.add_safe_globals([...])` or the "
            f"`tensorgrad.serialization.safe_globals([...])` context manager.")


class Pickler(pickle.Pickler):
    """Pickles an object tree, handing tensors/arrays to ``encode`` (JSON nodes)."""

    def __init__(self, file, protocol, encode, handles):
        super().__init__(file, protocol=protocol)
        self._encode = encode
        self._handles = handles  # a tuple of types encode() takes over

    def persistent_id(self, obj):
        if isinstance(obj, self._handles) and not isinstance(obj, (bool, int, float, str)):
            return ('tg', self._encode(obj))
        return None


def make_unpickler(file, decode, safe, where, base=pickle.Unpickler, **kwargs):
    """An unpickler resolving persistent ids with ``decode``; with ``safe``, only
    allow-listed globals can be resolved (anything else raises WeightsOnlyError)."""

    class _Unpickler(base):
        def persistent_load(self, pid):
            if not (isinstance(pid, tuple) and len(pid) == 2 and pid[0] == 'tg'):
                raise pickle.UnpicklingError(f"load: {where}: unknown persistent id {pid!r}")
            return decode(pid[1])

        def find_class(self, module, name):
            if not safe:
                return super().find_class(module, name)
            obj = _lookup_safe(module, name)
            if obj is None:
                raise WeightsOnlyError(weights_only_message(
                    where, f"unsupported global {module}.{name} is not an allowed global by default"))
            return obj

    return _Unpickler(file, **kwargs)
