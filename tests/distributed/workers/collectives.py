"""Every collective on 2 ranks against NumPy: dtypes, reduce ops, in place on
non-contiguous, 0-d and empty tensors; groups; argument errors."""
import numpy as np
from common import done, start

import tensorgrad as tg
import tensorgrad.distributed as dist
from tensorgrad.distributed import ReduceOp

rank, world = start()
assert world == 2, world

DTYPES = ['bool', 'int8', 'uint8', 'int32', 'int64', 'float16', 'float32', 'float64', 'complex64', 'complex128']
NP_OPS = {ReduceOp.SUM: lambda a: a.sum(0), ReduceOp.PRODUCT: lambda a: a.prod(0), ReduceOp.MIN: lambda a: a.min(0),
          ReduceOp.MAX: lambda a: a.max(0), ReduceOp.AVG: lambda a: a.sum(0) / 2,
          ReduceOp.BAND: lambda a: a[0] & a[1], ReduceOp.BOR: lambda a: a[0] | a[1],
          ReduceOp.BXOR: lambda a: a[0] ^ a[1]}


def value(r, dtype, shape=(3, 4)):
    """Rank r's test values (any rank can compute every rank's)."""
    rng = np.random.default_rng(10 + r)
    x = rng.integers(-5, 6, size=shape) if np.dtype(dtype).kind in 'iub' else rng.standard_normal(shape) * 3
    if np.dtype(dtype).kind == 'c':
        x = x + 1j * rng.standard_normal(shape)
    if np.dtype(dtype).kind == 'u':
        x = np.abs(x)
    return np.asarray(x).astype(dtype)


def allowed(op, kind):
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        return kind in 'iu'
    if op is ReduceOp.AVG:
        return kind in 'fc'
    if op in (ReduceOp.MIN, ReduceOp.MAX):
        return kind != 'c'
    return True


def expected(op, dtype, shape=(3, 4)):
    both = np.stack([value(0, dtype, shape), value(1, dtype, shape)])
    if np.dtype(dtype).kind == 'b':
        red = {ReduceOp.SUM: both.any(0), ReduceOp.MAX: both.any(0), ReduceOp.PRODUCT: both.all(0),
               ReduceOp.MIN: both.all(0)}[op]
    else:
        red = NP_OPS[op](both)
    return np.asarray(red).astype(dtype)


# all_reduce: every dtype x op, checked exactly against NumPy (2 ranks: one addition / product)
for dt in DTYPES:
    for op in NP_OPS:
        t = tg.tensor(value(rank, dt), requires_grad=False)
        if not allowed(op, np.dtype(dt).kind) or (dt == 'bool' and op in (ReduceOp.BAND, ReduceOp.BOR)):
            try:
                dist.all_reduce(t, op=op)
            except (ValueError, RuntimeError, TypeError):
                continue
            if dt == 'bool':
                continue
            raise AssertionError(f'all_reduce {op} on {dt} should have raised')
        dist.all_reduce(t, op=op)
        if np.dtype(dt).kind == 'c' and op is ReduceOp.PRODUCT:  # MPI's complex product rounds differently
            np.testing.assert_allclose(t.numpy(), expected(op, dt), rtol=1e-6, err_msg=f'{dt} {op}')
        else:
            np.testing.assert_array_equal(t.numpy(), expected(op, dt), err_msg=f'{dt} {op}')
        assert t.dtype == tg.tensor(value(rank, dt)).dtype

# bfloat16 (reduced through float32) where ml_dtypes is installed
try:
    bf = tg.tensor(value(rank, 'float32'), requires_grad=False).to(tg.bfloat16)
except Exception:  # noqa: BLE001
    bf = None
if bf is not None:
    want = (bf.float().numpy() + tg.tensor(value(1 - rank, 'float32')).to(tg.bfloat16).float().numpy())
    dist.all_reduce(bf)
    np.testing.assert_allclose(bf.float().numpy(), want, rtol=1e-2)

# in place on a non-contiguous view: the base sees the result
base = tg.tensor(value(rank, 'float32', (4, 6)), requires_grad=False)
view = base.t()[1:5]
dist.all_reduce(view)
full = value(0, 'float32', (4, 6)) + value(1, 'float32', (4, 6))
np.testing.assert_array_equal(base.numpy().T[1:5], full.T[1:5])
np.testing.assert_array_equal(base.numpy().T[0], value(rank, 'float32', (4, 6)).T[0])
# 0-d and size-0
z = tg.tensor(np.float64(rank + 1.5), requires_grad=False)
dist.all_reduce(z, op=ReduceOp.MAX)
assert z.item() == 2.5
e = tg.zeros(0, 3)
dist.all_reduce(e)
assert e.shape == (0, 3)
# async_op returns a completed Work
w = dist.all_reduce(tg.ones(2), async_op=True)
assert w.wait() and w.is_completed()

# broadcast from rank 1, float64 and int64, non-contiguous
for dt in ('float64', 'int64', 'bool'):
    t = tg.tensor(value(rank, dt), requires_grad=False)
    dist.broadcast(t, src=1)
    np.testing.assert_array_equal(t.numpy(), value(1, dt))
