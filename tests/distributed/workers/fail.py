"""Rank 1 raises while rank 0 waits in a collective: the job must end fast, not hang."""
import time

from common import start

import tensorgrad as tg
import tensorgrad.distributed as dist

rank, world = start()
if rank == 1:
    raise RuntimeError('deliberate failure on rank 1')
time.sleep(0.2)
dist.all_reduce(tg.ones(3))  # never matched: rank 1 is gone
print('rank 0: should not get here', flush=True)
