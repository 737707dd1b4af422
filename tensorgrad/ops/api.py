"""Every op function in one namespace (what ``tensorgrad.methods`` binds and
``tensorgrad`` re-exports)."""
from .elementwise import (  # noqa: F401
    abs, add, cast, clamp, clip, clone, cos, div, eq, exp, floor_divide, ge, gt, invert, le, log, logical_and,
    logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg, pow, rdiv, relu, remainder,
    rfloor_divide, rpow, rremainder, rsub, sigmoid, sign, sin, sqrt, sub, tanh, to_device_op, unary_op,
)
from .indexing import gather, getitem, index_select, lookup, masked_fill, setitem_op, where  # noqa: F401
from .linalg import bmm, dot, matmul, mm, rmatmul  # noqa: F401
from .reduction import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, prod, std, sum, var,
)
from .shape import (  # noqa: F401
    broadcast_to, cat, chunk, concat, concatenate, expand, expand_as, flatten, flip, movedim, moveaxis,
    permute, repeat, reshape, split, squeeze, stack, swapaxes, tile, transpose, unbind, unflatten,
    unsqueeze, view,
)
