"""Random sampling with PyTorch's semantics: ``multinomial``, ``bernoulli``
and the in-place fills ``uniform_``, ``normal_``, ``exponential_``,
``geometric_``, ``log_normal_``, ``cauchy_``, ``random_``, ``bernoulli_``.

Draws come from ``generator._rng`` (a ``tensorgrad.Generator``) when one is
given, else from the global generator that ``tensorgrad.manual_seed`` seeds;
they are made on the cpu and moved to the tensor's device. A fill writes
into the tensor's memory; when the graph is recorded (a non-leaf that
requires grad) it goes through ``apply_inplace`` and, as in PyTorch, passes
a zero gradient to the old value.
"""
import inspect
import types

import numpy as np

from .. import backend, factories
from .. import random as _random
from .._tensor import Tensor, track
from ..autograd.grad_mode import GRAD_MODE
from ..autograd.node import Node
from ..dtypes import DEVICE
from .inplace import apply_inplace


def _rng(op, generator):
    """The NumPy Generator to draw from (``generator._rng``, default the global one)."""
    return _random.numpy_rng(generator, op)


def _draw_dtype(dtype):
    return np.float32 if dtype == np.float32 else np.float64


def _tensor(op, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return t._data


class RandomBackward(Node):
    """A sample's gradient w.r.t. the tensor it replaced (or its probabilities): zero."""
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        return (backend.array_module(g).zeros_like(g),)

    def backward_graph(self, g):  # a constant zero: nothing further to differentiate
        return (g * 0,)


def _fill(self, name, arr):
    """Write the cpu sample ``arr`` (self's shape) into ``self`` in place."""
    data = self._data
    if type(data) is not np.ndarray:
        arr = backend.move(np.ascontiguousarray(arr), backend.device_of(data))
    if GRAD_MODE.enabled and self.requires_grad:
        return apply_inplace(self, name, lambda s: track(arr.astype(data.dtype, copy=False), RandomBackward, (s,)))
    backend.array_module(data).copyto(data, arr, casting='unsafe')
    self._vc[0] += 1
    return self


def _float_only(op, data, err=NotImplementedError):
    if data.dtype.kind != 'f':
        raise err(f"{op}: not implemented for dtype {data.dtype} (a floating point tensor is needed)")


def _number(op, name, v):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__}")
    return float(v)


