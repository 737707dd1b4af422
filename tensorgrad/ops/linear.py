"""``linear``: x @ weight.T + bias with one fused backward."""

from .._tensor import track
from ..autograd.node import Node
from . import kernels
from ._checks import _float_array, _same_device


def _rows(shape):
    """Rows of an array folded to 2-D over its last dim (``reshape(-1, n)`` fails when n is 0)."""
    r = 1
    for d in shape[:-1]:
        r *= d
    return r


def _add_bias(out, b):
    """``out += b`` (the bias broadcast over the rows of ``out``); returns ``out``."""
    out += b
    return out


def _bias_grad(g2):
    """The bias gradient: the column sums of the (rows, out_features) gradient."""
    return g2.sum(0)


class LinearBackward(Node):
    __slots__ = ()

    def backward(self, g):
        x, w = self.saved
        return self._grads(g, x, w)

    def backward_graph(self, g):  # the same products on tensors (create_graph)
        x, w = self.saved
        return self._grads(g, self.input(0, x), self.input(1, w))

    def _grads(self, g, x, w):
        """(gx, gw, gb) from arrays or tensors alike."""
        gx = gw = gb = None
        rows = _rows(g.shape)
        g2 = g.reshape(rows, g.shape[-1])
        if self.next[0] is not None:
            # one GEMM over all rows: (B, T, out) @ (out, in) is B GEMMs in NumPy, 2x slower on 2 threads
            # (measured, (16, 64, 512) @ (512, 128): 955 vs 488 us)
            gx = g2 @ w
            if g.ndim != 2:
                gx = gx.reshape(*g.shape[:-1], w.shape[-1])
        if self.next[1] is not None or self.next[2] is not None:
            if self.next[1] is not None:
                gw = g2.T @ x.reshape(rows, x.shape[-1])
            if self.next[2] is not None:
                gb = _bias_grad(g2)  # tensors (backward_graph) and CuPy arrays take the NumPy helper
        return gx, gw, gb


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features)."""
    xd = _float_array('linear', x)
    wd = _float_array('linear', weight, 'weight')
    _same_device('linear', xd, wd, 'input', 'weight')
    if wd.ndim != 2:
        raise ValueError(f"linear: weight of shape {wd.shape} must be 2-D (out_features, in_features)")
    if xd.ndim == 0 or xd.shape[-1] != wd.shape[1]:
        raise ValueError(f"linear: input of shape {xd.shape} does not match weight of shape {wd.shape} "
                         f"(last input dimension must be {wd.shape[1]})")
    bd = None
    if bias is not None:
        bd = _float_array('linear', bias, 'bias')
        _same_device('linear', xd, bd, 'input', 'bias')
        if bd.shape != (wd.shape[0],):
            raise ValueError(f"linear: bias of shape {bd.shape} does not match weight of shape {wd.shape} "
                             f"(expected ({wd.shape[0]},))")
    if xd.dtype != wd.dtype:
        raise TypeError(f"linear: input dtype {xd.dtype} and weight dtype {wd.dtype} differ")
    if xd.ndim > 2:
        out = (xd.reshape(-1, xd.shape[-1]) @ wd.T).reshape(*xd.shape[:-1], wd.shape[0])
    else:
        out = xd @ wd.T
    if bd is not None:
        _add_bias(out, bd)
    return track(out, LinearBackward, (x, weight, bias), (xd, wd), check=(x, weight))


kernels.hook(globals(), '_add_bias', 'linear.add_bias')
kernels.hook(globals(), '_bias_grad', 'linear.bias_grad')

EXPORTS = ('linear',)
