"""Graph nodes: one per recorded op, holding what its backward needs.

A node's ``next`` holds one edge per input of the op: the input's own node
(for a computed tensor), the input tensor itself (for a leaf that requires
grad) or None (for an input that needs no gradient). Edges point at nodes,
not at intermediate tensors, so an intermediate's array is freed as soon as
no node saved it.
"""

RELEASED = object()  # marks ``saved`` of a node whose buffers were freed by backward


class Node:
    """Base class of the backward function of one recorded op.

    Subclasses implement ``backward(grad) -> tuple`` with one gradient array
    (or None) per edge in ``next``; a gradient may have a broadcast shape,
    the engine sums it back to the input's shape.
    """
    __slots__ = ('next', 'saved', 'versions', 'shape', 'hooks', 'retained', '__weakref__')
    # False for nodes whose ``saved`` is only metadata (shapes, axes): nothing to
    # free, so a second backward through them works without retain_graph, as in PyTorch
    saves_arrays = True

    def backward(self, grad):
        """Gradients w.r.t. the op's inputs (one array or None per edge) given ``grad``,
        the gradient w.r.t. its output."""
        raise NotImplementedError

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
