"""Recording ops with several outputs: one MultiOutputNode holds the backward,
each output tensor gets an OutputRef (its ``grad_fn``) pointing at it.

``track_multi`` is the multi-output twin of ``tensorgrad._tensor.track``;
``attach_multi`` does the graph part for outputs that are already tensors
(custom Functions, checkpoint).

Under ``create_graph=True`` a MultiOutputNode's ``backward_graph(grads)``
receives a list with one gradient Tensor (or None) per output, like
``backward``; ``output_tensor`` is its twin of ``Node.output``.
"""
from .grad_mode import GRAD_MODE
from .node import OutputRef

_new = object.__new__


def init_node(node, next_edges, saved, shape):
    """Set every slot of a freshly allocated Node, as ``track()`` does; returns it."""
    node.next = next_edges
    node.saved = saved
    node.versions = None
    node.shape = shape
    node.hooks = None
    node.retained = None
    return node


def attach_multi(outputs, node_cls, next_edges, saved, differentiable=None):
    """Make the tensors ``outputs`` the outputs of one new ``node_cls`` node (a
    MultiOutputNode) with edges ``next_edges``; returns the node.
    ``differentiable[i]`` False leaves output i outside the graph."""
    node = init_node(_new(node_cls), next_edges, saved, None)
    node.n_outputs = len(outputs)
    node.output_shapes = tuple(o._data.shape for o in outputs)
    node.output_dtypes = tuple(o._data.dtype for o in outputs)
    for i, o in enumerate(outputs):
        if differentiable is not None and not differentiable[i]:
            continue
        ref = init_node(_new(OutputRef), (node,), None, o._data.shape)
        ref.index = i
        o.grad_fn = ref
        o._rg = True
    return node


def output_tensor(node, index, value):
    """Output ``index`` of the MultiOutputNode ``node`` as a tensor with the saved
    array ``value``, connected to ``node`` through a new OutputRef: for a
    ``backward_graph`` that reuses an output (``Node.output`` for one output)."""
    from .._tensor import Tensor  # noqa: PLC0415 - the tensor module imports autograd
    ref = init_node(_new(OutputRef), (node,), None, value.shape)
    ref.index = index
    t = Tensor._wrap(value, True)
    t.grad_fn = ref
    return t


def track_multi(datas, node_cls, inputs, saved=None, check=None, check_outs=()):
    """Wrap the arrays ``datas`` (the results of one op) in Tensors and, when grad
    mode is on and an input requires grad, record one ``node_cls`` node (a
    MultiOutputNode) for all of them.

    ``inputs``: the op's tensor inputs (None for constants), one edge each.
    ``saved``: what ``backward`` needs. ``check``: input tensors whose data
    ``saved`` holds; ``check_outs``: indices of outputs whose arrays ``saved``
    holds (an in-place change to either before backward raises).
    Returns (tuple of output tensors, the node or None).
    """
    from .._tensor import Tensor  # noqa: PLC0415 - the tensor module imports autograd
    outs = tuple(Tensor._wrap(a) for a in datas)
    if not GRAD_MODE.enabled:
        return outs, None
    for t in inputs:
        if t is not None and t._rg:
            break
    else:
        return outs, None
    edges = tuple(None if t is None or not t._rg else (t.grad_fn or t) for t in inputs)
    node = attach_multi(outs, node_cls, edges, saved)
    if check is not None or check_outs:
        versions = [(t._vc, t._vc[0]) for t in check] if check is not None else []
        versions += [(outs[i]._vc, outs[i]._vc[0]) for i in check_outs]
        node.versions = versions
    return outs, node
