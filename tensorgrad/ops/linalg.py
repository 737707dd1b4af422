"""Matrix products: ``matmul`` (1-D, 2-D, batched, broadcast batch dims)."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from .elementwise import _constant, operands


def _like(r, x):
    """``r`` in ``x``'s dtype: NumPy's bfloat16 matmul returns float32; round back, as PyTorch."""
    return r if r is None or r.dtype == x.dtype else r.astype(x.dtype)


def _product(xp, a, b):
    """``a @ b``; a stack of rows times one matrix as a single GEMM: NumPy runs
    (B, m, k) @ (k, n) as B small GEMMs, 2x slower on 2 threads (measured,
    (16, 64, 512) @ (512, 128) float32: 955 vs 488 us)."""
    if b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous and a.size:
        return xp.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1])
    return xp.matmul(a, b)


class MatmulBackward(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved
        xp = backend.array_module(g)
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (g * b if self.next[0] is not None else None,
                    g * a if self.next[1] is not None else None)
        if a.ndim == 1:
            # (k) @ (..., k, n) -> (..., n)
            if self.next[0] is not None:
                ga = xp.matmul(g[..., None, :], xp.swapaxes(b, -1, -2))[..., 0, :]
            if self.next[1] is not None:
                gb = a[:, None] * g[..., None, :]
            return _like(ga, a), gb
        if b.ndim == 1:
            # (..., m, k) @ (k) -> (..., m)
            if self.next[0] is not None:
                ga = g[..., :, None] * b
            if self.next[1] is not None:
                gb = xp.matmul(xp.swapaxes(a, -1, -2), g[..., :, None])[..., 0]
            return ga, _like(gb, b)
        if self.next[0] is not None:
            ga = _product(xp, g, xp.swapaxes(b, -1, -2))
        if self.next[1] is not None:
            if a.ndim == 2 or b.ndim > 2:
                gb = xp.matmul(xp.swapaxes(a, -1, -2), g)
            else:
                # b is a matrix shared across a's batch: one GEMM over the folded batch
                k, n = a.shape[-1], g.shape[-1]
                rows = a.size // k if k else int(np.prod(a.shape[:-1]))  # not -1: k or n may be 0
                gb = xp.matmul(a.reshape(rows, k).T, g.reshape(rows, n))
        return _like(ga, a), _like(gb, b)

    def backward_graph(self, g):  # the same products on tensors (the engine sums broadcast batch dims)
        a_arr, b_arr = self.saved
        a, b = self.input(0, a_arr), self.input(1, b_arr)
        need_a, need_b = self.next[0] is not None, self.next[1] is not None
        if a_arr.ndim == 1 and b_arr.ndim == 1:
            return g * b if need_a else None, g * a if need_b else None
        if a_arr.ndim == 1:  # (k) @ (..., k, n) -> (..., n)
            ga = matmul(g.unsqueeze(-2), b.mT).squeeze(-2) if need_a else None
            return ga, a.unsqueeze(-1) * g.unsqueeze(-2) if need_b else None
        if b_arr.ndim == 1:  # (..., m, k) @ (k) -> (..., m)
            ga = g.unsqueeze(-1) * b if need_a else None
            return ga, matmul(a.mT, g.unsqueeze(-1)).squeeze(-1) if need_b else None
        return matmul(g, b.mT) if need_a else None, matmul(a.mT, g) if need_b else None


def matmul(input, other):  # noqa: A002 - PyTorch's names
    """Matrix product with NumPy/PyTorch semantics: 1-D operands are vectors,
    leading dimensions are batch dimensions and broadcast; two tensors must have
    one dtype (as PyTorch: no promotion)."""
    a, b = input, other
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b, ad, bd = operands('matmul', a, b)
        if b is None:
            raise TypeError("matmul: both operands must be tensors or arrays, got a scalar")
    else:
        ad, bd = a._data, b._data
        if ad.__class__ is not bd.__class__:
            raise RuntimeError(f"matmul: expected both tensors on the same device, got "
                               f"{a.device.value} and {b.device.value}")
        if ad.dtype != bd.dtype:
            raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got {ad.dtype} and "
                               f"{bd.dtype} (shapes {tuple(ad.shape)} and {tuple(bd.shape)})")
    if ad.dtype.kind == 'b':
        raise NotImplementedError(f"matmul: not implemented for bool tensors (shapes {tuple(ad.shape)} and "
                                  f"{tuple(bd.shape)})")
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {ad.shape} and {bd.shape}")
    try:
        out = _product(backend.array_module(ad), ad, bd) if ad.ndim > 2 and bd.ndim == 2 else ad @ bd
    except ValueError:
        raise ValueError(f"matmul: shapes {ad.shape} and {bd.shape} do not align") from None
    if out.dtype != ad.dtype:  # bfloat16 (ml_dtypes) multiplies in float32
        out = out.astype(ad.dtype)
    # each operand is needed only for the other's gradient (torch checks no more than that)
    return track(out, MatmulBackward, (a, b), (ad, bd),
                 check=(a,) * b._rg + (b,) * a._rg)


def rmatmul(a, b):
    """``b @ a`` (the reflected product)."""
    return matmul(_constant(b, a), a)


def dot(a, b):
    """Dot product of two 1-D tensors."""
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise ValueError(f"dot: expected 1-D tensors, got shapes {a._data.shape} and {b._data.shape}")
    return matmul(a, b)


def mm(a, b):
    """Product of two 2-D tensors."""
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise ValueError(f"mm: expected 2-D tensors, got shapes {a._data.shape} and {b._data.shape}")
    return matmul(a, b)


def bmm(a, b):
    """Batched product of two 3-D tensors."""
    if a._data.ndim != 3 or b._data.ndim != 3:
        raise ValueError(f"bmm: expected 3-D tensors, got shapes {a._data.shape} and {b._data.shape}")
    return matmul(a, b)
