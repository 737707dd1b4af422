"""Hypothesis strategies for the fuzzer: input arrays (shapes with 0-d and
size-0, dtypes, contiguous/transposed/sliced layouts), op parameters drawn
from an operand's shape (sometimes deliberately invalid) and second operands.

Every strategy here draws plain Python / NumPy data; ``program.py`` turns it
into tensors of both libraries.
"""
import numpy as np
from hypothesis import strategies as st

FLOATS = ('float32', 'float64')
INTS = ('int64', 'int32')
DTYPES = {'float': FLOATS, 'num': FLOATS + INTS, 'any': FLOATS + INTS + ('bool',)}

SIDES = st.sampled_from([2, 1, 3, 4, 0])  # shrinks towards 2; 0 gives size-0 shapes


def shapes(min_dims=0, max_dims=3):
    """A shape of ``min_dims``..``max_dims`` dims with sides 0..4."""
    return st.lists(SIDES, min_size=min_dims, max_size=max_dims).map(tuple)


class Arr:
    """A NumPy array passed to an op as a tensor without grad (index tensors)."""

    def __init__(self, array):
        self.array = array

    def __repr__(self):
        return f"tensor({self.array.tolist()!r}, dtype={self.array.dtype})"


@st.composite
def input_spec(draw, shape=None, dtype=None):
    """(shape, dtype, layout, requires_grad, seed) for a new leaf input."""
    if shape is None:
        shape = draw(shapes())
    if dtype is None:
        dtype = draw(st.sampled_from(FLOATS + FLOATS + INTS + ('bool',)))
    layout = draw(st.sampled_from(['contiguous', 'transposed', 'sliced'])) if len(shape) >= 1 else 'contiguous'
    requires_grad = dtype in FLOATS and draw(st.sampled_from([True, True, False]))
    seed = draw(st.integers(0, 2 ** 16))
    return shape, dtype, layout, requires_grad, seed


def make_array(shape, dtype, layout, seed):
    """The values of an input, laid out as ``layout`` ('transposed': Fortran
    order; 'sliced': every other element of a larger array)."""
    rng = np.random.default_rng(seed)
    if dtype in FLOATS:
        a = rng.uniform(-2, 2, size=shape).astype(dtype)
    elif dtype == 'bool':
        a = np.asarray(rng.random(size=shape) < 0.5)
    else:
        a = rng.integers(-4, 5, size=shape).astype(dtype)
    if layout == 'transposed':
        a = np.asfortranarray(a)
    elif layout == 'sliced' and a.ndim:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        big[..., ::2] = a
        a = big[..., ::2]
    return a


def scalars():
    """A Python number operand."""
    return st.one_of(st.floats(-2, 2, allow_nan=False, width=32).filter(lambda v: abs(v) > 0.1),
                     st.integers(-3, 3), st.booleans())


# ---- op parameters: each is ``strategy(shape, previous_params) -> SearchStrategy``

def _dim(shape, prev, invalid=True):
    nd = max(len(shape), 1)
    lo, hi = -nd, nd - 1
    return st.integers(lo - 1, hi + 1) if invalid else st.integers(lo, hi)


def _dims(shape, prev, allow_none=True):
    nd = len(shape)
    opts = [_dim(shape, prev)]
    if nd:
        opts.append(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd).map(tuple))
    if allow_none:
        opts.insert(0, st.none())
    return st.one_of(*opts)


def _reshape(shape, prev):
    n = int(np.prod(shape))

    @st.composite
    def build(draw):
        if draw(st.integers(0, 9)) == 0:  # sometimes a wrong size: both must raise
            return tuple(draw(shapes(1, 3)))
        out, rest = [], max(n, 1)
        for _ in range(draw(st.integers(0, 3))):
            d = draw(st.sampled_from([d for d in range(1, 5) if rest % d == 0]))
            out.append(d)
            rest //= d
        if rest != 1 or draw(st.booleans()):
            out.append(rest)
        if n == 0:
            out.insert(draw(st.integers(0, len(out))), 0)
        elif out and draw(st.booleans()):
            out[draw(st.integers(0, len(out) - 1))] = -1
        return tuple(out)
    return build()


def _perm(shape, prev):
    nd = len(shape)
    return st.permutations(list(range(nd))).map(tuple)


def _expand(shape, prev):
    @st.composite
    def build(draw):
        lead = draw(st.lists(st.integers(1, 3), max_size=2))
        body = [draw(st.sampled_from([1, 2, 3, -1])) if s == 1 else draw(st.sampled_from([s, -1])) for s in shape]
        if draw(st.integers(0, 9)) == 0 and body:  # an invalid expand
            body[0] = shape[0] + 2 if shape[0] != 1 else 0
        return tuple(lead + body)
    return build()


