"""Backend switches, as ``torch.backends``: ``backends.cuda.matmul.allow_tf32``,
``backends.cudnn.benchmark / deterministic / enabled / allow_tf32`` and
``backends.mps.is_available()``; ``backends.kernels.set_backend('numpy' | 'numba')``
chooses the fused CPU kernels. The flags are settable and read back as set;
tensorgrad's NumPy/CuPy kernels keep full float32 precision whatever they say."""
from . import cuda, cudnn, kernels, mps  # noqa: F401

__all__ = ['cuda', 'cudnn', 'kernels', 'mps']
