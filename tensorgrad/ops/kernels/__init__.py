"""Optional compiled (numba) kernels for the fused CPU ops: softmax /
log_softmax, GELU, layer norm, embedding backward, ... one module per family.

The backend is chosen ONCE, here at import: ``'numba'`` when numba is
importable and ``TENSORGRAD_KERNELS`` is not ``'numpy'``, else ``'numpy'``;
``set_backend`` switches later. An op module marks an array-level helper as
replaceable with ``hook(globals(), name, 'family.factory')``: under numba the
module global ``name`` is swapped for the compiled version (the call sites
look it up as before: no per-call check). numba itself is imported only at
the first call of a compiled kernel, so ``import tensorgrad`` stays fast.
The NumPy helpers stay complete: every compiled wrapper hands inputs it does
not cover (CuPy arrays, other dtypes or layouts) back to them."""
import importlib
import importlib.util
import os

_HOOKS = []  # [namespace dict, name, NumPy function, 'module.factory' of the compiled version]
_NODE_HOOKS = []  # [namespace dict, name, NumPy Node class, None, its compiled subclass]
_BACKENDS = ('numpy', 'numba')


def available():
    """Whether the compiled (numba) backend can be used: numba is installed."""
    try:
        return importlib.util.find_spec('numba') is not None
    except (ImportError, ValueError):  # a broken or blocked (sys.modules['numba'] = None) install
        return False


def _initial_backend():
    env = os.environ.get('TENSORGRAD_KERNELS', '').strip().lower()
    if env == 'numpy':
        return 'numpy'
    if env not in ('', 'auto', 'numba'):
        raise ValueError(f"TENSORGRAD_KERNELS must be 'numpy', 'numba' or 'auto', got {env!r}")
    return 'numba' if available() else 'numpy'


_BACKEND = _initial_backend()


def _compiled(spec, numpy_fn, namespace, name):
    """A first-call stub: imports the kernel module (and numba), builds the
    compiled wrapper around ``numpy_fn``, puts it in place of itself and runs it."""
    def first_call(*args, **kwargs):
        module, factory = spec.rsplit('.', 1)
        fast = getattr(importlib.import_module(f'{__name__}.{module}'), factory)(numpy_fn)
        if namespace.get(name) is first_call:  # not switched back meanwhile
            namespace[name] = fast
        return fast(*args, **kwargs)
    first_call.__doc__ = numpy_fn.__doc__
    return first_call


def _apply(entry):
    namespace, name, numpy_fn, spec = entry
    namespace[name] = _compiled(spec, numpy_fn, namespace, name) if _BACKEND == 'numba' else numpy_fn


def hook(namespace, name, spec):
    """Register ``namespace[name]`` (an array-level NumPy helper of an op module)
    as replaceable by the compiled ``spec`` ('module.factory' in this package:
    ``factory(numpy_fn)`` returns the compiled function, same signature)."""
    entry = (namespace, name, namespace[name], spec)
    _HOOKS.append(entry)
    _apply(entry)


def hook_node(namespace, name, spec):
    """Register the Node class ``namespace[name]`` as replaceable by a subclass
    whose ``backward`` is the compiled ``spec`` ('module.function' in this package,
    called as ``function(node, g, numpy_backward)``); everything else (saved
    state, second-order rules, the name) is the NumPy class's."""
    base = namespace[name]
    state = {}

    def backward(self, g):
        fast = state.get('fn')
        if fast is None:
            module, fn = spec.rsplit('.', 1)
            fast = state['fn'] = getattr(importlib.import_module(f'{__name__}.{module}'), fn)
        return fast(self, g, base.backward)
    backward.__doc__ = base.backward.__doc__
    compiled = type(base.__name__, (base,), {'__slots__': (), 'backward': backward,
                                             '__module__': base.__module__, '__qualname__': base.__qualname__})
    entry = (namespace, name, base, None, compiled)
    _NODE_HOOKS.append(entry)
    _apply_node(entry)


def _apply_node(entry):
    namespace, name, base, _, compiled = entry
    namespace[name] = compiled if _BACKEND == 'numba' else base


def get_backend():
    """The fused CPU kernels' backend: ``'numba'`` (compiled) or ``'numpy'``."""
    return _BACKEND


def set_backend(name):
    """Use the compiled (``'numba'``) or the NumPy (``'numpy'``) fused CPU kernels
    from now on; returns the previous backend."""
    global _BACKEND
    if name not in _BACKENDS:
        raise ValueError(f"set_backend: backend must be one of {_BACKENDS}, got {name!r}")
    if name == 'numba' and not available():
        raise RuntimeError("set_backend: the 'numba' kernels need numba (pip install 'tensorgrad[fast]')")
    previous, _BACKEND = _BACKEND, name
    for entry in _HOOKS:
        _apply(entry)
    for entry in _NODE_HOOKS:
        _apply_node(entry)
    return previous
