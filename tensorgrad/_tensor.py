"""The Tensor: an array (NumPy or CuPy) plus autograd metadata.

This module holds the class core (construction, properties, backward,
conversions, the in-place protocol) and ``track``, which every op calls to
wrap its result and record a graph node. Ops live in ``tensorgrad.ops`` and
are bound as methods by ``tensorgrad.methods``.
"""
import weakref

import numpy as np

from . import backend
from .autograd.engine import run_backward
from .autograd.grad_mode import GRAD_MODE
from .autograd.node import Node
from .dtypes import DEVICE, DEFAULT_FLOAT, bfloat16_dtype, from_numpy_dtype, is_floating, to_device, to_numpy_dtype
from .dtypes import device as _device_cls

_ndarray = np.ndarray
_new = object.__new__


def _to_array(data):
    """Coerce an op result (NumPy scalar, Python number, array) to an array."""
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, (int, float, bool, complex)):
        return np.asarray(data)
    return data


class Tensor:
    """A multi-dimensional array on a device that records the ops applied to
    it, so that gradients can be computed by ``backward``.

    ``tensorgrad.tensor(data, dtype=None, device=None, requires_grad=True)``
    (the reference's constructor) copies ``data``: Python floats become
    float32, ints int64, bools bool; arrays keep their dtype unless ``dtype``
    is given. Only floating tensors can require grad; for others
    ``requires_grad`` is ignored.

    The class itself, ``Tensor(...)``, is PyTorch's legacy constructor:
    ``Tensor(data)`` (float32, no grad), ``Tensor(*sizes)`` (uninitialised),
    ``Tensor()`` (empty), ``Tensor(other)`` (an alias of a tensor), each with
    an optional ``device=``. Giving one of tensorgrad's own keywords
    (``dtype=``, ``requires_grad=``, ``name=``) selects instead
    ``Tensor(data, *, dtype=None, device=None, requires_grad=False, name=None)``:
    ``tensor``'s dtype rules without the copy (an array of the right dtype
    and device is shared).
    """
    __slots__ = ('_data', '_rg', '_grad', 'grad_fn', '_vc', '_base', '_hooks', 'name',
                 '__weakref__')
    # make ``ndarray <op> Tensor`` defer to the Tensor's reflected operator
    __array_priority__ = 1000.0

    def __init__(self, *args, dtype=None, device=None, requires_grad=None, name=None):
        """``Tensor(data)``, ``Tensor(*sizes)``, ``Tensor()``, ``Tensor(other)`` as
        ``torch.Tensor`` (float32, no grad); with ``dtype=``, ``requires_grad=`` or
        ``name=``, one ``data`` argument taken as ``tensorgrad.tensor`` takes it,
        without copying (see the class docstring)."""
        if dtype is None and requires_grad is None and name is None:
            _init_legacy(self, args, device)
            return
        if len(args) != 1:
            raise TypeError(f"Tensor: with dtype=, requires_grad= or name=, give exactly one data argument "
                            f"(got {len(args)}); for a shape use tensorgrad.empty(*size, dtype=...)")
        _init_from_data(self, args[0], dtype, device, bool(requires_grad), name, False)

    @classmethod
    def _wrap(cls, data, requires_grad=False):
        """Fast constructor around an existing array (no copy, no checks)."""
        t = _new(cls)
        t._data = data
        t._rg = requires_grad
        t._grad = None
        t.grad_fn = None
        t._vc = [0]
        t._base = None
        t._hooks = None
        t.name = None
        return t

    # ------------------------------------------------------------------ properties
    @property
    def data(self):
        """The values as a new tensor that shares this one's memory and has no
        graph, as PyTorch's ``.data``: in-place changes through it are not
        recorded and not seen by the version counter."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, backend.array_types()):
            raise TypeError(f"data: assigned value must be a Tensor, got {type(value).__name__}")
        self._data = value

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for differentiation."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and not is_floating(self._data.dtype):
            raise RuntimeError(f"requires_grad: only tensors of floating point dtype can require gradients, "
                               f"got {self._data.dtype}")
        if not value and self.grad_fn is not None:
            raise RuntimeError("requires_grad: you can only change requires_grad flags of leaf tensors; to use a "
                               "computed tensor without differentiation, use t.detach()")
        self._rg = value

    @property
    def grad(self):
        """The gradient accumulated by ``backward`` (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad must be a Tensor or None, got {type(value).__name__}")
            gd, d = value._data, self._data
            if gd.shape != d.shape:
                raise RuntimeError(f"grad: assigned grad has shape {tuple(gd.shape)}, the tensor has shape "
                                   f"{tuple(d.shape)}")
            if gd.dtype != d.dtype:
                raise TypeError(f"grad: assigned grad has dtype {gd.dtype}, the tensor has dtype {d.dtype}")
            if gd.__class__ is not d.__class__:
                raise RuntimeError(f"grad: assigned grad is on {value.device.value}, the tensor on "
                                   f"{self.device.value}")
        self._grad = value

    @property
    def shape(self):
        """Shape of the tensor as a tuple of ints."""
        return self._data.shape

    @property
    def ndim(self):
        """Number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self):
        """Data type as a ``DTYPE`` member."""
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        """Device as a ``DEVICE`` member."""
        return DEVICE.CPU if type(self._data) is _ndarray else backend.device_of(self._data)

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (they accumulate ``.grad``)."""
        return self.grad_fn is None

    @property
    def is_cuda(self):
        """True when the tensor lives on the cuda device."""
        return self.device is DEVICE.CUDA

    @property
    def itemsize(self):
        """Size in bytes of one element."""
        return self._data.itemsize

    @property
    def nbytes(self):
        """Total size in bytes."""
        return self._data.nbytes

    @property
    def _version(self):
        """How many times the tensor's memory was modified in place."""
        return self._vc[0]

    def numel(self):
        """Total number of elements in the tensor."""
        return self._data.size

    def size(self, dim=None):
        """Shape (or the size of dimension ``dim``), as PyTorch's ``size``."""
        if dim is None:
            return self._data.shape
        return self._data.shape[dim]

    def dim(self):
        """Number of dimensions."""
        return self._data.ndim

    def element_size(self):
        """Size in bytes of one element."""
        return self._data.itemsize

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self):
        body = np.array2string(backend.move(self._data, DEVICE.CPU), separator=', ', prefix='tensor(')
        extras = []
        if self.device is not DEVICE.CPU:
            extras.append(f"device='{self.device.value}'")
        if self._data.dtype not in (DEFAULT_FLOAT, np.dtype('int64'), np.dtype('bool')):
            extras.append(f"dtype={self._data.dtype.name}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append('requires_grad=True')
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    def __format__(self, format_spec):
        # as PyTorch: a 0-d tensor formats as its Python number (``f"{loss:.4f}"``);
        # any other tensor only with an empty spec (its repr), else TypeError
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, upstream=None):
        """Run the backward pass from this tensor, accumulating into the
        ``.grad`` of the leaves. ``gradient`` (alias ``upstream``, the reference's
        name) is the gradient of the final objective w.r.t. this tensor; it
        defaults to ones (also for non-scalar tensors, unlike PyTorch).
        ``retain_graph=True`` keeps the saved buffers for another backward;
        ``inputs``: accumulate only into these tensors' ``.grad``.
        ``create_graph=True`` records the backward pass itself, so the ``.grad``
        it leaves can be differentiated again (``retain_graph`` then defaults to True)."""
        if gradient is None:
            gradient = upstream
        if create_graph:
            from .autograd import backward as _backward  # noqa: PLC0415 - rarely used
            _backward((self,), None if gradient is None else (gradient,), retain_graph=retain_graph,
                      create_graph=True, inputs=inputs)
            return
        if not self.requires_grad:
            raise RuntimeError("backward: tensor does not require grad and has no grad_fn "
                               "(create it with requires_grad=True or compute it from one that does)")
        if gradient is None:
            xp = backend.array_module(self._data)
            g = xp.ones(self._data.shape, dtype=self._data.dtype)
        else:
            g = gradient._data if isinstance(gradient, Tensor) else backend.move(
                np.asarray(gradient, dtype=self._data.dtype), self.device)
            if g.shape != self._data.shape:
                raise RuntimeError(f"backward: gradient of shape {tuple(g.shape)} does not match "
                                   f"tensor of shape {self._data.shape}")
            if g.dtype != self._data.dtype:
                g = g.astype(self._data.dtype)
        if inputs is not None:
            from .autograd import accumulate_into  # noqa: PLC0415 - rarely used
            accumulate_into((self,), (g,), inputs, bool(retain_graph))
            return
        run_backward((self,), (g,), retain_graph=bool(retain_graph))

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever a gradient for this tensor is computed;
        a non-None return value replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is not None:
            node = self.grad_fn
            if node.hooks is None:
                node.hooks = []
            hooks = node.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        import weakref  # noqa: PLC0415 - rarely used
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    def detach(self):
        """A tensor sharing this tensor's data and version counter, cut off from the
        graph. As in PyTorch it is not a view for autograd (``_base`` is None): an
        in-place op on it by a tensor that requires grad records a graph on it
        alone, even where this tensor is a leaf that requires grad."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        """Cut this tensor off from the graph in place; it becomes a leaf without grad."""
        self.grad_fn = None
        self._rg = False
        return self

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (only leaves; only floating dtypes can require grad)."""
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad of a non-leaf tensor; use detach()")
        if requires_grad and not is_floating(self._data.dtype):
            raise RuntimeError(f"requires_grad_: only floating tensors can require grad, got {self._data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def render(self, path=None, format='png', show_data=True, show_grad=True):
        """Render the autograd graph ending at this tensor with graphviz; returns
        the ``graphviz.Digraph`` and writes it to ``path`` when given."""
        from .render import render_graph  # noqa: PLC0415 - optional dependency
        return render_graph(self, path=path, format=format, show_data=show_data, show_grad=show_grad)

    # ------------------------------------------------------------------ conversions
    def numpy(self):
        """The data as a NumPy array (shared memory on cpu, a copy from cuda)."""
        return backend.move(self._data, DEVICE.CPU)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python scalar, "
                             f"got shape {self._data.shape}")
        return self._data.reshape(()).item() if type(self._data) is _ndarray else self._data.item()

    def tolist(self):
        """The data as (nested) Python lists, or a scalar for a 0-d tensor."""
        return self.numpy().tolist()

    def from_data(self, data):
        """A new tensor holding ``data`` with this tensor's dtype and device."""
        return Tensor(data, dtype=self._data.dtype, device=self.device, requires_grad=False)

    def to(self, *args, inplace=True, **kwargs):
        """Move to a device and/or cast to a dtype: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)`` or ``to(other_tensor)``. A device move happens in place
        by default (``inplace=True``, as the reference); a cast returns a new tensor."""
        device, dtype = kwargs.pop('device', None), kwargs.pop('dtype', None)
        if kwargs:
            raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a._data.dtype
            elif isinstance(a, (DEVICE, _device_cls)) or (isinstance(a, str) and a.split(':')[0] in ('cpu', 'cuda')):
                device = a
            elif a is not None:
                dtype = a
        out = self
        if device is not None:
            out = out._move(to_device(device), inplace)
        if dtype is not None:
            np_dtype = to_numpy_dtype(dtype)
            if np_dtype != out._data.dtype:
                from .ops.elementwise import cast  # noqa: PLC0415 - bound late to avoid a cycle
                out = cast(out, np_dtype)
        return out

    def _move(self, device, inplace):
        if self.device is device:
            return self
        if inplace:
            self._data = backend.move(self._data, device)
            if self.grad is not None:
                self.grad._data = backend.move(self.grad._data, device)
            return self
        from .ops.elementwise import to_device_op  # noqa: PLC0415
        return to_device_op(self, device)

    def cpu(self, inplace=True):
        """Move tensor to the cpu device (in place by default, as the reference)."""
        return self._move(DEVICE.CPU, inplace)

    def cuda(self, inplace=True):
        """Move tensor to the cuda device (in place by default, as the reference)."""
        return self._move(DEVICE.CUDA, inplace)

    def _cast(self, np_dtype, inplace):
        if inplace:
            if self.grad_fn is not None:
                raise RuntimeError("cast: an in-place cast of a non-leaf tensor would break the graph")
            self._data = self._data.astype(np_dtype)
            self._rg = self._rg and is_floating(np_dtype)
            return self
        if self._data.dtype == np_dtype:
            return self
        from .ops.elementwise import cast  # noqa: PLC0415
        return cast(self, np_dtype)

    def float(self, inplace=False):
        """Cast tensor to float32."""
        return self._cast(_F32, inplace)

    def double(self, inplace=False):
        """Cast tensor to float64."""
        return self._cast(_F64, inplace)

    def half(self, inplace=False):
        """Cast tensor to float16."""
        return self._cast(_F16, inplace)

    def bfloat16(self, inplace=False):
        """Cast tensor to bfloat16 (needs the ml_dtypes package)."""
        return self._cast(bfloat16_dtype(), inplace)

    def long(self, inplace=False):
        """Cast tensor to int64."""
        return self._cast(_I64, inplace)

    def int(self, inplace=False):
        """Cast tensor to int32."""
        return self._cast(_I32, inplace)

    def bool(self, inplace=False):
        """Cast tensor to bool."""
        return self._cast(_BOOL, inplace)

    def type(self, dtype=None):
        """Without arguments the dtype's name; with a dtype, a cast to it."""
        if dtype is None:
            return self._data.dtype.name
        return self._cast(to_numpy_dtype(dtype), False)

    def astype(self, dtype):
        """Cast to ``dtype`` (NumPy's spelling)."""
        return self._cast(to_numpy_dtype(dtype), False)

    def __getstate__(self):
        return {'data': backend.move(self._data, DEVICE.CPU), 'requires_grad': self.requires_grad,
                'name': self.name}

    def __setstate__(self, state):
        Tensor.__init__(self, state['data'], requires_grad=state['requires_grad'], name=state['name'])


