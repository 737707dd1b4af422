"""NAdam (PyTorch's ``torch.optim.NAdam``)."""
import numpy as np

from .. import backend
from ._checks import check_betas, check_impl_flags, check_lr, check_nonneg
from ._kernels import lerp_
from .optimizer import Optimizer


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and a momentum-decay schedule.

    ``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
    maximize=False, capturable=False, differentiable=False)``; ``foreach`` /
    ``capturable`` are accepted no-ops. ``mu_product`` (the product of the
    momentum coefficients) is kept in float32 as PyTorch keeps it.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr('NAdam', lr)
        check_nonneg('NAdam', 'epsilon', eps)
        check_betas('NAdam', betas)
        check_nonneg('NAdam', 'weight_decay', weight_decay)
        check_nonneg('NAdam', 'momentum_decay', momentum_decay)
        check_impl_flags('NAdam', foreach, None, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, group):
        lr, eps, wd = float(group['lr']), float(group['eps']), float(group['weight_decay'])
        beta1, beta2 = float(group['betas'][0]), float(group['betas'][1])
        psi, decoupled = float(group['momentum_decay']), group['decoupled_weight_decay']
        for p, g, state in self._with_grads(group, 0.0 if decoupled else wd, group['maximize']):
            data = p._data
            xp = backend.array_module(data)
            if not state:
                state['step'] = 0
                state['mu_product'] = np.ones((), np.float32)
                state['exp_avg'] = xp.zeros_like(data)
                state['exp_avg_sq'] = xp.zeros_like(data)
            state['step'] += 1
            step = state['step']
            if decoupled and wd:
                data *= 1.0 - lr * wd
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            mp = state['mu_product']
            mp *= mu
            mu_product = float(mp)
            m, v = state['exp_avg'], state['exp_avg_sq']
            t = xp.empty_like(data)
            lerp_(xp, m, g, 1.0 - beta1, t)
            v *= beta2
            xp.multiply(g, g, out=t)
            t *= 1.0 - beta2
            v += t
            denom = xp.divide(v, 1.0 - beta2 ** step, out=xp.empty_like(data))
            xp.sqrt(denom, out=denom)
            denom += eps
            xp.divide(g, denom, out=t)
            t *= lr * (1.0 - mu) / (1.0 - mu_product)
            data -= t
            xp.divide(m, denom, out=t)
            t *= lr * mu_next / (1.0 - mu_product * mu_next)
            data -= t
            p._vc[0] += 1
