"""Adam and AdamW (PyTorch's ``torch.optim.Adam`` / ``AdamW``)."""
import math

from .. import backend
from .optimizer import Optimizer


def _check(name, lr, betas, eps, weight_decay):
    if lr < 0.0:
        raise ValueError(f"{name}: invalid learning rate {lr}")
    if eps < 0.0:
        raise ValueError(f"{name}: invalid epsilon {eps}")
    if len(betas) != 2 or not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"{name}: invalid betas {betas}; expected two values in [0, 1)")
    if weight_decay < 0.0:
        raise ValueError(f"{name}: invalid weight_decay {weight_decay}")


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    ``Adam(parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    amsgrad=False, maximize=False, decoupled_weight_decay=False)``. ``weight_decay``
    is an L2 penalty added to the gradient, or AdamW's decoupled decay with
    ``decoupled_weight_decay=True``.
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False):
        _check(type(self).__name__, lr, betas, eps, weight_decay)
        super().__init__(parameters, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                          amsgrad=amsgrad, maximize=maximize,
                                          decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, group):
        lr, eps, wd = float(group['lr']), float(group['eps']), float(group['weight_decay'])
        beta1, beta2 = float(group['betas'][0]), float(group['betas'][1])
        amsgrad, maximize = group['amsgrad'], group['maximize']
        decoupled = group.get('decoupled_weight_decay', False)
        for p, g, state in self._with_grads(group, 0.0 if decoupled else wd, maximize):
            data = p._data
            if decoupled and wd:
                data *= 1.0 - lr * wd
            xp = backend.array_module(data)
            if not state:
                state['step'] = 0
                state['exp_avg'] = xp.zeros_like(data)
                state['exp_avg_sq'] = xp.zeros_like(data)
                if amsgrad:
                    state['max_exp_avg_sq'] = xp.zeros_like(data)
            state['step'] += 1
            step = state['step']
            m, v = state['exp_avg'], state['exp_avg_sq']
            t = g - m  # the one scratch buffer of this update
            t *= 1.0 - beta1
            m += t
            v *= beta2
            xp.multiply(g, g, out=t)
            t *= 1.0 - beta2
            v += t
            if amsgrad:
                vmax = state.get('max_exp_avg_sq')
                if vmax is None:
                    vmax = state['max_exp_avg_sq'] = xp.zeros_like(data)
                xp.maximum(vmax, v, out=vmax)
                v = vmax
            step_size = lr / (1.0 - beta1 ** step)
            xp.sqrt(v, out=t)
            t /= math.sqrt(1.0 - beta2 ** step)
            t += eps
            xp.divide(m, t, out=t)
            t *= step_size
            data -= t
            p._vc[0] += 1


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    ``AdamW(parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, maximize=False)``.
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(parameters, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