_F16, _F32, _F64 = np.dtype('float16'), np.dtype('float32'), np.dtype('float64')
_I32, _I64, _BOOL = np.dtype('int32'), np.dtype('int64'), np.dtype('bool')


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""
    __slots__ = ('hooks', 'hook')

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        """Unregister the hook."""
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _from_python(data, np_dtype):
    """Array from Python data, with PyTorch's dtype inference."""
    if isinstance(data, (list, tuple)) and data and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _strip_tensors(data)
    if isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(f"tensor: cannot build a tensor from ragged or invalid data: {e}") from None
    if arr.dtype.kind not in 'fiub':
        raise TypeError(f"tensor: unsupported data of type {type(data).__name__} (array dtype {arr.dtype})")
    if np_dtype is not None:
        return arr.astype(np_dtype, copy=False)
    if arr.dtype.kind == 'f' and not isinstance(data, np.generic):
        return arr.astype(DEFAULT_FLOAT, copy=False)
    if arr.dtype.kind in 'iu' and not isinstance(data, np.generic):
        return arr.astype(_I64, copy=False)
    return arr


def _init_from_data(t, data, dtype, device, requires_grad, name, copy):
    """Fill the slots of ``t`` from ``data`` with ``tensorgrad.tensor``'s dtype rules;
    ``copy``: never share memory with an array or tensor given as ``data``."""
    np_dtype = to_numpy_dtype(dtype)
    dev = to_device(device)
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, _ndarray) or (backend._cupy is not None and isinstance(data, backend._cupy.ndarray)):
        if np_dtype is not None and data.dtype != np_dtype:
            arr = data.astype(np_dtype)
        elif copy and (dev is None or backend.device_of(data) is dev):
            arr = data.copy()
        else:
            arr = data
    else:
        arr = _from_python(data, np_dtype)
    if dev is not None:
        arr = backend.move(arr, dev)
    _fill(t, arr, requires_grad and is_floating(arr.dtype), name)


