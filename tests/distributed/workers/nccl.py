"""The NCCL backend on CUDA tensors (one GPU per rank): collectives against
NumPy and a DDP step equal to single-process training. Runs only on GPUs."""
import os

import numpy as np
from common import done, start

import cupy

cupy.cuda.Device(int(os.environ.get('LOCAL_RANK', '0'))).use()

import tensorgrad as tg  # noqa: E402
import tensorgrad.distributed as dist  # noqa: E402
from tensorgrad import nn  # noqa: E402
from tensorgrad.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

rank, world = start('nccl')
assert dist.get_backend() == 'nccl'


def value(r, dtype='float32', shape=(5, 3)):
    return np.random.default_rng(r).standard_normal(shape).astype(dtype)


every = np.stack([value(r) for r in range(world)])
for op, ref in ((dist.ReduceOp.SUM, every.sum(0)), (dist.ReduceOp.MAX, every.max(0)),
                (dist.ReduceOp.AVG, every.sum(0) / world)):
    t = tg.tensor(value(rank), device='cuda', requires_grad=False)
    dist.all_reduce(t, op=op)
    np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6)
t = tg.tensor(value(rank, 'int64'), device='cuda', requires_grad=False)
dist.broadcast(t, src=world - 1)
np.testing.assert_array_equal(t.numpy(), value(world - 1, 'int64'))
out = tg.zeros(world * 5, 3, device='cuda')
dist.all_gather_into_tensor(out, tg.tensor(value(rank), device='cuda', requires_grad=False))
np.testing.assert_array_equal(out.numpy(), every.reshape(-1, 3))
part = tg.zeros(5, 3, device='cuda')
dist.reduce_scatter_tensor(part, tg.tensor(np.concatenate([value(rank)] * world), device='cuda',
                                           requires_grad=False))
np.testing.assert_allclose(part.numpy(), every.sum(0), rtol=1e-6)
cpu = tg.ones(3) * (rank + 1)  # CPU tensors go through MPI
dist.all_reduce(cpu)
assert cpu.numpy().tolist() == [world * (world + 1) / 2] * 3


def net():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)).to('cuda')


ddp, ref = DDP(net()), net()
x = np.random.default_rng(9).standard_normal((4 * world, 3)).astype('float32')
ddp(tg.tensor(x[rank::world], device='cuda', requires_grad=False)).square().mean().backward()
ref(tg.tensor(np.concatenate([x[r::world] for r in range(world)]), device='cuda',
              requires_grad=False)).square().mean().backward()
for p, q in zip(ddp.parameters(), ref.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
cupy.cuda.get_current_stream().synchronize()
done(rank)
