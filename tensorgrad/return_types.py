"""Named ``(values, indices)`` pairs returned by the selecting ops, as PyTorch's
``torch.return_types``: ``values, indices = x.max(1)`` unpacks them, and
``.values`` / ``.indices`` (or ``[0]`` / ``[1]``) reach the parts."""
from collections import namedtuple

__all__ = ('sort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode', 'max', 'min', 'cummax', 'cummin')


def _pair(name):
    cls = namedtuple(name, ('values', 'indices'))
    cls.__module__ = __name__
    cls.__qualname__ = name
    cls.__doc__ = (f"Result of ``{name}``: ``values`` (differentiable) and ``indices`` (int64), "
                   "a named tuple that unpacks as two tensors.")

    def __repr__(self):
        return f"{__name__}.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    cls.__repr__ = __repr__
    return cls


sort = _pair('sort')
topk = _pair('topk')
kthvalue = _pair('kthvalue')
median = _pair('median')
nanmedian = _pair('nanmedian')
mode = _pair('mode')
max = _pair('max')  # noqa: A001 - PyTorch's name
min = _pair('min')  # noqa: A001 - PyTorch's name
cummax = _pair('cummax')
cummin = _pair('cummin')
