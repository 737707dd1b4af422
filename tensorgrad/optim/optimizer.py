"""The ``Optimizer`` base class: parameter groups, per-parameter state,
``zero_grad``, ``step`` with a closure, and ``state_dict`` round trips in
PyTorch's layout (parameters referred to by integer index).

Subclasses implement ``_update(group)``; it works on raw arrays in place
(no graph nodes) and never writes into a gradient array, because one
gradient array may be shared by several parameters. ``step`` checks every
gradient before any parameter changes.
"""
import copy
import warnings
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from ._checks import check_impl_flags
from ._kernels import decayed_grad


class _Required:
    """Marker for a hyperparameter without a default (``lr`` of SGD)."""

    def __repr__(self):
        return '<required parameter>'


required = _Required()


def _params_arg(who, parameters, params):
    """The parameters given either positionally / as the reference's ``parameters=``,
    or as PyTorch's ``params=`` keyword (exactly one of the two)."""
    if params is None and parameters is None:
        raise TypeError(f"{who}.__init__() missing required argument: 'params'")
    if params is not None and parameters is not None:
        raise TypeError(f"{who}.__init__() got both 'parameters' and 'params'")
    return parameters if params is None else params


def _split_names(params, who):
    """``(tensors, names)`` of a group's ``params``: tensors, or ``(name, tensor)``
    pairs (PyTorch's ``named_parameters()``); ``names`` is None without names."""
    tensors, names = [], []
    for p in params:
        if isinstance(p, tuple):
            if len(p) != 2:
                raise TypeError(f"{who}: a named parameter must be a (name, Tensor) pair, got a tuple of "
                                f"{len(p)} items")
            names.append(p[0])
            p = p[1]
        tensors.append(p)
    if names and len(names) != len(tensors):
        raise ValueError(f"{who}: all optimizer params should be with/without names. Some param names are missing")
    return tensors, (names or None)


