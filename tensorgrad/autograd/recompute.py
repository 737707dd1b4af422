"""Second-order rules by recomputation, for fused ops whose first-order backward
is a hand-written array kernel (the RNN time loops, checkpointing).

Under ``create_graph=True`` such a node's ``backward_graph`` re-runs its
forward with differentiable tensor ops on *stand-ins* of its inputs and
differentiates that with create_graph. A stand-in carries the input's saved
array and a ``RelayBackward`` node that is cut (no edge) while the inner pass
runs, so the pass stops at the op's boundary; afterwards each relay leads to
the op's input edge, so the returned gradients are differentiable with
respect to the op's inputs (and to the upstream gradients) to any order.
"""
from .engine import run_backward_graph
from .grad_mode import enable_grad
from .multi import init_node
from .node import Node

_new = object.__new__


class RelayBackward(Node):
    """Identity between a recomputation's stand-in and the input edge it stands for
    (kept in ``saved``; ``next`` is empty until the inner pass has run)."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, grad):
        return (grad,)

    def backward_graph(self, grad):
        return (grad,)


def stand_ins(values, edges):
    """One tensor per input for a recomputation: ``values[i]`` is input i's saved
    array (non-arrays pass through), ``edges[i]`` its graph edge; an input without
    edge becomes a constant."""
    from .._tensor import Tensor  # noqa: PLC0415 - the tensor module imports autograd
    out = []
    for value, edge in zip(values, edges):
        if not hasattr(value, 'shape') or not hasattr(value, 'dtype'):
            out.append(value)
        elif edge is None:
            out.append(Tensor._wrap(value))
        else:
            t = Tensor._wrap(value, True)
            t.grad_fn = init_node(_new(RelayBackward), (None,), edge, value.shape)
            out.append(t)
    return out


def backward_to(stand, outputs, grads, extra=()):
    """The create_graph backward of ``outputs`` (seeded with the Tensors ``grads``; a
    None seed skips its output) into the stand-ins ``stand`` and the graph keys
    ``extra`` (leaf tensors or nodes the recomputation read directly, captured
    there). Returns (one gradient Tensor or None per stand-in, one per extra key)."""
    from .._tensor import Tensor  # noqa: PLC0415
    relays = [t.grad_fn if isinstance(t, Tensor) and isinstance(t.grad_fn, RelayBackward) else None
              for t in stand]
    roots, seeds = [], []
    for o, g in zip(outputs, grads):
        if g is not None and isinstance(o, Tensor) and o.requires_grad:
            roots.append(o)
            seeds.append(g)
    capture = dict.fromkeys([r for r in relays if r is not None])
    capture.update(dict.fromkeys(extra))
    try:
        if roots:
            with enable_grad():
                run_backward_graph(roots, seeds, capture=capture)
    finally:
        for r in relays:
            if r is not None:
                r.next = (r.saved,)
    return ([None if r is None else capture[r] for r in relays], [capture[k] for k in extra])
