"""Names shared by the collectives and the backends: ``ReduceOp``, ``Backend``,
``Work`` (PyTorch's ``torch.distributed`` spellings)."""
import enum


class ReduceOp:
    """How ``all_reduce`` / ``reduce`` / ``reduce_scatter_tensor`` combine the
    ranks' values: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``,
    ``BAND``, ``BOR``, ``BXOR`` (PyTorch's names and numbers)."""

    class RedOpType(enum.IntEnum):
        """The reduction kinds, numbered as in PyTorch."""
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


def as_reduce_op(op, who):
    """``op`` as a ``ReduceOp.RedOpType`` member; TypeError/ValueError naming ``who`` otherwise."""
    if isinstance(op, ReduceOp.RedOpType):
        red = op
    elif isinstance(op, int) and not isinstance(op, bool):
        try:
            red = ReduceOp.RedOpType(op)
        except ValueError:
            raise ValueError(f"{who}: unknown reduce op {op!r}") from None
    else:
        raise TypeError(f"{who}: op must be a ReduceOp (e.g. ReduceOp.SUM), got {type(op).__name__}")
    if red is ReduceOp.PREMUL_SUM:
        raise ValueError(f"{who}: ReduceOp.PREMUL_SUM is not supported")
    return red


class Backend(str):
    """A backend name, lower-cased: ``Backend.MPI`` ('mpi'), ``Backend.NCCL``
    ('nccl'); ``Backend.GLOO`` ('gloo') is accepted and runs on MPI."""
    MPI = 'mpi'
    NCCL = 'nccl'
    GLOO = 'gloo'
    UNDEFINED = 'undefined'

    def __new__(cls, name):
        if not isinstance(name, str):
            raise TypeError(f"Backend name must be a string, but got: {name!r}")
        value = name.lower()
        if value not in ('mpi', 'nccl', 'gloo', 'undefined') and ':' not in value:
            raise ValueError(f"Invalid backend: {name!r}; tensorgrad has 'mpi', 'nccl' (and 'gloo', run on MPI)")
        return str.__new__(cls, value)


class Work:
    """The handle of a collective started with ``async_op=True``. tensorgrad's
    collectives finish before returning (on CPU, MPI's non-blocking calls gave
    no overlap), so ``wait()`` returns at once; NCCL work is ordered on the
    current CUDA stream."""
    __slots__ = ('_result',)

    def __init__(self, result=None):
        self._result = list(result) if result is not None else []

    def wait(self, timeout=None):
        """Block until the collective is done (it is); returns True."""
        return True

    def synchronize(self):
        """Same as ``wait()``."""
        self.wait()

    def is_completed(self):
        """Whether the collective has finished: always True."""
        return True

    def is_success(self):
        """Whether the collective succeeded (a failure raises instead): True."""
        return True

    def exception(self):
        """The error of a failed collective: None (failures raise at the call)."""
        return None

    def result(self):
        """The output tensors of the collective."""
        return list(self._result)

    def __repr__(self):
        return '<tensorgrad.distributed.Work completed>'
