"""Tensor factories: ``zeros``, ``ones``, ``full``, ``empty``, ``eye``,
``arange``, ``linspace``, ``rand``, ``randn``, ``randint``, ``bernoulli`` and
the ``*_like`` forms, in PyTorch's module-level style (``requires_grad``
defaults to False, as in PyTorch)."""
import operator

import numpy as np

from . import backend
from ._tensor import Tensor
from .dtypes import DEFAULT_FLOAT, DEVICE, is_floating, to_device, to_numpy_dtype
from .random import numpy_rng


def _shape(op, size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(operator.index(s) for s in size)  # 2.5 is refused, as torch (int() would truncate)
    except TypeError:
        raise TypeError(f"{op}: size must be a tuple of ints, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in size {shape}")
    return shape


def _finish(arr, dtype, device, requires_grad, default=DEFAULT_FLOAT):
    np_dtype = to_numpy_dtype(dtype) or default
    if arr.dtype != np_dtype:
        arr = arr.astype(np_dtype)
    dev = to_device(device) or DEVICE.CPU
    if dev is not DEVICE.CPU:
        arr = backend.move(arr, dev)
    t = Tensor._wrap(arr)
    t.requires_grad = bool(requires_grad) and is_floating(np_dtype)
    return t


def _xp(device):
    dev = to_device(device) or DEVICE.CPU
    return backend.xp_for(dev)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size."""
    xp = _xp(device)
    return _finish(xp.zeros(_shape('zeros', size), dtype=to_numpy_dtype(dtype) or DEFAULT_FLOAT),
                   dtype, None, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size."""
    xp = _xp(device)
    return _finish(xp.ones(_shape('ones', size), dtype=to_numpy_dtype(dtype) or DEFAULT_FLOAT),
                   dtype, None, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size."""
    xp = _xp(device)
    return _finish(xp.empty(_shape('empty', size), dtype=to_numpy_dtype(dtype) or DEFAULT_FLOAT),
                   dtype, None, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size filled with ``fill_value`` (its dtype inferred from it)."""
    xp = _xp(device)
    default = DEFAULT_FLOAT if isinstance(fill_value, float) else (
        np.dtype(bool) if isinstance(fill_value, bool) else np.dtype(np.int64))
    np_dtype = to_numpy_dtype(dtype) or default
    shape = _shape('full', (size,) if isinstance(size, (tuple, list)) else (size,))
    return _finish(xp.full(shape, fill_value, dtype=np_dtype), np_dtype, None, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix of shape ``(n, m)`` (``m`` defaults to ``n``)."""
    return _finish(_xp(device).eye(n, m, dtype=to_numpy_dtype(dtype) or DEFAULT_FLOAT), dtype, None, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; ``arange(n)`` is 0..n-1.
    Integers give int64, floats float32, as PyTorch."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    is_float = any(isinstance(v, float) for v in (start, end, step))
    default = DEFAULT_FLOAT if is_float else np.dtype(np.int64)
    arr = _xp(device).arange(start, end, step, dtype=np.float64 if is_float else np.int64)
    return _finish(arr, dtype, None, requires_grad, default)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _finish(_xp(device).linspace(start, end, int(steps)), dtype, None, requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values ``base ** v`` for ``v`` evenly spaced from ``start`` to ``end`` inclusive."""
    if int(steps) < 0:
        raise ValueError(f"logspace: number of steps must be non-negative, got {steps}")
    return _finish(_xp(device).logspace(start, end, int(steps), base=base), dtype, None, requires_grad)


def geomspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values from ``start`` to ``end`` inclusive in a geometric progression
    (MyGrad's and NumPy's ``geomspace``; neither bound may be zero)."""
    if int(steps) < 0:
        raise ValueError(f"geomspace: number of steps must be non-negative, got {steps}")
    if start == 0 or end == 0:
        raise ValueError(f"geomspace: start ({start}) and end ({end}) must be non-zero")
    return _finish(_xp(device).geomspace(start, end, int(steps)), dtype, None, requires_grad)


def _random(arr, dtype, device, requires_grad):
    return _finish(arr, dtype, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform random values in [0, 1) (drawn from ``generator``, default the global one)."""
    np_dtype = to_numpy_dtype(dtype) or DEFAULT_FLOAT
    arr = numpy_rng(generator, 'rand').random(_shape('rand', size),
                                              dtype=np.float64 if np_dtype != np.float32 else np.float32)
    return _random(arr, np_dtype, device, requires_grad)


def randn(*size, mu=0.0, sigma=1.0, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal random values with mean ``mu`` and standard deviation ``sigma`` (from ``generator``)."""
    np_dtype = to_numpy_dtype(dtype) or DEFAULT_FLOAT
    arr = numpy_rng(generator, 'randn').standard_normal(_shape('randn', size),
                                                        dtype=np.float64 if np_dtype != np.float32 else np.float32)
    if sigma != 1.0:
        arr *= sigma
    if mu != 0.0:
        arr += mu
    return _random(arr, np_dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Random integers in [low, high) (``randint(high, size)`` also works), int64, from ``generator``."""
    rng = numpy_rng(generator, 'randint')
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    size = () if size is None else (tuple(size) if isinstance(size, (tuple, list)) else (int(size),))
    arr = rng.integers(low, high, size=size, dtype=np.int64)
    return _finish(arr, dtype, device, requires_grad, np.dtype(np.int64))


def randperm(n, dtype=None, device=None, requires_grad=False, generator=None):
    """A random permutation of 0..n-1 (from ``generator``)."""
    perm = numpy_rng(generator, 'randperm').permutation(int(n)).astype(np.int64)
    return _finish(perm, dtype, device, False, np.dtype(np.int64))


def bernoulli(p, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples of 1 with probability ``p`` (a number or a tensor of probabilities), else 0
    (from ``generator``)."""
    rng = numpy_rng(generator, 'bernoulli')
    probs = p._data if isinstance(p, Tensor) else p
    if size is None:
        size = np.shape(probs) if not hasattr(probs, 'shape') else probs.shape
    size = tuple(size) if isinstance(size, (tuple, list)) else (int(size),)
    probs = backend.move(probs, DEVICE.CPU) if hasattr(probs, 'shape') else probs
    arr = (rng.random(size, dtype=np.float32) < probs)
    return _finish(arr, dtype, device if device is not None else (p.device if isinstance(p, Tensor) else None),
                   requires_grad)


def normal(mean=0.0, std=1.0, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Normal random values with the given mean and std (from ``generator``)."""
    return randn(*(size or ()), mu=mean, sigma=std, generator=generator, dtype=dtype, device=device,
                 requires_grad=requires_grad)


def _like(fn):
    def like(t, dtype=None, device=None, requires_grad=False):
        return fn(*t._data.shape, dtype=dtype or t._data.dtype, device=device or t.device, requires_grad=requires_grad)
    like.__name__ = fn.__name__ + '_like'
    like.__doc__ = f"``{fn.__name__}`` with the shape, dtype and device of ``t``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def rand_like(t, dtype=None, device=None, requires_grad=False, generator=None):
    """``rand`` with the shape, dtype and device of ``t`` (from ``generator``)."""
    return rand(*t._data.shape, generator=generator, dtype=dtype or t._data.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False, generator=None):
    """``randn`` with the shape, dtype and device of ``t`` (from ``generator``)."""
    return randn(*t._data.shape, generator=generator, dtype=dtype or t._data.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    """``full`` with the shape, dtype and device of ``t``."""
    return full(t._data.shape, fill_value, dtype=dtype or t._data.dtype, device=device or t.device,
                requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, as ``torch.as_tensor``: a tensor is returned itself (or,
    to change dtype/device, converted by the recorded ``to``), an array of the
    right dtype and device is shared, other data is copied into a new tensor."""
    if isinstance(data, Tensor):
        if dtype is None and device is None:
            return data
        return data.to(device=device, dtype=dtype, inplace=False)
    return Tensor(data, dtype=dtype, device=device, requires_grad=False)


def from_numpy(arr):
    """A tensor sharing memory with the NumPy array ``arr`` (its dtype kept), as
    ``torch.from_numpy``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(arr).__name__}")
    if arr.dtype.kind not in 'fiub':
        raise TypeError(f"from_numpy: unsupported array dtype {arr.dtype}")
    return Tensor(arr, requires_grad=False)
