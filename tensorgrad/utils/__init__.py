"""Utilities: ``data`` (datasets and loaders), ``checkpoint`` (recompute in
backward to save memory). Submodules load on first use."""
import importlib

_SUBMODULES = ('data', 'checkpoint')


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f'{__name__}.{name}')
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
