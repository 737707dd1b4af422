"""``DataLoader``: batches of samples from a dataset, optionally shuffled,
merged into tensors by a collate function."""
import collections.abc
import math
import numbers

import numpy as np

from ..._tensor import Tensor
from ...ops.shape import stack
from .dataset import as_generator


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``:
    tensors are stacked along a new first dimension, NumPy arrays and scalars
    become a stacked Tensor (dtype kept), Python numbers a Tensor (ints int64,
    floats float32 like every tensorgrad Python float, bools bool), strings stay
    a list; tuples, lists, named tuples and dicts are collated field by field."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (np.ndarray, np.generic)):
        if isinstance(elem, np.ndarray) and elem.dtype.kind in 'OUS':
            raise TypeError(f"default_collate: cannot collate arrays of dtype {elem.dtype}")
        return Tensor._wrap(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        out = {k: default_collate([d[k] for d in batch]) for k in elem}
        try:
            return out if type(elem) is dict else type(elem)(out)
        except TypeError:  # a mapping type that cannot be built from a dict
            return out
    if isinstance(elem, tuple) and hasattr(elem, '_fields'):  # named tuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, (tuple, list)):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError(f"default_collate: each sample must have the same number of fields, "
                               f"got {[len(b) for b in batch]}")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(f"default_collate: samples must be tensors, numpy arrays, numbers, strings, dicts "
                    f"or sequences of those; got {type(elem).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples merged by
    ``collate_fn`` (default ``default_collate``).

    ``shuffle``: a fresh random order every epoch, drawn from ``generator``
    (an int seed or numpy Generator: the same seed gives the same sequence of
    epochs; default: tensorgrad's global generator, see ``manual_seed``).
    ``drop_last``: skip the last batch when it is smaller than ``batch_size``.
    ``batch_size=None`` yields single samples without collation.
    ``num_workers`` and ``pin_memory`` are accepted for PyTorch compatibility;
    loading always happens in the calling process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, num_workers=0, pin_memory=False):
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        if not hasattr(dataset, '__getitem__') or not hasattr(dataset, '__len__'):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__, "
                            f"got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = as_generator(generator, 'DataLoader') if generator is not None else None
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self.generator if self.generator is not None else as_generator(None, 'DataLoader')
        return rng.permutation(n)

    def __iter__(self):
        order = self._order()
        if self.batch_size is None:
            for i in order:
                yield self.dataset[int(i)]
            return
        fast = getattr(self.dataset, '_get_batch', None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        bs = self.batch_size
        stop = len(self) * bs
        for lo in range(0, min(stop, len(order)), bs):
            idx = order[lo:lo + bs]
            if fast is not None:
                yield fast(idx)
            else:
                yield collate([self.dataset[int(i)] for i in idx])
