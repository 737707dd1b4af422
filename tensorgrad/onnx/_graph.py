"""The tracing machinery of the ONNX exporter.

While ``trace`` runs the model's forward, the functions named in the op table
(``tensorgrad.nn.functional.*``, ``Tensor`` methods and operators, some
module ``forward``s such as ``MultiheadAttention``) are swapped for wrappers.
A wrapper runs the real function (so the forward computes exactly what it
always does) and, when one of its tensor arguments depends on the model's
inputs, hands the call's bound arguments and its result to the op's emitter,
which appends ONNX nodes. Calls made inside a recorded call are not recorded.

Which tensors depend on the inputs is known from autograd: during the trace
the inputs require grad and the parameters do not, so a tensor that requires
grad but has no ONNX name came from an op without a mapping; it is reported
with the name of its autograd node. Tensors that do not depend on the inputs
(parameters, buffers, masks built in forward) become initializers.
"""
import inspect
import threading

import numpy as np

from .._tensor import Tensor

_STATE = threading.local()
_INHERITED = object()  # marks a class attribute that was inherited, removed again on exit


class UnsupportedOperatorError(RuntimeError):
    """The traced forward used an op that has no ONNX mapping (or not with these arguments)."""


def _np_to_onnx_dtype(dt):
    from onnx import helper  # noqa: PLC0415 - onnx is optional
    return helper.np_dtype_to_tensor_dtype(np.dtype(dt))


class Graph:
    """ONNX nodes, initializers and the names of traced tensors."""

    def __init__(self, param_names, opset):
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.names = {}  # id(tensor) -> value name
        self.keep = []  # keeps traced tensors alive, so ids are not reused
        self.param_names = param_names  # id(parameter or buffer) -> state-dict name
        self.const_cache = {}
        self.counter = 0

    def fresh(self, hint='v'):
        self.counter += 1
        return f'{hint}_{self.counter}'

    def is_traced(self, t):
        return isinstance(t, Tensor) and (id(t) in self.names or t.requires_grad)

    def bind(self, t, name):
        self.names[id(t)] = name
        self.keep.append(t)

    def name(self, t, what='op'):
        """The ONNX value name of tensor (or array / number) ``t``; a constant becomes an initializer."""
        if isinstance(t, Tensor):
            key = id(t)
            if key in self.names:
                return self.names[key]
            if t.requires_grad:
                fn = type(t.grad_fn).__name__ if t.grad_fn is not None else 'an untraced op'
                raise UnsupportedOperatorError(
                    f"onnx.export: {what}: an input of shape {tuple(t.shape)} was computed by {fn}, which has no "
                    f"ONNX mapping (see tensorgrad.onnx.SUPPORTED for the ops that export)")
            name = self.param_names.get(key)
            name = self.const(np.asarray(t._data.get() if hasattr(t._data, 'get') else t._data), name)
            self.bind(t, name)
            return name
        return self.const(np.asarray(t))

    def const(self, arr, name=None):
        from onnx import numpy_helper  # noqa: PLC0415
        arr = np.ascontiguousarray(arr)
        if name is None:
            key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 16 else None
            if key is not None and key in self.const_cache:
                return self.const_cache[key]
            name = self.fresh('const')
            if key is not None:
                self.const_cache[key] = name
        self.initializers.append(numpy_helper.from_array(arr, name))
        return name

    def node(self, op, inputs, n_out=1, **attrs):
        from onnx import helper  # noqa: PLC0415
        outs = [self.fresh(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=self.fresh(op), **attrs))
        return outs[0] if n_out == 1 else outs


def active_graph():
    return getattr(_STATE, 'graph', None)


def _flat_tensors(value, out):
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _flat_tensors(v, out)
    return out


def make_wrapper(name, orig, emit):
    """``orig`` wrapped so that a traced call is recorded by ``emit(graph, out, args)``."""
    try:
        sig = inspect.signature(orig)
    except (TypeError, ValueError):
        sig = None

    def wrapper(*args, **kwargs):
        g = active_graph()
        if g is None or _STATE.depth:
            return orig(*args, **kwargs)
        traced = any(g.is_traced(t) for t in _flat_tensors(list(args) + list(kwargs.values()), []))
        _STATE.depth += 1
        try:
            out = orig(*args, **kwargs)
        finally:
            _STATE.depth -= 1
        if traced:
            if sig is not None:
                ba = sig.bind(*args, **kwargs)
                ba.apply_defaults()
                bound = dict(ba.arguments)
                for p in sig.parameters.values():  # flatten *shape style arguments
                    if p.kind is p.VAR_POSITIONAL:
                        bound[p.name] = tuple(bound.get(p.name, ()))
                    elif p.kind is p.VAR_KEYWORD:
                        bound.update(bound.pop(p.name, {}))
            else:
                bound = {'args': args, **kwargs}
            emit(g, out, bound, name)
        return out

    wrapper.__wrapped__ = orig
    wrapper.__name__ = getattr(orig, '__name__', name)
    return wrapper


class trace_patches:
    """Context manager: installs the op wrappers on their owners (and on module attributes
    holding an original function, such as a Transformer layer's ``activation``)."""

    def __init__(self, table, modules):
        self.table = table  # [(owner, attribute, emitter)]
        self.modules = modules
        self.saved = []

    def __enter__(self):
        originals = {}
        for owner, attr, emit in self.table:
            orig = getattr(owner, attr)
            own = not isinstance(owner, type) or attr in owner.__dict__
            wrapped = make_wrapper(attr, orig, emit)
            self.saved.append((owner, attr, orig if own else _INHERITED))
            setattr(owner, attr, wrapped)
            originals[id(orig)] = wrapped
        for m in self.modules:
            for attr, value in list(vars(m).items()):
                if id(value) in originals and callable(value):
                    self.saved.append((m, attr, value))
                    object.__setattr__(m, attr, originals[id(value)])
        return self

    def __exit__(self, *exc):
        for owner, attr, orig in reversed(self.saved):
            if orig is _INHERITED:
                delattr(owner, attr)
            elif isinstance(owner, type) or type(owner).__name__ == 'module':
                setattr(owner, attr, orig)
            else:
                object.__setattr__(owner, attr, orig)
        self.saved.clear()
        return False


def run_traced(graph, fn):
    """Run ``fn()`` with ``graph`` as the active trace."""
    _STATE.graph, _STATE.depth = graph, 0
    try:
        return fn()
    finally:
        _STATE.graph = None
