"""``tensorgrad.backends.cuda``: ``is_built()`` and the ``matmul`` precision flags
(``allow_tf32`` mirrors ``tensorgrad.set_float32_matmul_precision``, as PyTorch's)."""
from .. import _runtime


def is_built():
    """Whether tensorgrad can use CUDA here (CuPy importable with a GPU)."""
    from .. import backend  # noqa: PLC0415
    return backend.is_cuda_available()


class _MatmulFlags:
    """``backends.cuda.matmul``: ``allow_tf32`` (True when the float32 matmul precision is
    not 'highest'), ``allow_fp16_reduced_precision_reduction``,
    ``allow_bf16_reduced_precision_reduction``. Unknown attributes raise AttributeError."""
    __slots__ = ('_fp16_reduced', '_bf16_reduced')

    def __init__(self):
        self._fp16_reduced = True
        self._bf16_reduced = True

    @property
    def allow_tf32(self):
        """Whether TF32 may be used for float32 matmuls on cuda."""
        return _runtime.get_float32_matmul_precision() != 'highest'

    @allow_tf32.setter
    def allow_tf32(self, value):
        _runtime.set_float32_matmul_precision('high' if value else 'highest')

    @property
    def allow_fp16_reduced_precision_reduction(self):
        """Whether float16 matmuls may reduce in reduced precision."""
        return self._fp16_reduced

    @allow_fp16_reduced_precision_reduction.setter
    def allow_fp16_reduced_precision_reduction(self, value):
        self._fp16_reduced = bool(value)

    @property
    def allow_bf16_reduced_precision_reduction(self):
        """Whether bfloat16 matmuls may reduce in reduced precision."""
        return self._bf16_reduced

    @allow_bf16_reduced_precision_reduction.setter
    def allow_bf16_reduced_precision_reduction(self, value):
        self._bf16_reduced = bool(value)


matmul = _MatmulFlags()
