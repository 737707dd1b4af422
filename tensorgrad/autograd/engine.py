"""Reverse-mode engine: topological traversal of the recorded graph,
gradient accumulation, hooks, and freeing of saved buffers."""
import numpy as np

from .node import RELEASED, Node, OutputRef

_ndarray = np.ndarray


class SliceGrad:
    """A gradient that is 0 except for ``g`` at the basic index ``index`` of an array
    of ``shape``: what a slice's backward returns. The engine adds the pieces of one
    tensor (``split``, ``chunk``, ``x[:, :C]`` ...) into a single buffer instead of
    materialising a full zero array for each and adding those (measured, a (16, 64, 384)
    float32 tensor split in three: 3 zero arrays and 2 full adds become 1 and 3 slice adds)."""
    __slots__ = ('shape', 'index', 'g')

    def __init__(self, shape, index, g):
        self.shape, self.index, self.g = shape, index, g

    def dense(self):
        """The gradient as an array."""
        g = self.g
        out = (np if g.__class__ is _ndarray else _array_module(g)).zeros(self.shape, dtype=g.dtype)
        out[self.index] = g
        return out


def _array_module(a):
    from .. import backend  # noqa: PLC0415 - the backend module imports the tensor module
    return backend.array_module(a)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the one place where broadcasting's
    gradient rule lives (every op may return broadcast-shaped gradients)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        return grad.reshape(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    elif grad.shape != shape:
        raise RuntimeError(f"backward: gradient of shape {grad.shape} cannot be summed to shape {shape}")
    return grad


def topological_order(roots):
    """Nodes and leaf tensors reachable from ``roots``, each after all of its consumers."""
    seen = set()
    post = []
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        if not isinstance(root, Node):
            post.append(root)
            continue
        stack = [(root, iter(root.next))]
        while stack:
            node, it = stack[-1]
            for child in it:
                if child is not None and child not in seen:
                    seen.add(child)
                    if isinstance(child, Node):
                        stack.append((child, iter(child.next)))
                    else:
                        post.append(child)
                    break
            else:
                stack.pop()
                post.append(node)
    post.reverse()
    return post


def _check_versions(node):
    for counter, version in node.versions:
        if counter[0] != version:
            raise RuntimeError(
                f"backward: a tensor needed by {node.name} was modified by an in-place operation "
                f"after it was used (saved at version {version}, now version {counter[0]}); "
                f"clone it before modifying it in place")


def _add(a, b):
    """``a + b`` as an array: NumPy returns a scalar for two 0-d arrays, and a
    scalar cannot be accumulated into in place later."""
    s = a + b
    if s.__class__ is not _ndarray and isinstance(s, np.generic):
        s = np.asarray(s)
    return s


def _merge(buffers, owned, key, grad):
    """Accumulate ``grad`` for ``key``; the first merge copies, so arrays that
    may be shared with other edges are never written in place."""
    prev = buffers.get(key)
    if prev is None:
        buffers[key] = grad
    elif grad.__class__ is SliceGrad or prev.__class__ is SliceGrad:
        _merge_slices(buffers, owned, key, prev, grad)
    elif key in owned:
        try:
            prev += grad
        except (ValueError, TypeError):  # broadcast-shaped or differently typed: out of place
            buffers[key] = _add(prev, grad)
    else:
        buffers[key] = _add(prev, grad)
        owned.add(key)


def _merge_slices(buffers, owned, key, prev, grad):
    """``_merge`` where either side is a ``SliceGrad``: into one owned dense buffer."""
    if prev.__class__ is SliceGrad:
        prev = prev.dense()
    elif key not in owned:
        prev = prev.copy()
    try:
        if grad.__class__ is SliceGrad:
            prev[grad.index] += grad.g
        else:
            prev += grad
    except (ValueError, TypeError):  # broadcast-shaped or differently typed: out of place
        prev = _add(prev, grad.dense() if grad.__class__ is SliceGrad else grad)
    buffers[key] = prev
    owned.add(key)


def _merge_slot(buffers, parent, index, grad):
    slots = buffers.get(parent)
    if slots is None:
        slots = buffers[parent] = [None] * parent.n_outputs
    slots[index] = grad if slots[index] is None else _add(slots[index], grad)


_TENSOR = [None]  # the Tensor class, bound on first use (tensorgrad._tensor imports this module)


def run_backward(roots, grads, retain_graph=False, capture=None):
    """Propagate ``grads`` (arrays) from the tensors ``roots`` through the graph.

    Without ``capture`` gradients accumulate into the ``.grad`` of leaves.
    With ``capture`` (a dict mapping a node or leaf tensor to None) the
    gradients arriving at those keys are stored there instead and no
    ``.grad`` is touched (``autograd.grad``).
    """
    Tensor = _TENSOR[0]
    if Tensor is None:
        from .._tensor import Tensor  # noqa: PLC0415 - the tensor module imports this one
        _TENSOR[0] = Tensor
    buffers = {}
    owned = set()
    # ids of arrays a leaf's .grad must not take as is: the caller's seeds, and arrays
    # already handed to another leaf in this pass
    given = set(map(id, grads))
    starts = []
    for root, g in zip(roots, grads):
        key = root.grad_fn if root.grad_fn is not None else root
        _merge(buffers, owned, key, g)
        starts.append(key)

    for item in topological_order(starts):
        grad = buffers.pop(item, None)
        if grad is None:
            continue
        if grad.__class__ is SliceGrad:
            grad = grad.dense()
        if not isinstance(item, Node):  # a leaf tensor
            if item._hooks:
                grad = _run_hooks(item._hooks, grad, Tensor)
            if capture is not None:
                if item in capture:
                    capture[item] = grad
                continue
            if item._grad is None:
                # a view of, or the very array given to, another leaf is copied, so that
                # editing one .grad in place never changes another
                if item not in owned and (grad.base is not None or id(grad) in given):
                    grad = grad.copy()
                given.add(id(grad))
                item._grad = Tensor._wrap(grad)
            else:
                item._grad._data = _add(item._grad._data, grad)
            continue
        node = item
        if node.hooks:
            grad = _run_hooks(node.hooks, grad, Tensor)
        if node.retained is not None:
            t = node.retained()
            if t is not None:
                t._grad = Tensor._wrap(grad.copy()) if t._grad is None else Tensor._wrap(_add(t._grad._data, grad))
        if capture is not None and node in capture:
            capture[node] = grad
        if isinstance(node, OutputRef):
            _merge_slot(buffers, node.next[0], node.index, grad)
            continue
        if node.saved is RELEASED:
            raise RuntimeError(
                f"backward: trying to backward through {node.name} a second time, but its saved "
                f"buffers were freed by the first backward; pass retain_graph=True to the first call")
        if node.versions is not None:
            _check_versions(node)
        in_grads = node.backward(grad)
        if not retain_graph:
            node.release()
        for edge, g in zip(node.next, in_grads):
            if edge is None or g is None:
                continue
            if g.__class__ is not _ndarray and isinstance(g, np.generic):
                g = np.asarray(g)  # NumPy turns 0-d results into scalars
            shape = edge.shape if isinstance(edge, Node) else edge._data.shape
            if g.shape != shape:
                g = unbroadcast(g, shape)
            _merge(buffers, owned, edge, g)
    return capture


def _hook_size_error(hook, got, want):
    return RuntimeError(f"backward: hook '{getattr(hook, '__name__', hook)}' has changed the size of value: "
                        f"it returned shape {tuple(got)} for a gradient of shape {tuple(want)}")


def _run_hooks(hooks, grad, tensor_cls):
    for hook in hooks:
        out = hook(tensor_cls._wrap(grad))
        if out is not None:
            if isinstance(out, tensor_cls):
                out = out._data
            elif not hasattr(out, 'shape'):
                out = np.asarray(out, dtype=grad.dtype)
            if out.shape != grad.shape:
                raise _hook_size_error(hook, out.shape, grad.shape)
            if out.dtype != grad.dtype:  # a hook must not change the gradient's dtype
                out = out.astype(grad.dtype)
            grad = out
    return grad


# ---------------------------------------------------------------------- create_graph=True
class NotTwiceDifferentiableBackward(Node):
    """Stands for the gradient computed by an op that has no ``backward_graph``:
    its value is right, differentiating it again raises."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, grad):
        raise RuntimeError(f"backward: {self.saved} does not support higher-order gradients "
                           f"(its gradient was computed under create_graph=True but cannot be "
                           f"differentiated again)")


def unbroadcast_tensor(grad, shape):
    """``unbroadcast`` for a gradient Tensor, with recorded ops (create_graph)."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    extra = len(gshape) - len(shape)
    if extra < 0:
        return grad.reshape(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1)
    if axes:
        grad = grad.sum(axes, keepdim=True)
    return grad.reshape(shape) if grad._data.shape != shape else grad


def _graph_grads(node, grad, tensor_cls):
    """The node's input gradients as tensors: its ``backward_graph`` when it has
    one, else its array gradients marked as not differentiable again."""
    if node.backward_graph is not None:
        return node.backward_graph(grad)
    if isinstance(grad, list):
        arrays = node.backward([None if g is None else g._data for g in grad])
    else:
        arrays = node.backward(grad._data)
    return [None if g is None else not_twice_differentiable(g, node.name) for g in arrays]


def not_twice_differentiable(array, name):
    """The gradient ``array`` computed by op ``name`` under create_graph, as a Tensor whose
    own backward raises (the op has no higher-order rule)."""
    from .._tensor import Tensor  # noqa: PLC0415 - the tensor module imports this one
    if array.__class__ is not _ndarray and isinstance(array, np.generic):
        array = np.asarray(array)
    t = Tensor._wrap(array, True)
    stub = NotTwiceDifferentiableBackward.__new__(NotTwiceDifferentiableBackward)
    stub.next, stub.saved, stub.versions, stub.shape = (), name, None, array.shape
    stub.hooks = stub.retained = None
    t.grad_fn = stub
    return t


def _add_tensors(buffers, key, grad):
    prev = buffers.get(key)
    buffers[key] = grad if prev is None else prev + grad


def run_backward_graph(roots, grads, capture=None):
    """``run_backward`` for ``create_graph=True``: ``grads`` are Tensors and every
    gradient is computed with recorded Tensor ops, so the results can be
    differentiated again. The graph is always retained."""
    from .._tensor import Tensor  # noqa: PLC0415
    from .grad_mode import enable_grad  # noqa: PLC0415
    buffers = {}
    starts = []
    with enable_grad():
        for root, g in zip(roots, grads):
            key = root.grad_fn if root.grad_fn is not None else root
            _add_tensors(buffers, key, g)
            starts.append(key)
        for item in topological_order(starts):
            grad = buffers.pop(item, None)
            if grad is None:
                continue
            if not isinstance(item, Node):  # a leaf tensor
                if item._hooks:
                    grad = _run_graph_hooks(item._hooks, grad, Tensor)
                if capture is not None:
                    if item in capture:
                        capture[item] = grad
                    continue
                item._grad = grad if item._grad is None else item._grad + grad
                continue
            node = item
            if node.hooks:
                grad = _run_graph_hooks(node.hooks, grad, Tensor)
            if node.retained is not None:
                t = node.retained()
                if t is not None:
                    t._grad = grad if t._grad is None else t._grad + grad
            if capture is not None and node in capture:
                capture[node] = grad
            if isinstance(node, OutputRef):
                parent = node.next[0]
                slots = buffers.get(parent)
                if slots is None:
                    slots = buffers[parent] = [None] * parent.n_outputs
                slots[node.index] = grad if slots[node.index] is None else slots[node.index] + grad
                continue
            if node.saved is RELEASED:
                raise RuntimeError(
                    f"backward: trying to backward through {node.name} a second time, but its saved "
                    f"buffers were freed by the first backward; pass retain_graph=True to the first call")
            if node.versions is not None:
                _check_versions(node)
            for edge, g in zip(node.next, _graph_grads(node, grad, Tensor)):
                if edge is None or g is None:
                    continue
                shape = edge.shape if isinstance(edge, Node) else edge._data.shape
                if g._data.shape != shape:
                    g = unbroadcast_tensor(g, shape)
                _add_tensors(buffers, edge, g)
    return capture


def _run_graph_hooks(hooks, grad, tensor_cls):
    for hook in hooks:
        out = hook(grad)
        if out is not None:
            if not isinstance(out, tensor_cls):
                out = tensor_cls._wrap(np.asarray(out, dtype=grad._data.dtype))
            if out._data.shape != grad._data.shape:
                raise _hook_size_error(hook, out._data.shape, grad._data.shape)
            grad = out
    return grad
