"""The fused CPU kernels' backend: ``'numba'`` (compiled, the default when numba
is installed: ``pip install 'tensorgrad[fast]'``) or ``'numpy'`` (also chosen
by ``TENSORGRAD_KERNELS=numpy``). ``set_backend`` switches; both give the same
results within float32 rounding."""
from ..ops.kernels import available, get_backend, set_backend

__all__ = ['available', 'get_backend', 'set_backend']
