"""Activation checkpointing: trade compute for memory by not keeping a
function's intermediate arrays for backward and recomputing them there.

``checkpoint(fn, *args)`` returns ``fn(*args)``; the graph inside ``fn`` is
dropped right after the forward, only the inputs are kept. When backward
reaches the result, ``fn`` is run again with grad enabled (with the random
state of the first run, so dropout draws the same mask) and the gradient is
propagated through the recomputed graph. Under ``create_graph=True`` that
propagation is itself recorded (``autograd.recompute``), so gradients through
a checkpoint can be differentiated again.

Parameters that ``fn`` uses from its closure (a module's weights) get their
gradients too: with the default ``use_reentrant=False`` the forward records
``fn``'s graph once, notes (through weak references) what it reads, and frees
it at once. What it read that outlives it is its "boundary": leaf tensors
that require grad, and nodes of the caller's graph (a non-leaf tensor that
``fn`` captured). The checkpoint node has an edge to each, so gradients reach
them through the normal engine in the right order (hooks, ``autograd.grad``
and accumulation all apply); in backward the recomputed graph's gradients
are captured at the boundary, with outer nodes sealed so that the nested
pass stops there. With ``use_reentrant=True``
the forward runs under ``no_grad`` (PyTorch's reentrant variant): only the
explicit tensor arguments are edges, and closure parameters receive their
gradients by a nested backward that accumulates into their ``.grad``.
"""
import contextlib
import weakref

from .. import backend, random
from .._tensor import Tensor
from ..autograd.engine import run_backward, topological_order
from ..autograd.function import attach
from ..autograd.grad_mode import GRAD_MODE, enable_grad, no_grad
from ..autograd.node import MultiOutputNode, Node, OutputRef
from ..autograd.recompute import backward_to, stand_ins


def _rng_state():
    return random.generator().bit_generator.state


def _set_rng_state(state):
    random.generator().bit_generator.state = state


def _trace(outputs, inputs):
    """Weak references to every node of the graph of ``outputs`` with its edges (leaf
    tensors kept, nodes weakly), stopping at ``inputs`` (stand-ins of the arguments)."""
    stop = {id(t) for t in inputs}
    seen, record = set(), []
    stack = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    roots = [o for o in outputs if isinstance(o, Tensor) and o.grad_fn is None and o.requires_grad
             and id(o) not in stop]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        edges = []
        for e in node.next:
            if e is None or (isinstance(e, Tensor) and id(e) in stop):
                continue
            if isinstance(e, Tensor):
                edges.append(e)
            else:
                edges.append(weakref.ref(e))
                stack.append(e)
        record.append((weakref.ref(node), edges))
    return record, roots


def _boundary(record, roots):
    """The tensors and outer nodes that fn's (now freed) graph read: leaf tensors that
    require grad, and nodes that outlived the graph (they belong to the caller's graph,
    e.g. a non-leaf tensor captured by fn's closure)."""
    found, ids = [], set()
    for t in roots:
        if id(t) not in ids:
            ids.add(id(t))
            found.append(t)
    for ref, edges in record:
        if ref() is not None:  # alive: an outer node, not one of fn's
            continue
        for e in edges:
            item = e if isinstance(e, Tensor) else e()
            if item is not None and id(item) not in ids:
                ids.add(id(item))
                found.append(item)
    return found


@contextlib.contextmanager
def _sealed(nodes):
    """Make outer nodes end the recomputation's backward: their edges, hooks and
    retained tensors are hidden while it runs (the outer pass handles them)."""
    stash = []
    for node in nodes:
        target = node.next[0] if isinstance(node, OutputRef) else node
        stash.append((target, target.next, target.hooks, target.retained))
        target.next = (None,) * len(target.next)
        target.hooks = None
        target.retained = None
    try:
        yield
    finally:
        for target, nxt, hooks, retained in reversed(stash):
            target.next, target.hooks, target.retained = nxt, hooks, retained


