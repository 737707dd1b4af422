"""The ``Optimizer`` base class: parameter groups, per-parameter state,
``zero_grad``, ``step`` with a closure, and ``state_dict`` round trips in
PyTorch's layout (parameters referred to by integer index).

Subclasses implement ``_update(group)``; it works on raw arrays in place
(no graph nodes) and never writes into a gradient array, because one
gradient array may be shared by several parameters.
"""
import copy
from collections import defaultdict
from collections.abc import Mapping

from .. import backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad


class _Required:
    """Marker for a hyperparameter without a default (``lr`` of SGD)."""

    def __repr__(self):
        return '<required parameter>'


required = _Required()


def _as_param_list(params, who):
    """The tensors of a ``params`` entry: a Tensor, an iterable of tensors or of
    ``(name, tensor)`` pairs, or a mapping name -> tensor (the reference's
    ``model.parameters()`` dict)."""
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, Mapping):
        params = params.values()
    out = []
    for p in params:
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Tensor):
            p = p[1]
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameters must be Tensors, got {type(p).__name__}")
        out.append(p)
    return out


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
            raise TypeError(f"{name}: params must be an iterable of Tensors or dicts, got a single Tensor "
                            f"(wrap it in a list)")
        if isinstance(params, Mapping) and 'params' not in params:
            params = list(params.values())
        elif isinstance(params, Mapping):
            params = [params]
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
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
        """Add a parameter group (a dict with ``'params'`` and optional options)."""
        name = type(self).__name__
        if not isinstance(param_group, Mapping):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        if 'params' not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        group = dict(param_group)
        if isinstance(group['params'], set):
            raise TypeError(f"{name}: parameters must be an ordered collection; a set changes order "
                            f"between runs (use a list)")
        params = _as_param_list(group['params'], name)
        for p in params:
            if not p.requires_grad:
                raise ValueError(f"{name}: optimizing a tensor that does not require grad "
                                 f"(shape {p.shape}, dtype {p._data.dtype})")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape {p.shape})")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group contains the same parameter more than once")
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key!r}")
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g['params']}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group['params'] = params
        self.param_groups.append(group)

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
        for group in self.param_groups:
            self._update(group)
        return loss

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
        g = p.grad._data
        if g.shape != p._data.shape:
            raise RuntimeError(f"optimizer: gradient of shape {g.shape} does not match parameter of "
                               f"shape {p._data.shape}")
        if maximize:
            g = -g
            if weight_decay:
                g += weight_decay * p._data
        elif weight_decay:
            g = p._data * weight_decay
            g += p.grad._data
        return g

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """The optimiser's state: ``{'state': {index: {name: value}}, 'param_groups':
        [options with 'params' as indices]}``; arrays are returned as tensors."""
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
                    state[index[id(p)]] = {k: Tensor._wrap(v) if _is_array(v) else v for k, v in st.items()}
        return {'state': state, 'param_groups': groups}

    def load_state_dict(self, state_dict):
        """Load a state produced by ``state_dict`` (of an optimiser over parameters
        of the same shapes, in the same group layout). Nothing changes on error."""
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
            new_state[p] = {k: _cast_state(name, k, v, p) for k, v in st.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            g = copy.deepcopy({k: v for k, v in saved.items() if k != 'params'})
            g['params'] = group['params']
            new_groups.append(g)
        self.state = new_state
        self.param_groups = new_groups


def _is_array(v):
    return isinstance(v, backend.array_types())


def _cast_state(name, key, value, p):
    """A state entry loaded for parameter ``p``: arrays are copied onto ``p``'s
    device (floating ones in ``p``'s dtype); ``step`` becomes an int."""
    if isinstance(value, Tensor):
        value = value._data
    if key == 'step':
        return int(value.item() if _is_array(value) else value)
    if _is_array(value):
        xp = backend.array_module(p._data)
        arr = backend.move(value, p.device)
        if arr.dtype.kind == 'f':
            if arr.shape != p._data.shape and arr.ndim:
                raise ValueError(f"{name}.load_state_dict: state {key!r} of shape {arr.shape} does not "
                                 f"match parameter of shape {p._data.shape}")
            arr = arr.astype(p._data.dtype, copy=False)
        return xp.array(arr, copy=True)
    return copy.deepcopy(value)
