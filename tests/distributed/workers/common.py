"""Shared set-up of the MPI test workers."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

import tensorgrad.distributed as dist  # noqa: E402


def start(backend='mpi'):
    """Initialise the default group; returns (rank, world_size)."""
    dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def done(rank):
    """Report success (the test looks for this line) and leave cleanly."""
    dist.barrier()
    dist.destroy_process_group()
    print(f'rank {rank}: ok', flush=True)
