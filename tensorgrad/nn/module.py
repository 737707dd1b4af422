"""``Module`` (the base of every layer) and ``Parameter`` (a learnable tensor).

A module registers what is assigned to it: a ``Parameter`` goes to
``_parameters``, a ``Module`` to ``_modules``, and ``register_buffer`` puts
non-learnable state (BatchNorm's running mean) into ``_buffers``. Everything
else (``parameters()``, ``state_dict()``, ``to()``, ``repr``) walks these three
dicts, as in PyTorch.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..dtypes import DEVICE, is_floating, to_device, to_numpy_dtype


class Parameter(Tensor):
    """A Tensor that is a learnable parameter of a module: assigning it as an
    attribute of a ``Module`` registers it.

    ``Parameter(data=None, requires_grad=True)`` (PyTorch's form; no data: an
    empty float32 tensor) and ``Parameter(data, dtype=None, device=None,
    requires_grad=True)`` (the reference's, ``data`` as ``tensorgrad.tensor``
    takes it); a bool second argument is PyTorch's ``requires_grad``. It shares
    ``data``'s memory when ``data`` is a Tensor or an array of the right dtype
    and device. Only floating (or complex) data can require grad (RuntimeError)."""
    __slots__ = ()

    def __init__(self, data=None, dtype=None, device=None, requires_grad=True):
        if isinstance(dtype, bool):  # PyTorch's positional Parameter(data, requires_grad)
            dtype, requires_grad = None, dtype
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            data = data._data
        Tensor.__init__(self, data, dtype=dtype, device=device, requires_grad=False)
        if requires_grad and not (is_floating(self._data.dtype) or self._data.dtype.kind == 'c'):
            raise RuntimeError(f"Parameter: only Tensors of floating point and complex dtype can require "
                               f"gradients, got {self._data.dtype}")
        self.requires_grad = bool(requires_grad)

    def __repr__(self):
        return 'Parameter containing:\n' + Tensor.__repr__(self)

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (backend.move(self._data, DEVICE.CPU), self.requires_grad))

    def __deepcopy__(self, memo):
        p = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            p.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _IncompatibleKeys(namedtuple('IncompatibleKeys', ['missing_keys', 'unexpected_keys'])):
    """What ``load_state_dict`` returns: the missing and unexpected keys (as PyTorch)."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return '<All keys matched successfully>'
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"

    __str__ = __repr__


class _RemovableHandle:
    """Returned by ``register_forward_hook`` and friends; ``remove()`` unregisters."""
    _next_id = 0

    def __init__(self, hooks, extra_dicts=()):
        self.hooks = hooks
        self.extra_dicts = list(extra_dicts)
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self):
        """Unregister the hook."""
        self.hooks.pop(self.id, None)
        for extra in self.extra_dicts:
            extra.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _addindent(s, n):
    lines = s.split('\n')
    if len(lines) == 1:
        return s
    return lines[0] + '\n' + '\n'.join(' ' * n + line for line in lines[1:])


