"""``keep_where(xp, mask, g)`` / ``zero_where(xp, mask, g)``: the gradient ``g``
where ``mask`` holds / does not hold, exactly 0 elsewhere, for the backward of
piecewise ops (relu, clamp, hardtanh, maximum ...).

PyTorch writes these backwards as a ``where``, so a nan or inf upstream gradient
in the cut-off part gives 0 there, where ``g * mask`` would give nan. On NumPy,
``np.where`` with a data-dependent mask is several times slower than a multiply
(it branches per element); multiplying the float's bits, viewed as an integer
of the same size, by the 0/1 mask gives the same result (the bits, or all-zero
bits: +0.0) in one branch-free pass, as fast as ``g * mask``. Tensors (``xp``
is ``TENSOR_XP``, under ``create_graph``) and 0-d arrays take ``where``.
"""
import numpy as np

from ..autograd.graph_xp import TENSOR_XP

_INT_OF_SIZE = {2: np.int16, 4: np.int32, 8: np.int64}


def keep_where(xp, mask, g):
    """``where(mask, g, 0)`` of arrays or tensors (``mask`` broadcasts against ``g``)."""
    it = None if xp is TENSOR_XP else _INT_OF_SIZE.get(g.dtype.itemsize)
    if it is None or g.ndim == 0:
        return xp.where(mask, g, 0)
    return (g.view(it) * mask).view(g.dtype)


def zero_where(xp, mask, g):
    """``where(mask, 0, g)`` of arrays or tensors (``mask`` broadcasts against ``g``)."""
    if xp is TENSOR_XP:
        return xp.where(mask, 0, g)
    return keep_where(xp, xp.logical_not(mask), g)
