"""Custom differentiable operations in PyTorch's form::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

``forward`` runs under ``no_grad`` on Tensors and may return one tensor or a
tuple; ``backward`` receives one gradient Tensor per output (zeros for an
output that got none) and returns one gradient per ``forward`` argument
(None where there is none; gradients for non-tensor arguments are ignored).
A gradient may have a broadcast shape of its input's (it is summed down);
any other shape raises an error naming the Function.

Under ``create_graph=True`` (PyTorch's rule) ``backward`` runs with grad mode
on, its gradients are Tensors that may require grad and ``ctx.saved_tensors``
are the tensors themselves, connected to the graph (a saved output's
``grad_fn`` is the Function's node), so a ``backward`` written with tensor ops
is recorded and the Function is twice (any number of times) differentiable.
``@once_differentiable`` on ``backward`` opts out: its results are right, and
differentiating them again raises naming the Function.
"""
import functools
import inspect

import numpy as np

from .. import backend
from .._tensor import Tensor
from .engine import not_twice_differentiable
from .grad_mode import GRAD_MODE, enable_grad, no_grad
from .multi import attach_multi, init_node
from .node import MultiOutputNode, Node

_new = object.__new__


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: stores tensors with
    ``save_for_backward`` and any other attribute you set on it."""

    def __init__(self):
        self._saved = ()
        self._saved_versions = ()
        self._fn_name = 'Function'
        self.needs_input_grad = ()
        self.non_differentiable = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or None) for ``backward``; an in-place change to one of
        them before backward raises there."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self._fn_name}: save_for_backward takes tensors or None, "
                                f"got {type(t).__name__} (store other values as ctx attributes)")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else (t._vc, t._vc[0]) for t in tensors)

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked for in-place changes."""
        for i, v in enumerate(self._saved_versions):
            if v is not None and v[0][0] != v[1]:
                raise RuntimeError(
                    f"backward: saved tensor {i} of {self._fn_name} was modified by an in-place operation "
                    f"after it was saved (saved at version {v[1]}, now version {v[0][0]})")
        return self._saved

    def mark_non_differentiable(self, *outputs):
        """Declare outputs that have no gradient (their gradients in backward are zeros)."""
        self.non_differentiable.update(id(t) for t in outputs)

    def mark_dirty(self, *tensors):
        """Accepted for PyTorch compatibility; in-place changes inside ``forward`` are
        tracked by the tensors' version counters."""

    def set_materialize_grads(self, value):
        """With False, outputs that got no gradient pass None to ``backward`` instead of zeros."""
        self.materialize_grads = bool(value)


class _FunctionNodeMixin:
    __slots__ = ()

    def _run(self, grads):
        fn_cls, ctx, in_meta, out_meta, xp = self.saved
        legacy = isinstance(ctx, Function)  # the autograd reference's style: arrays in, arrays out
        gts = []
        for g, (shape, dtype) in zip(grads, out_meta):
            if g is None:
                if legacy or ctx.materialize_grads:
                    g = xp.zeros(shape, dtype=dtype)
                else:
                    gts.append(None)
                    continue
            elif not isinstance(g, backend.array_types()):
                g = xp.asarray(g)
            gts.append(g if legacy else Tensor._wrap(g))
        with no_grad():
            res = ctx.backward(*gts) if legacy else fn_cls.backward(ctx, *gts)
        name = fn_cls.__name__
        res = _check_grad_count(name, res, len(in_meta))
        out = []
        for i, (r, meta, edge) in enumerate(zip(res, in_meta, self.next)):
            if r is None or edge is None or meta is None:
                out.append(None)
                continue
            shape, dtype = meta
            rd = r._data if isinstance(r, Tensor) else xp.asarray(r)
            _check_grad_shape(name, i, shape, rd.shape)
            if rd.dtype != dtype:
                rd = rd.astype(dtype)
            out.append(rd)
        return tuple(out)


    def _run_graph(self, grads):
        """``_run`` under create_graph: ``backward`` gets Tensors with grad mode on and
        returns Tensors (recorded), so its result can be differentiated again."""
        fn_cls, ctx, in_meta, out_meta, xp = self.saved
        name = fn_cls.__name__
        if isinstance(ctx, Function):  # arrays in, arrays out: nothing can be recorded
            arrays = self._run([None if g is None else g._data for g in grads])
            return tuple(None if a is None else not_twice_differentiable(a, f'{name} (an array-style Function)')
                         for a in arrays)
        gts = []
        for g, (shape, dtype) in zip(grads, out_meta):
            if g is None and ctx.materialize_grads:
                g = Tensor._wrap(xp.zeros(shape, dtype=dtype))
            gts.append(g)
        with enable_grad():
            res = fn_cls.backward(ctx, *gts)
        res = _check_grad_count(name, res, len(in_meta))
        out = []
        for i, (r, meta, edge) in enumerate(zip(res, in_meta, self.next)):
            if r is None or edge is None or meta is None:
                out.append(None)
                continue
            shape, dtype = meta
            if not isinstance(r, Tensor):
                r = Tensor._wrap(xp.asarray(r))
            _check_grad_shape(name, i, shape, r._data.shape)
            out.append(r if r._data.dtype == dtype else r.to(dtype))
        return tuple(out)


def _check_grad_count(name, res, n):
    """``backward``'s result as a tuple, checked to hold one gradient per ``forward`` input."""
    if not isinstance(res, tuple):
        res = (res,)
    if len(res) < n or any(r is not None for r in res[n:]):
        raise RuntimeError(f"function {name}Backward returned an incorrect number of gradients "
                           f"(expected {n}, got {len(res)})")
    return res


