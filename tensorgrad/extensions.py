"""Device extensions: register your own implementation of an op for a device.

    import tensorgrad
    from tensorgrad.extensions import register_op

    @register_op('conv2d', 'cuda')
    def fast_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        ...  # return a Tensor; record autograd with tensorgrad.autograd.Function or track()

From then on every call of that op (``tensorgrad.conv2d``, ``x.conv2d``,
``nn.functional.conv2d``, ``nn.Conv2d``) whose first tensor argument lives on
that device runs ``fast_conv2d``; other devices keep the default.

Cost: nothing until an override is registered. Registration swaps the op's
function, wherever tensorgrad refers to it (Tensor methods and the namespaces
of the loaded tensorgrad modules), for a small dispatcher that looks up the
device of the first tensor argument; ``unregister_op`` puts the original back.
"""
import sys
import types

from ._tensor import Tensor
from .dtypes import to_device

_dispatchers = {}  # op name -> _Dispatcher


class _Dispatcher:
    """Routes calls of one op to a device override or to the default."""

    def __init__(self, name, default):
        self.name = name
        self.default = default
        self.overrides = {}

    def __call__(self, *args, **kwargs):
        for a in args:
            if isinstance(a, Tensor):
                impl = self.overrides.get(a.device)
                if impl is not None:
                    return impl(*args, **kwargs)
                break
        return self.default(*args, **kwargs)

    def __get__(self, obj, cls=None):
        # behave like a function when installed as a Tensor method
        return self if obj is None else types.MethodType(self, obj)


def _find_default(name):
    from . import methods  # noqa: PLC0415
    from .ops import api  # noqa: PLC0415
    for mod in (api, *methods.OP_MODULES):
        fn = getattr(mod, name, None)
        if callable(fn) and not isinstance(fn, type):
            return fn
    raise KeyError(f"register_op: unknown op {name!r}; ops are the functions of tensorgrad.ops "
                   f"(e.g. 'conv2d', 'matmul', 'softmax')")


def _replace_everywhere(old, new):
    """Point every tensorgrad reference to ``old`` at ``new`` (Tensor methods and module globals)."""
    for attr, value in list(vars(Tensor).items()):
        if value is old:
            setattr(Tensor, attr, new)
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == 'tensorgrad' or mod_name.startswith('tensorgrad.')):
            continue
        namespace = getattr(mod, '__dict__', {})
        for attr, value in list(namespace.items()):
            if value is old:
                namespace[attr] = new


def register_op(name, device):
    """Decorator registering ``fn`` as the implementation of op ``name`` on ``device``."""
    dev = to_device(device)

    def decorator(fn):
        dispatcher = _dispatchers.get(name)
        if dispatcher is None:
            dispatcher = _Dispatcher(name, _find_default(name))
            _replace_everywhere(dispatcher.default, dispatcher)
            _dispatchers[name] = dispatcher
        dispatcher.overrides[dev] = fn
        return fn
    return decorator


def unregister_op(name, device=None):
    """Remove the override of ``name`` for ``device`` (all devices when None);
    with none left, the original function is restored everywhere."""
    dispatcher = _dispatchers.get(name)
    if dispatcher is None:
        return
    if device is None:
        dispatcher.overrides.clear()
    else:
        dispatcher.overrides.pop(to_device(device), None)
    if not dispatcher.overrides:
        _replace_everywhere(dispatcher, dispatcher.default)
        del _dispatchers[name]


def registered_ops():
    """``{op name: [devices with an override]}``."""
    return {name: sorted(d.value for d in disp.overrides) for name, disp in _dispatchers.items()}