class Optimizer:
    """Base class of all optimisers.

    ``Optimizer(params, defaults)``: ``params`` is an iterable of tensors, or
    of dicts (parameter groups) holding ``'params'`` and per-group options that
    override ``defaults``.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)  # parameter -> its state (PyTorch's layout)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got a single Tensor of shape {tuple(params.shape)} (wrap it in a list)")
        if isinstance(params, Mapping) and 'params' not in params:
            params = list(params.values())  # the reference's dict name -> parameter
        elif isinstance(params, Mapping):
            params = [params]
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(params[0], Mapping):
            params = [{'params': params}]
        for group in params:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != 'params')
        lines.append(")")
        return '\n'.join(lines)

    def add_param_group(self, param_group):
        """Add a parameter group: a dict with ``'params'`` (tensors, or ``(name, tensor)``
        pairs) and options overriding the defaults. As in PyTorch the dict itself is
        appended (its ``'params'`` becomes a list); nothing is added on error."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: param_group must be a dict, but got "
                            f"{type(param_group).__name__}")
        if 'params' not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        params = param_group['params']
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: optimizer parameters need to be organized in ordered collections, but the "
                            f"ordering of tensors in sets will change between runs. Please use a list instead.")
        elif isinstance(params, Mapping):
            params = list(params.values())
        params, names = _split_names(list(params), name)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if p.grad_fn is not None and not getattr(p, 'retains_grad', False):
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape {tuple(p.shape)}, "
                                 f"grad_fn {type(p.grad_fn).__name__})")
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
        if param_group.get('differentiable'):
            check_impl_flags(name, differentiable=True)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(f"{name}: optimizer contains a parameter group with duplicate parameters; in future, "
                          f"this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                          f"information", UserWarning, stacklevel=3)
        for g in self.param_groups:
            if ('param_names' in g) != (names is not None):
                kind = 'with names' if names is not None else 'without names'
                raise ValueError(f"{name}: all optimizer param groups should be with/without names. cannot add "
                                 f"param group {kind} to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g['params']}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        param_group['params'] = params
        if names is not None:
            param_group['param_names'] = names
        for key, default in self.defaults.items():
            param_group.setdefault(key, default)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimised tensors: to ``None`` (default), or
        to zeros in place with ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad._data
                    if getattr(g.flags, 'writeable', True):  # cupy arrays are always writeable
                        g.fill(0)
                    else:
                        p.grad._data = backend.array_module(g).zeros_like(g)

    def step(self, closure=None):
        """Perform one optimisation step. ``closure`` (optional) re-evaluates the
        model and returns the loss; it runs with grad enabled and its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        for group in self.param_groups:
            self._update(group)
        return loss

    def _check_grads(self):
        """Raise before any update when a gradient does not fit its parameter
        (shape, dtype or device), so that a failed ``step`` changes nothing."""
        name = type(self).__name__
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group['params']):
                if p.grad is None:
                    continue
                g, d = p.grad._data, p._data
                if g.shape != d.shape or g.dtype != d.dtype or type(g) is not type(d):
                    raise RuntimeError(
                        f"{name}.step: the gradient of parameter {pi} of group {gi} (shape {tuple(g.shape)}, "
                        f"dtype {g.dtype}, {backend.device_of(g)}) does not match the parameter (shape "
                        f"{tuple(d.shape)}, dtype {d.dtype}, {backend.device_of(d)}); nothing was updated")

    def _update(self, group):
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers for subclasses
    def _state_of(self, p):
        """``p``'s state dict. Arrays made while ``p`` lived on another device (it moved
        since, e.g. ``model.to('cuda')`` in place) are first moved to ``p``'s device."""
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {}
            return state
        kind = type(p._data)
        for key, value in state.items():
            if type(value) is not kind and _is_array(value):
                state[key] = backend.move(value, p.device)  # replaces a value, not a key: safe while iterating
        return state

    def _with_grads(self, group, weight_decay=0.0, maximize=False):
        """Yield ``(p, g, state)`` for each parameter of ``group`` that has a gradient:
        ``g`` from ``_grad`` (possibly ``p.grad._data`` itself: never written to), ``state``
        from ``_state_of``."""
        for p in group['params']:
            if p.grad is not None:
                yield p, self._grad(p, weight_decay, maximize), self._state_of(p)

    @staticmethod
    def _grad(p, weight_decay, maximize):
        """The gradient to use for ``p`` (an array; may be ``p.grad._data`` itself,
        which must then not be written to) with L2 weight decay and ``maximize``."""
        return decayed_grad(p._data, p.grad._data, weight_decay, maximize)

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """The optimiser's state in PyTorch's layout: ``{'state': {index: {name: value}},
        'param_groups': [options with 'params' as indices]}``. Arrays are returned as
        tensors sharing memory with the state (lists of them as lists); ``step`` as a
        0-d float32 tensor, as PyTorch stores it."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != 'params'}
            ids = []
            for p in group['params']:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed['params'] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group['params']:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = {k: _pack_state(k, v) for k, v in st.items()}
        return {'state': state, 'param_groups': groups}

    # whether floating state arrays have their parameter's shape (checked on load)
    _state_shaped_like_params = True

    def load_state_dict(self, state_dict):
        """Load a state produced by ``state_dict`` (of an optimiser over parameters
        of the same shapes, in the same group layout; a ``torch.optim`` state dict
        works too). Nothing changes on error."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or 'state' not in state_dict or 'param_groups' not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict['param_groups']
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter "
                             f"groups, the optimizer has {len(self.param_groups)}")
        id_map = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group['params']) != len(saved['params']):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                                 f"parameters in the loaded state dict, {len(group['params'])} in the optimizer")
            for idx, p in zip(saved['params'], group['params']):
                id_map[int(idx)] = p
        new_state = defaultdict(dict)
        for idx, st in state_dict['state'].items():
            p = id_map.get(int(idx))
            if p is None:
                continue
            new_state[p] = {k: _cast_state(name, k, v, p, self._state_shaped_like_params) for k, v in st.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            g = copy.deepcopy({k: v for k, v in saved.items() if k != 'params'})
            g['params'] = group['params']
            if 'param_names' in group and 'param_names' not in g:
                g['param_names'] = group['param_names']
            new_groups.append(g)
        self.state = new_state
        self.param_groups = new_groups


def _is_array(v):
    return isinstance(v, backend.array_types())


def _pack_state(key, value):
    """A state entry as ``state_dict`` returns it: arrays wrapped as tensors (sharing memory)."""
    if _is_array(value):
        return Tensor._wrap(value)
    if key == 'step' and isinstance(value, int):
        return Tensor._wrap(np.array(value, dtype=np.float32))
    if isinstance(value, list):
        return [_pack_state(None, v) for v in value]
    return value


def _as_array(value):
    """The array of a state value: a tensorgrad Tensor's slot, a ``torch.Tensor``'s
    NumPy copy (a PyTorch checkpoint), an array itself; None for anything else."""
    if isinstance(value, Tensor):
        return value._data
    if _is_array(value):
        return value
    if type(value).__module__.startswith('torch') and hasattr(value, 'detach'):
        return value.detach().cpu().numpy()
    return None


def _cast_state(name, key, value, p, check_shape=True):
    """A state entry loaded for parameter ``p``: arrays are copied onto ``p``'s
    device (floating ones in ``p``'s dtype, with ``p``'s shape when ``check_shape``);
    ``step`` becomes an int; lists and tuples are converted item by item."""
    arr = _as_array(value)
    if key == 'step':
        return int(arr.item() if arr is not None else value)
    if arr is not None:
        xp = backend.array_module(p._data)
        arr = backend.move(arr, p.device)
        if arr.dtype.kind == 'f':
            if check_shape and arr.shape != p._data.shape and arr.ndim:
                raise ValueError(f"{name}.load_state_dict: state {key!r} of shape {arr.shape} does not "
                                 f"match parameter of shape {p._data.shape}")
            arr = arr.astype(p._data.dtype, copy=False)
        return xp.array(arr, copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(name, key, v, p, check_shape) for v in value)
    return copy.deepcopy(value)