def _fill(t, arr, requires_grad, name):
    t._data = arr
    t._rg = requires_grad
    t._grad = None
    t.grad_fn = None
    t._vc = [0]
    t._base = None
    t._hooks = None
    t.name = name


def _is_size(a):
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)


def _init_legacy(t, args, device):
    """PyTorch's legacy constructor ``torch.Tensor(...)``: ``()`` empty, ``(*sizes)``
    uninitialised, ``(tensor)`` an alias, ``(data)`` float32; never requires grad."""
    if len(args) == 1 and not _is_size(args[0]):
        data = args[0]
        if isinstance(data, Tensor):
            if device is not None:
                raise RuntimeError("Tensor(other, device=...): the legacy constructor does not move a tensor; "
                                   "use tensorgrad.tensor(other, device=...) or other.to(device)")
            _alias_into(t, data)
            return
        if isinstance(data, backend.array_types()):
            if data.dtype.kind not in 'fiub':
                raise TypeError(f"Tensor: unsupported array dtype {data.dtype}")
            arr = data if data.dtype == _F32 else data.astype(_F32)
        elif isinstance(data, (list, tuple, range)):
            arr = _from_python(data if not isinstance(data, range) else list(data), _F32)
        else:
            raise TypeError(f"Tensor: data must be a sequence, an array, a tensor or sizes as ints "
                            f"(got {type(data).__name__})")
        dev = to_device(device)
        if dev is not None:
            arr = backend.move(arr, dev)
    else:
        if not all(_is_size(a) for a in args):
            raise TypeError(f"Tensor: sizes must be ints, got {args!r}")
        shape = tuple(int(a) for a in args) if args else (0,)
        if any(s < 0 for s in shape):
            raise RuntimeError(f"Tensor: negative dimension in size {shape}")
        arr = backend.xp_for(to_device(device) or DEVICE.CPU).empty(shape, dtype=_F32)
    _fill(t, arr, False, None)


