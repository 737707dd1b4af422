"""Process-wide settings and small predicates of the top level, as PyTorch's:
``set_float32_matmul_precision``, ``set_num_threads`` / ``get_num_threads``,
``get_default_dtype`` / ``set_default_dtype``, ``is_tensor`` and ``numel``."""
import warnings

from ._tensor import Tensor
from .dtypes import DTYPE, to_numpy_dtype

_PRECISIONS = ('highest', 'high', 'medium')
_state = {'matmul_precision': 'highest', 'blas_limiter': None}


def set_float32_matmul_precision(precision):
    """Record the float32 matmul precision ('highest', 'high' or 'medium'); on cuda
    'high'/'medium' mean TF32 is allowed (``backends.cuda.matmul.allow_tf32``). An unknown
    value warns and has no effect, as PyTorch. NumPy matmuls always run in full float32."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _state['matmul_precision'] = precision


def get_float32_matmul_precision():
    """The float32 matmul precision last set ('highest' by default)."""
    return _state['matmul_precision']


class _ThreadCountError(RuntimeError, ValueError):
    """A bad thread count: a RuntimeError, as PyTorch's, and a ValueError, as before."""


def set_num_threads(num):
    """Set the number of threads for intra-op work, as PyTorch's: tensorgrad's row-parallel
    kernels and, through threadpoolctl when it is installed, NumPy's BLAS thread pool."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise _ThreadCountError(f"set_num_threads: expected a positive number of threads, got {num!r}")
    from .ops import _parallel  # noqa: PLC0415
    _parallel.set_num_threads(num)
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional, loaded on use
    except ImportError:
        return
    if _state['blas_limiter'] is not None:
        _state['blas_limiter'].restore_original_limits()
    _state['blas_limiter'] = threadpool_limits(limits=num, user_api='blas')


def get_num_threads():
    """The number of threads for intra-op work (tensorgrad's row-parallel kernels)."""
    from .ops import _parallel  # noqa: PLC0415
    return _parallel.get_num_threads()


def get_default_dtype():
    """The default floating dtype of factories and Python floats: ``float32``."""
    return DTYPE.FLOAT32


def set_default_dtype(d):
    """Set the default floating dtype. Only float32 is supported (tensorgrad keeps float32
    as its default); other floating dtypes raise NotImplementedError, non-floating ones
    TypeError, as PyTorch."""
    np_dtype = to_numpy_dtype(d)
    if np_dtype is None or np_dtype.kind != 'f' and np_dtype.name != 'bfloat16':
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, "
                        f"got {d}")
    if np_dtype.name != 'float32':
        raise NotImplementedError(f"set_default_dtype: tensorgrad's default dtype is fixed to float32, "
                                  f"got {np_dtype.name}")


def is_tensor(obj):
    """True when ``obj`` is a tensorgrad Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def numel(input):  # noqa: A002 - PyTorch's parameter name
    """The number of elements of a tensor."""
    if not is_tensor(input):
        raise TypeError(f"numel: expected a Tensor, got {input.__class__.__name__}")
    return int(input._data.size)
