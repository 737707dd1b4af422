"""Small Tensor methods with PyTorch's semantics: memory layout
(``contiguous``, ``is_contiguous``), shape helpers (``view_as``,
``reshape_as``, ``narrow``, ``t``), the ``new_*`` factories, ``type_as``,
the method form of ``where``, and ``add``/``sub`` (and ``add_``/``sub_``)
with ``alpha``."""
import numpy as np

from .. import backend, factories
from .._tensor import Tensor, ensure_tensor, tensor, track
from ..autograd.node import Node
from ..dtypes import promote
from .elementwise import add as _add
from .elementwise import check_sub_operands
from .elementwise import mul as _mul
from .elementwise import promote_to
from .elementwise import sub as _sub
from .indexing import where as _where
from .inplace import _fast_arith
from .shape import permute, reshape


# ---------------------------------------------------------------------- memory layout
class ContiguousBackward(Node):
    __slots__ = ()
    saves_arrays = False

    def backward(self, g):
        return (g,)

    backward_graph = backward


def contiguous(x):
    """``x`` itself when its memory is C-contiguous, else a C-contiguous copy
    (differentiable), as PyTorch's ``Tensor.contiguous``."""
    xd = x._data
    if xd.flags.c_contiguous:
        return x
    return track(backend.array_module(xd).ascontiguousarray(xd), ContiguousBackward, (x,))


def is_contiguous(x):
    """True when the tensor's memory is C-contiguous (strides of size-1 dimensions
    and of empty tensors do not count, as in PyTorch)."""
    return bool(x._data.flags.c_contiguous)


# ---------------------------------------------------------------------- shape helpers
def view_as(x, other):
    """``x.view(other.shape)``."""
    return x.view(other._data.shape)


def reshape_as(x, other):
    """``x.reshape(other.shape)``."""
    return reshape(x, other._data.shape)


def narrow(x, dim, start, length):
    """The view of ``x`` holding ``length`` entries of dimension ``dim`` from
    ``start`` on (``start`` may be negative, or a 0-d integer tensor)."""
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    if not isinstance(dim, (int, np.integer)) or not -nd <= dim < nd:
        raise IndexError(f"narrow: dim {dim!r} is out of range for a tensor with {nd} dimensions")
    dim = int(dim) % nd
    start, length = int(start), int(length)
    size = x._data.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dimension {dim} of size {size} "
                         f"(expected to be in range of [{-size}, {size}])")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})")
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def t(x):
    """Transpose of a tensor with at most 2 dimensions (0-d and 1-d tensors come
    back as they are, as a view)."""
    nd = x._data.ndim
    if nd > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but the input is {nd}-D "
                           f"(shape {x._data.shape}); use transpose(dim0, dim1) or mT")
    return permute(x, 1, 0) if nd == 2 else reshape(x, x._data.shape)


# ---------------------------------------------------------------------- new_* factories
def _check_grad(op, np_dtype, requires_grad):
    if requires_grad and np.dtype(np_dtype).kind != 'f':
        raise RuntimeError(f"{op}: only tensors of floating point dtype can require gradients, got {np_dtype}")


def _new_factory(fn, name):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        if not size:
            raise TypeError(f"{name}: missing the size argument")
        dt = dtype if dtype is not None else self._data.dtype
        out = fn(*size, dtype=dt, device=device if device is not None else self.device)
        _check_grad(name, out._data.dtype, requires_grad)
        out.requires_grad = bool(requires_grad)
        return out
    method.__name__ = name
    method.__doc__ = (f"A ``{fn.__name__}`` tensor of the given size with this tensor's dtype and device "
                      f"(unless given); ``requires_grad`` defaults to False.")
    return method


