"""Run a PyTorch program twice: with real ``torch``, then with ``torch`` resolving to tensorgrad.

A program is a file in ``programs/`` that imports ``torch`` the way public code
does (``import torch``, ``import torch.nn as nn``, ``import torch.nn.functional
as F``, ``from torch.utils.data import DataLoader`` ...) and defines ``main(**kw)``
returning a dict of results (floats, strings, NumPy arrays, tensors, nested
lists/dicts). ``run_program(name, 'tensorgrad', ...)`` executes the file in a
fresh module namespace while a meta-path finder maps every ``torch`` /
``torch.X`` import onto ``tensorgrad`` / ``tensorgrad.X``; the real torch
modules are put back afterwards, whatever happens.

``assert_same(expected, actual)`` compares two result trees: numbers and arrays
within a tolerance, strings exactly except for the numbers in them.
"""
import contextlib
import importlib
import importlib.abc
import importlib.util
import inspect
import re
import sys
import types
from pathlib import Path

import numpy as np

PROGRAMS = Path(__file__).resolve().parent / 'programs'
_ALIAS = 'torch'
_TARGET = 'tensorgrad'


def _is_alias(name):
    return name == _ALIAS or name.startswith(_ALIAS + '.')


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already imported tensorgrad module under a ``torch`` name."""

    def __init__(self, module):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        # module_from_spec replaced the module's __spec__ with the alias spec: restore it
        module.__spec__ = self.spec


class _TorchIsTensorgrad(importlib.abc.MetaPathFinder):
    """``torch.X`` -> ``tensorgrad.X`` for every import while installed."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_alias(fullname):
            return None
        target_name = _TARGET + fullname[len(_ALIAS):]
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as exc:
            if exc.name != target_name:
                raise
            parent, _, child = target_name.rpartition('.')
            module = getattr(sys.modules.get(parent), child, None) if parent else None
            if not isinstance(module, types.ModuleType):
                return None  # -> ModuleNotFoundError: No module named 'torch.X', as with a missing feature
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module))


@contextlib.contextmanager
def torch_is_tensorgrad():
    """While active, ``import torch`` (and any ``torch.X``) gives tensorgrad."""
    import tensorgrad
    saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if _is_alias(k)]}
    finder = _TorchIsTensorgrad()
    sys.meta_path.insert(0, finder)
    sys.modules[_ALIAS] = tensorgrad
    try:
        yield tensorgrad
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if _is_alias(k)]:
            del sys.modules[k]
        sys.modules.update(saved)


def load_program(name, backend):
    """Execute ``programs/<name>.py`` as a fresh module (call inside the backend's context)."""
    path = PROGRAMS / f'{name}.py'
    modname = f'torch_programs_{backend}_{name}'
    module = types.ModuleType(modname)
    module.__file__ = str(path)
    sys.modules[modname] = module  # so pickling its classes (torch.save(model)) can find them
    exec(compile(path.read_text(), str(path), 'exec'), module.__dict__)
    return module


def run_program(name, backend, **kwargs):
    """``main(**kwargs)`` of program ``name`` with ``backend`` 'torch' or 'tensorgrad';
    keyword arguments main does not take are dropped (e.g. ``init_state``)."""
    ctx = torch_is_tensorgrad() if backend == 'tensorgrad' else contextlib.nullcontext()
    modname = f'torch_programs_{backend}_{name}'
    with ctx:
        try:
            module = load_program(name, backend)
            accepted = inspect.signature(module.main).parameters
            return to_numpy(module.main(**{k: v for k, v in kwargs.items() if k in accepted}))
        finally:
            sys.modules.pop(modname, None)


def to_numpy(tree):
    """The result tree with every tensor (anything with ``detach``) as a NumPy array."""
    if isinstance(tree, dict):
        return {k: to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_numpy(v) for v in tree) if not hasattr(tree, '_fields') else tuple(map(to_numpy, tree))
    if hasattr(tree, 'detach'):
        return np.array(tree.detach().cpu().numpy())
    return tree


_NUMBER = re.compile(r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?')


def assert_same(expected, actual, rtol=1e-4, atol=1e-5, where='result'):
    """``actual`` (tensorgrad's result tree) matches ``expected`` (torch's)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected a dict, got {type(actual).__name__}"
        assert sorted(actual) == sorted(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for k in expected:
            assert_same(expected[k], actual[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(expected, (list, tuple)) and not _numeric_sequence(expected):
        assert isinstance(actual, (list, tuple)), f"{where}: expected a sequence, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{where}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, rtol, atol, f"{where}[{i}]")
    elif isinstance(expected, str):
        assert isinstance(actual, str), f"{where}: expected a str, got {type(actual).__name__}"
        assert _NUMBER.sub('#', actual) == _NUMBER.sub('#', expected), f"{where}: {actual!r} != {expected!r}"
        got = [float(x) for x in _NUMBER.findall(actual)]
        want = [float(x) for x in _NUMBER.findall(expected)]
        # printed numbers: allow the rounding of the last printed digit too
        np.testing.assert_allclose(got, want, rtol=rtol, atol=max(atol, 1e-6) * 2, err_msg=f"{where}: {actual!r}")
    elif isinstance(expected, (bool, np.bool_)) or expected is None:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    else:
        e = np.asarray(expected)
        a = np.asarray(actual)
        assert a.shape == e.shape, f"{where}: shape {a.shape} != {e.shape}"
        if isinstance(expected, np.ndarray):
            assert isinstance(actual, np.ndarray) and a.dtype == e.dtype, \
                f"{where}: dtype {getattr(actual, 'dtype', type(actual).__name__)} != {e.dtype}"
        if e.dtype.kind in 'biu':
            assert a.dtype.kind in 'biu', f"{where}: expected integers, got dtype {a.dtype}"
            np.testing.assert_array_equal(a, e, err_msg=where)
        else:
            np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                                       err_msg=where)


def _numeric_sequence(seq):
    return all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in seq) and len(seq) > 0
