"""Adagrad (PyTorch's ``torch.optim.Adagrad``)."""
from .. import backend
from ..ops import kernels
from ._checks import check_impl_flags, check_lr, check_nonneg
from ._kernels import decayed_grad
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad: per-coordinate learning rates from the sum of squared gradients.

    ``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
    differentiable=False, fused=None)``; ``foreach`` / ``fused`` are accepted no-ops.
    As in PyTorch the state (``step`` 0, ``sum``) exists from construction on.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr('Adagrad', lr)
        for label, val in (('lr_decay', lr_decay), ('weight_decay', weight_decay),
                           ('initial_accumulator_value', initial_accumulator_value), ('epsilon', eps)):
            check_nonneg('Adagrad', label, val)
        check_impl_flags('Adagrad', foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group['params']:
                self._init_state(group, p, self.state[p])

    @staticmethod
    def _init_state(group, p, state):
        state['step'] = 0
        state['sum'] = backend.array_module(p._data).full_like(p._data, float(group['initial_accumulator_value']))

    def _update(self, group):
        lr, lr_decay, eps = float(group['lr']), float(group['lr_decay']), float(group['eps'])
        wd, maximize = float(group['weight_decay']), group['maximize']
        for p in group['params']:
            if p.grad is None:
                continue
            state = self._state_of(p)
            if not state:  # a group added after construction
                self._init_state(group, p, state)
            state['step'] += 1
            clr = lr / (1.0 + (state['step'] - 1) * lr_decay)
            _adagrad_update(p._data, p.grad._data, state['sum'], clr, eps, wd, maximize)
            p._vc[0] += 1


def _adagrad_update(data, g, acc, clr, eps, weight_decay, maximize):
    """One Adagrad step in place on the raw parameter array ``data`` (NumPy or CuPy)
    and its sum of squared gradients ``acc``, with the decayed learning rate ``clr``;
    ``g`` is the gradient (never written to). Replaced by the compiled kernel under
    the numba backend (``kernels.hook`` below)."""
    xp = backend.array_module(data)
    g = decayed_grad(data, g, weight_decay, maximize)
    t = xp.multiply(g, g, out=xp.empty_like(data))
    acc += t
    xp.sqrt(acc, out=t)
    t += eps
    xp.divide(g, t, out=t)
    t *= clr
    data -= t


kernels.hook(globals(), '_adagrad_update', 'optim.adagrad_update')