def _alias_into(t, src):
    """Make ``t`` an alias of ``src`` (``torch.Tensor(other)``): same memory and version
    counter, and, when ``src`` is recorded, a graph edge to it."""
    from .ops.shape import reshape  # noqa: PLC0415 - ops import this module
    v = reshape(src, src._data.shape)
    _fill(t, v._data, v.requires_grad, None)
    t.grad_fn = v.grad_fn
    as_view(t, src)


class _TensorFactory(type):
    """Metaclass of ``tensorgrad.tensor``: calling the class builds a Tensor, the
    class stands for Tensor in ``isinstance``/``issubclass``, and every other
    attribute (the classmethod factories, the methods) is Tensor's."""

    def __call__(cls, data, dtype=None, device=None, requires_grad=True, name=None):
        t = _new(Tensor)
        cls.__init__(t, data, dtype, device, requires_grad, name)
        return t

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, Tensor)

    def __getattr__(cls, name):
        return getattr(Tensor, name)

    def __dir__(cls):
        return sorted(set(dir(Tensor)) | set(type.__dir__(cls)))


class tensor(metaclass=_TensorFactory):  # noqa: N801 - the reference's name
    """``tensorgrad.tensor(data, dtype=None, device=None, requires_grad=True, name=None)``:
    a new Tensor holding a copy of ``data`` (a Python number or nested
    sequence, an array or a tensor), as ``torch.tensor`` but with the
    reference's default ``requires_grad=True`` (ignored for non-floating
    dtypes). Python floats become float32, ints int64, bools bool; arrays and
    tensors keep their dtype unless ``dtype`` is given. ``tensorgrad.tensor``
    also stands for the Tensor class: ``isinstance(x, tensorgrad.tensor)`` and
    ``tensorgrad.tensor.zeros(2, 3)`` work."""
    __slots__ = ()

    def __init__(self, data, dtype=None, device=None, requires_grad=True, name=None):
        """Construct tensor explicitly from data with given spec (``self`` is the Tensor being filled)."""
        _init_from_data(self, data, dtype, device, bool(requires_grad), name, True)


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _strip_tensors(data):
    if isinstance(data, Tensor):
        return backend.move(data._data, DEVICE.CPU)
    if isinstance(data, (list, tuple)):
        return [_strip_tensors(d) for d in data]
    return data


