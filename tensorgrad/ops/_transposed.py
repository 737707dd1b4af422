"""Second-order support for ops that are linear in their input (getitem, gather,
embedding, strided views ...): their gradient is a linear map of the upstream
gradient, and the gradient of that map is the op itself again.

An op's ``backward_graph`` records its array gradient as a ``TransposedNode``
of the Tensor ``g`` (``record``); the node's ``apply(gg)`` is the op written
with Tensor ops. ``apply`` is the node's only rule: on a constant tensor it is
the first-order backward, on a recorded one the higher-order rule.
"""
from .._tensor import Tensor, track
from ..autograd.engine import not_twice_differentiable as _not_twice
from ..autograd.node import Node


class TransposedNode(Node):
    """Node of the gradient of a linear op. Subclasses define ``apply(gg)``: the
    op itself, on the Tensor ``gg``, with the node's ``saved`` metadata."""
    __slots__ = ()

    def apply(self, gg):
        """The op (the transpose of its gradient map) applied to the Tensor ``gg``."""
        raise NotImplementedError

    def backward(self, g):
        return (self.apply(Tensor._wrap(g))._data,)

    def backward_graph(self, g):
        return (self.apply(g),)


def record(value, node_cls, g, saved):
    """The array gradient ``value`` (a linear map of the Tensor ``g``) as a Tensor
    whose ``grad_fn`` is a ``node_cls`` holding ``saved``."""
    return track(value, node_cls, (g,), saved)


def not_twice_differentiable(node, grads):
    """``grads`` (arrays, one per edge, or None) as tensors whose second backward
    raises naming ``node``'s op: for a rule with no higher-order form."""
    return tuple(None if a is None else _not_twice(a, node.name) for a in grads)
