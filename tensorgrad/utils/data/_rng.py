"""The NumPy Generator behind a ``generator=`` argument of the data utilities."""
import numbers

import numpy as np

from ...random import generator as _global_generator


def as_generator(generator, who):
    """A NumPy Generator from ``generator``: None (tensorgrad's global one,
    seeded by ``manual_seed``), a ``tensorgrad.Generator`` (its ``_rng``), an
    int seed, or a ``numpy.random.Generator``."""
    if generator is None:
        return _global_generator()
    rng = getattr(generator, '_rng', None)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"{who}: generator must be None, a tensorgrad.Generator, an int seed or a "
                    f"numpy.random.Generator, got {type(generator).__name__}")
