"""Compiled row-vector kernels of ``linear``: the bias added to every row of the
output, and the bias gradient (the column sums of the upstream gradient), float32 /
float64 C-contiguous rows. NumPy's broadcast add runs ~2x slower than a plain add
(measured, float32: (1024, 384) 68 -> 34 us, (128, 4096) 98 -> 45 us) and its column
sum gains less ((1024, 384) 56 -> 36 us, (1024, 128) 23 -> 8.5 us, (128, 4096)
even). Serial builds only: memory-bound passes that a thread wake (~80 us) outweighs."""
import numpy as np

from ._jit import is_float, kernel

# below this many elements NumPy's call is as fast as the kernel's dispatch (measured, float32:
# (32, 128) add 1.2 vs 1.7 us, (64, 256) 3.5 vs 2.9 us)
_MIN_SIZE = 1 << 13


@kernel(parallel_min=1 << 62)
def _add_rows(out, b):
    """out[i, :] += b for every row i."""
    for i in range(out.shape[0]):
        o = out[i]
        for j in range(out.shape[1]):
            o[j] += b[j]


@kernel(parallel_min=1 << 62)
def _column_sums(g, out):
    """out[j] = sum over i of g[i, j]."""
    for j in range(g.shape[1]):
        out[j] = 0
    for i in range(g.shape[0]):
        gi = g[i]
        for j in range(g.shape[1]):
            out[j] += gi[j]


def add_bias(numpy_fn):
    """``_add_bias(out, b)`` compiled for C-contiguous float rows of one dtype."""
    def add_bias(out, b):
        if not is_float(out, b) or not out.flags.c_contiguous or b.ndim != 1 or out.shape[-1] != b.shape[0] \
                or out.size < _MIN_SIZE:
            return numpy_fn(out, b)
        _add_rows.pick(out.size)(out.reshape(-1, b.shape[0]), b)
        return out
    return add_bias


def bias_grad(numpy_fn):
    """``_bias_grad(g2)`` compiled for C-contiguous 2-D float arrays."""
    def bias_grad(g2):
        if not is_float(g2) or g2.ndim != 2 or not g2.flags.c_contiguous or g2.size < _MIN_SIZE:
            return numpy_fn(g2)
        out = np.empty(g2.shape[1], dtype=g2.dtype)
        _column_sums.pick(g2.size)(g2, out)
        return out
    return bias_grad
