"""Adamax (PyTorch's ``torch.optim.Adamax``)."""
from .. import backend
from ._checks import check_betas, check_impl_flags, check_lr, check_nonneg
from ._kernels import lerp_
from .optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    ``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    foreach=None, *, maximize=False, differentiable=False, capturable=False)``;
    ``foreach`` / ``capturable`` are accepted no-ops. Update (PyTorch's):
    ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_lr('Adamax', lr)
        check_nonneg('Adamax', 'epsilon', eps)
        check_betas('Adamax', betas)
        check_nonneg('Adamax', 'weight_decay', weight_decay)
        check_impl_flags('Adamax', foreach, None, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, group):
        lr, eps = float(group['lr']), float(group['eps'])
        beta1, beta2 = float(group['betas'][0]), float(group['betas'][1])
        for p, g, state in self._with_grads(group, float(group['weight_decay']), group['maximize']):
            data = p._data
            xp = backend.array_module(data)
            if not state:
                state['step'] = 0
                state['exp_avg'] = xp.zeros_like(data)
                state['exp_inf'] = xp.zeros_like(data)
            state['step'] += 1
            m, u = state['exp_avg'], state['exp_inf']
            t = xp.empty_like(data)
            lerp_(xp, m, g, 1.0 - beta1, t)
            u *= beta2
            xp.abs(g, out=t)
            t += eps
            xp.maximum(u, t, out=u)
            xp.divide(m, u, out=t)
            t *= lr / (1.0 - beta1 ** state['step'])
            data -= t
            p._vc[0] += 1