@st.composite
def _index_draw(draw, shape):
    nd = len(shape)
    kind = draw(st.sampled_from(['int', 'slice', 'tuple', 'list', 'mask', 'none_ellipsis']))
    if kind == 'mask':
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
        return Arr(np.asarray(rng.random(size=shape) < 0.5))
    if nd == 0:
        return draw(st.sampled_from([None, Ellipsis, ()]))
    n0 = shape[0]
    if kind == 'int':
        return draw(st.integers(-n0 - 1, n0))
    if kind == 'list':
        k = draw(st.integers(0, 3))
        return draw(st.lists(st.integers(-n0, max(n0 - 1, -n0)), min_size=k, max_size=k)) if n0 else []
    if kind == 'none_ellipsis':
        return (None, Ellipsis, draw(st.integers(-shape[-1], shape[-1] - 1))) if shape[-1] else (Ellipsis, None)
    items = []
    for s in shape[:draw(st.integers(1, nd))]:
        start = draw(st.one_of(st.none(), st.integers(-s - 1, s)))
        stop = draw(st.one_of(st.none(), st.integers(-s - 1, s + 1)))
        step = draw(st.one_of(st.none(), st.integers(1, 3)))
        items.append(slice(start, stop, step))
    return tuple(items) if kind == 'tuple' else items[0]


def _gather_index(shape, prev):
    @st.composite
    def build(draw):
        nd = len(shape)
        d = prev[0] if prev else 0
        if not nd or not -nd <= d < nd:
            return Arr(np.zeros(shape, dtype=np.int64))
        d %= nd
        ishape = list(shape)
        ishape[d] = draw(st.integers(1, 3))
        hi = shape[d]
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
        return Arr(rng.integers(0, max(hi, 1), size=ishape).astype(np.int64) if hi else
                   np.zeros([0] * nd, dtype=np.int64))
    return build()


PARAMS = {
    'dim': _dim,
    'dims': _dims,
    'dims_req': lambda shape, prev: _dims(shape, prev, allow_none=False),
    'dim_or_none': lambda shape, prev: st.one_of(st.none(), _dim(shape, prev)),
    'keepdim': lambda shape, prev: st.booleans(),
    'correction': lambda shape, prev: st.sampled_from([1, 0]),
    'insert_dim': lambda shape, prev: st.integers(-len(shape) - 1, len(shape)),
    'cat_dim': lambda shape, prev: _dim(shape, prev),
    'stack_dim': lambda shape, prev: st.integers(-len(shape) - 1, len(shape)),
    'reshape': _reshape,
    'perm': _perm,
    'expand': _expand,
    'small_int': lambda shape, prev: st.integers(0, 2),
    'index': lambda shape, prev: _index_draw(shape),
    'gather_index': _gather_index,
}


# ---- second operands: ``strategy(shape, dtype) -> SearchStrategy of an input_spec or a number``

def _bcast_shape(shape):
    @st.composite
    def build(draw):
        if draw(st.integers(0, 11)) == 0:  # sometimes not broadcastable
            return tuple(s + 1 for s in shape) or (2,)
        drop = draw(st.integers(0, len(shape)))
        tail = [1 if draw(st.integers(0, 2)) == 0 else s for s in shape[drop:]]
        lead = draw(st.lists(st.sampled_from([1, 2]), max_size=1))
        return tuple(lead + tail) if draw(st.booleans()) else tuple(tail)
    return build()


def _mm_shape(shape):
    @st.composite
    def build(draw):
        if not shape:
            return draw(shapes(0, 2))  # 0-d matmul raises in both
        k = shape[-1] if draw(st.integers(0, 9)) else shape[-1] + 1
        kind = draw(st.sampled_from(['vec', 'mat', 'batched']))
        if kind == 'vec':
            return (k,)
        if kind == 'mat':
            return (k, draw(SIDES))
        return (draw(st.sampled_from([1, 2])), k, draw(SIDES))
    return build()


def _operand_dtype(dtype):
    return st.sampled_from([dtype, dtype, dtype, 'float32', 'float64', 'int64', 'bool'])


OPERANDS = {
    'bcast': lambda shape, dtype: _operand_dtype(dtype).flatmap(
        lambda dt: _bcast_shape(shape).flatmap(lambda s: input_spec(s, dt))),
    'same': lambda shape, dtype: _operand_dtype(dtype).flatmap(lambda dt: input_spec(tuple(shape), dt)),
    'mm': lambda shape, dtype: _operand_dtype(dtype).flatmap(
        lambda dt: _mm_shape(shape).flatmap(lambda s: input_spec(s, dt))),
    'scalar': lambda shape, dtype: scalars(),
}