new_zeros = _new_factory(factories.zeros, 'new_zeros')
new_ones = _new_factory(factories.ones, 'new_ones')
new_empty = _new_factory(factories.empty, 'new_empty')


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` (a sequence of ints) filled with ``fill_value``, with this
    tensor's dtype and device unless given."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full: size must be a tuple of ints, got {type(size).__name__}")
    dt = dtype if dtype is not None else self._data.dtype
    out = factories.full(tuple(size), fill_value, dtype=dt, device=device if device is not None else self.device)
    _check_grad('new_full', out._data.dtype, requires_grad)
    out.requires_grad = bool(requires_grad)
    return out


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``, with this tensor's dtype and device
    unless given; ``requires_grad`` defaults to False."""
    dt = dtype if dtype is not None else self._data.dtype
    out = tensor(data, dtype=dt, device=device if device is not None else self.device, requires_grad=False)
    _check_grad('new_tensor', out._data.dtype, requires_grad)
    out.requires_grad = bool(requires_grad)
    return out


def type_as(self, other):
    """This tensor cast to ``other``'s dtype (itself when they match)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as: other must be a Tensor, got {type(other).__name__}")
    return self.type(other._data.dtype)


def where_method(self, condition, y):
    """``where(condition, self, y)``: this tensor where ``condition`` holds, else ``y``."""
    return _where(condition, self, y)


# ---------------------------------------------------------------------- add / sub with alpha
_KIND_ORDER = 'bif'


def _kind(v):
    if isinstance(v, Tensor):
        k = v._data.dtype.kind
    elif isinstance(v, (bool, np.bool_)):
        k = 'b'
    elif isinstance(v, (int, np.integer)):
        k = 'i'
    elif isinstance(v, (float, np.floating)):
        k = 'f'
    else:
        k = np.asarray(v).dtype.kind
    return 'i' if k == 'u' else k


def _scaled(op, input, other, alpha):  # noqa: A002 - PyTorch's names
    """``alpha * other`` computed as PyTorch's ``add``/``sub`` do (in the result dtype),
    after PyTorch's checks of ``alpha`` against the result dtype."""
    kind = max(_kind(input), _kind(other), key=lambda k: _KIND_ORDER.index(k) if k in _KIND_ORDER else 3)
    if isinstance(alpha, (bool, np.bool_)):
        if kind != 'b':
            raise RuntimeError(f"{op}: a boolean alpha is only supported for boolean results, got a result "
                               f"of kind {kind!r}")
    elif not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    elif isinstance(alpha, (float, np.floating)) and kind in 'bi':
        raise RuntimeError(f"{op}: for integral input tensors, alpha must not be a floating point number "
                           f"(got {alpha!r})")
    if kind == 'b':  # logical: other counts when alpha is true
        return other if alpha else ensure_tensor(other, input) & False
    if not isinstance(other, Tensor):
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, (bool, np.bool_)):
            return other * alpha
        other = ensure_tensor(other, input)
    if isinstance(input, Tensor) and other._data.dtype != input._data.dtype:
        other = promote_to(other, promote(input._data.dtype, other._data.dtype))
    return _mul(other, alpha)


def add(input, other, *, alpha=1):  # noqa: A002 - PyTorch's names
    """Elementwise ``input + alpha * other`` with broadcasting."""
    if alpha.__class__ is int and alpha == 1:
        return _add(input, other)
    return _add(input, _scaled('add', input, other, alpha))


def sub(input, other, *, alpha=1):  # noqa: A002 - PyTorch's names
    """Elementwise ``input - alpha * other`` with broadcasting."""
    if alpha.__class__ is int and alpha == 1:
        return _sub(input, other)
    return _sub(input, _scaled('sub', input, other, alpha))


_add_inplace = _fast_arith('add_', np.add, _add)
_sub_inplace = _fast_arith('sub_', np.subtract, _sub)


def add_(self, other, *, alpha=1):
    """In-place ``self += alpha * other``; returns the tensor."""
    if alpha.__class__ is int and alpha == 1:
        return _add_inplace(self, other)
    return _add_inplace(self, _scaled('add_', self, other, alpha))


def sub_(self, other, *, alpha=1):
    """In-place ``self -= alpha * other``; returns the tensor (bool operands raise, as in PyTorch)."""
    check_sub_operands('sub_', self, other)
    if alpha.__class__ is int and alpha == 1:
        return _sub_inplace(self, other)
    return _sub_inplace(self, _scaled('sub_', self, other, alpha))


TENSOR_METHODS = {
    'contiguous': contiguous, 'is_contiguous': is_contiguous, 'view_as': view_as, 'reshape_as': reshape_as,
    'narrow': narrow, 't': t, 'new_zeros': new_zeros, 'new_ones': new_ones, 'new_empty': new_empty,
    'new_full': new_full, 'new_tensor': new_tensor, 'type_as': type_as, 'where': where_method,
    'add': add, 'sub': sub, 'subtract': sub, 'add_': add_, 'sub_': sub_,
}
EXPORTS = ('narrow', 't', 'add', 'sub')
