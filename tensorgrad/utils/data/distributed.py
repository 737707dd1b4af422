"""``DistributedSampler``: each rank's share of a dataset (PyTorch's
``torch.utils.data.distributed``)."""
import math

import numpy as np

from .sampler import Sampler

__all__ = ['DistributedSampler']


def _int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"DistributedSampler: {name} must be an int, got {type(value).__name__}")
    return int(value)


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas``
    (defaults: the default process group's rank and size) loads: the
    (shuffled, with ``seed + epoch``) index list padded by repeating its start
    to a multiple of ``num_replicas`` (or cut to one with ``drop_last``), then
    every ``num_replicas``-th index from ``rank`` on, as in PyTorch. Call
    ``set_epoch(epoch)`` before each epoch to reshuffle. The shuffled order
    comes from tensorgrad's generator (NumPy's), not PyTorch's."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist  # noqa: PLC0415
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        num_replicas, rank = _int(num_replicas, 'num_replicas'), _int(rank, 'rank')
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = bool(shuffle)
        self.seed = _int(seed, 'seed')

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ...factories import randperm  # noqa: PLC0415
            from ...random import Generator  # noqa: PLC0415
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            elif indices:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch: with ``shuffle``, each epoch gets its own order (the same on every rank)."""
        self.epoch = _int(epoch, 'epoch')