class Module:
    """Base class of all neural network modules. Subclasses call
    ``super().__init__()`` first, assign parameters/sub-modules as attributes
    and implement ``forward``; calling the module runs ``forward``."""

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        d = self.__dict__
        d['training'] = True
        d['_parameters'] = OrderedDict()
        d['_buffers'] = OrderedDict()
        d['_non_persistent_buffers_set'] = set()
        d['_modules'] = OrderedDict()
        d['_forward_hooks'] = OrderedDict()
        d['_forward_pre_hooks'] = OrderedDict()

    def forward(self, *args, **kwargs):
        """The computation of the module; subclasses override it."""
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if d['_forward_pre_hooks'] or d['_forward_hooks']:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        d = self.__dict__
        pre_kw = d.get('_forward_pre_hooks_with_kwargs', ())
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in pre_kw:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        with_kw = d.get('_forward_hooks_with_kwargs', ())
        always = d.get('_forward_hooks_always_called', ())
        called = set()
        try:
            out = self.forward(*args, **kwargs)
            for hid, hook in list(self._forward_hooks.items()):
                called.add(hid)
                res = hook(self, args, kwargs, out) if hid in with_kw else hook(self, args, out)
                if res is not None:
                    out = res
        except Exception:
            for hid, hook in list(self._forward_hooks.items()):  # always_call hooks still run, output None
                if hid in always and hid not in called:
                    try:
                        hook(self, args, kwargs, None) if hid in with_kw else hook(self, args, None)
                    except Exception:  # noqa: BLE001 - the original error is the one to report
                        pass
            raise
        return out

    def _add_hook(self, store, hook, prepend, flags):
        """Register ``hook`` in ``store`` (first when ``prepend``), recording the true ``flags``
        (name of a per-module dict of hook ids); returns the removable handle."""
        d = self.__dict__
        extras = [d.setdefault(name, {}) for name, on in flags.items() if on]
        handle = _RemovableHandle(store, extras)
        store[handle.id] = hook
        for extra in extras:
            extra[handle.id] = True
        if prepend:
            store.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) after each forward; a non-None result replaces the output. ``prepend``
        runs it before the hooks already registered; ``always_call`` runs it even when forward
        raises. Returns a handle whose ``remove()`` unregisters it."""
        return self._add_hook(self._forward_hooks, hook, prepend,
                              {'_forward_hooks_with_kwargs': with_kwargs, '_forward_hooks_always_called': always_call})

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before each forward; a non-None result replaces the args
        (a non-tuple is wrapped). With ``with_kwargs``: ``hook(module, args, kwargs)`` returning
        None or ``(args, kwargs)``. Returns a removable handle."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend,
                              {'_forward_pre_hooks_with_kwargs': with_kwargs})

    # ------------------------------------------------------------------ registration
    def _check_name(self, kind, name, store):
        """Validate ``name`` for a new entry of the registry ``store`` ('_parameters' ...)."""
        if '_parameters' not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == '' or '.' in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")
        if hasattr(self, name) and name not in self.__dict__[store]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a parameter (a ``Parameter`` or None) under ``name``."""
        self._check_name('parameter', name, '_parameters')
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(tensorgrad.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer (non-learnable state such as running statistics) under ``name``;
        a persistent buffer is part of ``state_dict``."""
        self._check_name('buffer', name, '_buffers')
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(tensorgrad.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name``."""
        self._check_name('module', name, '_modules')
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get('_parameters')
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._drop(name, keep='_parameters')
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(tensorgrad.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._drop(name, keep='_modules')
            d['_modules'][name] = value
        elif params is not None and name in d['_modules']:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(tensorgrad.nn.Module or None expected)")
            d['_modules'][name] = None
        elif params is not None and name in d['_buffers']:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(tensorgrad.Tensor or None expected)")
            d['_buffers'][name] = value
        else:
            object.__setattr__(self, name, value)

    def _drop(self, name, keep):
        d = self.__dict__
        d.pop(name, None)
        for key in ('_parameters', '_buffers', '_modules'):
            if key != keep:
                d[key].pop(name, None)
        d['_non_persistent_buffers_set'].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ('_parameters', '_buffers', '_modules'):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for key in ('_parameters', '_buffers', '_modules'):
            if name in d.get(key, ()):
                del d[key][name]
                d['_non_persistent_buffers_set'].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ------------------------------------------------------------------ traversal
    def _named_members(self, get_members, prefix='', recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ('.' if module_prefix else '') + k, v)

    def parameters(self, recurse=True):
        """Iterator over the module's parameters (with sub-modules' when ``recurse``), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        """Iterator over ``(name, parameter)`` pairs, names like ``'0.weight'``."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Iterator over the module's buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        """Iterator over ``(name, buffer)`` pairs."""
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self):
        """Iterator over the immediate child modules."""
        for _, m in self.named_children():
            yield m

    def named_children(self):
        """Iterator over ``(name, child)`` pairs of the immediate child modules."""
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self):
        """Iterator over all modules of the tree (this one first), each once."""
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        """Iterator over ``(name, module)`` pairs of the whole tree, this one first under ``prefix``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ('.' if prefix else '') + name, remove_duplicate)

    def get_submodule(self, target):
        """The sub-module at dotted path ``target`` (``''`` is this module)."""
        mod = self
        if target == '':
            return mod
        for item in target.split('.'):
            sub = mod._modules.get(item) if isinstance(mod, Module) else None
            if sub is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{item}` (looking up {target!r})")
            mod = sub
        return mod

    def get_parameter(self, target):
        """The parameter at dotted path ``target``."""
        return self._get_entry(target, '_parameters', 'parameter')

    def get_buffer(self, target):
        """The buffer at dotted path ``target``."""
        return self._get_entry(target, '_buffers', 'buffer')

    def _get_entry(self, target, store, kind):
        mod_path, _, name = target.rpartition('.')
        mod = self.get_submodule(mod_path)
        entries = mod.__dict__[store]
        if name not in entries:
            raise AttributeError(f"{type(mod).__name__} has no {kind} `{name}`")
        return entries[name]

    def num_parameters(self, recurse=True):
        """Total number of elements over all parameters."""
        return sum(p._data.size for p in self.parameters(recurse))

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on the whole tree; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("train: training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__['training'] = mode
        return self

    def eval(self):
        """Set evaluation mode (Dropout off, BatchNorm uses running statistics); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter in place; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None, or to zeros when ``set_to_none=False``)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.grad_fn = None
                p.grad.requires_grad = False
                p.grad._data[...] = 0

    def apply(self, fn):
        """Call ``fn`` on every sub-module (children first) and then on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ devices and dtypes
    def _apply_tensors(self, fn):
        """Call ``fn(tensor)`` on every parameter, gradient and buffer of the tree (each once)."""
        seen = set()
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None or id(t) in seen:
                        continue
                    seen.add(id(t))
                    fn(t)
                    if t.grad is not None:
                        fn(t.grad)
        return self

    def to(self, *args, **kwargs):
        """Move (``to('cuda')``) and/or cast floating tensors (``to(tensorgrad.float64)``) of the
        module in place, gradients included; returns self."""
        device, dtype = kwargs.pop('device', None), kwargs.pop('dtype', None)
        kwargs.pop('non_blocking', None)
        if kwargs:
            raise TypeError(f"Module.to: unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a._data.dtype
            elif isinstance(a, DEVICE) or (isinstance(a, str) and a.split(':')[0] in ('cpu', 'cuda')) \
                    or type(a).__name__ == 'device':
                device = a
            elif a is not None:
                dtype = a
        dev = to_device(device)
        np_dtype = to_numpy_dtype(dtype)
        if np_dtype is not None and not is_floating(np_dtype):
            raise TypeError(f"Module.to: only floating dtypes are allowed, got {np_dtype}")
        if dev is DEVICE.CUDA:
            backend.cupy()  # raise a clear error before touching anything

        def move(t):
            arr = t._data
            if np_dtype is not None and is_floating(arr.dtype) and arr.dtype != np_dtype:
                arr = arr.astype(np_dtype)
            if dev is not None:
                arr = backend.move(arr, dev)
            t._data = arr
        return self._apply_tensors(move)

    def cpu(self):
        """Move all parameters and buffers to the cpu; returns self."""
        return self.to(DEVICE.CPU)

    def cuda(self, device=None):
        """Move all parameters and buffers to the cuda device; returns self."""
        return self.to(DEVICE.CUDA)

    def float(self):
        """Cast floating parameters and buffers to float32; returns self."""
        return self.to(np.float32)

    def double(self):
        """Cast floating parameters and buffers to float64; returns self."""
        return self.to(np.float64)

    def half(self):
        """Cast floating parameters and buffers to float16; returns self."""
        return self.to(np.float16)

    # ------------------------------------------------------------------ state dict
    def _state_items(self):
        """``(key, tensor)`` of every parameter and persistent buffer of the tree (state_dict order)."""
        for prefix, m in self.named_modules(remove_duplicate=False):
            pre = prefix + '.' if prefix else ''
            for name, p in m._parameters.items():
                if p is not None:
                    yield pre + name, p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    yield pre + name, b

    def state_dict(self, destination=None, prefix='', keep_vars=False):
        """An ordered dict of every parameter and persistent buffer by dotted name
        (``'0.weight'``); values are detached tensors sharing the module's memory."""
        if destination is None:
            destination = OrderedDict()
        for key, t in self._state_items():
            destination[prefix + key] = t if keep_vars else t.detach()
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` (values: Tensors or arrays).
        Everything is validated first: a shape mismatch (always) or a missing/unexpected
        key (when ``strict``) raises a RuntimeError listing all of them and leaves the
        module unchanged. Returns ``(missing_keys, unexpected_keys)``."""
        if not hasattr(state_dict, 'keys'):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got {type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        plan = []
        for key, t in own.items():
            if key not in state_dict:
                continue
            arr = _as_array(state_dict[key])
            if arr is None:
                errors.append(f'value for "{key}" has unsupported type {type(state_dict[key]).__name__}')
            elif tuple(arr.shape) != tuple(t._data.shape):
                errors.append(f'size mismatch for {key}: copying a param with shape {tuple(arr.shape)} from '
                              f'checkpoint, the shape in current model is {tuple(t._data.shape)}.')
            else:
                plan.append((t, arr))
        if strict:
            if unexpected:
                errors.insert(0, 'Unexpected key(s) in state_dict: ' + ', '.join(f'"{k}"' for k in unexpected) + '.')
            if missing:
                errors.insert(0, 'Missing key(s) in state_dict: ' + ', '.join(f'"{k}"' for k in missing) + '.')
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + '\n\t'.join(errors))
        with no_grad():
            for t, arr in plan:
                _copy_into(t, arr, assign)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ torch interop
    def init_from_torch(self, torch_module):
        """Copy the weights and biases (parameters) of the PyTorch analogue ``torch_module``
        (same attribute names), recursing into children; returns self. Buffers (BatchNorm's
        running statistics) are not copied, as in the reference: ``load_state_dict(
        torch_module.state_dict())`` brings those. This module's own parameters are all
        checked before any is written. Modules whose names differ from PyTorch's override this."""
        pairs = []
        for name, p in self._parameters.items():
            if p is not None:
                src = getattr(torch_module, name, None)
                if src is None:
                    raise ValueError(f"{type(self).__name__}.init_from_torch: the torch module has no "
                                     f"parameter '{name}'")
                if tuple(src.shape) != tuple(p._data.shape):
                    raise ValueError(f"init_from_torch: {type(self).__name__}.{name}: shape {tuple(src.shape)} "
                                     f"of the torch tensor does not match {tuple(p._data.shape)}")
                pairs.append((p, src, f"{type(self).__name__}.{name}"))
        for p, src, what in pairs:
            copy_from_torch(p, src, what)
        for name, m in self._modules.items():
            if m is not None:
                src = getattr(torch_module, name, None)
                if src is None:
                    raise ValueError(f"{type(self).__name__}.init_from_torch: the torch module has no "
                                     f"submodule '{name}'")
                m.init_from_torch(src)
        return self

    # ------------------------------------------------------------------ repr
    def extra_repr(self):
        """Extra information shown in the module's repr (override in subclasses)."""
        return ''

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split('\n') if extra else []
        for name, m in self._modules.items():
            lines.append(f'({name}): ' + _addindent(repr(m), 2))
        main = self._get_name() + '('
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += '\n  ' + '\n  '.join(lines) + '\n'
        return main + ')'


def _as_array(value):
    """The array inside a state_dict value (Tensor, NumPy/CuPy array, torch tensor), or None."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, backend.array_types()):
        return value
    if hasattr(value, 'detach') and hasattr(value, 'numpy'):  # a torch tensor
        value = value.detach().cpu()
        return (value.float() if str(value.dtype) == 'torch.bfloat16' else value).numpy()  # NumPy has no bf16
    if isinstance(value, (int, float, list, tuple, np.generic)):
        return np.asarray(value)
    return None


def _copy_into(t, arr, assign=False):
    """Write ``arr`` into tensor ``t`` in place (keeping ``t``'s device and dtype)."""
    arr = backend.move(arr, t.device)
    if assign:
        t._data = arr.astype(t._data.dtype, copy=True)
    else:
        t._data[...] = arr.astype(t._data.dtype, copy=False)
    t._vc[0] += 1


def copy_from_torch(t, src, what='tensor'):
    """Copy the torch tensor (or array) ``src`` into tensorgrad tensor ``t`` in place;
    raises on a shape mismatch."""
    arr = _as_array(src)
    if arr is None:
        raise TypeError(f"init_from_torch: {what}: unsupported source {type(src).__name__}")
    if tuple(arr.shape) != tuple(t._data.shape):
        raise ValueError(f"init_from_torch: {what}: shape {tuple(arr.shape)} of the torch tensor does not "
                         f"match {tuple(t._data.shape)}")
    with no_grad():
        _copy_into(t, arr)
