"""The MPI backend: collectives over an mpi4py communicator on contiguous
arrays, in place, with group-local ranks. mpi4py is imported here only, when a
process group is created (``import tensorgrad`` never loads it).

Measured on a 2-core machine with the MPICH wheel: the buffer-based calls
(``Allreduce(MPI.IN_PLACE, buf)``) are 10-30x faster than the pickle-based
lowercase ones; ``Iallreduce`` gave no overlap with computation (progress only
happens inside ``Wait``), so everything here is blocking. CuPy arrays are
staged through host memory (an MPI built without CUDA support cannot read
device memory); the NCCL backend is the fast path for them.
"""
import numpy as np

from ._types import ReduceOp

INSTALL_HINT = "pip install 'tensorgrad[distributed]' (mpi4py and the MPICH wheel)"

_OPS = {ReduceOp.SUM: 'SUM', ReduceOp.AVG: 'SUM', ReduceOp.PRODUCT: 'PROD', ReduceOp.MIN: 'MIN',
        ReduceOp.MAX: 'MAX', ReduceOp.BAND: 'BAND', ReduceOp.BOR: 'BOR', ReduceOp.BXOR: 'BXOR'}
_BOOL_OPS = {ReduceOp.SUM: 'LOR', ReduceOp.MAX: 'LOR', ReduceOp.BOR: 'LOR', ReduceOp.PRODUCT: 'LAND',
             ReduceOp.MIN: 'LAND', ReduceOp.BAND: 'LAND', ReduceOp.BXOR: 'LXOR'}
_BITWISE = (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)


def load_mpi():
    """The ``mpi4py.MPI`` module (initialising MPI); RuntimeError with the install command when missing."""
    try:
        from mpi4py import MPI  # noqa: PLC0415 - optional, loaded on first use
    except ImportError as e:
        raise RuntimeError(f"tensorgrad.distributed: the MPI backend needs mpi4py: {INSTALL_HINT}") from e
    return MPI


def check_reduce_op(op, dtype, who):
    """Raise before any communication when ``op`` cannot reduce ``dtype`` (as PyTorch does)."""
    kind = np.dtype(dtype).kind
    if kind == 'c' and op in (ReduceOp.MIN, ReduceOp.MAX) + _BITWISE:
        raise ValueError(f"{who} does not support {op} on complex tensors")
    if kind in 'fcV' and op in _BITWISE:
        raise RuntimeError(f"{who}: {op} needs an integer or bool tensor, got {np.dtype(dtype).name}")
    if op is ReduceOp.AVG and kind in 'biu':
        raise RuntimeError(f"{who}: ReduceOp.AVG needs a floating point tensor, got {np.dtype(dtype).name}")