b2 = tg.tensor(value(rank, 'float32', (4, 6)), requires_grad=False)
dist.broadcast(b2.t(), src=0)
np.testing.assert_array_equal(b2.numpy(), value(0, 'float32', (4, 6)))

# reduce onto rank 1
t = tg.tensor(value(rank, 'float32'), requires_grad=False)
dist.reduce(t, dst=1, op=ReduceOp.SUM)
np.testing.assert_array_equal(t.numpy(), expected(ReduceOp.SUM, 'float32') if rank == 1 else value(rank, 'float32'))

# all_gather / all_gather_into_tensor (both output layouts)
for dt in ('float32', 'int64', 'float16'):
    outs = [tg.zeros(3, 4, dtype=getattr(tg, dt)) for _ in range(2)]
    dist.all_gather(outs, tg.tensor(value(rank, dt), requires_grad=False))
    for r in range(2):
        np.testing.assert_array_equal(outs[r].numpy(), value(r, dt))
x = tg.tensor(value(rank, 'float32'), requires_grad=False)
cat = tg.zeros(6, 4)
dist.all_gather_into_tensor(cat, x)
np.testing.assert_array_equal(cat.numpy(), np.concatenate([value(0, 'float32'), value(1, 'float32')]))
stacked = tg.zeros(2, 3, 4)
dist.all_gather_into_tensor(stacked, x)
np.testing.assert_array_equal(stacked.numpy(), np.stack([value(0, 'float32'), value(1, 'float32')]))

# reduce_scatter_tensor: rank r gets block r of the sum
big = tg.tensor(value(rank, 'float64', (6, 4)), requires_grad=False)
part = tg.zeros(3, 4, dtype=tg.float64)
dist.reduce_scatter_tensor(part, big)
tot = value(0, 'float64', (6, 4)) + value(1, 'float64', (6, 4))
np.testing.assert_array_equal(part.numpy(), tot[3 * rank:3 * rank + 3])
part_avg = tg.zeros(3, 4, dtype=tg.float64)
dist.reduce_scatter_tensor(part_avg, big.reshape(2, 3, 4), op=ReduceOp.AVG)
np.testing.assert_array_equal(part_avg.numpy(), tot[3 * rank:3 * rank + 3] / 2)

# gather to rank 1, scatter from rank 0
gl = [tg.zeros(3, 4) for _ in range(2)] if rank == 1 else None
dist.gather(tg.tensor(value(rank, 'float32'), requires_grad=False), gl, dst=1)
if rank == 1:
    for r in range(2):
        np.testing.assert_array_equal(gl[r].numpy(), value(r, 'float32'))
got = tg.zeros(3, 4, dtype=tg.int64)
sl = [tg.tensor(value(r + 7, 'int64'), requires_grad=False) for r in range(2)] if rank == 0 else None
dist.scatter(got, sl, src=0)
np.testing.assert_array_equal(got.numpy(), value(rank + 7, 'int64'))

# send / recv
if rank == 0:
    dist.send(tg.tensor(value(0, 'float32'), requires_grad=False), dst=1, tag=3)
else:
    buf = tg.zeros(3, 4)
    assert dist.recv(buf, src=0, tag=3) == 0
    np.testing.assert_array_equal(buf.numpy(), value(0, 'float32'))

# objects
objs = [None, None]
dist.all_gather_object(objs, {'rank': rank})
assert objs == [{'rank': 0}, {'rank': 1}], objs
lst = [rank, 'x'] if rank == 1 else [None, None]
dist.broadcast_object_list(lst, src=1)
assert lst == [1, 'x'], lst

# groups: a group of rank 1 only; every rank calls new_group
g = dist.new_group([1])
if rank == 1:
    assert dist.get_rank(g) == 0 and dist.get_world_size(g) == 1
    t = tg.ones(2) * 5
    dist.all_reduce(t, group=g)
    assert t.numpy().tolist() == [5.0, 5.0]
else:
    assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
    assert dist.all_reduce(tg.ones(2), group=g) is None  # a no-op outside the group
g2 = dist.new_group()
t = tg.ones(2) * (rank + 1)
dist.all_reduce(t, group=g2, op=ReduceOp.PRODUCT)
assert t.numpy().tolist() == [2.0, 2.0]
dist.destroy_process_group(g2)

# errors raise before any communication (on both ranks alike)
for call, err in [(lambda: dist.all_gather([tg.zeros(3)], tg.zeros(3)), ValueError),
                  (lambda: dist.all_gather([tg.zeros(2), tg.zeros(3)], tg.zeros(3)), ValueError),
                  (lambda: dist.all_gather_into_tensor(tg.zeros(5), tg.zeros(3)), ValueError),
                  (lambda: dist.all_reduce(tg.tensor(np.zeros(2, np.complex64)), op=ReduceOp.MAX), ValueError),
                  (lambda: dist.all_reduce(np.zeros(2)), TypeError),
                  (lambda: dist.broadcast(tg.zeros(2), src=5), ValueError),
                  (lambda: dist.all_reduce(tg.zeros(2), op='sum'), TypeError)]:
    try:
        call()
    except err as exc:
        assert str(exc), exc
    else:
        raise AssertionError(f'{call} should have raised {err.__name__}')
assert dist.get_backend() == 'mpi' and dist.is_initialized()
done(rank)
