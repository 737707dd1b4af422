"""tensorgrad.ops._parallel.parallel_rows: row ranges cover every row once, on two
threads for big inputs; a call nested inside split work runs on its own thread (a
nested split would wait for the busy worker forever), and so do the compiled kernels."""
import threading

import numpy as np

from tensorgrad.ops import _parallel


def test_rows_covered_once_on_two_threads(monkeypatch):
    monkeypatch.setattr(_parallel, '_NTHREADS', 2)
    seen, threads = [], set()

    def run(lo, hi):
        seen.extend(range(lo, hi))
        threads.add(threading.get_ident())
    _parallel.parallel_rows(run, 10, 1 << 20)
    assert sorted(seen) == list(range(10)) and len(threads) == 2


def test_nested_call_runs_inline_and_finishes(monkeypatch):
    monkeypatch.setattr(_parallel, '_NTHREADS', 2)
    monkeypatch.setattr(_parallel, '_PARALLEL_MIN', 0)
    out = np.zeros((4, 6))
    inner_threads = []

    def inner(row):
        def run(lo, hi):
            inner_threads.append(threading.get_ident())
            out[row, lo:hi] += 1
        return run

    def outer(lo, hi):
        for r in range(lo, hi):
            assert _parallel._IN_POOL
            _parallel.parallel_rows(inner(r), 6, 1 << 20)
    done = threading.Event()
    t = threading.Thread(target=lambda: (_parallel.parallel_rows(outer, 4, 1 << 20), done.set()), daemon=True)
    t.start()
    assert done.wait(30), 'nested parallel_rows deadlocked'
    assert (out == 1).all() and _parallel._IN_POOL == 0


def test_compiled_kernels_pick_serial_inside_split_work(monkeypatch):
    import pytest
    from tensorgrad.ops import kernels
    if not kernels.available():
        pytest.skip('numba is not installed')
    from tensorgrad.ops.kernels import _jit, softmax  # noqa: F401 - builds the kernels
    k = softmax._softmax_rows
    monkeypatch.setattr(_jit, '_PARALLEL_OK', True)
    monkeypatch.setattr(_parallel, '_NTHREADS', 2)
    monkeypatch.setattr(k, 'parallel_min', 0)
    assert k.pick(10) is k.parallel
    monkeypatch.setattr(_parallel, '_IN_POOL', 1)
    assert k.pick(10) is k.serial
