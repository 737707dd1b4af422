"""``default_collate`` (merge samples into a batch) and ``default_convert``
(arrays to tensors, for ``batch_size=None``), as PyTorch's
``torch.utils.data._utils.collate``.

Tensors built here from NumPy arrays and Python numbers never require grad
(unlike ``tensorgrad.tensor``, whose documented default is ``requires_grad=True``).
Stacking tensors keeps their graph, as ``torch.stack`` does."""
import collections.abc
import numbers

import numpy as np

from ..._tensor import Tensor
from ...ops.shape import stack

__all__ = ['default_collate', 'default_convert']

_BAD_KINDS = 'OUSV'  # object, str, bytes, void: nothing a tensor can hold


def _error(elem):
    return TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                     f"found {elem.dtype if isinstance(elem, (np.ndarray, np.generic)) else type(elem)}")


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, '_fields')


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``:
    tensors are stacked along a new first dimension; NumPy arrays and scalars
    become a stacked Tensor (dtype kept); Python ints give int64, floats float64,
    bools bool; strings and bytes stay a list; dicts and named tuples are
    collated field by field into the same type; other sequences (tuples
    included, as in PyTorch) into a list of collated fields."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got "
                        f"{type(batch).__name__}{' (empty)' if isinstance(batch, (list, tuple)) else ''}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind in _BAD_KINDS:
            raise _error(elem)
        return Tensor._wrap(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        out = {k: default_collate([d[k] for d in batch]) for k in elem}
        if type(elem) is dict:
            return out
        try:
            return type(elem)(out)
        except TypeError:  # a mapping type that cannot be built from a dict
            return out
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, (tuple, list)):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise _error(elem)


def default_convert(data):
    """NumPy arrays and NumPy scalars to Tensors (no grad), recursively inside
    dicts, named tuples and sequences (tuples become lists, as in PyTorch);
    everything else unchanged. The ``collate_fn`` of a ``DataLoader`` with
    ``batch_size=None``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        if data.dtype.kind in _BAD_KINDS:
            return data
        return Tensor._wrap(np.array(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        if type(data) is dict:
            return out
        try:
            return type(data)(out)
        except TypeError:
            return out
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
