"""Graph nodes: one per recorded op, holding what its backward needs.

A node's ``next`` holds one edge per input of the op: the input's own node
(for a computed tensor), the input tensor itself (for a leaf that requires
grad) or None (for an input that needs no gradient). Edges point at nodes,
not at intermediate tensors, so an intermediate's array is freed as soon as
no node saved it.
"""

import numpy as np

RELEASED = object()  # marks ``saved`` of a node whose buffers were freed by backward


_TENSOR = [None]  # the Tensor class, bound on first use (tensorgrad._tensor imports this module)


def _tensor_cls():
    t = _TENSOR[0]
    if t is None:
        from .._tensor import Tensor  # noqa: PLC0415
        t = _TENSOR[0] = Tensor
    return t


class Node:
    """Base class of the backward function of one recorded op.

    Subclasses implement ``backward(grad) -> tuple`` with one gradient array
    (or None) per edge in ``next``; a gradient may have a broadcast shape,
    the engine sums it back to the input's shape.

    Second and higher order (``create_graph=True``): a subclass also defines
    ``backward_graph(grad) -> tuple``, the same rule written with Tensor ops on
    the Tensor ``grad``, so that the engine records it. ``self.input(i, arr)``
    and ``self.output(arr)`` turn saved arrays back into tensors connected to
    the graph. A node without ``backward_graph`` still gives correct first-order
    gradients under ``create_graph``; differentiating them again raises.
    """
    __slots__ = ('next', 'saved', 'versions', 'shape', 'hooks', 'retained', '__weakref__')
    # False for nodes whose ``saved`` is only metadata (shapes, axes): nothing to
    # free, so a second backward through them works without retain_graph, as in PyTorch
    saves_arrays = True
    backward_graph = None

    def backward(self, grad):
        """Gradients w.r.t. the op's inputs (one array or None per edge) given ``grad``,
        the gradient w.r.t. its output."""
        raise NotImplementedError

    def input(self, i, value):
        """Input ``i`` of the op as a tensor with the saved array ``value``, connected
        to the graph through edge ``i`` (for ``backward_graph``): the leaf itself, a
        tensor produced by the edge's node, or a constant. Non-arrays pass through."""
        if not hasattr(value, 'shape') or not hasattr(value, 'dtype'):
            return value
        if isinstance(value, np.generic):  # NumPy ufuncs return scalars for 0-d arrays
            value = np.asarray(value)
        edge = self.next[i] if i < len(self.next) else None
        tensor_cls = _tensor_cls()
        if edge is None:
            return tensor_cls._wrap(value)
        if isinstance(edge, Node):
            t = tensor_cls._wrap(value, True)
            t.grad_fn = edge
            return t
        return edge

    def output(self, value):
        """The op's output as a tensor with the saved array ``value`` whose ``grad_fn``
        is this node, so a rule that reuses the output differentiates through it."""
        if isinstance(value, np.generic):  # NumPy ufuncs return scalars for 0-d arrays
            value = np.asarray(value)
        t = _tensor_cls()._wrap(value, True)
        t.grad_fn = self
        return t

    @property
    def name(self):
        """Name of the op, as shown in errors and graph renderings."""
        n = type(self).__name__
        return n[:-8] if n.endswith('Backward') else n

    @property
    def next_functions(self):
        """The edges of this node (nodes, leaf tensors or None), PyTorch's name for them."""
        return self.next

    def release(self):
        """Free what backward needed; a later backward through this node raises."""
        if self.saved is not None and self.saves_arrays:
            self.saved = RELEASED

    def __repr__(self):
        return f'<{type(self).__name__}>'


class MultiOutputNode(Node):
    """A node whose op returned several tensors; ``backward`` receives one
    gradient per output (None for outputs that received none)."""
    __slots__ = ('n_outputs', 'output_shapes', 'output_dtypes')


class OutputRef(Node):
    """The ``grad_fn`` of output ``index`` of a MultiOutputNode; the engine
    routes its gradient into the parent's slot."""
    __slots__ = ('index',)

    @property
    def name(self):
        return f'{self.next[0].name}[{self.index}]'
