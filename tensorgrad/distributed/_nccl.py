"""The NCCL backend: collectives on CuPy arrays through ``cupy.cuda.nccl``,
one rank per GPU, the NCCL unique id broadcast over MPI. All-reduce, reduce,
broadcast, all-gather and reduce-scatter of NCCL's dtypes run on NCCL, on the
current CUDA stream (asynchronous to the host, ordered with the computation);
everything else (NumPy arrays, gather / scatter / send / recv, objects, dtypes
NCCL lacks) goes through the MPI communicator of the same group.

Unverified until it has run on GPUs: this machine has none, and its tests skip.
"""
import numpy as np

from ._types import ReduceOp

_NCCL_TYPES = {'int8': 'NCCL_INT8', 'uint8': 'NCCL_UINT8', 'int32': 'NCCL_INT32', 'uint32': 'NCCL_UINT32',
               'int64': 'NCCL_INT64', 'uint64': 'NCCL_UINT64', 'float16': 'NCCL_FLOAT16',
               'float32': 'NCCL_FLOAT32', 'float64': 'NCCL_FLOAT64', 'bfloat16': 'NCCL_BFLOAT16'}
_NCCL_TYPE_CODES = {'NCCL_BFLOAT16': 9}  # NCCL's enum value, for CuPy builds that do not name it
_NCCL_OPS = {ReduceOp.SUM: ('NCCL_SUM', 0), ReduceOp.PRODUCT: ('NCCL_PROD', 1), ReduceOp.MAX: ('NCCL_MAX', 2),
             ReduceOp.MIN: ('NCCL_MIN', 3), ReduceOp.AVG: ('NCCL_AVG', 4)}


def load_nccl():
    """CuPy and ``cupy.cuda.nccl``; RuntimeError when either is missing."""
    try:
        import cupy  # noqa: PLC0415 - optional dependency
        from cupy.cuda import nccl  # noqa: PLC0415
    except ImportError as e:
        raise RuntimeError("tensorgrad.distributed: backend 'nccl' needs CuPy with NCCL "
                           "(pip install 'tensorgrad[cuda]'; CuPy's wheels load NCCL from the "
                           "nvidia-nccl-cu12 package)") from e
    if not getattr(nccl, 'available', True):
        raise RuntimeError("tensorgrad.distributed: this CuPy build has no NCCL support")
    return cupy, nccl