def _recompute(fn, args, kwargs, rng):
    """The tensor outputs of ``fn(*args, **kwargs)`` rerun with grad enabled under the
    random state ``rng`` saved at the forward (None: as it is), restored afterwards."""
    after = None
    if rng is not None:
        after = _rng_state()
        _set_rng_state(rng)
    try:
        with enable_grad():
            outs = fn(*args, **kwargs)
    finally:
        if after is not None:
            _set_rng_state(after)
    return [o for o in (outs if isinstance(outs, (tuple, list)) else [outs]) if isinstance(o, Tensor)]


class _CheckpointMixin:
    __slots__ = ()

    def _run(self, grads):
        fn, args, kwargs, rng, n_args, extra, reentrant, out_meta, xp = self.saved
        detached = []
        for a in args:
            if isinstance(a, Tensor):
                d = Tensor._wrap(a._data, a.requires_grad)
                d._vc = a._vc
                detached.append(d)
            else:
                detached.append(a)
        # one gradient per tensor output (non-tensor outputs have none)
        outs = _recompute(fn, detached, kwargs, rng)
        roots, seeds = [], []
        for o, g, (shape, dtype) in zip(outs, grads, out_meta):
            if g is None or not isinstance(o, Tensor) or not o.requires_grad:
                continue
            roots.append(o)
            seeds.append(g)
        keys = [d for d in detached if isinstance(d, Tensor) and d.requires_grad]
        if reentrant:
            if roots:
                run_backward(roots, seeds, retain_graph=True)
            got = {id(d): (d.grad._data if d.grad is not None else None) for d in keys}
            grads_out = [got.get(id(d)) if isinstance(d, Tensor) else None for d in detached]
            return tuple(grads_out[i] for i in range(n_args))
        capture = {}
        for d in keys:
            capture[d] = None
        for t in extra:
            capture[t] = None
        # leaf hooks of the boundary run once, when the outer pass delivers their gradient
        hooks = [(t, t._hooks) for t in extra if isinstance(t, Tensor) and t._hooks]
        for t, _ in hooks:
            t._hooks = None
        try:
            foreign = [t for t in extra if isinstance(t, Node)]
            with _sealed(foreign):
                if roots:
                    # sealed outer nodes must keep their buffers for the outer pass
                    run_backward(roots, seeds, retain_graph=bool(foreign), capture=capture)
        finally:
            for t, h in hooks:
                t._hooks = h
        res = [capture.get(d) if isinstance(d, Tensor) and d.requires_grad else None for d in detached]
        res += [capture.get(t) for t in extra]
        return tuple(res)

    def _run_graph(self, grads):
        """``_run`` under create_graph: the recomputation runs on stand-ins connected to
        the arguments' edges (``autograd.recompute``) and is differentiated with
        create_graph, so the gradients can be differentiated again."""
        fn, args, kwargs, rng, n_args, extra, reentrant, out_meta, xp = self.saved
        stand = []
        for a, edge in zip(args, self.next):
            if isinstance(a, Tensor):
                d = stand_ins([a._data], [edge])[0]
                d._vc = a._vc
                stand.append(d)
            else:
                stand.append(a)
        outs = _recompute(fn, stand, kwargs, rng)
        if reentrant:
            # closure tensors get their gradients in .grad, as in the first-order reentrant pass
            starts = [o.grad_fn or o for o in outs if o.requires_grad]
            leaves = [t for t in topological_order(starts)
                      if isinstance(t, Tensor) and not any(t is d for d in stand)]
            got, closure = backward_to(stand, outs, grads, leaves)
            for t, g in zip(leaves, closure):
                if g is not None:
                    t._grad = g if t._grad is None else t._grad + g
            return tuple(got)
        hooks = [(t, t._hooks) for t in extra if isinstance(t, Tensor) and t._hooks]
        for t, _ in hooks:
            t._hooks = None
        try:
            with _sealed([t for t in extra if isinstance(t, Node)]):
                got, from_extra = backward_to(stand, outs, grads, extra)
        finally:
            for t, h in hooks:
                t._hooks = h
        return tuple(got) + tuple(from_extra)