# ---------------------------------------------------------------------- recording
def track(data, node_cls, inputs, saved=None, check=None, check_out=False):
    """Wrap ``data`` (an op's result) in a Tensor and, when grad mode is on and
    an input requires grad, record a ``node_cls`` node for it.

    ``inputs``: the op's tensor inputs (None for constants), one edge each.
    ``saved``: what ``backward`` needs (stored as ``node.saved``).
    ``check``: input tensors whose data ``saved`` holds; an in-place change to
    them before backward raises. ``check_out``: same for the output itself.
    """
    if data.__class__ is not _ndarray:
        data = _to_array(data)
    out = _new(Tensor)
    out._data = data
    out._grad = None
    out._vc = [0]
    out._base = None
    out._hooks = None
    out.name = None
    if GRAD_MODE.enabled:
        for t in inputs:
            if t is not None and t._rg:
                break
        else:
            out._rg = False
            out.grad_fn = None
            return out
        node = _new(node_cls)
        node.next = tuple(None if t is None or not t._rg else (t.grad_fn or t) for t in inputs)
        node.saved = saved
        node.shape = data.shape
        node.hooks = None
        node.retained = None
        if check is not None or check_out:
            versions = [(t._vc, t._vc[0]) for t in check] if check is not None else []
            if check_out:
                versions.append((out._vc, 0))
            node.versions = versions
        else:
            node.versions = None
        out._rg = True
        out.grad_fn = node
        return out
    out._rg = False
    out.grad_fn = None
    return out


