"""One process, no mpiexec (an MPI singleton): the API and DDP work with world size 1,
DDP training is bit-identical to plain training; printed environment from the launcher."""
import os

import numpy as np
from common import done, start

import tensorgrad as tg
import tensorgrad.distributed as dist
from tensorgrad import nn
from tensorgrad.nn.parallel import DistributedDataParallel as DDP

rank, world = start()
assert (rank, world) == (0, 1)
print('env', os.environ.get('RANK'), os.environ.get('WORLD_SIZE'), os.environ.get('LOCAL_RANK'),
      os.environ.get('OMP_NUM_THREADS'), flush=True)
t = tg.arange(4.0)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
assert t.numpy().tolist() == [0.0, 1.0, 2.0, 3.0]


def net():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


ddp, ref = DDP(net()), net()
o1, o2 = tg.optim.Adam(ddp.parameters(), lr=0.01), tg.optim.Adam(ref.parameters(), lr=0.01)
rng = np.random.default_rng(0)
for _ in range(3):
    x = tg.tensor(rng.standard_normal((4, 3)).astype('float32'), requires_grad=False)
    for m, o in ((ddp, o1), (ref, o2)):
        o.zero_grad(set_to_none=False)  # gradients kept as zero tensors: accumulation path
        m(x).square().mean().backward()
        o.step()
for a, b in zip(ddp.parameters(), ref.parameters()):
    assert a.numpy().tobytes() == b.numpy().tobytes()
try:
    dist.init_process_group('mpi')
except ValueError as e:
    assert 'twice' in str(e)
else:
    raise AssertionError('a second init_process_group must raise')
done(rank)
