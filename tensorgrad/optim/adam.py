"""Adam and AdamW (PyTorch's ``torch.optim.Adam`` / ``AdamW``)."""
import math

from .. import backend
from ..ops import kernels
from ._checks import check_betas, check_impl_flags, check_lr, check_nonneg
from ._kernels import decayed_grad, lerp_
from .optimizer import Optimizer, _params_arg


def _check(name, lr, betas, eps, weight_decay, foreach, fused, differentiable):
    check_lr(name, lr)
    check_nonneg(name, 'epsilon', eps)
    check_betas(name, betas)
    check_nonneg(name, 'weight_decay', weight_decay)
    check_impl_flags(name, foreach, fused, differentiable)


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    ``Adam(parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    amsgrad=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False, fused=None, decoupled_weight_decay=False, params=None)``.
    ``weight_decay`` is an L2 penalty added to the gradient, or AdamW's decoupled
    decay with ``decoupled_weight_decay=True``; ``amsgrad`` keeps the running
    maximum of the second moment. ``foreach`` / ``fused`` / ``capturable`` are
    accepted no-ops; ``params=`` is PyTorch's name for ``parameters``.
    """

    def __init__(self, parameters=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False, params=None):
        name = type(self).__name__
        parameters = _params_arg(name, parameters, params)
        _check(name, lr, betas, eps, weight_decay, foreach, fused, differentiable)
        super().__init__(parameters, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                          amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                          capturable=capturable, differentiable=differentiable, fused=fused,
                                          decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, group):
        lr, eps, wd = float(group['lr']), float(group['eps']), float(group['weight_decay'])
        beta1, beta2 = float(group['betas'][0]), float(group['betas'][1])
        amsgrad, maximize = group['amsgrad'], group['maximize']
        decoupled = group.get('decoupled_weight_decay', False)
        for p in group['params']:
            if p.grad is None:
                continue
            state = self._state_of(p)
            data = p._data
            xp = backend.array_module(data)
            if not state:
                state['step'] = 0
                state['exp_avg'] = xp.zeros_like(data)
                state['exp_avg_sq'] = xp.zeros_like(data)
            vmax = None
            if amsgrad:
                vmax = state.get('max_exp_avg_sq')
                if vmax is None:
                    vmax = state['max_exp_avg_sq'] = xp.zeros_like(data)
            state['step'] += 1
            _adam_update(data, p.grad._data, state['exp_avg'], state['exp_avg_sq'], vmax, state['step'], lr,
                         beta1, beta2, eps, wd, decoupled, maximize)
            p._vc[0] += 1


def _adam_update(data, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, decoupled, maximize):
    """One Adam step in place on the raw parameter array ``data`` (NumPy or CuPy)
    and its moments ``m``, ``v`` (and ``vmax``, amsgrad's running maximum of ``v``,
    unless None); ``g`` is the gradient (never written to), ``step`` the step count
    including this one. ``weight_decay`` is L2 (added to the gradient) or, with
    ``decoupled``, AdamW's ``data *= 1 - lr * weight_decay`` first. Replaced by the
    compiled kernel under the numba backend (``kernels.hook`` below)."""
    xp = backend.array_module(data)
    if decoupled and weight_decay:
        data *= 1.0 - lr * weight_decay
    g = decayed_grad(data, g, 0.0 if decoupled else weight_decay, maximize)
    t = xp.empty_like(data)  # the one scratch buffer of this update
    lerp_(xp, m, g, 1.0 - beta1, t)
    v *= beta2
    xp.multiply(g, g, out=t)
    t *= 1.0 - beta2
    v += t
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    step_size = lr / (1.0 - beta1 ** step)
    xp.sqrt(v, out=t)
    t /= math.sqrt(1.0 - beta2 ** step)
    t += eps
    xp.divide(m, t, out=t)
    t *= step_size
    data -= t


kernels.hook(globals(), '_adam_update', 'optim.adam_update')


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, foreach=None, capturable=False,
    differentiable=False, fused=None)``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
