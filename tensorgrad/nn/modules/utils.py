"""PyTorch's ``torch.nn.modules.utils`` helpers: ``_single``, ``_pair``, ``_triple``,
``_quadruple`` (a number repeated n times; an iterable becomes a tuple as is),
``_ntuple`` and ``_reverse_repeat_tuple``."""
from collections.abc import Iterable
from itertools import repeat


def _ntuple(n, name='parse'):
    """A parser that turns ``x`` into an n-tuple: ``tuple(x)`` for an iterable, else ``(x,) * n``."""
    def parse(x):
        if isinstance(x, Iterable):
            return tuple(x)
        return tuple(repeat(x, n))
    parse.__name__ = name
    parse.__qualname__ = name
    parse.__doc__ = f"``x`` as a {n}-tuple (an iterable is returned as a tuple unchanged)."
    return parse


_single = _ntuple(1, '_single')
_pair = _ntuple(2, '_pair')
_triple = _ntuple(3, '_triple')
_quadruple = _ntuple(4, '_quadruple')


def _reverse_repeat_tuple(t, n):
    """Reverse ``t`` and repeat each element ``n`` times (``(1, 2), 2 -> (2, 2, 1, 1)``)."""
    return tuple(x for x in reversed(t) for _ in range(n))
