"""The thread pool of tensorgrad's row-parallel CPU kernels (softmax, losses,
norms, erf, conv windows, pools): ``parallel_rows`` splits row ranges over
threads, ``elementwise`` runs a blockwise elementwise kernel. CuPy arrays never
use the pool."""
import os

import numpy as np

from .. import backend


# Threads for the row-parallel kernels (softmax, losses, norms, erf, conv windows, pools):
# the available cores (at most 8), or TENSORGRAD_NUM_THREADS. On an idle 2-core machine two threads
# make softmax / cross_entropy ~1.5x and pools ~1.7x faster; on a heavily oversubscribed machine,
# or right after an OpenBLAS GEMM whose workers still spin, they can cost time: set 1 there.
def _default_threads():
    env = os.environ.get('TENSORGRAD_NUM_THREADS', '').strip()
    if env:
        return max(1, int(env))
    n = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
    return max(1, min(n, 8))


_NTHREADS = _default_threads()
_PARALLEL_MIN = 1 << 17  # elements: below this one thread is faster than handing work over
_executor = None
_executor_workers = 0
_IN_POOL = 0  # > 0 while parallel_rows runs work on several threads (the compiled kernels then run serial)


def set_num_threads(n):
    """Set how many threads tensorgrad's row-parallel CPU kernels use (PyTorch's
    name; NumPy's BLAS keeps its own setting)."""
    global _NTHREADS
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _NTHREADS = int(n)


def get_num_threads():
    """How many threads tensorgrad's row-parallel CPU kernels use."""
    return _NTHREADS


def _forget_executor():
    global _executor, _executor_workers
    _executor, _executor_workers = None, 0  # a forked child has none of the parent's worker threads


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forget_executor)


def parallel_rows(fn, rows, size, xp=np, block=None):
    """Call ``fn(lo, hi)`` on row ranges that cover ``[0, rows)``. Big NumPy
    inputs (``size`` elements) are split over ``_NTHREADS`` threads (NumPy
    releases the GIL inside its loops).
    ``block``: at most that many rows per call, so multi-pass kernels work on
    cache-resident pieces."""
    global _executor, _executor_workers, _IN_POOL
    if size < _PARALLEL_MIN and block is None or xp is not np:
        fn(0, rows)
        return
    # inside work that is already split (_IN_POOL) one thread: a nested split would wait for a busy worker
    n = min(_NTHREADS, rows) if size >= _PARALLEL_MIN and not _IN_POOL else 1
    bounds = [rows * i // n for i in range(n + 1)]

    def part(lo, hi):
        if block is None or hi - lo <= block:
            fn(lo, hi)
        else:
            for b in range(lo, hi, block):
                fn(b, min(b + block, hi))
    if n < 2:
        part(0, rows)
        return
    if _executor is None or _executor_workers < n - 1:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415
        if _executor is not None:
            _executor.shutdown(wait=False)
        _executor, _executor_workers = ThreadPoolExecutor(n - 1, thread_name_prefix='tensorgrad'), n - 1
    _IN_POOL += 1
    try:
        futures = [_executor.submit(part, bounds[i], bounds[i + 1]) for i in range(1, n)]
        part(bounds[0], bounds[1])
        for f in futures:
            f.result()
    finally:
        _IN_POOL -= 1


def elementwise(fn, out, *arrays, block=1 << 15):
    """``out[...] = fn(*arrays)`` for same-shape arrays, computed blockwise over
    the flattened arrays (in cache, on several threads for big inputs)."""
    xp = backend.array_module(out)
    if not out.flags.c_contiguous:  # reshape(-1) would be a copy: the writes would be lost
        out[...] = elementwise(fn, xp.empty(out.shape, dtype=out.dtype), *arrays, block=block)
        return out
    flat = [a.reshape(-1) for a in arrays]
    of = out.reshape(-1)

    def run(lo, hi):
        of[lo:hi] = fn(*(a[lo:hi] for a in flat))
    parallel_rows(run, of.size, of.size, xp, block)
    return out


EXPORTS = ('set_num_threads', 'get_num_threads')
