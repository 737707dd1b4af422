"""``lerp`` as one node: PyTorch's forward (``input + w * (end - input)`` for
``|w| < 0.5``, else ``end - (end - input) * (1 - w)``, exact at both ends) and
its derivatives.yaml gradients, one product each (input ``g * (1 - w)``, end
``g * w``, weight ``g * (end - input)``), so an inf upstream gradient stays
inf where a composition of add/sub/mul would give inf - inf = nan. Operand
checks are the caller's (``mathx.lerp``)."""
import numpy as np

from .. import backend
from .._tensor import Tensor, track
from ..autograd.node import Node
from .elementwise import cast


class LerpBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, e, w, w_dtype = self.saved
        gw = None
        if len(self.next) > 2 and self.next[2] is not None:
            gw = g * (e - x)
            if gw.dtype != w_dtype:
                gw = gw.astype(w_dtype)
        return (g * (1 - w) if self.next[0] is not None else None,
                g * w if self.next[1] is not None else None, gw)[:len(self.next)]

    def backward_graph(self, g):
        x, e, w, w_dtype = self.saved
        tensor_w = len(self.next) > 2
        wt = self.input(2, w) if tensor_w else w
        gw = None
        if tensor_w and self.next[2] is not None:
            gw = g * (self.input(1, e) - self.input(0, x))
            if gw._data.dtype != w_dtype:
                gw = cast(gw, w_dtype)
        return (g * (1 - wt) if self.next[0] is not None else None,
                g * wt if self.next[1] is not None else None, gw)[:len(self.next)]


def lerp_op(input, end, weight):  # noqa: A002 - PyTorch's names
    """``lerp(input, end, weight)`` on checked operands (``weight`` a number or a tensor)."""
    xd, ed = input._data, end._data
    xp = backend.array_module(xd)
    if isinstance(weight, Tensor):
        w_dtype = weight._data.dtype
        w = weight._data if w_dtype == xd.dtype else weight._data.astype(xd.dtype)  # a 0-d weight may differ
    else:
        w, w_dtype = float(weight), None
    try:
        diff = ed - xd
        if isinstance(weight, Tensor):
            out = xp.where(xp.abs(w) < 0.5, xd + w * diff, ed - diff * (1 - w))
        else:
            out = xd + w * diff if abs(w) < 0.5 else ed - diff * (1 - w)
    except ValueError:
        shapes = ', '.join(str(tuple(np.shape(a))) for a in (xd, ed, w))
        raise ValueError(f"lerp: shapes {shapes} (input, end, weight) cannot be broadcast together") from None
    if out.dtype != xd.dtype:
        out = out.astype(xd.dtype)
    if isinstance(weight, Tensor):
        inputs = (input, end, weight)
        check = ((input, end) if weight.requires_grad else ()) + (
            (weight,) if input.requires_grad or end.requires_grad else ())
    else:
        inputs, check = (input, end), None
    return track(out, LerpBackward, inputs, (xd, ed, w, w_dtype), check=check or None)