class MPIComm:
    """Blocking collectives over one mpi4py communicator (``comm``)."""

    def __init__(self, comm):
        self.MPI = load_mpi()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._types = {}

    # ------------------------------------------------------------ helpers
    def _mpi_type(self, dtype):
        """The MPI datatype of a NumPy dtype, or None (bfloat16 and other
        extension types: reduced through float32)."""
        t = self._types.get(dtype, False)
        if t is False:
            try:
                # predefined types only: reductions are not defined on derived ones
                t = self.MPI.Datatype.fromcode(dtype.char) if dtype.kind in 'biufc' else None
            except (KeyError, ValueError, TypeError):
                t = None
            self._types[dtype] = t
        return t

    def _bytes(self, arr):
        # raw bytes: any dtype (bfloat16 has no buffer format) and any shape (0-d too)
        return [arr.reshape(-1).view(np.uint8), self.MPI.BYTE]

    @staticmethod
    def _host(arr):
        """A NumPy array with ``arr``'s data (``arr`` itself on the host) and a
        function that copies it back into ``arr``."""
        if isinstance(arr, np.ndarray):
            return arr, None
        host = arr.get()
        return host, lambda: arr.set(host)

    # ---------------------------------------------------------- collectives
    def allreduce(self, arr, op):
        """Reduce ``arr`` over the ranks, in place (AVG: the sum divided by the size)."""
        host, back = self._host(arr)
        self._allreduce_host(host, op)
        if back is not None:
            back()

    def _allreduce_host(self, host, op):
        MPI = self.MPI
        if host.size == 0:
            return
        if host.dtype.kind == 'b':
            self.comm.Allreduce(MPI.IN_PLACE, [host, MPI.C_BOOL], op=getattr(MPI, _BOOL_OPS[op]))
            return
        mtype = self._mpi_type(host.dtype)
        if mtype is None:  # e.g. bfloat16: reduce a float32 copy
            wide = host.astype(np.float32)
            self._allreduce_host(wide, op)
            host[...] = wide.astype(host.dtype)
            return
        self.comm.Allreduce(MPI.IN_PLACE, [host, mtype], op=getattr(MPI, _OPS[op]))
        if op is ReduceOp.AVG:
            host /= host.dtype.type(self.size)

    def reduce(self, arr, root, op):
        """Reduce ``arr`` onto rank ``root`` (in place there; other ranks keep their values)."""
        host, back = self._host(arr)
        if host.size == 0:
            return
        if host.dtype.kind == 'b' or self._mpi_type(host.dtype) is None:
            keep = host.copy()
            self._allreduce_host(host, op)  # rare dtypes: all-reduce, keep the input off the root
            if self.rank != root:
                host[...] = keep
        else:
            MPI = self.MPI
            spec = [host, self._mpi_type(host.dtype)]
            if self.rank == root:
                self.comm.Reduce(MPI.IN_PLACE, spec, op=getattr(MPI, _OPS[op]), root=root)
                if op is ReduceOp.AVG:
                    host /= host.dtype.type(self.size)
            else:
                self.comm.Reduce(spec, None, op=getattr(MPI, _OPS[op]), root=root)
        if back is not None and self.rank == root:
            back()

    def broadcast(self, arr, root):
        """Copy rank ``root``'s ``arr`` into every rank's ``arr``."""
        host, back = self._host(arr)
        self.comm.Bcast(self._bytes(host), root=root)
        if back is not None and self.rank != root:
            back()

    def allgather(self, send, recv):
        """``recv`` (size * send.nbytes bytes) receives every rank's ``send``, in rank order."""
        hs, _ = self._host(send)
        hr, back = self._host(recv)
        self.comm.Allgather(self._bytes(hs), self._bytes_each(hr))
        if back is not None:
            back()

    def _bytes_each(self, arr):
        # one equal block of bytes per rank
        return [arr.reshape(-1).view(np.uint8), arr.nbytes // self.size, self.MPI.BYTE]

    def reduce_scatter(self, send, recv, op):
        """``recv`` gets block ``rank`` (of ``size`` equal blocks of ``send``) reduced over the ranks."""
        hs, _ = self._host(send)
        hr, back = self._host(recv)
        mtype = self._mpi_type(hs.dtype) if hs.dtype.kind != 'b' else None
        if mtype is None:
            full = hs.copy()
            self._allreduce_host(full, op)
            hr.reshape(-1)[...] = full.reshape(self.size, -1)[self.rank]
        elif hr.size:
            MPI = self.MPI
            self.comm.Reduce_scatter_block([hs, mtype], [hr, mtype], op=getattr(MPI, _OPS[op]))
            if op is ReduceOp.AVG:
                hr /= hr.dtype.type(self.size)
        if back is not None:
            back()

    def gather(self, send, recv, root):
        """Rank ``root``'s ``recv`` (or None elsewhere) receives every rank's ``send``, in rank order."""
        hs, _ = self._host(send)
        if self.rank == root:
            hr, back = self._host(recv)
            self.comm.Gather(self._bytes(hs), self._bytes_each(hr), root=root)
            if back is not None:
                back()
        else:
            self.comm.Gather(self._bytes(hs), None, root=root)

    def scatter(self, send, recv, root):
        """Each rank's ``recv`` receives block ``rank`` of rank ``root``'s ``send`` (None elsewhere)."""
        hr, back = self._host(recv)
        if self.rank == root:
            hs, _ = self._host(send)
            self.comm.Scatter(self._bytes_each(hs), self._bytes(hr), root=root)
        else:
            self.comm.Scatter(None, self._bytes(hr), root=root)
        if back is not None:
            back()

    def send(self, arr, dst, tag):
        """Send ``arr`` to rank ``dst``."""
        host, _ = self._host(arr)
        self.comm.Send(self._bytes(host), dest=dst, tag=tag)

    def recv(self, arr, src, tag):
        """Receive into ``arr`` from rank ``src`` (None: any rank); returns the sender's rank."""
        host, back = self._host(arr)
        MPI = self.MPI
        status = MPI.Status()
        self.comm.Recv(self._bytes(host), source=MPI.ANY_SOURCE if src is None else src, tag=tag, status=status)
        if back is not None:
            back()
        return status.Get_source()

    def barrier(self):
        """Wait until every rank has called ``barrier``."""
        self.comm.Barrier()

    def allgather_object(self, obj):
        """Every rank's (picklable) ``obj``, in rank order."""
        return self.comm.allgather(obj)

    def bcast_object(self, obj, root):
        """Rank ``root``'s ``obj`` on every rank."""
        return self.comm.bcast(obj, root=root)

    def split(self, members):
        """A communicator over the sorted global-to-local ``members`` (ranks of
        this communicator); collective over all ranks. None on non-members."""
        MPI = self.MPI
        color = 0 if self.rank in members else MPI.UNDEFINED
        key = members.index(self.rank) if self.rank in members else 0
        sub = self.comm.Split(color, key)
        return None if sub == MPI.COMM_NULL else MPIComm(sub)

    def abort(self, code=1):
        """Abort every process of the job."""
        self.comm.Abort(code)

    def free(self):
        """Release the communicator."""
        if self.comm is not None and self.comm != self.MPI.COMM_NULL:
            try:
                self.comm.Free()
            except Exception:  # noqa: BLE001 - MPI may already be finalized at exit
                pass
        self.comm = None
