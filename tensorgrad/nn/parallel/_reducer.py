"""The gradient reducer of ``DistributedDataParallel``: parameters in buckets,
each bucket averaged over the ranks with one all-reduce as soon as all of its
gradients exist.

How it hooks into backward (no change to the autograd engine): every
parameter gets a ``register_hook`` hook, which the engine calls with the
parameter's gradient of this backward pass just before accumulating it into
``.grad``. The hook copies ``.grad + grad`` (the local accumulated gradient,
as PyTorch reduces it) into the parameter's slot of its bucket's flat buffer.
When a bucket is complete, and every bucket before it has been reduced, it is
all-reduced (``ReduceOp.AVG``) and the averages are written back: into the
``.grad`` of the bucket's other parameters (already accumulated by the
engine), and, for the parameter whose hook is running, returned as its
gradient after clearing its ``.grad`` (so that the engine stores it as is).

Buckets hold parameters in reverse registration order (roughly the order in
which backward produces their gradients), split by device and dtype, capped at
``bucket_cap_mb`` (default 25, the first bucket then 1 MiB), as in PyTorch; they
are reduced strictly in bucket order, so every rank issues the same sequence
of collectives whatever order its hooks fire in. One blocking all-reduce per
bucket: on CPU MPI's non-blocking all-reduce gave no overlap (measured), and
NCCL calls return at once anyway (they queue on the CUDA stream).
"""
import time
import weakref

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...autograd.engine import topological_order
from ...distributed import ReduceOp
from ...distributed.collectives import _all_reduce_array

FIRST_BUCKET_BYTES = 1 << 20

UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`tensorgrad.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
    "participate in calculating loss. Parameters that did not receive a gradient on rank {rank}: {names}")


class _Bucket:
    __slots__ = ('indices', 'offsets', 'numel', 'nbytes', 'cap', 'flat', 'pending', 'key')

    def __init__(self, key, cap):
        self.key, self.cap = key, cap
        self.indices, self.offsets = [], []
        self.numel = self.nbytes = 0
        self.flat = None
        self.pending = 0


def _tensors_in(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _tensors_in(x, out)
    elif isinstance(obj, dict):
        for x in obj.values():
            _tensors_in(x, out)
    return out


class Reducer:
    """Buckets, hooks and per-backward bookkeeping for one DDP module."""

    def __init__(self, params, names, group, bucket_cap_bytes, find_unused, first_bucket_bytes=None):
        self.params, self.names, self.group = params, names, group
        self.find_unused = find_unused
        self.world = group.size()
        self.rank = group.rank()
        self.buckets = []
        self.where = [None] * len(params)
        filling = {}
        for i in reversed(range(len(params))):
            arr = params[i]._data
            key = (type(arr), arr.dtype)
            b = filling.get(key)
            if b is None:
                first = first_bucket_bytes is not None and not any(x.key == key for x in self.buckets)
                cap = first_bucket_bytes if first else bucket_cap_bytes
                b = filling[key] = _Bucket(key, cap)
                self.buckets.append(b)
            self.where[i] = (b, b.numel)
            b.indices.append(i)
            b.offsets.append(b.numel)
            b.numel += arr.size
            b.nbytes += arr.nbytes
            if b.nbytes >= b.cap:
                del filling[key]
        for b in self.buckets:
            xp = backend.array_module(params[b.indices[0]]._data)
            b.flat = xp.zeros(b.numel, dtype=b.key[1])
        self.active = False
        self.started = False
        self.ready = [False] * len(params)
        self.local_used = np.zeros(len(params), dtype=np.uint8)
        self.unused = []
        self.unused_marked = True
        self.deferred = []
        self.next_bucket = 0
        self.current = None
        self.current_value = None
        self.comm_seconds = 0.0  # time spent in all-reduce calls (for the benchmark's communication share)
        ref = weakref.ref(self)
        self.handles = [p.register_hook(_make_hook(ref, i)) for i, p in enumerate(params)]

    def remove_hooks(self):
        """Unregister the parameter hooks."""
        for h in self.handles:
            h.remove()
        self.handles = []

    # -------------------------------------------------------------- per forward
    def prepare(self):
        """Start a new round (called by forward when grad sync is on); raises if
        the previous backward left buckets unreduced."""
        if self.active and self.started:
            missing = [self.names[i] for i, r in enumerate(self.ready) if not r]
            raise RuntimeError(UNFINISHED.format(rank=self.rank, names=', '.join(missing)))
        self.active = True
        self.started = False
        self.ready = [False] * len(self.params)
        self.local_used[:] = 0
        self.deferred = []
        self.next_bucket = 0
        for b in self.buckets:
            b.pending = len(b.indices)
        self.unused, self.unused_marked = [], True

    def find_unused_parameters(self, outputs):
        """Mark the parameters that the graph of ``outputs`` does not reach as
        unused: they count as ready at the first hook of the backward pass."""
        roots = [t.grad_fn if t.grad_fn is not None else t for t in _tensors_in(outputs, []) if t.requires_grad]
        reached = {id(x) for x in topological_order(roots) if isinstance(x, Tensor)}
        self.unused = [i for i, p in enumerate(self.params) if id(p) not in reached]
        self.unused_marked = not self.unused

    # -------------------------------------------------------------- per gradient
    def hook(self, i, grad):
        """The hook of parameter ``i``: record its gradient; reduce what is complete."""
        if not self.active:
            return None
        if self.ready[i]:
            raise RuntimeError(f"DistributedDataParallel: parameter {self.names[i]} received a gradient twice in "
                               "one iteration (two backward passes through one forward?); call forward again, or "
                               "run the extra backward passes inside no_sync()")
        self.started = True
        self.current, self.current_value = i, None
        try:
            if not self.unused_marked:
                self.unused_marked = True
                for j in self.unused:
                    self._mark(j, None)
            self._mark(i, grad._data)
            return self.current_value
        finally:
            self.current, self.current_value = None, None

    def _mark(self, i, g):
        b, off = self.where[i]
        p = self.params[i]
        view = b.flat[off:off + p._data.size].reshape(p._data.shape)
        old = p.grad._data if p.grad is not None else None
        if g is None:  # unused here: contributes what it has accumulated, or zeros
            if old is not None:
                view[...] = old
            else:
                view[...] = 0
                self.deferred.append(i)
        else:
            if old is not None:
                backend.array_module(view).add(old, g, out=view)
            else:
                view[...] = g
            self.local_used[i] = 1
        self.ready[i] = True
        b.pending -= 1
        if b.pending == 0:
            while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
                self._reduce(self.buckets[self.next_bucket])
                self.next_bucket += 1
            if self.next_bucket == len(self.buckets):
                self._finish()

    def _reduce(self, b):
        t0 = time.perf_counter()
        _all_reduce_array(b.flat, ReduceOp.AVG, self.group)
        self.comm_seconds += time.perf_counter() - t0
        deferred = set(self.deferred)
        for i, off in zip(b.indices, b.offsets):
            p = self.params[i]
            avg = b.flat[off:off + p._data.size].reshape(p._data.shape)
            if i == self.current:
                p.grad = None  # the engine stores the returned average as the gradient
                self.current_value = avg
            elif i not in deferred:
                if p.grad is None:  # e.g. autograd.grad, which runs hooks but fills no .grad
                    p.grad = Tensor._wrap(avg.copy())
                else:
                    p.grad._data = avg.copy()

    def _finish(self):
        if self.find_unused:  # every rank takes part, whatever it found unused
            used = self.local_used.copy()
            _all_reduce_array(used, ReduceOp.MAX, self.group)
            for i in self.deferred:
                if used[i]:  # unused here, used elsewhere: the average of the others' gradients
                    b, off = self.where[i]
                    p = self.params[i]
                    p.grad = Tensor._wrap(b.flat[off:off + p._data.size].reshape(p._data.shape).copy())
        self.active = False
        self.started = False


def _make_hook(ref, i):
    def ddp_grad_hook(grad):
        reducer = ref()
        return None if reducer is None else reducer.hook(i, grad)
    return ddp_grad_hook
