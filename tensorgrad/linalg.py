"""``tensorgrad.linalg``: norms and matrix chains, as ``torch.linalg`` (and
``numpy.linalg`` for ``np.linalg.norm`` / ``np.linalg.multi_dot`` on tensors).

Norms are composed from differentiable primitives, except the 2-norm, which
has its own node so that its gradient at the zero vector is 0 (as PyTorch)
instead of NaN.
"""
import numpy as np

from . import backend
from ._tensor import Tensor, track
from .autograd.node import MultiOutputNode, Node
from .ops import api as ops
from .ops.reduction import normalize_dims

__all__ = ['vector_norm', 'matrix_norm', 'norm', 'torch_norm', 'svdvals', 'multi_dot', 'multi_matmul', 'matmul']

_INF = float('inf')


class L2NormBackward(Node):
    """Gradient of the 2-norm: ``g * x / norm``, and 0 where the norm is 0."""
    __slots__ = ()

    def backward(self, g):
        xd, out, axes, keepdim = self.saved
        xp = backend.array_module(g)
        if not keepdim and axes:
            shape = tuple(1 if i in axes else n for i, n in enumerate(xd.shape))
            g, out = g.reshape(shape), out.reshape(shape)
        safe = xp.where(out == 0, xd.dtype.type(1), out)
        return (xp.where(out == 0, xd.dtype.type(0), g / safe) * xd,)

    def backward_graph(self, g):
        xd, out, axes, keepdim = self.saved
        norm = self.output(out)
        if not keepdim and axes:
            shape = tuple(1 if i in axes else n for i, n in enumerate(xd.shape))
            g, norm, out = g.reshape(shape), norm.reshape(shape), out.reshape(shape)
        zero = Tensor._wrap(out == 0)
        with np.errstate(divide='ignore', invalid='ignore'):  # at norm 0: NaN second derivatives, as PyTorch
            return (g * ops.where(zero, 0.0, self.input(0, xd) / norm),)


def _l2(x, axes, keepdim):
    xd = x._data if x._data.dtype.kind == 'f' else x._data.astype(np.float32)
    xp = backend.array_module(xd)
    out = xp.sqrt((xd * xd).sum(axis=axes, keepdims=keepdim))
    return track(out, L2NormBackward, (x,), (xd, out, axes, keepdim), check=(x,), check_out=True)


def _guard_output(t):
    """Make an in-place change of the norm ``t`` before backward raise there, as PyTorch's
    norm node saves its result (the composed ops behind ``t`` may not need it)."""
    node = t.grad_fn
    if node is not None:
        node.versions = (node.versions or []) + [(t._vc, t._vc[0])]
    return t


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002 - PyTorch's name
    """Vector ``ord``-norm over ``dim`` (all elements when None): ``ord`` is any real
    number, ``inf`` (max |x|), ``-inf`` (min |x|) or 0 (number of non-zeros)."""
    if not isinstance(x, Tensor):
        x = Tensor(x, requires_grad=False)
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind != 'f':
        x = x.float()
    axes = normalize_dims('vector_norm', dim, x.ndim)
    if isinstance(ord, str):
        raise ValueError(f"vector_norm: ord must be a number, got {ord!r}")
    ord = float(ord)  # noqa: A001
    if ord == 2:
        return _l2(x, axes, keepdim)
    a = ops.abs(x)
    if ord == _INF:
        return _guard_output(ops.amax(a, axes, keepdim))
    if ord == -_INF:
        return _guard_output(ops.amin(a, axes, keepdim))
    if ord == 0:
        # a count: its gradient is zero (kept in the graph, as PyTorch)
        return _guard_output(ops.add(ops.mul(ops.sum(x, axes, keepdim), 0.0),
                                     ops.sum(ops.ne(x, 0).float(), axes, keepdim)))
    if ord == 1:
        return _guard_output(ops.sum(a, axes, keepdim))
    return _guard_output(ops.pow(ops.sum(ops.pow(a, ord), axes, keepdim), 1.0 / ord))


