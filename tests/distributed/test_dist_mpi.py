"""tensorgrad.distributed, DDP, SyncBatchNorm and DistributedSampler under
``mpiexec -n 2`` (through the launcher); skipped without mpi4py."""
import os
import subprocess
import sys

import pytest

from mpi_helpers import ROOT, WORKERS, needs_mpi, run_workers

pytestmark = needs_mpi


def test_collectives_against_numpy():
    run_workers('collectives')


def test_ddp_syncbn_sampler_match_single_process():
    run_workers('ddp')


def test_exception_in_one_rank_fails_fast():
    proc, seconds = run_workers('fail', check=False, timeout=30)
    assert proc.returncode != 0
    assert 'deliberate failure on rank 1' in proc.stderr
    assert 'should not get here' not in proc.stdout
    assert seconds < 15, f'the job took {seconds:.1f} s to end after the failure'


def test_world_size_one_without_mpiexec():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, str(WORKERS / 'single.py')], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=40)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'rank 0: ok' in proc.stdout


def test_launcher_sets_torchrun_environment():
    proc, _ = run_workers('single', nproc=1)
    assert 'env 0 1 0 ' in proc.stdout, proc.stdout


def test_ddp_mnist_example_matches_one_process():
    pytest.importorskip('tensorgrad.utils.data.mnist')
    from tensorgrad.utils.data.mnist import DEFAULT_ROOT
    if not os.path.isdir(DEFAULT_ROOT):
        pytest.skip(f'Fashion-MNIST is not installed in {DEFAULT_ROOT} (apt-get install dataset-fashion-mnist)')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    acc = {}
    for n in (1, 2):
        cmd = [sys.executable, '-m', 'tensorgrad.distributed.run', '--nproc-per-node', str(n), '-m',
               'examples.ddp_mnist', '--epochs', '1', '--truncate_train', '640', '--truncate_test', '300',
               '--batch_size', '32']
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith('test accuracy:')][-1]
        acc[n] = float(line.split()[2])
    assert acc[1] > 0.4 and abs(acc[1] - acc[2]) <= 2 / 300, acc  # same training up to float rounding


def _gpus():
    try:
        import cupy  # noqa: PLC0415
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no CuPy or no driver: no GPU
        return 0


@pytest.mark.parametrize('nproc', [1, 2])
def test_nccl_backend_on_gpus(nproc):
    have = _gpus()
    if have < nproc:
        pytest.skip(f'the NCCL backend needs {nproc} CUDA GPU(s) (CuPy sees {have})')
    run_workers('nccl', nproc=nproc)
