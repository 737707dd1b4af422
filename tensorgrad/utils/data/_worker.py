"""Worker processes of a ``DataLoader`` with ``num_workers > 0``.

Each worker receives ``(task_id, indices)`` on its own index queue, fetches and
collates the batch, and sends ``(task_id, pickled result)`` back on the shared
result queue; ``None`` or the shared ``done_event`` tells it to exit (the event
also works where a queue's feeder thread is already gone, e.g. at garbage
collection), ``Reset`` (persistent workers) to start a new epoch. Results are pickled in the worker itself so an unpicklable
batch becomes an error in the main process instead of a hang. An exception in
a worker comes back as ``ExceptionWrapper`` and is re-raised in the main
process with the worker's traceback. ``get_worker_info()`` tells dataset code
which worker it runs in."""
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

__all__ = ['WorkerInfo', 'get_worker_info', 'ExceptionWrapper']

_worker_info = None
_POLL_S = 0.1  # how often an idle worker checks whether it should exit


class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed`` and
    its copy of the ``dataset``. Read-only."""
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)}' for k in self.__keys)})"


def get_worker_info():
    """In a DataLoader worker process: its ``WorkerInfo`` (id, num_workers,
    seed, dataset); in the main process: None."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, with its formatted traceback."""

    def __init__(self, exc_info, where):
        exc_type = exc_info[0]
        try:  # the type must travel to the main process by reference
            if pickle.loads(pickle.dumps(exc_type)) is not exc_type:
                exc_type = RuntimeError
        except Exception:  # noqa: BLE001 - a local or unpicklable exception class
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.exc_msg = ''.join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception (same type when it can be built from one
        message, else RuntimeError), its message holding the worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyError(msg)  # KeyError would repr the message, hiding its newlines
        try:
            exception = self.exc_type(msg)
        except Exception:  # noqa: BLE001 - needs more than one message argument
            raise RuntimeError(msg) from None
        raise exception


class IterableStop:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class Reset:
    """Start a new epoch (persistent workers): reply with itself once done."""

    def __init__(self, epoch):
        self.epoch = epoch


def _seed_worker(seed):
    """Seed Python's ``random`` and tensorgrad's default generator in a worker
    (the CPU generator only: a forked child must not touch the parent's CUDA context)."""
    random.seed(seed)
    from ... import random as tg_random  # noqa: PLC0415
    default = getattr(tg_random, 'default_generator', None)
    if default is not None:
        default.manual_seed(seed)
    else:
        tg_random.manual_seed(seed)


def worker_loop(make_fetcher, dataset, index_queue, result_queue, done_event, seed, init_fn, worker_id, num_workers):
    """The body of worker process ``worker_id``."""
    global _worker_info
    try:
        _seed_worker(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error = None
        fetcher = None
        where = f"in DataLoader worker process {worker_id}"
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(dataset)
        except Exception:  # noqa: BLE001 - reported to the main process
            init_error = ExceptionWrapper(sys.exc_info(), where)
        ended = False
        parent = os.getppid()
        while not done_event.is_set():
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if os.getppid() != parent:  # the main process died: nobody will read our results
                    break
                continue
            if task is None or done_event.is_set():
                break
            if isinstance(task, Reset):
                ended = False
                if init_error is None:
                    try:
                        fetcher = make_fetcher(dataset)
                    except Exception:  # noqa: BLE001
                        init_error = ExceptionWrapper(sys.exc_info(), where)
                result_queue.put((task, None))
                continue
            task_id, index = task
            if init_error is not None:
                result, init_error = init_error, None
            elif ended:
                result = IterableStop(worker_id)
            else:
                try:
                    result = fetcher.fetch(index)
                except StopIteration:
                    ended = True
                    result = IterableStop(worker_id)
                except Exception:  # noqa: BLE001 - reported to the main process
                    result = ExceptionWrapper(sys.exc_info(), where)
            try:
                payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001
                payload = pickle.dumps(ExceptionWrapper(sys.exc_info(), where + " (pickling its batch)"))
            result_queue.put((task_id, payload))
    except KeyboardInterrupt:
        pass
    result_queue.cancel_join_thread()
    result_queue.close()
