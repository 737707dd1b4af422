"""tensorgrad: a PyTorch-style deep learning library on NumPy (cpu) and CuPy (cuda)
with reverse-mode automatic differentiation.

``tensorgrad.tensor`` builds tensors and stands for the Tensor class (``Tensor``
is the class itself); ``nn``, ``optim`` and ``ctx`` are its companions, as in
the reference documentation.
"""
from . import _malloc
from . import autograd, ctx, methods  # noqa: F401  (methods binds the ops onto Tensor)
from ._tensor import Tensor, tensor
from .autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import is_cuda_available
from .dtypes import DEVICE, DTYPE
from .factories import (
    arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like, geomspace, linspace,
    logspace, normal,
    ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, zeros, zeros_like,
)
from .ops.api import (
    abs, add, all, amax, amin, any, argmax, argmin, bmm, broadcast_to, cat, chunk, clamp, clip, clone, concat,
    concatenate, cos, div, dot, eq, exp, expand, flatten, flip, floor_divide, gather, ge, gt, index_select, le,
    log, logical_and, logical_not, logical_or, logical_xor, logsumexp, lt, masked_fill, matmul, max, maximum,
    mean, min, minimum, mm, movedim, moveaxis, mul, ne, neg, permute, pow, prod, relu, remainder, repeat, reshape,
    sigmoid, sign, sin, split, sqrt, squeeze, stack, std, sub, sum, swapaxes, tanh, tile, transpose,
    unbind, unsqueeze, var, where,
)
from ._runtime import (
    get_default_dtype, get_float32_matmul_precision, is_tensor, numel, set_default_dtype,
    set_float32_matmul_precision,
)
from .dtypes import device
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

# op families may declare EXPORTS: names re-exported here (``tensorgrad.conv2d`` ...)
for _mod in methods.OP_MODULES:
    for _name in getattr(_mod, 'EXPORTS', ()):
        globals()[_name] = getattr(_mod, _name)
del _mod
from ._runtime import get_num_threads, set_num_threads  # noqa: E402 - wraps ops._parallel's (and BLAS)

_malloc.tune()

float16, float32, float64 = DTYPE.FLOAT16, DTYPE.FLOAT32, DTYPE.FLOAT64
int8, uint8, int16, int32, int64, bool = DTYPE.INT8, DTYPE.UINT8, DTYPE.INT16, DTYPE.INT32, DTYPE.INT64, DTYPE.BOOL  # noqa: A001
half, float, double, short, int, long = float16, float32, float64, int16, int32, int64  # noqa: A001
bfloat16 = DTYPE.BFLOAT16  # computing in it needs the ml_dtypes package
subtract, multiply, divide, true_divide = sub, mul, div, div

__version__ = '0.1.0'

# heavier companions load on first use, so ``import tensorgrad`` stays light
_LAZY_MODULES = ('nn', 'optim', 'utils', 'linalg', 'render', 'serialization', 'cuda', 'amp', 'accelerator',
                 'backends', 'interop', 'onnx')
_LAZY_NAMES = {'save': 'serialization', 'load': 'serialization', 'autocast': 'amp', 'is_autocast_enabled': 'amp',
               'get_autocast_dtype': 'amp', 'save_safetensors': 'interop', 'load_safetensors': 'interop'}


def __getattr__(name):
    import importlib  # noqa: PLC0415
    if name in _LAZY_MODULES:
        return importlib.import_module(f'{__name__}.{name}')
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f'{__name__}.{_LAZY_NAMES[name]}'), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