def _check_grad_shape(name, i, shape, got):
    if got == shape:
        return
    try:
        ok = np.broadcast_shapes(shape, got) == got
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"function {name}Backward returned an invalid gradient at index {i}: "
                           f"got shape {tuple(got)} but expected shape {shape} "
                           f"(or one that broadcasts from it)")


def once_differentiable(fn):
    """Decorator for a Function's ``backward`` (PyTorch's): it runs under ``no_grad``
    on tensors; under ``create_graph=True`` its gradients are right but
    differentiating them again raises an error naming the Function."""
    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            outputs = fn(ctx, *args, **kwargs)
        if not GRAD_MODE.enabled:  # a first-order backward
            return outputs
        label = f"{getattr(ctx, '_fn_name', 'Function')} (its backward is marked @once_differentiable)"
        wrap = [o if not isinstance(o, Tensor) else not_twice_differentiable(o._data, label)
                for o in (outputs if isinstance(outputs, tuple) else (outputs,))]
        return tuple(wrap) if isinstance(outputs, tuple) else wrap[0]
    return wrapper


class FunctionBackward(_FunctionNodeMixin, Node):
    """Graph node of a single-output custom Function."""
    __slots__ = ()

    def backward(self, grad):
        return self._run([grad])

    def backward_graph(self, grad):
        return self._run_graph([grad])


class FunctionMultiBackward(_FunctionNodeMixin, MultiOutputNode):
    """Graph node of a custom Function with several outputs (``backward_graph``
    receives one gradient Tensor or None per output)."""
    __slots__ = ()

    def backward(self, grads):
        return self._run(list(grads))

    def backward_graph(self, grads):
        return self._run_graph(list(grads))


def attach(outputs, node_cls, next_edges, saved, differentiable):
    """Make ``outputs`` (tensors) the outputs of one new ``node_cls`` graph node (a
    MultiOutputNode when there are several); returns the node.
    ``differentiable[i]`` False leaves output i outside the graph."""
    if len(outputs) > 1:
        return attach_multi(outputs, node_cls, next_edges, saved, differentiable)
    node = init_node(_new(node_cls), next_edges, saved, outputs[0]._data.shape)
    if differentiable[0]:
        outputs[0].grad_fn = node
        outputs[0]._rg = True
    return node


class Function:
    """Base class of custom differentiable operations: subclass it with static
    ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, *grads)`` and call
    ``MyFunction.apply(*args, **kwargs)``.

    The autograd reference's style works too: ``forward(self, *arrays, **kwargs)``
    and ``backward(self, grad)`` as plain methods receive and return raw arrays
    (the instance, built as ``MyFunction(*tensors)``, plays the role of ``ctx``).
    """

    def __init__(self, *tensors):
        self.tensors = tensors
        self.needs_input_grad = tuple(isinstance(t, Tensor) and t._rg for t in tensors)

    @staticmethod
    def unbroadcast(grad_arr, to_shape):
        """Sum out broadcast dimensions so that ``grad_arr`` gets shape ``to_shape``."""
        from .engine import unbroadcast  # noqa: PLC0415
        return unbroadcast(grad_arr, tuple(to_shape))

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs (runs under ``no_grad``)."""
        raise NotImplementedError("Function subclasses must implement a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return one gradient per ``forward`` argument (None where there is none)."""
        raise NotImplementedError("Function subclasses must implement a static backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and record the op in the graph when an input requires grad."""
        needs = tuple(isinstance(a, Tensor) and a._rg for a in args)
        if isinstance(inspect.getattr_static(cls, 'forward'), staticmethod):
            ctx = FunctionCtx()
            ctx._fn_name = cls.__name__
            ctx.needs_input_grad = needs
            with no_grad():
                result = cls.forward(ctx, *args, **kwargs)
        else:  # the reference's instance style: forward gets the arrays
            ctx = cls(*args)
            ctx.non_differentiable = set()
            with no_grad():
                result = ctx.forward(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
            if isinstance(result, backend.array_types() + (np.generic,)):
                result = backend.array_module(result).asarray(result)
        single = not isinstance(result, (tuple, list))
        outs = [result] if single else list(result)
        inputs_by_id = {id(a) for a in args if isinstance(a, Tensor)}
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                if id(o) in inputs_by_id:  # an input returned as is: an alias the graph may own
                    alias = Tensor._wrap(o._data)
                    alias._vc, alias._base = o._vc, o._base or o
                    if id(o) in ctx.non_differentiable:
                        ctx.non_differentiable.add(id(alias))
                    outs[i] = alias
            elif isinstance(o, backend.array_types()):
                outs[i] = Tensor._wrap(o)
        record = GRAD_MODE.enabled and any(needs)
        tensor_outs = [o for o in outs if isinstance(o, Tensor)]
        if record and tensor_outs:
            differentiable = [o._data.dtype.kind == 'f' and id(o) not in ctx.non_differentiable
                              for o in tensor_outs]
            if any(differentiable):
                xp = backend.array_module(tensor_outs[0]._data)
                in_meta = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args)
                out_meta = tuple((o._data.shape, o._data.dtype) for o in tensor_outs)
                edges = tuple((a.grad_fn or a) if isinstance(a, Tensor) and a._rg else None
                              for a in args)
                node_cls = _node_class(cls, len(tensor_outs) > 1)
                attach(tensor_outs, node_cls, edges, (cls, ctx, in_meta, out_meta, xp), differentiable)
        return outs[0] if single else tuple(outs)


_NODE_CLASSES = {}


def _node_class(fn_cls, multi):
    key = (fn_cls, multi)
    c = _NODE_CLASSES.get(key)
    if c is None:
        base = FunctionMultiBackward if multi else FunctionBackward
        c = _NODE_CLASSES[key] = type(f'{fn_cls.__name__}Backward', (base,), {'__slots__': ()})
    return c
