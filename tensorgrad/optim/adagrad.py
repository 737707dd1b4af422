"""Adagrad (PyTorch's ``torch.optim.Adagrad``)."""
from .. import backend
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad: per-coordinate learning rates from the sum of squared gradients.

    ``Adagrad(parameters, lr=1e-2, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10, maximize=False)``.
    """

    def __init__(self, parameters, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 maximize=False):
        for key, val in (('learning rate', lr), ('lr_decay', lr_decay), ('weight_decay', weight_decay),
                         ('initial_accumulator_value', initial_accumulator_value), ('epsilon', eps)):
            if val < 0.0:
                raise ValueError(f"Adagrad: invalid {key} {val}")
        super().__init__(parameters, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                          initial_accumulator_value=initial_accumulator_value, eps=eps,
                                          maximize=maximize))

    def _update(self, group):
        lr, lr_decay, eps = float(group['lr']), float(group['lr_decay']), float(group['eps'])
        wd, maximize = float(group['weight_decay']), group['maximize']
        init = float(group['initial_accumulator_value'])
        for p, g, state in self._with_grads(group, wd, maximize):
            xp = backend.array_module(p._data)
            if not state:
                state['step'] = 0
                state['sum'] = xp.full_like(p._data, init)
            state['step'] += 1
            clr = lr / (1.0 + (state['step'] - 1) * lr_decay)
            acc = state['sum']
            t = g * g
            acc += t
            xp.sqrt(acc, out=t)
            t += eps
            xp.divide(g, t, out=t)
            t *= clr
            p._data -= t
            p._vc[0] += 1