class CheckpointBackward(_CheckpointMixin, Node):
    """Node of a checkpointed function with one output: recomputes it in backward."""
    __slots__ = ()

    def backward(self, grad):
        return self._run([grad])

    def backward_graph(self, grad):
        return self._run_graph([grad])


class CheckpointMultiBackward(_CheckpointMixin, MultiOutputNode):
    """Node of a checkpointed function with several outputs."""
    __slots__ = ()

    def backward(self, grads):
        return self._run(list(grads))

    def backward_graph(self, grads):
        return self._run_graph(list(grads))


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its intermediate results for
    backward; they are recomputed when backward reaches the output. Gradients are
    the same as without checkpointing, for the arguments and for tensors that
    ``function`` reads from its closure (parameters)."""
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    reentrant = bool(use_reentrant)
    rng = _rng_state() if preserve_rng_state else None
    detached = []
    for a in args:
        if isinstance(a, Tensor):
            d = Tensor._wrap(a._data, a.requires_grad)
            d._vc = a._vc
            detached.append(d)
        else:
            detached.append(a)
    if not GRAD_MODE.enabled:
        return function(*args, **kwargs)
    if reentrant:
        with no_grad():
            result = function(*detached, **kwargs)
        extra = []
    else:
        with enable_grad():
            result = function(*detached, **kwargs)
        outs0 = list(result) if isinstance(result, (tuple, list)) else [result]
        record, roots = _trace(outs0, [d for d in detached if isinstance(d, Tensor)])
        del outs0
    single = not isinstance(result, (tuple, list))
    outs = [result] if single else list(result)
    # cut the outputs off fn's graph: only the inputs (and boundary edges) stay alive
    cut = [Tensor._wrap(o._data) if isinstance(o, Tensor) else o for o in outs]
    del result, outs  # fn's graph is freed here (nothing else refers to its nodes)
    if not reentrant:
        extra = _boundary(record, roots)
        del record, roots
    tensor_outs = [o for o in cut if isinstance(o, Tensor)]
    needs = any(isinstance(a, Tensor) and a.requires_grad for a in args) or \
        any((t.requires_grad if isinstance(t, Tensor) else True) for t in extra)
    if needs and tensor_outs:
        edges = tuple((a.grad_fn or a) if isinstance(a, Tensor) and a.requires_grad else None for a in args)
        edges += tuple(t if isinstance(t, Node) else (t.grad_fn or t) for t in extra)
        xp = backend.array_module(tensor_outs[0]._data)
        out_meta = tuple((o._data.shape, o._data.dtype) for o in tensor_outs)
        saved = (function, tuple(args), kwargs, rng, len(args), tuple(extra), reentrant, out_meta, xp)
        differentiable = [o._data.dtype.kind == 'f' for o in tensor_outs]
        node_cls = CheckpointMultiBackward if len(tensor_outs) > 1 else CheckpointBackward
        node = attach(tensor_outs, node_cls, edges, saved, differentiable)
        # recomputation reads the inputs again: an in-place change to one before backward raises
        node.versions = [(a._vc, a._vc[0]) for a in args if isinstance(a, Tensor)]
    return cut[0] if single else tuple(cut)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, preserve_rng_state=True):  # noqa: A002
    """Run ``functions`` (a list of callables or a sequential module) in order on
    ``input``, checkpointing ``segments`` chunks of them; the last chunk runs normally."""
    if hasattr(functions, 'children') and callable(functions.children):
        functions = list(functions.children())
    else:
        functions = list(functions)
    segments = int(segments)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")
    n = len(functions)
    size = max(n // segments, 1)

    def run(fs):
        def f(x):
            for fn in fs:
                x = fn(x)
            return x
        return f
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = min(start + size, n)
        if start >= n:
            break
        input = checkpoint(run(functions[start:end]), input, use_reentrant=use_reentrant,  # noqa: A001
                           preserve_rng_state=preserve_rng_state)
    return run(functions[end:])(input)

