"""The parts of tensorgrad.distributed that need no MPI job: names, errors
before init_process_group, the launcher's command line, DistributedSampler
against PyTorch's, SyncBatchNorm outside a process group."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.utils.data.distributed as torch_dist_data

import tensorgrad as tg
import tensorgrad.distributed as dist
from tensorgrad import nn
from tensorgrad.distributed import run as launcher
from tensorgrad.utils.data import DistributedSampler

from mpi_helpers import ROOT


def test_import_never_loads_mpi4py():
    code = ('import sys, tensorgrad, tensorgrad.distributed, tensorgrad.nn.parallel, tensorgrad.utils.data; '
            'tensorgrad.distributed.is_available(); print("mpi4py" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == 'False', out.stdout + out.stderr


def test_reduce_op_and_backend_names_match_torch():
    for name in ('SUM', 'AVG', 'PRODUCT', 'MIN', 'MAX', 'BAND', 'BOR', 'BXOR'):
        assert int(getattr(dist.ReduceOp, name)) == int(getattr(torch.distributed.ReduceOp, name))
    assert dist.Backend('MPI') == 'mpi' and dist.Backend('nccl') == dist.Backend.NCCL
    with pytest.raises(ValueError):
        dist.Backend('smoke-signals')


@pytest.mark.parametrize('call', [
    lambda: dist.get_rank(), lambda: dist.get_world_size(), lambda: dist.all_reduce(tg.ones(2)),
    lambda: dist.barrier(), lambda: dist.new_group([0]), lambda: dist.broadcast(tg.ones(2), 0),
    lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)),
    lambda: DistributedSampler(list(range(4)))])
def test_before_init_process_group_raises_like_torch(call):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match='Default process group has not been initialized'):
        call()


def test_argument_errors_before_any_communication():
    with pytest.raises(TypeError, match='all_reduce'):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match='complex'):
        dist.all_reduce(tg.tensor(np.ones(2, np.complex64)), op=dist.ReduceOp.MAX)
    with pytest.raises(RuntimeError, match='AVG'):
        dist.all_reduce(tg.ones(2, dtype=tg.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match='unknown backend'):
        dist.init_process_group('carrier-pigeon')
    assert not dist.is_initialized()


def test_node_local_rank(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    with pytest.raises(RuntimeError, match='LOCAL_RANK'):
        dist.get_node_local_rank()
    monkeypatch.setenv('LOCAL_RANK', '1')
    assert dist.get_node_local_rank() == 1


def test_launcher_command(monkeypatch):
    for name in launcher._THREAD_VARS:
        monkeypatch.delenv(name, raising=False)
    args = launcher.parse_args(['--nproc-per-node', '3', 'train.py', '--lr', '0.1'])
    cmd, env = launcher.launch_command(args)
    assert os.path.basename(cmd[0]) == 'mpiexec' and cmd[1:3] == ['-n', '3']
    assert cmd[-3:] == ['train.py', '--lr', '0.1'] and '--worker' in cmd
    assert all(env[name] == '1' for name in launcher._THREAD_VARS)
    mod = launcher.parse_args(['--nproc_per_node=2', '--standalone', '-m', 'examples.ddp_mnist', '--epochs', '1'])
    assert launcher._target(mod) == ['-m', 'examples.ddp_mnist', '--epochs', '1']
    with pytest.raises(SystemExit):
        launcher.parse_args(['--nproc-per-node', '0', 'x.py'])
    with pytest.raises(SystemExit):
        launcher.parse_args(['--nnodes', '2', 'x.py'])


@pytest.mark.parametrize('n', [0, 1, 7, 10])
@pytest.mark.parametrize('replicas', [1, 2, 3])
@pytest.mark.parametrize('drop_last', [False, True])
def test_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        ref = torch_dist_data.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(ref) and len(ours) == len(ref)


def test_sampler_shuffled_shards_are_disjoint_and_cover():
    shards = [DistributedSampler(range(11), 3, r, seed=5) for r in range(3)]
    for epoch in (0, 1):
        for s in shards:
            s.set_epoch(epoch)
        got = [list(s) for s in shards]
        assert all(len(g) == 4 for g in got)
        assert sorted(set().union(*got)) == list(range(11))  # 12 slots: one index repeated as padding
        assert len(set(got[0]) | set(got[1]) | set(got[2])) == 11
    e0 = list(shards[0])
    shards[0].set_epoch(0)
    assert list(shards[0]) != e0  # a different order per epoch
    with pytest.raises(ValueError, match='Invalid rank'):
        DistributedSampler(range(4), 2, 2)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_sync_batchnorm_outside_a_group_is_batchnorm(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 3, 4, 2)) * 2 + 1).astype(dtype)
    g = rng.standard_normal((6, 3, 4, 2)).astype(dtype)
    ours = nn.SyncBatchNorm(3).to(dtype=getattr(tg, dtype))
    ref = torch.nn.BatchNorm2d(3).to(getattr(torch, dtype))
    xt = tg.tensor(x.transpose(0, 2, 1, 3).copy(), requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    y = ours(xt.permute(0, 2, 1, 3))  # a non-contiguous input
    yr = ref(xr)
    (y * tg.tensor(g)).sum().backward()
    (yr * torch.tensor(g)).sum().backward()
    tol = 1e-5 if dtype == 'float32' else 1e-10
    np.testing.assert_allclose(y.numpy(), yr.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xt.grad.numpy().transpose(0, 2, 1, 3), xr.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.running_var.numpy(), ref.running_var.numpy(), rtol=tol)
    with pytest.raises(ValueError, match='SyncBatchNorm'):
        ours(tg.ones(3))


def test_convert_sync_batchnorm_shares_parameters():
    bn = nn.BatchNorm1d(4)
    net = nn.Sequential(nn.Linear(3, 4), bn, nn.Sequential(nn.BatchNorm2d(2)))
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert out is net and isinstance(net[1], nn.SyncBatchNorm) and isinstance(net[2][0], nn.SyncBatchNorm)
    assert net[1].weight is bn.weight and net[1].running_mean is bn.running_mean
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2)), nn.SyncBatchNorm)
    assert list(net.state_dict()) == ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var',
                                      '1.num_batches_tracked', '2.0.weight', '2.0.bias', '2.0.running_mean',
                                      '2.0.running_var', '2.0.num_batches_tracked']
