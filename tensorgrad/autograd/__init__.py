"""Autograd: graph nodes, the backward engine, grad mode, ``grad`` and custom Functions."""
from .engine import run_backward, run_backward_graph, topological_order, unbroadcast  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .node import MultiOutputNode, Node, OutputRef  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from . import functional  # noqa: F401,E402 - tensorgrad.autograd.functional (vjp, jvp, hessian ...)


def _seeds(outputs, grad_outputs, op, as_tensors):
    """One seed per output: ones, or the given gradient checked against the output's
    shape (arrays for a first-order pass, tensors for create_graph)."""
    import numpy as np  # noqa: PLC0415
    from .. import backend  # noqa: PLC0415
    from .._tensor import Tensor  # noqa: PLC0415
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(f"{op}: an output does not require grad and has no grad_fn")
        if g is None:
            gd = backend.array_module(out._data).ones(out._data.shape, dtype=out._data.dtype)
            seeds.append(Tensor._wrap(gd) if as_tensors else gd)
            continue
        gt = g if isinstance(g, Tensor) else Tensor._wrap(
            backend.move(np.asarray(g, dtype=out._data.dtype), out.device))
        if gt._data.shape != out._data.shape:
            raise RuntimeError(f"{op}: grad_output of shape {tuple(gt._data.shape)} does not match output of "
                               f"shape {tuple(out._data.shape)}")
        if gt._data.dtype != out._data.dtype:
            gt = gt.to(out._data.dtype) if as_tensors else Tensor._wrap(gt._data.astype(out._data.dtype))
        seeds.append(gt if as_tensors else gt._data)
    return seeds


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs`` as a tuple of tensors,
    without touching any ``.grad``. ``grad_outputs`` default to ones.
    ``create_graph=True`` records the computation, so the returned gradients
    can be differentiated again (``retain_graph`` then defaults to True);
    ``materialize_grads`` gives zeros instead of None for unused inputs."""
    from .._tensor import Tensor  # noqa: PLC0415
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    seeds = _seeds(outputs, grad_outputs, 'grad', create_graph)
    keys = []
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: an input does not require grad")
        keys.append(t.grad_fn if t.grad_fn is not None else t)
    capture = dict.fromkeys(keys)
    if create_graph:
        run_backward_graph(outputs, seeds, capture=capture)
    else:
        run_backward(outputs, seeds, retain_graph=bool(retain_graph), capture=capture)
    result = []
    for t, k in zip(inputs, keys):
        g = capture[k]
        if g is None:
            if not allow_unused:
                raise RuntimeError("grad: one of the inputs was not used to compute the outputs "
                                   "(pass allow_unused=True to get None for it)")
            if materialize_grads:
                g = backend_zeros(t)
        elif not create_graph:
            g = Tensor._wrap(g)
        result.append(g)
    return tuple(result)


def backend_zeros(t):
    """Zeros shaped and typed like tensor ``t`` (a materialised unused gradient)."""
    from .. import backend  # noqa: PLC0415
    from .._tensor import Tensor  # noqa: PLC0415
    return Tensor._wrap(backend.array_module(t._data).zeros(t._data.shape, dtype=t._data.dtype))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``tensors[i].backward(grad_tensors[i])`` for all, in one pass; ``create_graph``
    records it (see ``grad``), ``inputs`` limits which leaves accumulate."""
    from .._tensor import Tensor  # noqa: PLC0415
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    seeds = _seeds(tensors, grad_tensors, 'backward', create_graph)
    if inputs is not None:
        accumulate_into(tensors, seeds, inputs, bool(retain_graph), create_graph)
        return
    if create_graph:
        run_backward_graph(tensors, seeds)
    else:
        run_backward(tensors, seeds, retain_graph=bool(retain_graph))


def accumulate_into(roots, seeds, inputs, retain_graph, create_graph=False):
    """Backward from ``roots`` (with gradient arrays ``seeds``, tensors under
    ``create_graph``), adding the gradients only to the ``.grad`` of ``inputs``
    (``Tensor.backward(inputs=...)``)."""
    from .._tensor import Tensor  # noqa: PLC0415
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("backward: a tensor in inputs does not require grad")
    keys = [t.grad_fn if t.grad_fn is not None else t for t in inputs]
    if create_graph:
        capture = run_backward_graph(roots, seeds, capture=dict.fromkeys(keys))
        for t, k in zip(inputs, keys):
            g = capture[k]
            if g is not None:
                t._grad = g if t._grad is None else t._grad + g
        return
    capture = run_backward(roots, seeds, retain_graph=retain_graph, capture=dict.fromkeys(keys))
    for t, k in zip(inputs, keys):
        g = capture[k]
        if g is not None:
            t._grad = Tensor._wrap(g.copy()) if t._grad is None else Tensor._wrap(t._grad._data + g)
