"""Rearranging ops composed of the differentiable primitives (so their
gradients come from getitem, cat, flip, gather ...): ``diag``, ``diagonal``,
``trace``, ``diff``, ``repeat_interleave``, ``tensor_split``, ``hstack``,
``vstack``, ``column_stack``, ``meshgrid``, ``cartesian_prod``,
``take_along_dim``, ``select``, ``swapdims``, ``fliplr``, ``flipud``,
``rot90``."""
import numpy as np

from .. import backend
from .._tensor import Tensor
from .elementwise import logical_xor, sub
from .indexing import gather, getitem
from .math import atleast_1d, atleast_2d
from .reduction import sum as _sum
from .shape import _as_tensors, _dim, broadcast_to, cat, flip, movedim, reshape, stack, swapaxes, transpose


def _tensor(op, x, name='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x._data


def _arange(x, n):
    return Tensor._wrap(backend.array_module(x._data).arange(n, dtype=np.int64))


# ---------------------------------------------------------------------- diagonals
def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002 - PyTorch's names
    """The diagonal ``offset`` of the planes ``(dim1, dim2)``, as a new last dimension
    (a copy, where PyTorch returns a view)."""
    xd = _tensor('diagonal', input)
    nd = xd.ndim
    d1, d2 = _dim('diagonal', dim1, nd), _dim('diagonal', dim2, nd)
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    y = movedim(input, (d1, d2), (-2, -1))
    n, m = xd.shape[d1], xd.shape[d2]
    rows0, cols0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n - rows0, m - cols0))
    xp = backend.array_module(xd)
    rows = Tensor._wrap(xp.arange(rows0, rows0 + length, dtype=np.int64))
    cols = Tensor._wrap(xp.arange(cols0, cols0 + length, dtype=np.int64))
    return getitem(y, (Ellipsis, rows, cols))


def diag(input, diagonal=0):  # noqa: A002
    """A 1-D tensor to a square matrix with it on diagonal ``diagonal``; a matrix to its diagonal."""
    xd = _tensor('diag', input)
    if xd.ndim == 2:
        return globals()['diagonal'](input, diagonal)
    if xd.ndim != 1:
        raise ValueError(f"diag: supports 1-D or 2-D tensors, got shape {tuple(xd.shape)}")
    n = xd.shape[0] + abs(diagonal)
    xp = backend.array_module(xd)
    # the vector placed on its diagonal: out = where(eye, v broadcast, 0), written with getitem's backward
    from .indexing import setitem_op  # noqa: PLC0415
    base = Tensor._wrap(xp.zeros((n, n), dtype=xd.dtype))
    k = xd.shape[0]
    rows = xp.arange(k) + max(0, -diagonal)
    cols = xp.arange(k) + max(0, diagonal)
    return setitem_op(base, (Tensor._wrap(rows), Tensor._wrap(cols)), input)


def trace(input):  # noqa: A002
    """Sum of the main diagonal of a matrix (int64 for integer matrices)."""
    xd = _tensor('trace', input)
    if xd.ndim != 2:
        raise ValueError(f"trace: expected a matrix, got shape {tuple(xd.shape)}")
    return _sum(diagonal(input), dtype=np.int64 if xd.dtype.kind in 'iub' else None)


