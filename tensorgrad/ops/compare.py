"""Comparisons and value tests (not differentiable): ``equal``, ``allclose``,
``isclose``, ``isnan``, ``isinf``, ``isfinite``, ``isposinf``, ``isneginf``,
``isin``, plus the ``logical_xor`` method and MyGrad's ``Tensor.base``.

Results are bool tensors (``equal`` and ``allclose``: Python bools), as in
PyTorch; the inputs' dtypes must agree where PyTorch requires it."""
import numpy as np

from .. import backend
from .._tensor import Tensor
from .elementwise import _broadcast_error, _device_error, logical_xor


def _arg(op, x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x._data


def _pair(op, a, b):
    ad, bd = _arg(op, a, 'input'), _arg(op, b, 'other')
    if ad.__class__ is not bd.__class__:
        _device_error(op, ad, bd)
    return ad, bd


def equal(input, other):  # noqa: A002 - PyTorch's names
    """True if both tensors have the same shape and the same elements (a Python bool)."""
    ad, bd = _pair('equal', input, other)
    if ad.shape != bd.shape:
        return False
    return bool(backend.array_module(ad).array_equal(ad, bd))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (a bool tensor, broadcast);
    infinities are close to themselves, NaNs only with ``equal_nan``."""
    ad, bd = _pair('isclose', input, other)
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"isclose: dtypes {ad.dtype} and {bd.dtype} do not match")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol ({rtol}) and atol ({atol}) must be non-negative")
    xp = backend.array_module(ad)
    try:
        shape = np.broadcast_shapes(ad.shape, bd.shape)
    except ValueError:
        _broadcast_error('isclose', ad, bd)
    if ad.dtype.kind not in 'fc':
        if ad.dtype == np.bool_:
            return Tensor._wrap(xp.broadcast_to(ad == bd, shape).copy())
        ad, bd = ad.astype(np.float64), bd.astype(np.float64)
    with np.errstate(invalid='ignore', over='ignore'):
        close = xp.abs(ad - bd) <= atol + rtol * xp.abs(bd)
        out = (ad == bd) | (close & xp.isfinite(ad) & xp.isfinite(bd))
    if equal_nan:
        out = out | (xp.isnan(ad) & xp.isnan(bd))
    return Tensor._wrap(xp.broadcast_to(out, shape).copy())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """True if every element of ``input`` is close to ``other`` (see ``isclose``), a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _test(name, fn, doc):
    def op(input):  # noqa: A002
        xd = _arg(name, input, 'input')
        xp = backend.array_module(xd)
        if xd.dtype.kind not in 'fcV':
            return Tensor._wrap(xp.full(xd.shape, name == 'isfinite', dtype=bool))
        return Tensor._wrap(xp.asarray(fn(xp, xd)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


isnan = _test('isnan', lambda xp, x: xp.isnan(x), "Elementwise test for NaN (a bool tensor).")
isinf = _test('isinf', lambda xp, x: xp.isinf(x), "Elementwise test for positive or negative infinity.")
isfinite = _test('isfinite', lambda xp, x: xp.isfinite(x), "Elementwise test for finite values (not inf or NaN).")
isposinf = _test('isposinf', lambda xp, x: xp.isposinf(x), "Elementwise test for positive infinity.")
isneginf = _test('isneginf', lambda xp, x: xp.isneginf(x), "Elementwise test for negative infinity.")


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Elementwise: is each element of ``elements`` in ``test_elements``? (a bool tensor
    of ``elements``' shape; either may be a Python number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected at least one of elements and test_elements to be a Tensor")
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = backend.array_module(like._data)
    ed = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    td = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    if ed.__class__ is not td.__class__:
        _device_error('isin', ed, td)
    out = xp.isin(ed, td, assume_unique=assume_unique, invert=invert)
    return Tensor._wrap(xp.asarray(out).reshape(ed.shape))


def _base(self):
    """The tensor this one is a view of (the root of its views), None for a tensor
    that owns its memory (MyGrad's ``Tensor.base``; PyTorch's ``_base``)."""
    return self._base


EXPORTS = ('equal', 'allclose', 'isclose', 'isnan', 'isinf', 'isfinite', 'isposinf', 'isneginf', 'isin')
TENSOR_METHODS = {name: globals()[name] for name in EXPORTS if name != 'isin'}
TENSOR_METHODS['logical_xor'] = logical_xor
TENSOR_METHODS['base'] = property(_base, doc=_base.__doc__)
