"""Stochastic gradient descent with momentum (PyTorch's ``torch.optim.SGD``)."""
from ._checks import check_impl_flags, check_lr, check_nonneg
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
            g = self._grad(p, wd, maximize)
            owned = g is not p.grad._data  # g is a temporary we may overwrite
            if momentum:
                state = self._state_of(p)
                buf = state.get('momentum_buffer')
                if buf is None:
                    buf = g if owned else g.copy()
                    state['momentum_buffer'] = buf
                    owned = False
                else:
                    buf *= momentum
                    if dampening:
                        buf += (1.0 - dampening) * g
                    else:
                        buf += g
                if nesterov:
                    if owned:
                        g += momentum * buf
                    else:
                        g = g + momentum * buf
                        owned = True
                else:
                    g, owned = buf, False
            if owned:
                g *= lr
                p._data -= g
            else:
                p._data -= lr * g
            p._vc[0] += 1