def matrix_norm(x, ord='fro', dim=(-2, -1), keepdim=False, dtype=None):  # noqa: A002
    """Matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'`` (sum of singular
    values), 1 / -1 (max / min column abs-sum), inf / -inf (max / min row abs-sum),
    2 / -2 (largest / smallest singular value)."""
    if not isinstance(x, Tensor):
        x = Tensor(x, requires_grad=False)
    if dtype is not None:
        x = x.to(dtype)
    if len(dim) != 2:
        raise ValueError(f"matrix_norm: dim must name two dimensions, got {dim!r}")
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: expected a tensor with at least 2 dimensions, got shape {x.shape}")
    r, c = (int(d) % x.ndim for d in dim)
    if r == c:
        raise ValueError(f"matrix_norm: dims {dim} name the same dimension")
    if ord == 'fro':
        return _l2(x, tuple(sorted((r, c))), keepdim)
    if ord in ('nuc', 2, -2):
        s = svdvals(ops.movedim(x, (r, c), (-2, -1)))
        red = ops.sum(s, -1) if ord == 'nuc' else ops.amax(s, -1) if ord == 2 else ops.amin(s, -1)
        if keepdim:
            for d in sorted((r, c)):
                red = ops.unsqueeze(red, d)
        return red
    if ord in (1, -1, _INF, -_INF):
        a = ops.abs(x)
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        s = ops.sum(a, inner, True)
        red = ops.amax(s, outer, True) if ord > 0 else ops.amin(s, outer, True)
        if not keepdim:
            red = ops.squeeze(ops.squeeze(red, max(r, c)), min(r, c))
        return red
    raise ValueError(f"matrix_norm: unsupported ord {ord!r}")


def norm(x, ord=None, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """``torch.linalg.norm`` / ``numpy.linalg.norm``: with ``ord=None`` the 2-norm of the
    flattened tensor (or over ``dim``); an int ``dim`` (or a 1-D input) gives a vector
    norm, a pair of dims (or a 2-D input) a matrix norm."""
    if not isinstance(x, Tensor):
        x = Tensor(x, requires_grad=False)
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if dim is not None:
        dim = tuple(dim)
    if ord is None:
        if dim is not None and len(dim) == 2 and x.ndim >= 2:
            return matrix_norm(x, 'fro', dim, keepdim, dtype)
        return vector_norm(x, 2, dim, keepdim, dtype)
    if dim is None:
        if x.ndim == 1:
            return vector_norm(x, ord, None, keepdim, dtype)
        if x.ndim == 2:
            return matrix_norm(x, ord, (0, 1), keepdim, dtype)
        raise ValueError(f"norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D, got shape {x.shape}")
    if len(dim) == 1:
        return vector_norm(x, ord, dim, keepdim, dtype)
    if len(dim) == 2:
        return matrix_norm(x, ord, dim, keepdim, dtype)
    raise ValueError(f"norm: dim must name one or two dimensions, got {dim!r}")


def torch_norm(x, p='fro', dim=None, keepdim=False, dtype=None):
    """``torch.norm`` (also ``Tensor.norm``): ``p='fro'`` or a number gives the vector
    norm over ``dim`` (all elements when None); ``'nuc'`` the nuclear norm."""
    if p == 'fro':
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 2:
            return matrix_norm(x, 'fro', tuple(dim), keepdim, dtype)
        return vector_norm(x, 2, dim, keepdim, dtype)
    if p == 'nuc':
        return matrix_norm(x, 'nuc', (-2, -1) if dim is None else tuple(dim), keepdim, dtype)
    return vector_norm(x, p, dim, keepdim, dtype)


class SvdValsBackward(Node):
    """Gradient of the singular values: ``U diag(g) V^T``."""
    __slots__ = ('svd_input',)

    def backward(self, g):
        u, vh = self.saved
        # d s_i = u_i^T dA v_i  =>  dA = U diag(g) V^T
        return ((u * g[..., None, :]) @ vh,)

    def backward_graph(self, g):
        # the same product with U and V^T as differentiable functions of the input
        # (second order; a third differentiation raises, naming Svd)
        u, _, vh = _svd_tensors(self.input(0, _input_of(self)))
        return ((u * g.unsqueeze(-2)) @ vh,)


def _input_of(node):
    """The input array of an svdvals node (its version is checked, so it is unchanged)."""
    return node.svd_input


class SvdBackward(MultiOutputNode):
    """Backward of the reduced SVD (U, S, V^T) of a real matrix, as PyTorch's
    ``svd_backward``: ill-defined for repeated singular values (divisions by
    s_j^2 - s_i^2), like torch's."""
    __slots__ = ()

    def backward(self, grads):
        gu, gs, gvh = grads
        u, s, vh = self.saved
        xp = backend.array_module(u)
        m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
        ga = xp.zeros(s.shape[:-1] + (k, k), dtype=s.dtype)
        if gs is not None:
            ga = ga + xp.eye(k, dtype=s.dtype) * gs[..., None, :]
        if gu is None and gvh is None:
            return (u @ ga @ vh,)
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None]
        idx = xp.arange(k)
        e[..., idx, idx] = 1
        if gu is not None:
            uhgu = xp.swapaxes(u, -1, -2) @ gu
            ga = ga + (uhgu - xp.swapaxes(uhgu, -1, -2)) / e * s[..., None, :]
        if gvh is not None:
            gv = xp.swapaxes(gvh, -1, -2)
            vhgv = vh @ gv
            ga = ga + s[..., :, None] * ((vhgv - xp.swapaxes(vhgv, -1, -2)) / e)
        out = u @ ga @ vh
        if gu is not None and m > k:
            out = out + ((gu - u @ (xp.swapaxes(u, -1, -2) @ gu)) / s[..., None, :]) @ vh
        if gvh is not None and n > k:
            v = xp.swapaxes(vh, -1, -2)
            gv = xp.swapaxes(gvh, -1, -2)
            out = out + u @ xp.swapaxes((gv - v @ (vh @ gv)) / s[..., None, :], -1, -2)
        return (out,)


