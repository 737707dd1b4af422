"""DistributedDataParallel, SyncBatchNorm and DistributedSampler on 2 ranks,
against single-process training on the same global batches."""
import numpy as np
from common import done, start

import tensorgrad as tg
import tensorgrad.distributed as dist
from tensorgrad import nn
from tensorgrad.nn.parallel import DistributedDataParallel as DDP
from tensorgrad.utils.data import DataLoader, TensorDataset
from tensorgrad.utils.data.distributed import DistributedSampler

rank, world = start()
assert world == 2
F = nn.functional


def gathered(arr):
    out = [None] * world
    dist.all_gather_object(out, np.asarray(arr))
    return out


def identical_across_ranks(module):
    for name, t in module.state_dict().items():
        a, b = gathered(t.numpy())
        assert a.tobytes() == b.tobytes(), f'{name} differs between the ranks'


def mlp(seed, dtype):
    tg.manual_seed(seed)
    m = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4))
    return m.double() if dtype == 'float64' else m


def batches(dtype, steps=4, B=12):
    rng = np.random.default_rng(5)
    return [(rng.standard_normal((B, 6)).astype(dtype), rng.integers(0, 4, B)) for _ in range(steps)]


def T(a):
    return tg.tensor(a, requires_grad=False)


def step(model, opt, x, y, clip=True):
    opt.zero_grad()
    loss = F.cross_entropy(model(T(x)), T(y))
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    return loss


# 1. different init per rank -> rank 0's weights everywhere; training equals single-process training on the
#    global batches, replicas stay bit-identical (several small buckets, float32 and float64, SGD and Adam)
for dtype, make_opt, tol in (('float32', lambda p: tg.optim.Adam(p, lr=1e-2), 2e-5),
                             ('float64', lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9), 1e-12)):
    ddp = DDP(mlp(100 + rank, dtype), bucket_cap_mb=0.0002)
    assert len(ddp.reducer.buckets) >= 3, len(ddp.reducer.buckets)
    identical_across_ranks(ddp)
    ref = mlp(100, dtype)
    for (k, a), b in zip(ddp.module.state_dict().items(), ref.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), k
    opt, ref_opt = make_opt(ddp.parameters()), make_opt(ref.parameters())
    for x, y in batches(dtype):
        step(ddp, opt, x[rank::world], y[rank::world])
        step(ref, ref_opt, x, y)
    identical_across_ranks(ddp)
    for (k, a), b in zip(ddp.module.state_dict().items(), ref.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol, err_msg=k)
    assert list(ddp.state_dict())[0] == 'module.0.weight'

# 2. no_sync: accumulating two micro-batches equals one batch of both
ddp = DDP(mlp(7, 'float64'))
big = DDP(mlp(7, 'float64'))
(x1, y1), (x2, y2) = batches('float64', 2, 8)
with ddp.no_sync():
    (F.cross_entropy(ddp(T(x1[rank::2])), T(y1[rank::2])) / 2).backward()
local = [p.grad.numpy().copy() for p in ddp.parameters()]
a, b = gathered(local[0])
assert not np.array_equal(a, b), 'no_sync must not reduce'
(F.cross_entropy(ddp(T(x2[rank::2])), T(y2[rank::2])) / 2).backward()
xb = np.concatenate([x1[rank::2], x2[rank::2]])
yb = np.concatenate([y1[rank::2], y2[rank::2]])
F.cross_entropy(big(T(xb)), T(yb)).backward()
for p, q in zip(ddp.parameters(), big.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-14)
identical_across_ranks(nn.ParameterList([nn.Parameter(p.grad) for p in ddp.parameters()]))


# 3. find_unused_parameters: a head used on rank 0 only gets the average (its gradient / 2) on both;
#    a head used nowhere keeps grad None; without the flag the next forward says what went wrong
class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        tg.manual_seed(3)
        self.body, self.a, self.b, self.never = nn.Linear(4, 4), nn.Linear(4, 1), nn.Linear(4, 1), nn.Linear(4, 1)

    def forward(self, x, use_b):
        h = self.body(x)
        return self.a(h) + (self.b(h) if use_b else 0)