# ---------------------------------------------------------------- in-place fills
def uniform_(self, a=0.0, b=1.0, *, generator=None, **kw):
    """Fill with values drawn uniformly from ``[from, to)`` (PyTorch's ``uniform_(from=0, to=1)``;
    ``from`` is also accepted as a keyword); returns the tensor."""
    a, b = kw.pop('from', a), kw.pop('to', b)
    _no_more('uniform_', kw)
    data = _tensor('uniform_', self)
    _float_only('uniform_', data)
    a, b = _number('uniform_', 'from', a), _number('uniform_', 'to', b)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    u = _rng('uniform_', generator).random(data.shape)
    arr = (u * (b - a) + a).astype(data.dtype)
    if a < b:  # rounding to a coarser dtype must not reach ``to``
        arr[arr >= b] = np.nextafter(data.dtype.type(b), data.dtype.type(a))
    return _fill(self, 'uniform_', arr)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with values drawn from N(mean, std^2); returns the tensor."""
    data = _tensor('normal_', self)
    _float_only('normal_', data)
    mean, std = _number('normal_', 'mean', mean), _number('normal_', 'std', std)
    if not std >= 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std:g}")
    arr = _rng('normal_', generator).standard_normal(data.shape, dtype=_draw_dtype(data.dtype))
    return _fill(self, 'normal_', arr * data.dtype.type(std) + data.dtype.type(mean))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with values whose logarithm is N(mean, std^2); returns the tensor."""
    data = _tensor('log_normal_', self)
    _float_only('log_normal_', data)
    mean, std = _number('log_normal_', 'mean', mean), _number('log_normal_', 'std', std)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _fill(self, 'log_normal_', _rng('log_normal_', generator).lognormal(mean, std, data.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with values drawn from the Cauchy distribution; returns the tensor."""
    data = _tensor('cauchy_', self)
    _float_only('cauchy_', data)
    median, sigma = _number('cauchy_', 'median', median), _number('cauchy_', 'sigma', sigma)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    return _fill(self, 'cauchy_', median + sigma * _rng('cauchy_', generator).standard_cauchy(data.shape))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with values drawn from the exponential distribution of rate ``lambd``; returns the tensor."""
    data = _tensor('exponential_', self)
    if data.dtype.kind != 'f':
        raise RuntimeError(f"exponential_: the exponential distribution is continuous; the tensor's dtype must be "
                           f"floating point, got {data.dtype}")
    lambd = _number('exponential_', 'lambd', lambd)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    arr = _rng('exponential_', generator).standard_exponential(data.shape, dtype=_draw_dtype(data.dtype))
    return _fill(self, 'exponential_', arr / data.dtype.type(lambd))


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, …); returns the tensor."""
    data = _tensor('geometric_', self)
    p = _number('geometric_', 'p', p)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _fill(self, 'geometric_', _rng('geometric_', generator).geometric(p, data.shape))


def _dtype_range(dtype):
    """The integers ``random_`` can store exactly: PyTorch's [0, 2^digits] for floats."""
    if dtype.kind == 'b':
        return 0, 1
    if dtype.kind == 'f':
        top = 2 ** (np.finfo(dtype).nmant + 1)
        return -top, top
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def random_(self, *args, generator=None, **kw):
    """PyTorch's ``random_``: ``random_()`` fills with integers in [0, the dtype's largest
    exactly stored integer], ``random_(to)`` in [0, to), ``random_(from, to)`` in
    [from, to) (``to=None``: up to the dtype's largest); returns the tensor."""
    if len(args) > 2:
        raise TypeError(f"random_: takes at most 2 positional arguments (from, to), got {len(args)}")
    frm, to = (0, args[0]) if len(args) == 1 else (tuple(args) + (0, None)[len(args):])
    frm, to = kw.pop('from', frm), kw.pop('to', to)
    _no_more('random_', kw)
    data = _tensor('random_', self)
    lo, hi = _dtype_range(data.dtype)
    frm = int(frm)
    last = hi if to is None else int(to) - 1
    if frm > last:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={last + 1}")
    if frm < lo:
        raise RuntimeError(f"random_: from={frm} is out of bounds for dtype {data.dtype}")
    if last > hi:
        raise RuntimeError(f"random_: to - 1 = {last} is out of bounds for dtype {data.dtype}")
    arr = _rng('random_', generator).integers(frm, last, size=data.shape, dtype=np.int64, endpoint=True)
    return _fill(self, 'random_', arr)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p`` (a number, or a tensor of probabilities that
    broadcasts to this shape), else 0; returns the tensor."""
    data = _tensor('bernoulli_', self)
    probs = _probs('bernoulli_', p, data.shape)
    return _fill(self, 'bernoulli_', _rng('bernoulli_', generator).random(data.shape) < probs)


def _probs(op, p, shape):
    """``p`` as a cpu array (or float) broadcastable to ``shape``, checked to lie in [0, 1]."""
    if isinstance(p, Tensor):
        probs = backend.move(p._data, DEVICE.CPU)
        try:
            np.broadcast_to(probs, shape)
        except ValueError:
            raise RuntimeError(f"{op}: probabilities of shape {probs.shape} cannot be broadcast to the tensor's "
                               f"shape {shape}") from None
        if probs.size and not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError(f"{op}: expected every probability to be in [0, 1]")
        return probs
    p = _number(op, 'p', p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"{op} expects p to be in [0, 1], but got p={p:g}")
    return p


def _no_more(op, kw):
    if kw:
        raise TypeError(f"{op}: unexpected arguments {sorted(kw)}")


# ---------------------------------------------------------------- bernoulli
def _bernoulli_tensor(input, p=None, *, generator=None):  # noqa: A002 - PyTorch's name
    """PyTorch's ``bernoulli``: with ``p=None`` a 0/1 sample of ``input``'s probabilities
    (same dtype; its gradient w.r.t. ``input`` is zero), else Bernoulli(``p``) draws
    shaped like ``input``."""
    data = _tensor('bernoulli', input)
    if p is not None:
        probs = _probs('bernoulli', p, data.shape)
        arr = (_rng('bernoulli', generator).random(data.shape) < probs).astype(data.dtype)
        return Tensor._wrap(backend.move(arr, backend.device_of(data)))
    _float_only('bernoulli', data)
    probs = _probs('bernoulli', input, data.shape)
    arr = (_rng('bernoulli', generator).random(data.shape) < probs).astype(data.dtype)
    return track(backend.move(arr, backend.device_of(data)), RandomBackward, (input,))


def bernoulli(input, p=None, *, generator=None, size=None, dtype=None, device=None,  # noqa: A002
              requires_grad=False):
    """PyTorch's ``bernoulli(input, p=None, *, generator=None)``: 0/1 samples with the
    probabilities in the tensor ``input`` (or with probability ``p`` in its shape),
    in ``input``'s dtype. The factory form ``bernoulli(p, size, dtype=None, device=None,
    requires_grad=False)`` (``p`` a number, or a shape or ``size=`` given) draws a new
    float tensor of ``size``."""
    shape_like = isinstance(p, (tuple, list)) or (isinstance(p, (int, np.integer)) and not isinstance(p, bool))
    if (isinstance(input, Tensor) and size is None and dtype is None and device is None and not requires_grad
            and not shape_like):
        return _bernoulli_tensor(input, p, generator=generator)
    if size is None and shape_like:
        size = p
    return _bernoulli_factory(input, size, dtype, device, requires_grad, generator)


def _bernoulli_factory(p, size, dtype, device, requires_grad, generator):
    return factories.bernoulli(p, size, dtype=dtype, device=device, requires_grad=requires_grad,
                               generator=generator)


_NO_SHAPE = object()


def _class_bernoulli(cls, p, shape=_NO_SHAPE, dtype=None, device=None, requires_grad=True, **kw):
    """Construct tensor from random bernoulli distribution with given spec and parameter ``p``
    (classmethod). On an instance, ``x.bernoulli(p=None, *, generator=None)`` is PyTorch's:
    a 0/1 sample of ``x``'s probabilities (or of probability ``p``), in ``x``'s dtype;
    ``Tensor.bernoulli(x)`` (a tensor and no shape) is that call too."""
    if isinstance(p, Tensor) and (shape is _NO_SHAPE or isinstance(shape, (float, Tensor))):
        return _bernoulli_tensor(p, None if shape is _NO_SHAPE else shape, **kw)
    if shape is _NO_SHAPE:
        raise TypeError("bernoulli: missing the shape of the tensor to construct")
    return factories.bernoulli(p, shape, dtype=dtype, device=device, requires_grad=requires_grad)


_class_bernoulli.__signature__ = inspect.Signature([
    inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for n, d in (
        ('cls', inspect.Parameter.empty), ('p', inspect.Parameter.empty), ('shape', inspect.Parameter.empty),
        ('dtype', None), ('device', None), ('requires_grad', True))])


class _BernoulliMethod(classmethod):
    """``Tensor.bernoulli``: the reference's classmethod factory on the class
    (``tensorgrad.tensor.bernoulli(0.5, (3,))``), PyTorch's method on an instance
    (``x.bernoulli()``)."""

    def __get__(self, obj, cls=None):
        if obj is None:
            return super().__get__(obj, cls)
        return types.MethodType(_bernoulli_tensor, obj)


# ---------------------------------------------------------------- multinomial
def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """PyTorch's ``multinomial``: ``num_samples`` category indices (int64) drawn from
    each row of ``input`` (1-D or 2-D non-negative weights, not necessarily
    normalised), without replacement unless ``replacement=True``."""
    data = _tensor('multinomial', input)
    if data.dtype.kind != 'f':
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got {data.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial: num_samples must be an int, got {type(num_samples).__name__}")
    if data.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {data.shape}")
    n, k = int(num_samples), data.shape[-1]
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    if not replacement and n > k:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({n} > {k})")
    w = backend.move(data, DEVICE.CPU).astype(np.float64).reshape(data.shape[0] if data.ndim == 2 else 1, k)
    if w.size and not (np.isfinite(w) & (w >= 0)).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    total = w.sum(-1)
    if w.shape[0] and not (total > 0).all():
        raise RuntimeError(f"multinomial: invalid multinomial distribution (sum of probabilities <= 0) in row "
                           f"{int(np.argmax(~(total > 0)))}")
    rng = _rng('multinomial', generator)
    if replacement:
        cdf = np.cumsum(w, -1)
        cdf /= cdf[:, -1:]  # exactly 1 from the last positive weight on
        u = rng.random((w.shape[0], n))
        out = np.stack([np.searchsorted(c, r, side='right') for c, r in zip(cdf, u)]) if w.shape[0] else (
            np.zeros((0, n), np.int64))
        out = np.minimum(out, k - 1)
    else:
        # exponential races (Gumbel top-k): the order of w / E, E ~ Exp(1), is a draw without replacement
        keys = w / rng.standard_exponential(w.shape)
        out = np.argsort(-keys, axis=-1, kind='stable')[:, :n]
    out = out.astype(np.int64).reshape(data.shape[:-1] + (n,))
    return Tensor._wrap(backend.move(out, backend.device_of(data)))


EXPORTS = ('multinomial', 'bernoulli')
TENSOR_METHODS = {
    'multinomial': multinomial, 'bernoulli': _BernoulliMethod(_class_bernoulli), 'bernoulli_': bernoulli_,
    'uniform_': uniform_, 'normal_': normal_, 'log_normal_': log_normal_, 'cauchy_': cauchy_,
    'exponential_': exponential_, 'geometric_': geometric_, 'random_': random_,
}
