"""Compiled embedding backward: ``gw[idx[i]] += g[i]`` row by row, in index
order (no sort needed); big gradients are split over threads by columns, so
no two threads write the same element."""
import numpy as np
from numba import prange

from ._jit import is_float, kernel

_COLS = 16  # column blocks of the parallel build


@kernel
def _row_sums(flat, g2, gw):
    D = g2.shape[1]
    for c in prange(_COLS):
        lo, hi = D * c // _COLS, D * (c + 1) // _COLS
        for i in range(flat.shape[0]):
            dst, src = gw[flat[i]], g2[i]
            for j in range(lo, hi):
                dst[j] += src[j]


def sorted_row_sums(numpy_fn):
    """``_sorted_row_sums(flat, g2, wshape)`` compiled (same sums, accumulated in index order)."""
    def sorted_row_sums(flat, g2, wshape):
        if not is_float(g2) or flat.__class__ is not np.ndarray or flat.dtype.kind not in 'iu':
            return numpy_fn(flat, g2, wshape)
        gw = np.zeros(wshape, dtype=g2.dtype)
        _row_sums.pick(g2.size)(flat, g2, gw)
        return gw
    return sorted_row_sums