m = DDP(TwoHeads(), find_unused_parameters=True)
x = T(np.random.default_rng(rank).standard_normal((5, 4)).astype('float32'))
m(x, rank == 0).sum().backward()
assert m.module.never.weight.grad is None
local_b = TwoHeads()
if rank == 0:
    local_b(x, True).sum().backward()
    want = local_b.b.weight.grad.numpy() / 2
else:
    want = None
want = gathered(want if want is not None else np.zeros(0))[0]
np.testing.assert_allclose(m.module.b.weight.grad.numpy(), want, rtol=1e-6)
m(x, rank == 0).sum().backward()  # a second round works the same way

strict = DDP(TwoHeads())
strict(x, False).sum().backward()  # b and never get no gradient, on both ranks
try:
    strict(x, False)
except RuntimeError as e:
    assert 'find_unused_parameters=True' in str(e) and 'b.weight' in str(e), e
else:
    raise AssertionError('an unfinished reduction must be reported at the next forward')

# 4. SyncBatchNorm equals BatchNorm over the global batch: output, input and parameter gradients,
#    running statistics; DDP + SyncBatchNorm trains like one process with BatchNorm on the global batch
rng = np.random.default_rng(11)
X = rng.standard_normal((8, 3, 5)) * 2 + 1
G = rng.standard_normal((8, 3, 5))
sbn, bn = nn.SyncBatchNorm(3).double(), nn.BatchNorm1d(3).double()
for mod in (sbn, bn):
    mod.weight._data[...] = [0.5, 2.0, -1.0]
    mod.bias._data[...] = [0.1, 0.0, 0.3]
xs = tg.tensor(X[rank * 4:rank * 4 + 4].transpose(0, 2, 1).copy().transpose(0, 2, 1))  # non-contiguous shard
xs.requires_grad_(True)
xf = tg.tensor(X, requires_grad=True)
ys, yf = sbn(xs), bn(xf)
(ys * T(G[rank * 4:rank * 4 + 4])).sum().backward()
(yf * T(G)).sum().backward()
np.testing.assert_allclose(ys.numpy(), yf.numpy()[rank * 4:rank * 4 + 4], rtol=1e-10, atol=1e-12)
np.testing.assert_allclose(xs.grad.numpy(), xf.grad.numpy()[rank * 4:rank * 4 + 4], rtol=1e-9, atol=1e-12)
wsum = sbn.weight.grad.clone()
dist.all_reduce(wsum)
np.testing.assert_allclose(wsum.numpy(), bn.weight.grad.numpy(), rtol=1e-10)
np.testing.assert_allclose(sbn.running_mean.numpy(), bn.running_mean.numpy(), rtol=1e-10)
np.testing.assert_allclose(sbn.running_var.numpy(), bn.running_var.numpy(), rtol=1e-10)
sbn.eval()
np.testing.assert_allclose(sbn(xs).numpy(), bn.eval()(xf).numpy()[rank * 4:rank * 4 + 4], rtol=1e-10)


def bn_net(seed):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))


net = nn.SyncBatchNorm.convert_sync_batchnorm(bn_net(20 + rank))
assert isinstance(net[1], nn.SyncBatchNorm)
ddp, ref = DDP(net), bn_net(20)
opt, ref_opt = tg.optim.SGD(ddp.parameters(), lr=0.1), tg.optim.SGD(ref.parameters(), lr=0.1)
for x, y in batches('float32', 3, 16):
    step(ddp, opt, x[rank * 8:rank * 8 + 8], y[rank * 8:rank * 8 + 8], clip=False)
    step(ref, ref_opt, x, y, clip=False)
identical_across_ranks(ddp)
for (k, a), b in zip(ddp.module.state_dict().items(), ref.state_dict().values()):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)

# 5. DistributedSampler from the default group: disjoint shards covering the data, same order each epoch
data = TensorDataset(T(np.arange(10.0)))
sampler = DistributedSampler(data, shuffle=True, seed=3)
assert sampler.num_replicas == 2 and sampler.rank == rank and len(sampler) == 5
for epoch in range(2):
    sampler.set_epoch(epoch)
    mine = [int(v) for (xb,) in DataLoader(data, batch_size=2, sampler=sampler) for v in xb.numpy()]
    a, b = gathered(mine)
    assert not set(a) & set(b) and sorted(set(a) | set(b)) == list(range(10)), (a, b)
done(rank)
