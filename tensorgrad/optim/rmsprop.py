"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""
from .. import backend
from ..ops import kernels
from ._checks import check_impl_flags, check_lr, check_nonneg
from ._kernels import decayed_grad, lerp_
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square.

    ``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False,
    differentiable=False)``; ``capturable`` / ``foreach`` are accepted no-ops.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr('RMSprop', lr)
        for label, val in (('epsilon', eps), ('momentum', momentum), ('weight_decay', weight_decay),
                           ('alpha', alpha)):
            check_nonneg('RMSprop', label, val)
        check_impl_flags('RMSprop', foreach, None, differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _update(self, group):
        lr, alpha, eps = float(group['lr']), float(group['alpha']), float(group['eps'])
        wd, momentum = float(group['weight_decay']), float(group['momentum'])
        centered, maximize = group['centered'], group['maximize']
        for p in group['params']:
            if p.grad is None:
                continue
            state = self._state_of(p)
            xp = backend.array_module(p._data)
            if not state:
                state['step'] = 0
                state['square_avg'] = xp.zeros_like(p._data)
                if momentum > 0:
                    state['momentum_buffer'] = xp.zeros_like(p._data)
                if centered:
                    state['grad_avg'] = xp.zeros_like(p._data)
            state['step'] += 1
            _rmsprop_update(p._data, p.grad._data, state['square_avg'], state['grad_avg'] if centered else None,
                            state['momentum_buffer'] if momentum > 0 else None, lr, alpha, eps, wd, momentum,
                            maximize)
            p._vc[0] += 1


def _rmsprop_update(data, g, sq, ga, buf, lr, alpha, eps, weight_decay, momentum, maximize):
    """One RMSprop step in place on the raw parameter array ``data`` (NumPy or CuPy)
    and its running mean square ``sq``; ``ga`` is the running mean gradient (centered
    RMSprop) and ``buf`` the momentum buffer, each None when not used; ``g`` is the
    gradient (never written to). Replaced by the compiled kernel under the numba
    backend (``kernels.hook`` below)."""
    xp = backend.array_module(data)
    g = decayed_grad(data, g, weight_decay, maximize)
    sq *= alpha
    t = xp.multiply(g, g, out=xp.empty_like(data))
    t *= 1.0 - alpha
    sq += t
    if ga is not None:
        lerp_(xp, ga, g, 1.0 - alpha, t)
        xp.multiply(ga, ga, out=t)
        xp.subtract(sq, t, out=t)
        xp.sqrt(t, out=t)
    else:
        xp.sqrt(sq, out=t)
    t += eps
    xp.divide(g, t, out=t)
    if buf is not None:
        buf *= momentum
        buf += t
        xp.multiply(buf, lr, out=t)
    else:
        t *= lr
    data -= t


kernels.hook(globals(), '_rmsprop_update', 'optim.rmsprop_update')