# ---------------------------------------------------------------------- differences, repeats, splits
def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The ``n``-th forward difference along ``dim`` (xor for bool tensors), after joining
    ``prepend`` and ``append`` to the input along ``dim``."""
    xd = _tensor('diff', input)
    if xd.ndim == 0:
        raise ValueError("diff: expects input to be at least one-dimensional")
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    axis = _dim('diff', dim, xd.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, axis) if len(parts) > 1 else input
    pre = (slice(None),) * axis
    for _ in range(n):
        if x._data.shape[axis] == 0:
            break
        hi, lo = getitem(x, pre + (slice(1, None),)), getitem(x, pre + (slice(None, -1),))
        x = logical_xor(hi, lo) if x._data.dtype == np.bool_ else sub(hi, lo)
    return x


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each element (slice along ``dim``; None: of the flattened input) repeated ``repeats``
    times (an int, or a tensor with one count per element). ``repeat_interleave(counts)``
    alone gives ``arange(len(counts))`` repeated by the counts."""
    xd = _tensor('repeat_interleave', input)
    xp = backend.array_module(xd)
    if repeats is None:
        if xd.ndim != 1 or xd.dtype.kind not in 'iu':
            raise ValueError(f"repeat_interleave: counts must be a 1-D integer tensor, got shape "
                             f"{tuple(xd.shape)} and dtype {xd.dtype}")
        return Tensor._wrap(xp.repeat(xp.arange(xd.shape[0], dtype=np.int64), xd))
    if dim is None:
        input, axis = reshape(input, (-1,)), 0
    else:
        axis = _dim('repeat_interleave', dim, max(xd.ndim, 1))
        if xd.ndim == 0:
            input = reshape(input, (1,))
    size = input._data.shape[axis]
    rd = repeats._data if isinstance(repeats, Tensor) else xp.asarray(repeats)
    if rd.dtype.kind not in 'iu' or rd.ndim > 1 or (rd.ndim == 1 and rd.shape[0] not in (1, size)):
        raise ValueError(f"repeat_interleave: repeats must be an int or 1-D integer tensor of size 1 or "
                         f"{size}, got shape {tuple(rd.shape)} and dtype {rd.dtype}")
    if rd.size and int(rd.min()) < 0:
        raise ValueError("repeat_interleave: repeats can not be negative")
    idx = xp.repeat(xp.arange(size, dtype=np.int64), rd.reshape(-1) if rd.ndim else int(rd))
    if output_size is not None and idx.shape[0] != output_size:
        raise ValueError(f"repeat_interleave: output_size {output_size} does not match the result size "
                         f"{idx.shape[0]}")
    return getitem(input, (slice(None),) * axis + (Tensor._wrap(idx),))


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    """Split into ``indices_or_sections`` nearly equal parts (an int) or at the given indices
    (a list, or a 1-D tensor); views of the input, sizes as ``numpy.array_split``."""
    xd = _tensor('tensor_split', input)
    if xd.ndim == 0:
        raise ValueError("tensor_split: expected at least a 1-dimensional tensor")
    axis = _dim('tensor_split', dim, xd.ndim)
    n = xd.shape[axis]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in 'iu' or ios._data.ndim > 1:
            raise ValueError(f"tensor_split: indices_or_sections tensor must be a 0-d or 1-D integer tensor, "
                             f"got shape {tuple(ios._data.shape)} and dtype {ios._data.dtype}")
        ios = int(ios.item()) if ios._data.ndim == 0 else [int(i) for i in ios._data.tolist()]
    pre = (slice(None),) * axis
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise ValueError(f"tensor_split: number of sections must be larger than 0, got {k}")
        bounds = [i * (n // k) + min(i, n % k) for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in ios] + [n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo, hi = min(max(lo if lo >= 0 else lo + n, 0), n), min(max(hi if hi >= 0 else hi + n, 0), n)
        out.append(getitem(input, pre + (slice(lo, max(lo, hi)),)))
    return tuple(out)


# ---------------------------------------------------------------------- stacking
def _listed(op, tensors):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): expected a sequence of tensors, got a Tensor")
    return _as_tensors(op, tensors)


def hstack(tensors):
    """Concatenate horizontally: along dim 0 for 1-D tensors, dim 1 otherwise (0-d become 1-D)."""
    ts = [atleast_1d(t) for t in _listed('hstack', tensors)]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate vertically (along dim 0), after making each tensor at least 2-D."""
    return cat([atleast_2d(t) for t in _listed('vstack', tensors)], 0)


row_stack = vstack


def column_stack(tensors):
    """Stack as columns: 0-d and 1-D tensors become (N, 1) columns, then ``hstack``."""
    ts = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in _listed('column_stack', tensors)]
    return cat(ts, 1)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 1-D (or 0-d) tensors: ``indexing='ij'`` (the default, matrix
    indexing) or ``'xy'`` (Cartesian: the grids have shape (len(y), len(x), ...))."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = 'ij'
    if indexing not in ('ij', 'xy'):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = _listed('meshgrid', tensors)
    for t in ts:
        if t._data.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-D or 1-D tensors, got shape {tuple(t._data.shape)}")
    ts = [reshape(t, (-1,)) for t in ts]
    swap = indexing == 'xy' and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    k = len(ts)
    grids = [broadcast_to(reshape(t, tuple(-1 if i == j else 1 for j in range(k))), shape)
             for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """Cartesian product of 1-D tensors: shape (N1 * N2 * ..., k) (one tensor: itself)."""
    ts = _listed('cartesian_prod', tensors)
    for t in ts:
        if t._data.ndim != 1:
            raise ValueError(f"cartesian_prod: expects 1-D tensors, got shape {tuple(t._data.shape)}")
    if len(ts) == 1:
        return ts[0]
    return stack([reshape(g, (-1,)) for g in meshgrid(*ts, indexing='ij')], 1)


# ---------------------------------------------------------------------- selection
def take_along_dim(input, indices, dim=None):  # noqa: A002
    """Values at ``indices`` along ``dim`` (both broadcast outside ``dim``); with no dim,
    the flattened input at the flattened indices."""
    xd = _tensor('take_along_dim', input)
    idx = _tensor('take_along_dim', indices, 'indices')
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"take_along_dim: indices must be an integer tensor, got dtype {idx.dtype}")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if xd.ndim != idx.ndim:
        raise ValueError(f"take_along_dim: input and indices should have the same number of dimensions, "
                         f"got shapes {tuple(xd.shape)} and {tuple(idx.shape)}")
    axis = _dim('take_along_dim', dim, max(xd.ndim, 1))
    if xd.ndim == 0:
        return gather(reshape(input, (1,)), 0, reshape(indices, (1,))).reshape(())
    try:
        bshape = np.broadcast_shapes(xd.shape[:axis] + (1,) + xd.shape[axis + 1:],
                                     idx.shape[:axis] + (1,) + idx.shape[axis + 1:])
    except ValueError:
        raise ValueError(f"take_along_dim: shapes {tuple(xd.shape)} and {tuple(idx.shape)} cannot be broadcast "
                         f"outside dim {dim}") from None
    x_shape = bshape[:axis] + (xd.shape[axis],) + bshape[axis + 1:]
    i_shape = bshape[:axis] + (idx.shape[axis],) + bshape[axis + 1:]
    x = input if xd.shape == x_shape else broadcast_to(input, x_shape)
    i = indices if idx.shape == i_shape else Tensor._wrap(backend.array_module(idx).broadcast_to(idx, i_shape))
    return gather(x, axis, i)


def select(input, dim, index):  # noqa: A002
    """The slice at ``index`` along ``dim``, with that dimension removed (a view)."""
    xd = _tensor('select', input)
    axis = _dim('select', dim, xd.ndim)
    n = xd.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {n}")
    return getitem(input, (slice(None),) * axis + (int(index),))


def swapdims(input, dim0, dim1):  # noqa: A002
    """``input`` with dimensions ``dim0`` and ``dim1`` swapped (``transpose``)."""
    return swapaxes(input, dim0, dim1)


def fliplr(input):  # noqa: A002
    """Reverse the order of the columns (dim 1) of an at least 2-D tensor."""
    if _tensor('fliplr', input).ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {tuple(input._data.shape)}")
    return flip(input, (1,))


def flipud(input):  # noqa: A002
    """Reverse the order of the rows (dim 0) of an at least 1-D tensor."""
    if _tensor('flipud', input).ndim < 1:
        raise ValueError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(input, (0,))


def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane ``dims``, from the first toward the second."""
    xd = _tensor('rot90', input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: expected 2 rotation dims, got {len(dims)}")
    if xd.ndim < 2:
        raise ValueError(f"rot90: expected total dims >= 2, got shape {tuple(xd.shape)}")
    d0, d1 = _dim('rot90', dims[0], xd.ndim), _dim('rot90', dims[1], xd.ndim)
    if d0 == d1:
        raise ValueError(f"rot90: expected rotation dims to be different, got {dims[0]} and {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return input.clone()


EXPORTS = ('diag', 'diagonal', 'trace', 'diff', 'repeat_interleave', 'tensor_split', 'hstack', 'vstack',
           'row_stack', 'column_stack', 'meshgrid', 'cartesian_prod', 'take_along_dim', 'select', 'swapdims',
           'fliplr', 'flipud', 'rot90')
TENSOR_METHODS = {name: globals()[name] for name in (
    'diag', 'diagonal', 'trace', 'diff', 'repeat_interleave', 'tensor_split', 'take_along_dim', 'select',
    'swapdims', 'fliplr', 'flipud', 'rot90')}