class NCCLComm:
    """NCCL collectives for the ranks of ``mpi`` (an ``MPIComm``), which also
    carries everything NCCL does not do. The NCCL communicator is created on
    the first CUDA collective, on the then-current device (so that
    ``cuda.set_device(local_rank)`` after ``init_process_group`` is honoured)."""

    def __init__(self, mpi):
        self.mpi = mpi
        self.rank, self.size = mpi.rank, mpi.size
        self.cupy, self.nccl = load_nccl()
        self._comm = None

    def _communicator(self):
        if self._comm is None:
            uid = self.nccl.get_unique_id() if self.rank == 0 else None
            uid = self.mpi.bcast_object(uid, 0)
            self._comm = self.nccl.NcclCommunicator(self.size, uid, self.rank)
        return self._comm

    def _on_nccl(self, arr):
        return isinstance(arr, self.cupy.ndarray)

    def _dtype(self, dtype):
        name = _NCCL_TYPES.get(np.dtype(dtype).name)
        if name is None:
            return None
        return getattr(self.nccl, name, _NCCL_TYPE_CODES.get(name))

    def _op(self, op):
        entry = _NCCL_OPS.get(op)
        return None if entry is None else getattr(self.nccl, entry[0], entry[1])

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    @staticmethod
    def _as_floats(arr):
        """Complex arrays as float pairs (sums only)."""
        return arr.view(np.float32 if arr.dtype == np.complex64 else np.float64) if arr.dtype.kind == 'c' else arr

    def _typed(self, arr, op=None):
        """(array, NCCL datatype, NCCL op) when NCCL can do it, else None."""
        if not self._on_nccl(arr) or arr.size == 0:
            return None
        if arr.dtype.kind == 'c':
            if op not in (None, ReduceOp.SUM, ReduceOp.AVG):
                return None
            arr = self._as_floats(arr)
        dt = self._dtype(arr.dtype) if arr.dtype.kind != 'b' else None
        if arr.dtype.kind == 'b' and op is None:
            arr, dt = arr.view(np.uint8), self._dtype(np.uint8)
        nop = self._op(op) if op is not None else 0
        if dt is None or nop is None:
            return None
        return arr, dt, nop

    # ---------------------------------------------------------- collectives
    def allreduce(self, arr, op):
        """Reduce ``arr`` over the ranks, in place."""
        t = self._typed(arr, op)
        if t is None:
            return self.mpi.allreduce(arr, op)
        a, dt, nop = t
        self._communicator().allReduce(a.data.ptr, a.data.ptr, a.size, dt, nop, self._stream())

    def reduce(self, arr, root, op):
        """Reduce ``arr`` onto rank ``root``."""
        t = self._typed(arr, op)
        if t is None:
            return self.mpi.reduce(arr, root, op)
        a, dt, nop = t
        self._communicator().reduce(a.data.ptr, a.data.ptr, a.size, dt, nop, root, self._stream())

    def broadcast(self, arr, root):
        """Copy rank ``root``'s ``arr`` into every rank's ``arr``."""
        t = self._typed(arr)
        if t is None:
            return self.mpi.broadcast(arr, root)
        a, dt, _ = t
        self._communicator().bcast(a.data.ptr, a.size, dt, root, self._stream())

    def allgather(self, send, recv):
        """``recv`` receives every rank's ``send``, in rank order."""
        t = self._typed(send)
        if t is None or not self._on_nccl(recv):
            return self.mpi.allgather(send, recv)
        a, dt, _ = t
        r = self._typed(recv)[0]
        self._communicator().allGather(a.data.ptr, r.data.ptr, a.size, dt, self._stream())

    def reduce_scatter(self, send, recv, op):
        """``recv`` gets its block of ``send`` reduced over the ranks."""
        t = self._typed(send, op)
        if t is None or not self._on_nccl(recv) or recv.size == 0:
            return self.mpi.reduce_scatter(send, recv, op)
        a, dt, nop = t
        r = self._as_floats(recv)
        self._communicator().reduceScatter(a.data.ptr, r.data.ptr, r.size, dt, nop, self._stream())

    def gather(self, send, recv, root):
        """Through MPI (staged through host memory)."""
        self.mpi.gather(send, recv, root)

    def scatter(self, send, recv, root):
        """Through MPI (staged through host memory)."""
        self.mpi.scatter(send, recv, root)

    def send(self, arr, dst, tag):
        """Through MPI (staged through host memory)."""
        self.mpi.send(arr, dst, tag)

    def recv(self, arr, src, tag):
        """Through MPI (staged through host memory)."""
        return self.mpi.recv(arr, src, tag)

    def barrier(self):
        """Finish this rank's queued GPU work, then an MPI barrier."""
        self.cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()

    def allgather_object(self, obj):
        """Every rank's ``obj`` (over MPI)."""
        return self.mpi.allgather_object(obj)

    def bcast_object(self, obj, root):
        """Rank ``root``'s ``obj`` (over MPI)."""
        return self.mpi.bcast_object(obj, root)

    def split(self, members):
        """An NCCL communicator over ``members`` (collective over all ranks); None on non-members."""
        sub = self.mpi.split(members)
        return None if sub is None else NCCLComm(sub)

    def abort(self, code=1):
        """Abort every process of the job."""
        self.mpi.abort(code)

    def free(self):
        """Release the NCCL and MPI communicators."""
        if self._comm is not None:
            self._comm.destroy()
            self._comm = None
        self.mpi.free()
