"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""
from .. import backend
from ._checks import check_impl_flags, check_lr, check_nonneg
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
        for p, g, state in self._with_grads(group, wd, maximize):
            xp = backend.array_module(p._data)
            if not state:
                state['step'] = 0
                state['square_avg'] = xp.zeros_like(p._data)
                if momentum > 0:
                    state['momentum_buffer'] = xp.zeros_like(p._data)
                if centered:
                    state['grad_avg'] = xp.zeros_like(p._data)
            state['step'] += 1
            sq = state['square_avg']
            sq *= alpha
            t = xp.multiply(g, g, out=xp.empty_like(p._data))
            t *= 1.0 - alpha
            sq += t
            if centered:
                ga = state['grad_avg']
                xp.subtract(g, ga, out=t)
                t *= 1.0 - alpha
                ga += t
                xp.multiply(ga, ga, out=t)
                xp.subtract(sq, t, out=t)
                xp.sqrt(t, out=t)
            else:
                xp.sqrt(sq, out=t)
            t += eps
            xp.divide(g, t, out=t)
            if momentum > 0:
                buf = state['momentum_buffer']
                buf *= momentum
                buf += t
                xp.multiply(buf, lr, out=t)
            else:
                t *= lr
            p._data -= t
            p._vc[0] += 1
