"""Datasets: map-style collections of samples (``__getitem__`` + ``__len__``),
as PyTorch's ``torch.utils.data``."""
import bisect
import math
import numbers
import warnings

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ._rng import as_generator


class Dataset:
    """Base class of map-style datasets: subclasses implement
    ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of iterable-style datasets: subclasses implement ``__iter__``.
    With ``num_workers > 0`` every worker iterates its own copy; use
    ``get_worker_info()`` inside ``__iter__`` to split the work."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class TensorDataset(Dataset):
    """Dataset of tensors (or arrays) sharing their first dimension; sample
    ``i`` is the tuple ``(t[i] for t in tensors)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        sizes = [t.shape[0] if getattr(t, 'ndim', 0) else None for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: tensors must share a non-empty first dimension, "
                             f"got shapes {[tuple(t.shape) for t in tensors]}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _get_batch(self, indices):
        """The collated batch of ``indices`` (an int array) in one indexing op
        per tensor: what ``default_collate`` of the samples would give."""
        return tuple(t[_as_index(indices, t)] if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t[indices]))
                     for t in self.tensors)


def _as_index(indices, t):
    """``indices`` in the form ``t`` indexes best with (a cupy tensor takes a device array)."""
    return backend.move(indices, t.device) if isinstance(t, Tensor) else indices


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    @property
    def _get_batch(self):
        # only offered when the wrapped dataset has a batched fetch itself
        inner = getattr(self.dataset, '_get_batch', None)
        if inner is None:
            raise AttributeError('_get_batch')
        return lambda indices: inner(self.indices[indices])


class ConcatDataset(Dataset):
    """Datasets chained one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1]) if self.cumulative_sizes else 0

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for {n} samples")
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = int(self.cumulative_sizes[d - 1]) if d else 0
        return self.datasets[d][index - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given
    ``lengths``: ints adding up to ``len(dataset)``, or fractions adding up to 1
    (the remainder of flooring goes one by one to the first subsets; a split of
    length 0 warns). ``generator``: a ``tensorgrad.Generator``, int seed or numpy
    Generator (default: the global one)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, numbers.Real) for x in lengths) and math.isclose(sum(lengths), 1) \
            and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, length in enumerate(counts):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! "
                         f"(random_split: lengths {lengths} add up to {sum(lengths)}, the dataset has {n} samples)")
    if any(not isinstance(x, numbers.Integral) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints or fractions adding up to 1, got {lengths}")
    perm = as_generator(generator, 'random_split').permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[lo:hi].tolist()) for lo, hi in zip(bounds[:-1], bounds[1:])]
