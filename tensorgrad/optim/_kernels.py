"""In-place array helpers shared by the optimisers (raw NumPy / CuPy arrays)."""
from .. import backend


def lerp_(xp, start, end, weight, tmp):
    """``start`` moves toward ``end`` by ``weight``, in place, with PyTorch's
    ``lerp_`` formula (the form used depends on ``weight``); ``tmp`` is scratch
    of ``start``'s shape."""
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        xp.subtract(end, tmp, out=start)


def decayed_grad(data, g, weight_decay, maximize):
    """The gradient an optimiser steps with, on raw arrays: ``g`` negated with
    ``maximize``, plus the L2 term ``weight_decay * data`` (PyTorch's order). ``g``
    itself when neither applies (it must then not be written to), else a new array."""
    if not (maximize or weight_decay):
        return g
    xp = backend.array_module(g)
    out = xp.empty_like(data)  # a real array even for 0-d parameters
    if weight_decay:
        xp.multiply(data, weight_decay, out=out)
        if maximize:
            out -= g
        else:
            out += g
    else:
        xp.negative(g, out=out)
    return out
