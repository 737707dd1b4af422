"""Binds the op functions of ``tensorgrad.ops`` onto ``Tensor`` as methods
and operators, plus the reference's classmethod factories."""
from . import factories
from ._tensor import Tensor
from .ops import api as ops
from .ops.inplace import make_inplace_methods


class _hybridmethod:
    """A method that works on the class (``Tensor.cat([a, b], 0)``) and on an
    instance (``a.cat([b], 0)`` joins ``a`` with the others)."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, cls):
        fn = self.fn
        if obj is None:
            return fn

        def bound(tensors, dim=0):
            return fn([obj, *tensors], dim)
        bound.__doc__ = fn.__doc__
        return bound


def _classfactory(fn, *, shape_first=True):
    def factory(cls, *args, dtype=None, device=None, requires_grad=True, **kwargs):
        return fn(*args, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
    factory.__name__ = fn.__name__
    factory.__doc__ = (fn.__doc__ or '') + " (classmethod; ``requires_grad`` defaults to True, as the reference)"
    return classmethod(factory)


def _bind():
    T = Tensor
    binary = {
        '__add__': ops.add, '__radd__': ops.add, '__sub__': ops.sub, '__rsub__': ops.rsub,
        '__mul__': ops.mul, '__rmul__': ops.mul, '__truediv__': ops.div, '__rtruediv__': ops.rdiv,
        '__pow__': ops.pow, '__rpow__': ops.rpow, '__matmul__': ops.matmul, '__rmatmul__': ops.rmatmul,
        '__eq__': ops.eq, '__ne__': ops.ne, '__lt__': ops.lt, '__le__': ops.le, '__gt__': ops.gt,
        '__ge__': ops.ge,  # & | ^ (bitwise, as PyTorch) and their in-place forms: ops/bitwise.py
        '__floordiv__': ops.floor_divide, '__rfloordiv__': ops.rfloor_divide, '__mod__': ops.remainder,
        '__rmod__': ops.rremainder,
        '__neg__': ops.neg, '__invert__': ops.invert, '__abs__': ops.abs, '__getitem__': ops.getitem,
    }
    for name, fn in binary.items():
        setattr(T, name, fn)
    for name in ('add', 'sub', 'mul', 'div', 'pow', 'matmul', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt',
                 'ge', 'abs', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'neg', 'sign',
                 'clamp', 'clip', 'clone', 'sum', 'mean', 'max', 'min', 'amax', 'amin', 'argmax', 'argmin',
                 'prod', 'var', 'std', 'logsumexp', 'reshape', 'view', 'flatten', 'unflatten', 'permute',
                 'transpose', 'swapaxes', 'movedim', 'moveaxis', 'squeeze', 'unsqueeze', 'expand', 'expand_as',
                 'broadcast_to', 'repeat', 'tile', 'split', 'chunk', 'unbind', 'flip', 'gather', 'lookup',
                 'masked_fill', 'index_select', 'logical_not', 'logical_and', 'logical_or', 'dot', 'mm', 'bmm',
                 'all', 'any', 'remainder', 'floor_divide'):
        setattr(T, name, getattr(ops, name))
    T.subtract, T.multiply, T.divide, T.true_divide = ops.sub, ops.mul, ops.div, ops.div
    T.copy = ops.clone
    T.T = property(lambda self: ops.permute(self, *reversed(range(self._data.ndim))),
                   doc="The tensor with its dimensions reversed.")
    T.mT = property(lambda self: ops.transpose(self, -2, -1), doc="Transpose of the last two dimensions.")
    T.cat = T.concat = _hybridmethod(ops.cat)
    for name, fn in make_inplace_methods(ops).items():
        setattr(T, name, fn)
    # the reference's classmethod factories (requires_grad=True by default)
    for name in ('zeros', 'ones', 'empty', 'rand', 'randn'):
        setattr(T, name, _classfactory(getattr(factories, name)))

    def arange(cls, n, dtype=None, device=None, requires_grad=True):
        """Construct range tensor 0..n-1 with given spec (classmethod)."""
        return factories.arange(n, dtype=dtype, device=device, requires_grad=requires_grad)

    def randint(cls, low, high, shape, dtype=None, device=None, requires_grad=True):
        """Construct tensor of random integers in range [low, high) with given spec (classmethod)."""
        return factories.randint(low, high, shape, dtype=dtype, device=device, requires_grad=requires_grad)

    def bernoulli(cls, p, shape, dtype=None, device=None, requires_grad=True):
        """Construct tensor from random bernoulli distribution with parameter ``p`` (classmethod)."""
        return factories.bernoulli(p, shape, dtype=dtype, device=device, requires_grad=requires_grad)

    T.arange, T.randint, T.bernoulli = classmethod(arange), classmethod(randint), classmethod(bernoulli)

    def zeros_like(self, dtype=None, device=None, requires_grad=False):
        """Construct new tensor of zeros with the same spec as tensor."""
        return factories.zeros_like(self, dtype=dtype, device=device, requires_grad=requires_grad)

    def ones_like(self, dtype=None, device=None, requires_grad=False):
        """Construct new tensor of ones with the same spec as tensor."""
        return factories.ones_like(self, dtype=dtype, device=device, requires_grad=requires_grad)

    T.zeros_like, T.ones_like = zeros_like, ones_like


def _bind_op_modules():
    """Bind the ``TENSOR_METHODS`` that any ``tensorgrad.ops`` module declares,
    so op families added later need no edit here."""
    import importlib  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415
    from . import ops as ops_pkg  # noqa: PLC0415
    modules = []
    for info in sorted(pkgutil.iter_modules(ops_pkg.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f'{ops_pkg.__name__}.{info.name}')
        for name, fn in getattr(mod, 'TENSOR_METHODS', {}).items():
            setattr(Tensor, name, fn)
        modules.append(mod)
    return modules


_bind()
OP_MODULES = _bind_op_modules()
