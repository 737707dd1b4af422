"""Stochastic gradient descent with momentum (PyTorch's ``torch.optim.SGD``)."""
from ..ops import kernels
from ._checks import check_impl_flags, check_lr, check_nonneg
from ._kernels import decayed_grad
from .optimizer import Optimizer, _params_arg


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    ``SGD(parameters, lr=1e-3, momentum=None, dampening=0, weight_decay=0,
    nesterov=False, *, maximize=False, foreach=None, differentiable=False,
    fused=None, params=None)``; ``momentum=None`` means 0; ``params=`` is
    PyTorch's name for ``parameters``; ``foreach`` / ``fused`` are accepted no-ops.
    Update (PyTorch's): ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on
    the first step), ``g = g + momentum * b`` with Nesterov else ``g = b``,
    ``p -= lr * g``.
    """

    def __init__(self, parameters=None, lr=1e-3, momentum=None, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None, params=None):
        parameters = _params_arg('SGD', parameters, params)
        momentum = 0 if momentum is None else momentum
        check_lr('SGD', lr)
        check_nonneg('SGD', 'momentum', momentum)
        check_nonneg('SGD', 'weight_decay', weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        check_impl_flags('SGD', foreach, fused, differentiable)
        super().__init__(parameters, dict(lr=lr, momentum=momentum, dampening=dampening,
                                          weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                          foreach=foreach, differentiable=differentiable, fused=fused))

    def _update(self, group):
        lr, momentum, dampening = float(group['lr']), float(group['momentum'] or 0.0), float(group['dampening'])
        wd, nesterov, maximize = float(group['weight_decay']), group['nesterov'], group['maximize']
        for p in group['params']:
            if p.grad is None:
                continue
            if momentum:
                state = self._state_of(p)
                state['momentum_buffer'] = _sgd_update(p._data, p.grad._data, state.get('momentum_buffer'), lr,
                                                       momentum, dampening, wd, nesterov, maximize)
            else:
                _sgd_update(p._data, p.grad._data, None, lr, 0.0, dampening, wd, nesterov, maximize)
            p._vc[0] += 1


def _sgd_update(data, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step in place on the raw parameter array ``data`` (NumPy or CuPy):
    ``g`` is its gradient (never written to), ``buf`` the momentum buffer (updated
    in place; None before the first step with momentum, which sets it to the
    gradient). Returns the momentum buffer (None without momentum). Replaced by
    the compiled kernel under the numba backend (``kernels.hook`` below)."""
    d = decayed_grad(data, g, weight_decay, maximize)
    owned = d is not g  # d is a temporary we may overwrite
    if momentum:
        if buf is None:
            buf = d if owned else d.copy()
            owned = False
        else:
            buf *= momentum
            if dampening:
                buf += (1.0 - dampening) * d
            else:
                buf += d
        if nesterov:
            if owned:
                d += momentum * buf
            else:
                d = d + momentum * buf
                owned = True
        else:
            d, owned = buf, False
    if owned:
        d *= lr
        data -= d
    else:
        data -= lr * d
    return buf if momentum else None


kernels.hook(globals(), '_sgd_update', 'optim.sgd_update')
