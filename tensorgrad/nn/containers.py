"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``."""
import operator
from collections import OrderedDict
from itertools import islice

from .module import Module, Parameter


def _index(n, idx, what):
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"{what}: index {idx} is out of range for {n} entries")
    return idx % n


class _ModuleSequence(Module):
    """List behaviour shared by ``Sequential`` and ``ModuleList``: modules keyed ``'0'``, ``'1'`` ..."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(len(self), idx, type(self).__name__)]
        setattr(self, key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for k in keys[idx]:
                del self._modules[k]
        else:
            del self._modules[keys[_index(len(self), idx, type(self).__name__)]]
        if all(k.isdigit() for k in self._modules):  # renumber, unless entries were given names
            self._set_modules(list(self._modules.values()))

    def _set_modules(self, modules):
        """Replace the entries by ``modules``, numbered from 0 (validated before any change)."""
        for m in modules:
            if m is not None and not isinstance(m, Module):
                raise TypeError(f"{type(m).__name__} is not a Module subclass")
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def pop(self, index=-1):
        """Remove and return the module at ``index``."""
        m = self[index]
        del self[index]
        return m


class Sequential(_ModuleSequence):
    """Applies its modules in order. ``Sequential(m1, m2, ...)``, ``Sequential([m1, m2])``
    (an iterable of modules, as the reference) or ``Sequential(OrderedDict(name=module))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
            return
        if len(modules) == 1 and not isinstance(modules[0], Module):
            try:
                modules = tuple(modules[0])
            except TypeError:
                raise TypeError(f"Sequential: expected modules or an iterable of modules, got "
                                f"{type(modules[0]).__name__}") from None
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: entry {i} is a {type(m).__name__}, not a Module")
            self.add_module(str(i), m)

    def forward(self, input):
        """Feed ``input`` through the modules in order."""
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        i = _index(len(self), idx, 'Sequential')
        return next(islice(self._modules.values(), i, None))

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential: cannot add {type(other).__name__}")
        return Sequential(*self, *other)

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; returns self."""
        items = list(self._modules.values())
        n = len(items)
        index = index + n if index < 0 else index
        if not 0 <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} out of range for {n} entries")
        items.insert(index, module)
        self._set_modules(items)
        return self


class ModuleList(_ModuleSequence):
    """A list of sub-modules (registered, so their parameters are found); no ``forward``."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(len(self), idx, 'ModuleList'))]

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._set_modules(items)

    def forward(self, *args, **kwargs):
        """Not available: iterate over the list and call its modules."""
        raise NotImplementedError("ModuleList has no forward: iterate over it and call its modules")


class _RegistryDict(Module):
    """Dict behaviour shared by ``ModuleDict`` and ``ParameterDict`` over one registry
    (``_store``: ``'_modules'`` or ``'_parameters'``); subclasses define ``__setitem__``."""
    _store = None

    def _entries(self):
        return self.__dict__[self._store]

    def __getitem__(self, key):
        return self._entries()[key]

    def __delitem__(self, key):
        del self._entries()[key]

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries())

    def __contains__(self, key):
        return key in self._entries()

    def keys(self):
        """The keys."""
        return self._entries().keys()

    def values(self):
        """The entries."""
        return self._entries().values()

    def items(self):
        """``(key, entry)`` pairs."""
        return self._entries().items()

    def pop(self, key):
        """Remove and return the entry under ``key``."""
        return self._entries().pop(key)

    def clear(self):
        """Remove every entry."""
        self._entries().clear()

    def update(self, entries):
        """Add the entries of a mapping or of an iterable of ``(key, value)`` pairs."""
        items = entries.items() if hasattr(entries, 'items') else entries
        for k, v in items:
            self[k] = v


class ModuleDict(_RegistryDict):
    """An ordered dict of sub-modules (registered under their keys)."""
    _store = '_modules'

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def forward(self, *args, **kwargs):
        """Not available: index the dict and call its modules."""
        raise NotImplementedError("ModuleDict has no forward: index it and call its modules")


class ParameterList(Module):
    """A list of parameters (registered as ``'0'``, ``'1'`` ...)."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def __getitem__(self, idx):
        return self._parameters[str(_index(len(self), idx, 'ParameterList'))]

    def __setitem__(self, idx, param):
        self.register_parameter(str(_index(len(self), idx, 'ParameterList')), _as_param(param))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add a parameter (a Tensor is wrapped into one) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_param(value))
        return self

    def extend(self, values):
        """Append every value; returns self."""
        for v in values:
            self.append(v)
        return self


class ParameterDict(_RegistryDict):
    """An ordered dict of parameters."""
    _store = '_parameters'

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_param(value))


def _as_param(v):
    return v if v is None or isinstance(v, Parameter) else Parameter(v)
