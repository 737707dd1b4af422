"""``DataLoader``: batches of samples from a dataset, chosen by a sampler and
merged by a collate function, loaded in the calling process or, with
``num_workers > 0``, in worker processes (see ``_worker``), as PyTorch's
``torch.utils.data.DataLoader``."""
import multiprocessing
import numbers
import pickle
import queue
import sys
import time

from . import _worker
from ._fetch import InfiniteConstantSampler, IterableFetcher, MapFetcher
from ._rng import as_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ['DataLoader', 'default_collate', 'default_convert', 'get_worker_info']

get_worker_info = _worker.get_worker_info

_POLL_S = 0.5  # how often a waiting main process checks that its workers are alive


class DataLoader:
    """Iterate over ``dataset`` in batches, as PyTorch's ``DataLoader``.

    ``batch_size`` samples (None: single samples, converted by ``default_convert``)
    are drawn by ``sampler`` (default: ``RandomSampler(dataset, generator=generator)``
    when ``shuffle``, else ``SequentialSampler``), or whole batches by
    ``batch_sampler``, and merged by ``collate_fn`` (default ``default_collate``).
    ``drop_last`` skips a last, smaller batch. ``IterableDataset``s are read in
    their own order (no shuffle, sampler or batch_sampler).

    ``num_workers > 0`` loads in that many worker processes (``fork`` on Linux
    unless ``multiprocessing_context`` says otherwise); batches still come in
    sampler order and equal those of ``num_workers=0``. Each worker calls
    ``worker_init_fn(worker_id)`` first, is seeded with ``base_seed + worker_id``
    (Python's ``random`` and tensorgrad's generator; ``base_seed`` is drawn from
    ``generator`` each epoch) and sees ``get_worker_info()``. An exception in a
    worker is re-raised here with the worker's traceback; ``timeout`` (seconds,
    0 = wait forever) bounds the wait for one batch. ``prefetch_factor`` batches
    per worker are in flight (default 2); ``persistent_workers`` keeps the
    workers between epochs. ``pin_memory`` is accepted and has no effect (there
    is no pinned host memory in NumPy/CuPy arrays handed to tensorgrad)."""

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device='', in_order=True):
        if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool):
            raise TypeError(f"DataLoader: num_workers must be an int, got {type(num_workers).__name__}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                       or batch_size < 1):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not hasattr(dataset, '__getitem__') and not hasattr(dataset, '__iter__'):
            raise TypeError(f"DataLoader: dataset must define __getitem__ (and __len__) or __iter__, "
                            f"got {type(dataset).__name__}")
        if generator is not None:
            as_generator(generator, 'DataLoader')  # type check now, not at the first epoch

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        if multiprocessing_context is not None and num_workers > 0:
            multiprocessing_context = _as_context(multiprocessing_context)

        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self._iterable = iterable
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = bool(persistent_workers)
        self._iterator = None
        self.__initialized = True

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset',
                                           'persistent_workers'):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _make_fetcher(self, dataset):
        cls = IterableFetcher if self._iterable else MapFetcher
        return cls(dataset, self._auto_collation, self.collate_fn, self.drop_last)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _MultiProcessIter(self)


def _as_context(ctx):
    if isinstance(ctx, str):
        if ctx not in multiprocessing.get_all_start_methods():
            raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                             f"{multiprocessing.get_all_start_methods()!r}, but got multiprocessing_context={ctx!r}")
        return multiprocessing.get_context(ctx)
    if not isinstance(ctx, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option must be a valid context object or a string specifying "
                        f"the start method, but got multiprocessing_context={ctx}")
    return ctx


def _default_context():
    if sys.platform.startswith('linux') and 'fork' in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context('fork')
    return multiprocessing.get_context()


def _base_seed(loader):
    """The epoch's worker seed base, drawn from the loader's generator before the
    sampler draws (in every mode, so that the sampler's order does not depend on
    ``num_workers``)."""
    return int(as_generator(loader.generator, 'DataLoader').integers(0, 2 ** 62))


class _SingleProcessIter:
    """One epoch, loaded in the calling process."""

    def __init__(self, loader):
        self._loader = loader
        _base_seed(loader)
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = loader._make_fetcher(loader.dataset)
        self._done = False

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        if self._done:
            raise StopIteration
        try:
            index = next(self._sampler_iter)
            return self._fetcher.fetch(index)
        except StopIteration:
            self._done = True
            raise


class _MultiProcessIter:
    """One epoch (or, with persistent workers, every epoch) loaded by worker
    processes; tasks go out round-robin, results are put back in task order."""

    def __init__(self, loader):
        self._loader = loader
        self._num_workers = loader.num_workers
        self._prefetch = max(1, loader.prefetch_factor) * self._num_workers
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        ctx = loader.multiprocessing_context or _default_context()
        base_seed = _base_seed(loader)
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues = []
        self._workers = []
        self._shutdown = False
        self._epoch = 0
        try:
            for wid in range(self._num_workers):
                iq = ctx.Queue()
                iq.cancel_join_thread()
                w = ctx.Process(target=_worker.worker_loop, daemon=True,
                                args=(loader._make_fetcher, loader.dataset, iq, self._result_queue,
                                      self._done_event, base_seed + wid, loader.worker_init_fn, wid, self._num_workers))
                w.start()
                self._index_queues.append(iq)
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._start_epoch(loader)

    def _start_epoch(self, loader):
        self._sampler_iter = iter(loader._index_sampler)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks = {}  # task id -> [worker id] or [worker id, result]
        self._active = [True] * self._num_workers
        self._next_worker = 0
        for _ in range(self._prefetch):
            self._try_put_index()

    def _reset(self, loader):
        """A new epoch on the same (persistent) workers: drain the old one first."""
        self._loader = loader
        self._epoch += 1
        for iq in self._index_queues:
            iq.put(_worker.Reset(self._epoch))
        pending = self._num_workers
        while pending:
            task_id, _ = self._get_data()
            if isinstance(task_id, _worker.Reset) and task_id.epoch == self._epoch:
                pending -= 1
        self._start_epoch(loader)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _try_put_index(self):
        if not any(self._active):
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            wid = self._next_worker
            self._next_worker = (self._next_worker + 1) % self._num_workers
            if self._active[wid]:
                break
        self._index_queues[wid].put((self._send_idx, index))
        self._tasks[self._send_idx] = [wid]
        self._send_idx += 1

    def _get_data(self):
        start = time.monotonic()
        while True:
            wait = _POLL_S
            if self._timeout > 0:
                left = self._timeout - (time.monotonic() - start)
                if left <= 0:
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
                wait = min(wait, left)
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                dead = [w.pid for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                                       f"unexpectedly") from None

    def __next__(self):
        if self._shutdown:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx:  # skip tasks sent to exhausted iterable workers
                info = self._tasks[self._rcvd_idx]
                if len(info) == 2 or self._active[info[0]]:
                    break
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._tasks[self._rcvd_idx]
            if len(info) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            task_id, payload = self._get_data()
            if isinstance(task_id, _worker.Reset):  # a late reply of an earlier reset
                continue
            data = pickle.loads(payload)
            if isinstance(data, _worker.IterableStop):
                self._active[data.worker_id] = False
                continue
            if task_id != self._rcvd_idx:
                if task_id in self._tasks:
                    self._tasks[task_id].append(data)
                continue
            del self._tasks[task_id]
            self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self):
        """Tell every worker to exit, wait briefly, terminate stragglers, close the queues."""
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for iq in self._index_queues:
            try:
                iq.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5.0
        for w in self._workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for q in self._index_queues + [self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
