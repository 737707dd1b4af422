"""Running a worker script on 2 MPI processes from pytest (through the
launcher, ``python -m tensorgrad.distributed.run``), with a timeout."""
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / 'workers'
HAVE_MPI = importlib.util.find_spec('mpi4py') is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="mpi4py is not installed "
                                                    "(pip install 'tensorgrad[distributed]': mpi4py, mpich)")
TIMEOUT = 40  # seconds; a worker takes 1-3 s


def run_workers(name, nproc=2, args=(), timeout=TIMEOUT, check=True):
    """Run ``workers/<name>.py`` on ``nproc`` processes; returns (CompletedProcess, seconds).
    With ``check``, every rank must have printed 'rank R: ok' and the job must exit 0."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    cmd = [sys.executable, '-m', 'tensorgrad.distributed.run', '--nproc-per-node', str(nproc),
           str(WORKERS / f'{name}.py'), *args]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{name} on {nproc} processes hung for more than {timeout} s:\n{e.stdout}\n{e.stderr}")
    elapsed = time.perf_counter() - t0
    if check:
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{name} failed (exit {proc.returncode}):\n{out[-6000:]}"
        for r in range(nproc):
            assert f'rank {r}: ok' in proc.stdout, f"rank {r} of {name} did not finish:\n{out[-6000:]}"
    return proc, elapsed
