"""Fetchers: turn one entry of a DataLoader's index sampler into one batch
(or sample), for map-style and iterable datasets. Used in the main process
and in worker processes alike."""
import numpy as np

from .collate import default_collate


class MapFetcher:
    """``collate_fn([dataset[i] for i in indices])`` (or ``collate_fn(dataset[index])``
    without auto-collation). A dataset with ``__getitems__`` gets the whole list at
    once; a tensor dataset's batched fetch (``_get_batch``) is used under
    ``default_collate``."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getitems = getattr(dataset, '__getitems__', None)
        self.getitems = getitems if callable(getitems) else None
        fast = None
        if auto_collation and collate_fn is default_collate:
            try:
                fast = dataset._get_batch
            except AttributeError:
                fast = None
        self.fast = fast

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast is not None:
            return self.fast(np.asarray(index, dtype=np.int64))
        if self.getitems is not None:
            data = self.getitems(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class IterableFetcher:
    """The next ``len(index)`` samples of the dataset's iterator, collated
    (StopIteration when none is left, or when ``drop_last`` and too few are)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = []
        for _ in index:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


class InfiniteConstantSampler:
    """The sampler of an iterable dataset: None forever (the dataset decides)."""

    def __iter__(self):
        while True:
            yield None
