"""Samplers: iterables of dataset indices (or of lists of indices, for
``BatchSampler``), as PyTorch's ``torch.utils.data.sampler``.

A ``generator=`` is a ``tensorgrad.Generator`` (its NumPy Generator is used),
an int seed or a ``numpy.random.Generator``; None draws from tensorgrad's
global generator (``manual_seed``). A sampler given an int seed builds its
Generator once, so successive epochs differ but the sequence repeats."""
import numbers

import numpy as np

from ..._tensor import Tensor
from ._rng import as_generator

__all__ = ['Sampler', 'SequentialSampler', 'RandomSampler', 'SubsetRandomSampler', 'WeightedRandomSampler',
           'BatchSampler']


class Sampler:
    """Base class of samplers: subclasses implement ``__iter__`` (yielding
    indices) and, where the length is known, ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def _positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices of ``data_source`` in a random order: a fresh permutation each
    epoch (repeated permutations when ``num_samples > len``), or ``num_samples``
    independent draws when ``replacement=True``."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self._rng = as_generator(generator, 'RandomSampler') if generator is not None else None
        if not _positive_int(self.num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """``num_samples`` if given, else the dataset's current length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        rng = self._rng if self._rng is not None else as_generator(None, 'RandomSampler')
        k = self.num_samples
        if self.replacement:
            yield from rng.integers(0, n, size=k).tolist()
            return
        for _ in range(k // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:k % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a fresh one each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        self._rng = as_generator(generator, 'SubsetRandomSampler') if generator is not None else None

    def __iter__(self):
        rng = self._rng if self._rng is not None else as_generator(None, 'SubsetRandomSampler')
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probability
    proportional to ``weights`` (which need not sum to one), with or without
    replacement."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _positive_int(num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights.detach().cpu().numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and have a "
                               "positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot sample {num_samples} indices without replacement "
                               f"from {np.count_nonzero(w)} non-zero weights")
        self.weights = Tensor._wrap(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator
        self._rng = as_generator(generator, 'WeightedRandomSampler') if generator is not None else None

    def __iter__(self):
        rng = self._rng if self._rng is not None else as_generator(None, 'WeightedRandomSampler')
        w = self.weights._data
        yield from rng.choice(w.size, size=self.num_samples, replace=self.replacement, p=w / w.sum()).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; the last,
    smaller list is dropped when ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _positive_int(batch_size):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
