"""Adadelta (PyTorch's ``torch.optim.Adadelta``)."""
from .. import backend
from ._checks import check_impl_flags, check_lr, check_nonneg
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of updates and of gradients.

    ``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``; ``foreach`` /
    ``capturable`` are accepted no-ops. Update (PyTorch's):
    ``v = rho v + (1 - rho) g^2``, ``d = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho u + (1 - rho) d^2``, ``p -= lr * d``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr('Adadelta', lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {rho}")
        check_nonneg('Adadelta', 'epsilon', eps)
        check_nonneg('Adadelta', 'weight_decay', weight_decay)
        check_impl_flags('Adadelta', foreach, None, differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _update(self, group):
        lr, rho, eps = float(group['lr']), float(group['rho']), float(group['eps'])
        for p, g, state in self._with_grads(group, float(group['weight_decay']), group['maximize']):
            data = p._data
            xp = backend.array_module(data)
            if not state:
                state['step'] = 0
                state['square_avg'] = xp.zeros_like(data)
                state['acc_delta'] = xp.zeros_like(data)
            state['step'] += 1
            v, u = state['square_avg'], state['acc_delta']
            v *= rho
            t = xp.multiply(g, g, out=xp.empty_like(data))
            t *= 1.0 - rho
            v += t
            std = xp.add(v, eps, out=xp.empty_like(data))
            xp.sqrt(std, out=std)
            xp.add(u, eps, out=t)
            xp.sqrt(t, out=t)
            t /= std
            t *= g  # t is the update d
            u *= rho
            xp.multiply(t, t, out=std)
            std *= 1.0 - rho
            u += std
            t *= lr
            data -= t
            p._vc[0] += 1
