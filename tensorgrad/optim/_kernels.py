"""In-place array helpers shared by the optimisers (raw NumPy / CuPy arrays)."""


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