def _svd_tensors(x):
    """(U, S, V^T) of tensor ``x`` (reduced), recorded with one multi-output node."""
    from .autograd.multi import track_multi  # noqa: PLC0415 - rarely used
    xd = x._data
    u, s, vh = backend.array_module(xd).linalg.svd(xd, full_matrices=False)
    outs, _ = track_multi((u, s, vh), SvdBackward, (x,), (u, s, vh), check=(x,))
    return outs


def svdvals(x):
    """Singular values of the last two dims, in descending order (differentiable)."""
    xd = x._data
    xp = backend.array_module(xd)
    u, s, vh = xp.linalg.svd(xd, full_matrices=False)
    out = track(s, SvdValsBackward, (x,), (u, vh), check=(x,))
    if out.grad_fn is not None:
        out.grad_fn.svd_input = xd  # for the second-order rule (kept with the node; the input is checked)
    return out


# ---------------------------------------------------------------------- chains
def _chain_order(dims):
    """Optimal parenthesisation of a matrix chain (classic O(n^3) DP); returns the split table."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if best is None or c < best:
                    best, split[i][j] = c, k
            cost[i][j] = best
    return split


def multi_dot(tensors):
    """Product of a chain of matrices, multiplied in the cheapest order; the first and
    last may be 1-D (a row / column vector), as ``numpy.linalg.multi_dot``."""
    ts = [t if isinstance(t, Tensor) else Tensor(t, requires_grad=False) for t in tensors]
    if len(ts) < 2:
        raise ValueError(f"multi_dot: expected at least 2 tensors, got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ops.reshape(ts[0], (1, -1))
    if last_vec:
        ts[-1] = ops.reshape(ts[-1], (-1, 1))
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise ValueError(f"multi_dot: tensor {i} must be 2-D (the ends may be 1-D), got shape {tensors[i].shape}")
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise ValueError(f"multi_dot: shapes {[tuple(t.shape) for t in tensors]} do not align at {i}")
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    split = _chain_order(dims)

    def prod(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return ops.matmul(prod(i, k), prod(k + 1, j))
    out = prod(0, len(ts) - 1)
    if first_vec and last_vec:
        return ops.reshape(out, ())
    if first_vec:
        return ops.reshape(out, (-1,))
    if last_vec:
        return ops.reshape(out, (-1,))
    return out


def multi_matmul(tensors):
    """MyGrad's name for ``multi_dot``: the chain product in an optimal order."""
    return multi_dot(tensors)


def matmul(a, b):
    """Matrix product (``tensorgrad.matmul``)."""
    return ops.matmul(a, b)

