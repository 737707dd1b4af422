"""Distributed data-parallel training over MPI (PyTorch's ``torch.distributed``).

Processes are started by MPI: ``python -m tensorgrad.distributed.run
--nproc-per-node N script.py ...`` (tensorgrad's ``torchrun``) or the
environment's ``mpiexec -n N python -m mpi4py script.py``. In the script,
``init_process_group('mpi')`` (or ``'nccl'`` for CuPy tensors, one rank per
GPU) makes the default group; the collectives (``all_reduce``, ``broadcast``,
``all_gather``, ...) then work in place on tensors of any dtype. DDP is
``tensorgrad.nn.parallel.DistributedDataParallel``, the sampler
``tensorgrad.utils.data.distributed.DistributedSampler``.

Needs the ``distributed`` extra (``pip install 'tensorgrad[distributed]'``:
mpi4py and the MPICH wheel); ``import tensorgrad`` never imports mpi4py.
"""
from ._types import Backend, ReduceOp, Work
from .collectives import (all_gather, all_gather_into_tensor, all_gather_object, all_reduce, barrier, broadcast,
                          broadcast_object_list, gather, recv, reduce, reduce_scatter_tensor, scatter, send)
from .process_group import (GroupMember, ProcessGroup, destroy_process_group, get_backend, get_node_local_rank,
                            get_rank, get_world_size, group, init_process_group, is_available, is_gloo_available,
                            is_initialized, is_mpi_available, is_nccl_available, new_group)

__all__ = ['Backend', 'GroupMember', 'ProcessGroup', 'ReduceOp', 'Work', 'all_gather', 'all_gather_into_tensor',
           'all_gather_object', 'all_reduce', 'barrier', 'broadcast', 'broadcast_object_list',
           'destroy_process_group', 'gather', 'get_backend', 'get_node_local_rank', 'get_rank', 'get_world_size',
           'group', 'init_process_group', 'is_available', 'is_gloo_available', 'is_initialized', 'is_mpi_available',
           'is_nccl_available', 'new_group', 'recv', 'reduce', 'reduce_scatter_tensor', 'scatter', 'send']
