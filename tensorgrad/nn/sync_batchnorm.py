"""``SyncBatchNorm``: batch normalisation whose batch statistics are taken over
the whole process group (PyTorch's ``torch.nn.SyncBatchNorm``)."""
import numpy as np

from .. import backend
from .._tensor import track
from ..autograd.node import Node
from . import functional as F
from .normalization import _BatchNorm


class _AllReduceSumBackward(Node):
    """Gradient of a sum over the ranks: the sum over the ranks of the gradients."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        from ..distributed.collectives import _all_reduce_array  # noqa: PLC0415
        out = backend.array_module(g).array(g, order='C')  # a contiguous copy to reduce in place
        _all_reduce_array(out, group=self.saved)
        return (out,)


def _all_reduce_sum(t, group):
    """Differentiable sum of ``t`` over the ranks of ``group``."""
    from ..distributed.collectives import _all_reduce_array  # noqa: PLC0415
    data = t._data.copy()
    _all_reduce_array(data, group=group)
    return track(data, _AllReduceSumBackward, (t,), saved=group)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over ``(B, C, *)`` inputs with the mean and variance
    of the global batch (all ranks of ``process_group``, default the world)
    while training in a process group of more than one rank; otherwise the
    same as ``BatchNorm*d``. Gradients flow through the statistics across
    ranks (two all-reduces of ``C`` values forward and two backward).
    Works on CPU (MPI) and CUDA tensors."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias)
        self.process_group = process_group
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def _group(self):
        from .. import distributed as dist  # noqa: PLC0415
        if not (self.training and dist.is_initialized()):
            return None
        from ..distributed.process_group import resolve_group  # noqa: PLC0415
        pg = resolve_group(self.process_group, 'SyncBatchNorm')
        return pg if pg is not None and pg.size() > 1 else None

    def forward(self, input):
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input, got input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} channels in dim 1, got input of shape "
                             f"{tuple(input.shape)}")
        pg = self._group()
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        if pg is None:
            use_batch = self.training or self.running_mean is None
            track_ = not self.training or self.track_running_stats
            return F.batch_norm(input, self.running_mean if track_ else None, self.running_var if track_ else None,
                                self.weight, self.bias, use_batch, factor, self.eps)
        return self._sync_forward(input, pg, factor)

    def _sync_forward(self, x, pg, factor):
        C = self.num_features
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, C) + (1,) * (x.ndim - 2)
        local = np.zeros(1, dtype=np.float64)
        local[0] = x.numel() // C
        from ..distributed.collectives import _all_reduce_array  # noqa: PLC0415
        count_arr = local.copy()
        _all_reduce_array(count_arr, group=pg)
        count = int(count_arr[0])
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got "
                             f"{count} over the group (input of shape {tuple(x.shape)} here)")
        mean = _all_reduce_sum(x.sum(dim=axes), pg) / count
        centred = x - mean.reshape(*shape)
        var = _all_reduce_sum((centred * centred).sum(dim=axes), pg) / count
        out = centred * (var.reshape(*shape) + self.eps).rsqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(*shape)
        if self.bias is not None:
            out = out + self.bias.reshape(*shape)
        if self.track_running_stats and self.running_mean is not None:
            m = factor
            rm, rv = self.running_mean._data, self.running_var._data
            mean_d = mean._data.astype(rm.dtype, copy=False)
            var_d = (var._data * (count / (count - 1))).astype(rv.dtype, copy=False)
            rm[...] = (1 - m) * rm + m * mean_d
            rv[...] = (1 - m) * rv + m * var_d
            self.running_mean._vc[0] += 1
            self.running_var._vc[0] += 1
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every ``BatchNorm*d`` in ``module`` by a ``SyncBatchNorm``
        sharing its parameters and running statistics; returns the module (a
        new ``SyncBatchNorm`` when ``module`` itself is a batch norm layer)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group, bias=module.bias is not None)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


__all__ = ['SyncBatchNorm']
