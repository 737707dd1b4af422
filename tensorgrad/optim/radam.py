"""RAdam (PyTorch's ``torch.optim.RAdam``)."""
import math

from .. import backend
from ._checks import check_betas, check_impl_flags, check_lr, check_nonneg
from ._kernels import lerp_
from .optimizer import Optimizer


class RAdam(Optimizer):
    """RAdam: Adam with a rectified adaptive learning rate (plain momentum SGD
    while the variance estimate is unreliable, ``rho_t <= 5``).

    ``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``; ``foreach`` / ``capturable`` are
    accepted no-ops.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr('RAdam', lr)
        check_nonneg('RAdam', 'epsilon', eps)
        check_betas('RAdam', betas)
        check_nonneg('RAdam', 'weight_decay', weight_decay)
        check_impl_flags('RAdam', foreach, None, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, group):
        lr, eps, wd = float(group['lr']), float(group['eps']), float(group['weight_decay'])
        beta1, beta2 = float(group['betas'][0]), float(group['betas'][1])
        decoupled = group['decoupled_weight_decay']
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        for p, g, state in self._with_grads(group, 0.0 if decoupled else wd, group['maximize']):
            data = p._data
            xp = backend.array_module(data)
            if not state:
                state['step'] = 0
                state['exp_avg'] = xp.zeros_like(data)
                state['exp_avg_sq'] = xp.zeros_like(data)
            state['step'] += 1
            step = state['step']
            if decoupled and wd:
                data *= 1.0 - lr * wd
            m, v = state['exp_avg'], state['exp_avg_sq']
            t = xp.empty_like(data)
            lerp_(xp, m, g, 1.0 - beta1, t)
            v *= beta2
            xp.multiply(g, g, out=t)
            t *= 1.0 - beta2
            v += t
            bc1, bc2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
            rho_t = rho_inf - 2.0 * step * beta2 ** step / bc2
            upd = xp.divide(m, bc1, out=xp.empty_like(data))
            upd *= lr
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                xp.sqrt(v, out=t)
                t += eps
                xp.divide(bc2 ** 0.5, t, out=t)  # the adaptive learning rate
                upd *= t
                upd *= rect
            data -= upd
            p._vc[0] += 1
