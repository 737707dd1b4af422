"""``DistributedDataParallel``: data-parallel training of one module replica
per process, gradients averaged over the ranks during backward."""
import contextlib

from ... import backend
from ...autograd.grad_mode import GRAD_MODE
from ...distributed.collectives import _broadcast_array
from ...distributed.process_group import resolve_group
from ..module import Module
from ._reducer import FIRST_BUCKET_BYTES, Reducer


def _coalesced_broadcast(arrays, src, group):
    """Broadcast ``arrays`` from rank ``src`` with one call per (device, dtype)."""
    by_key = {}
    for a in arrays:
        by_key.setdefault((type(a), a.dtype), []).append(a)
    for group_arrays in by_key.values():
        xp = backend.array_module(group_arrays[0])
        flat = xp.concatenate([a.reshape(-1) for a in group_arrays]) if len(group_arrays) > 1 else None
        if flat is None:
            _broadcast_array(group_arrays[0], src, group)
            continue
        _broadcast_array(flat, src, group)
        off = 0
        for a in group_arrays:
            a[...] = flat[off:off + a.size].reshape(a.shape)
            off += a.size


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training (PyTorch's DDP): at
    construction the parameters and buffers of the group's first rank are
    copied to every rank (``init_sync``); each forward broadcasts the buffers
    again (``broadcast_buffers``); backward averages the gradients over the
    ranks in buckets of ``bucket_cap_mb`` MB (default 25), while it runs.
    ``no_sync()`` accumulates gradients locally; ``find_unused_parameters``
    lets some parameters go without a gradient. ``state_dict`` keys carry the
    ``module.`` prefix. ``device_ids`` / ``output_device`` / ``dim`` /
    ``check_reduction`` / ``gradient_as_bucket_view`` / ``static_graph`` are
    accepted and have no effect (one device per process; gradients are copied
    out of the buckets)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None):
        super().__init__()
        who = 'DistributedDataParallel'
        if not isinstance(module, Module):
            raise TypeError(f"{who}: module must be a tensorgrad.nn.Module, got {type(module).__name__}")
        for name, value in (('delay_all_reduce_named_params', delay_all_reduce_named_params),
                            ('param_to_hook_all_reduce', param_to_hook_all_reduce),
                            ('mixed_precision', mixed_precision), ('device_mesh', device_mesh)):
            if value is not None:
                raise NotImplementedError(f"{who}: {name} is not supported")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        group = resolve_group(process_group, who)
        if group is None:
            raise ValueError(f"{who}: this rank is not a member of process_group")
        cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if not cap_mb > 0:
            raise ValueError(f"{who}: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.process_group = group
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.bucket_bytes_cap = int(cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._verify_same_model(who)
        if init_sync:
            with_buffers = [p._data for _, p in module.named_parameters()] + [b._data for b in self._buffers_to_sync()]
            _coalesced_broadcast(with_buffers, group.ranks[0], group)
            for t in list(module.parameters()) + self._buffers_to_sync():
                t._vc[0] += 1
        first = FIRST_BUCKET_BYTES if bucket_cap_mb is None else None  # PyTorch: a small first bucket by default
        self.reducer = Reducer([p for _, p in named], [n for n, _ in named], group, self.bucket_bytes_cap,
                               self.find_unused_parameters, first)

    def _buffers_to_sync(self):
        return [b for b in self.module.buffers() if b is not None]

    def _verify_same_model(self, who):
        mine = [(n, tuple(t._data.shape), str(t._data.dtype))
                for n, t in self.module.state_dict(keep_vars=True).items()]
        all_ranks = self.process_group._impl.allgather_object(mine)
        for r, theirs in enumerate(all_ranks):
            if theirs != all_ranks[0]:
                diff = next(((a, b) for a, b in zip(all_ranks[0], theirs) if a != b), None)
                detail = (f"{len(all_ranks[0])} vs {len(theirs)} entries" if diff is None else
                          f"{diff[0][0]} {diff[0][1]} {diff[0][2]} vs {diff[1][0]} {diff[1][1]} {diff[1][2]}")
                raise RuntimeError(f"{who} expects the same model on every rank, but rank "
                                   f"{self.process_group.ranks[r]} differs from rank {self.process_group.ranks[0]}: "
                                   f"{detail}")

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module (after broadcasting its buffers from the first
        rank) and, with grad enabled outside ``no_sync``, arm the gradient reduction."""
        sync = GRAD_MODE.enabled and self.require_backward_grad_sync
        if sync:
            self.reducer.prepare()  # raises if the previous backward left gradients unreduced
        else:
            self.reducer.active = False
        if self.require_forward_param_sync and self.broadcast_buffers:
            bufs = self._buffers_to_sync()
            if bufs and self.process_group.size() > 1:
                _coalesced_broadcast([b._data for b in bufs], self.process_group.ranks[0], self.process_group)
        out = self.module(*inputs, **kwargs)
        if sync and self.find_unused_parameters:
            self.reducer.find_unused_parameters(out)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context forward passes arm no reduction: backward only
        accumulates local gradients; the first backward after it averages the
        accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self):
        return ''