def as_view(out, base):
    """Mark ``out`` as a view of ``base``: they share memory and a version counter."""
    out._vc = base._vc
    root = out._base = base if base._base is None else base._base
    if (out.grad_fn is not None and root.grad_fn is not None) or (
            not root._rg and GRAD_MODE.enabled and is_floating(root._data.dtype)):
        # remembered so that a recorded in-place op on the base can retire the view's
        # graph, or give a view of a base without grad one (PyTorch re-derives both);
        # a leaf that requires grad cannot be modified in place: no need there
        refs = _VIEWS.get(id(root))
        if refs is None:
            refs = _VIEWS[id(root)] = [weakref.ref(root, _forget(id(root)))]
        else:
            n = len(refs)
            if n >= 64 and not n & (n - 1):  # drop dead views now and then (amortised O(1))
                refs[1:] = [r for r in refs[1:] if r() is not None]
        refs.append(weakref.ref(out))
    return out


_VIEWS = {}  # id(base) -> [weakref to base, weakrefs to its views that have a grad_fn or may get one...]


def _forget(key):
    def callback(ref):
        refs = _VIEWS.get(key)
        if refs is not None and refs[0] is ref:
            del _VIEWS[key]
    return callback


class StaleViewBackward(Node):
    """grad_fn given to a view whose base was then changed by a recorded in-place op:
    values read from the view afterwards are not what its old graph describes."""
    __slots__ = ()

    def backward(self, g):
        raise RuntimeError(
            f"backward: a view was used after its base was modified in place by {self.saved} "
            f"(the view's graph is out of date); take the view again after the in-place op")


def retire_views(base, op, rederive=None):
    """Called after a recorded in-place op on ``base``: each existing view gets
    ``rederive(view, base)`` as its ``grad_fn`` (reading it out of the base's new
    graph), or, where that gives None, a ``grad_fn`` that raises at backward if
    the view is used from now on. Ops that already consumed a view keep its old,
    correct graph."""
    refs = _VIEWS.pop(id(base), None)
    if refs is None or refs[0]() is not base:
        return
    for ref in refs[1:]:
        v = ref()
        if v is not None and (v.grad_fn is not None or (not v._rg and base._rg)):
            node = rederive(v, base) if rederive is not None else None
            if node is None:
                node = _new(StaleViewBackward)
                node.next, node.saved, node.versions, node.shape = (), op, None, v._data.shape
                node.hooks = node.retained = None
                v.grad_fn = node
                v._rg = True
            else:
                v.grad_fn = node
                v._rg = True
                as_view(v, base)


def ensure_tensor(x, like):
    """``x`` as a Tensor on ``like``'s device; Python numbers and arrays become constants."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool)):
        return Tensor._wrap(np.asarray(x, dtype=_scalar_dtype(x, like._data.dtype)) if type(like._data) is _ndarray
                            else backend.array_module(like._data).asarray(x, dtype=_scalar_dtype(x, like._data.dtype)))
    arr = x if isinstance(x, backend.array_types()) else _from_python(x, None)
    if backend.device_of(arr) is not like.device:
        arr = backend.move(arr, like.device)
    return Tensor._wrap(arr)


def _scalar_dtype(x, tensor_dtype):
    """dtype a Python scalar takes next to a tensor of ``tensor_dtype`` (PyTorch's rule:
    the scalar never widens a tensor of its own kind)."""
    if isinstance(x, bool):
        return tensor_dtype
    if isinstance(x, int):
        return tensor_dtype if tensor_dtype.kind in 'iufV' else _I64  # 'V': bfloat16
    return tensor_dtype if tensor_dtype.kind in 'fV' else DEFAULT_FLOAT
