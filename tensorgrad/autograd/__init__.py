"""Autograd: graph nodes, the backward engine, grad mode, ``grad`` and custom Functions."""
from .engine import run_backward, topological_order, unbroadcast  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .node import MultiOutputNode, Node, OutputRef  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` w.r.t. ``inputs`` as a tuple of tensors,
    without touching any ``.grad``. ``grad_outputs`` default to ones.
    Higher-order gradients (``create_graph=True``) are not supported."""
    if create_graph:
        raise NotImplementedError("grad: create_graph=True (higher-order gradients) is not supported")
    import numpy as np  # noqa: PLC0415
    from .. import backend  # noqa: PLC0415
    from .._tensor import Tensor  # noqa: PLC0415
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError("grad: an output does not require grad")
        if g is None:
            xp = backend.array_module(out._data)
            seeds.append(xp.ones(out._data.shape, dtype=out._data.dtype))
        else:
            gd = g._data if isinstance(g, Tensor) else backend.move(np.asarray(g, dtype=out._data.dtype), out.device)
            if gd.shape != out._data.shape:
                raise RuntimeError(f"grad: grad_output of shape {gd.shape} does not match output of shape "
                                   f"{out._data.shape}")
            seeds.append(gd)
    keys = []
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: an input does not require grad")
        keys.append(t.grad_fn if t.grad_fn is not None else t)
    capture = dict.fromkeys(keys)
    run_backward(outputs, seeds, retain_graph=bool(retain_graph), capture=capture)
    result = []
    for t, k in zip(inputs, keys):
        g = capture[k]
        if g is None and not allow_unused:
            raise RuntimeError("grad: one of the inputs was not used to compute the outputs "
                               "(pass allow_unused=True to get None for it)")
        result.append(None if g is None else Tensor._wrap(g))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=False):
    """``tensors[i].backward(grad_tensors[i])`` for all, in one pass."""
    from .._tensor import Tensor  # noqa: PLC0415
    from .. import backend  # noqa: PLC0415
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    seeds = [backend.array_module(t._data).ones(t._data.shape, dtype=t._data.dtype) if g is None
             else (g._data if isinstance(g, Tensor) else g) for t, g in zip(tensors, grad_tensors)]
    run_backward(tensors, seeds, retain_graph=retain_graph)


def accumulate_into(roots, seeds, inputs, retain_graph):
    """Backward from ``roots`` (with gradient arrays ``seeds``), adding the
    gradients only to the ``.grad`` of ``inputs`` (``Tensor.backward(inputs=...)``)."""
    from .._tensor import Tensor  # noqa: PLC0415
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("backward: a tensor in inputs does not require grad")
    keys = [t.grad_fn if t.grad_fn is not None else t for t in inputs]
    capture = run_backward(roots, seeds, retain_graph=retain_graph, capture=dict.fromkeys(keys))
    for t, k in zip(inputs, keys):
        g = capture[k]
        if g is not None:
            t._grad = Tensor._wrap(g.copy()) if t._grad is None else Tensor._wrap(t._grad._data + g)
