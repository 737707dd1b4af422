"""Learning-rate schedulers with PyTorch's semantics (``torch.optim.lr_scheduler``).

A scheduler sets ``group['lr']`` of its optimiser's parameter groups each
time ``step()`` is called (once per epoch or per batch, after
``optimizer.step()``). Construction performs the first step (epoch 0).
Chainable schedulers use PyTorch's recursive formulas, so their values match
``torch.optim.lr_scheduler`` exactly.
"""
import math
import types
from bisect import bisect_right
from collections import Counter

from .optimizer import Optimizer

__all__ = ['LRScheduler', 'LambdaLR', 'MultiplicativeLR', 'StepLR', 'MultiStepLR', 'ConstantLR', 'LinearLR',
           'ExponentialLR', 'PolynomialLR', 'CosineAnnealingLR', 'CosineAnnealingWarmRestarts', 'SequentialLR',
           'ChainedScheduler', 'OneCycleLR',
           'ReduceLROnPlateau', 'CosineWarmupLR', 'CosineScheduler']


def _lrs(optimizer):
    return [group['lr'] for group in optimizer.param_groups]


def _scaled(optimizer, factor):
    """The current lrs times ``factor``."""
    return [group['lr'] * factor for group in optimizer.param_groups]


class LRScheduler:
    """Base class of the schedulers: ``LRScheduler(optimizer, last_epoch=-1)``.

    Subclasses implement ``get_lr()`` (the new lrs for ``self.last_epoch``).
    ``last_epoch >= 0`` resumes a schedule; the groups must then hold ``'initial_lr'``.
    """
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault('initial_lr', group['lr'])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if 'initial_lr' not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in "
                                   f"param_groups[{i}] when resuming with last_epoch={last_epoch}")
        self.base_lrs = [group['initial_lr'] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for the current ``last_epoch`` (one per group)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates set by the most recent ``step`` (one per group)."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance the schedule by one epoch (or jump to ``epoch``, deprecated in
        PyTorch, using the closed form when the scheduler has one)."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, '_get_closed_form_lr', None)
            values = closed() if closed is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values):
        for group, lr in zip(self.optimizer.param_groups, values):
            group['lr'] = lr
        self._last_lr = _lrs(self.optimizer)

    def state_dict(self):
        """Every attribute except the optimiser."""
        return {k: v for k, v in self.__dict__.items() if k != 'optimizer'}

    def load_state_dict(self, state_dict):
        """Restore attributes saved by ``state_dict``."""
        self.__dict__.update(state_dict)


class _LambdaBase(LRScheduler):
    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"{type(self).__name__}: expected {len(optimizer.param_groups)} lr_lambdas, "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{type(self).__name__}: lr_lambda should be a function, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """Attributes except the optimiser; lambdas are saved only when they are
        callable objects (their ``__dict__``), plain functions as ``None``."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ('optimizer', 'lr_lambdas')}
        sd['lr_lambdas'] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                            for fn in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict):
        """Restore attributes; callable-object lambdas get their saved ``__dict__``."""
        sd = dict(state_dict)
        lambdas = sd.pop('lr_lambdas', [])
        self.__dict__.update(sd)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaBase):
    """``lr = initial_lr * lr_lambda(epoch)``: ``LambdaLR(optimizer, lr_lambda, last_epoch=-1)``
    (one function, or one per group)."""

    def get_lr(self):
        """Base lrs times the lambdas at ``last_epoch``."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaBase):
    """``lr *= lr_lambda(epoch)`` each step: ``MultiplicativeLR(optimizer, lr_lambda, last_epoch=-1)``."""

    def get_lr(self):
        """Current lrs times the lambdas at ``last_epoch`` (unchanged at construction)."""
        if self._is_initial:
            return _lrs(self.optimizer)
        return [g['lr'] * fn(self.last_epoch) for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs:
    ``StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)``."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Decay at multiples of ``step_size``."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _lrs(self.optimizer)
        return _scaled(self.optimizer, self.gamma)

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each milestone epoch:
    ``MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)``."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Decay at the milestones (repeated milestones decay repeatedly)."""
        if self.last_epoch not in self.milestones:
            return _lrs(self.optimizer)
        return _scaled(self.optimizer, self.gamma ** self.milestones[self.last_epoch])

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]

    def load_state_dict(self, state_dict):
        """Restore attributes (milestones back into a Counter)."""
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ConstantLR(LRScheduler):
    """Scale the lr by ``factor`` until epoch ``total_iters``:
    ``ConstantLR(optimizer, factor=1/3, total_iters=5, last_epoch=-1)``."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """``factor`` at epoch 0, undone at ``total_iters``."""
        if self.last_epoch == 0:
            return _scaled(self.optimizer, self.factor)
        if self.last_epoch != self.total_iters:
            return _lrs(self.optimizer)
        return _scaled(self.optimizer, 1.0 / self.factor)

    def _get_closed_form_lr(self):
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs: ``LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1)``."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """PyTorch's recursive linear ramp."""
        if self.last_epoch == 0:
            return _scaled(self.optimizer, self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        d = self.end_factor - self.start_factor
        ratio = 1.0 + d / (self.total_iters * self.start_factor + (self.last_epoch - 1) * d)
        return _scaled(self.optimizer, ratio)

    def _get_closed_form_lr(self):
        return [base * (self.start_factor + (self.end_factor - self.start_factor)
                        * min(self.total_iters, self.last_epoch) / self.total_iters) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``ExponentialLR(optimizer, gamma, last_epoch=-1)``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Current lrs times ``gamma`` (unchanged at construction)."""
        if self._is_initial:
            return _lrs(self.optimizer)
        return _scaled(self.optimizer, self.gamma)

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Polynomial decay to 0 over ``total_iters``: ``PolynomialLR(optimizer, total_iters=5, power=1.0)``."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """PyTorch's recursive polynomial decay."""
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return _scaled(self.optimizer, factor)

    def _get_closed_form_lr(self):
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial lr to ``eta_min`` over ``T_max`` epochs (then back up, as
    PyTorch's recursive formula): ``CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)``."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """PyTorch's recursive cosine formula."""
        if self._is_initial:
            return _lrs(self.optimizer)
        groups, eta_min, t_max, ep = self.optimizer.param_groups, self.eta_min, self.T_max, self.last_epoch
        if self._step_count == 1 and ep > 0:
            return [eta_min + (base - eta_min) * (1 + math.cos(ep * math.pi / t_max)) / 2
                    for base in self.base_lrs]
        if (ep - 1 - t_max) % (2 * t_max) == 0:
            return [g['lr'] + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * ep / t_max)) / (1 + math.cos(math.pi * (ep - 1) / t_max))
                * (g['lr'] - eta_min) + eta_min for g in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR): the cosine restarts every ``T_i``
    epochs, ``T_i`` growing by ``T_mult`` after each restart.
    ``CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1)``."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got {T_mult}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Cosine of the position ``T_cur`` within the current period ``T_i``."""
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to a (possibly fractional) ``epoch``."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult ** n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())


class CosineWarmupLR(LRScheduler):
    """Linear warmup then cosine decay to ``min_lr`` (the autograd reference's
    ``CosineScheduler``; nanoGPT's schedule). At step ``t`` with base lr ``lr0``:
    ``lr0 * (t + 1) / (warmup_steps + 1)`` for ``t < warmup_steps``; ``min_lr`` for
    ``t > lr_decay_iters``; otherwise ``min_lr + (lr0 - min_lr) * (1 + cos(pi * r)) / 2``
    with ``r = (t - warmup_steps) / (lr_decay_iters - warmup_steps)``.

    ``CosineWarmupLR(optimizer, warmup_steps=100, lr_decay_iters=200, min_lr=1e-4, last_epoch=-1)``.
    Without an optimiser it is the reference's callable: ``sched(step, initial_lr, current_lr=None)``.
    """

    def __init__(self, optimizer=None, warmup_steps=100, lr_decay_iters=200, min_lr=1e-4, last_epoch=-1):
        if warmup_steps < 0 or lr_decay_iters < warmup_steps:
            raise ValueError(f"CosineWarmupLR: need 0 <= warmup_steps <= lr_decay_iters, got "
                             f"warmup_steps={warmup_steps}, lr_decay_iters={lr_decay_iters}")
        self.warmup_steps = warmup_steps
        self.lr_decay_iters = lr_decay_iters
        self.min_lr = min_lr
        if optimizer is not None:
            super().__init__(optimizer, last_epoch)

    def lr_at(self, step, initial_lr):
        """The learning rate at ``step`` for base learning rate ``initial_lr``."""
        if step < self.warmup_steps:
            return initial_lr * (step + 1) / (self.warmup_steps + 1)
        if step > self.lr_decay_iters:
            return self.min_lr
        span = self.lr_decay_iters - self.warmup_steps
        ratio = (step - self.warmup_steps) / span if span else 1.0
        return self.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (initial_lr - self.min_lr)

    def __call__(self, step, initial_lr, current_lr=None):
        """The reference's interface: the lr at ``step`` for base lr ``initial_lr``."""
        return self.lr_at(step, initial_lr)

    def get_lr(self):
        """Closed form at ``last_epoch``."""
        return [self.lr_at(self.last_epoch, base) for base in self.base_lrs]

    _get_closed_form_lr = get_lr


CosineScheduler = CosineWarmupLR


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at ``milestones``:
    ``SequentialLR(optimizer, schedulers, milestones, last_epoch=-1)``."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR: expects at least one scheduler")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR: does not support ReduceLROnPlateau (index {i})")
            if getattr(s, 'optimizer', None) is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {type(s).__name__} at index {i} belongs to "
                                 f"another optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expects {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group['lr'] = group['initial_lr']
        _undo_initial_steps(self._schedulers)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def step(self):
        """Step the scheduler active at the new epoch (restarting it at its milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()

    def state_dict(self):
        """Own attributes plus each wrapped scheduler's state."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ('optimizer', '_schedulers')}
        sd['_schedulers'] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict):
        """Restore own attributes and the wrapped schedulers."""
        sd = dict(state_dict)
        scheds = sd.pop('_schedulers')
        self.__dict__.update(sd)
        for s, saved in zip(self._schedulers, scheds):
            s.load_state_dict(saved)


class ChainedScheduler(LRScheduler):
    """Step several schedulers of one optimiser together (their effects multiply):
    ``ChainedScheduler(schedulers, optimizer=None)``."""

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler: expects at least one scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"ChainedScheduler: does not support ReduceLROnPlateau (index {i})")
            if getattr(s, 'optimizer', None) is not optimizer:
                raise ValueError(f"ChainedScheduler: scheduler {type(s).__name__} at index {i} belongs to "
                                 f"another optimizer")
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = _lrs(optimizer)

    def step(self):
        """Step every chained scheduler."""
        for s in self._schedulers:
            s.step()
        self._last_lr = _lrs(self.optimizer)

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict


def _undo_initial_steps(schedulers):
    # the wrapped schedulers already stepped once at construction; rewind them
    for s in schedulers:
        if hasattr(s, '_schedulers'):
            _undo_initial_steps(s._schedulers)
        elif hasattr(s, 'last_epoch'):
            s.last_epoch -= 1


def _per_group(name, optimizer, value):
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"OneCycleLR: expected {len(optimizer.param_groups)} values for {name}, "
                             f"got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (per batch): warm up from ``max_lr / div_factor`` to ``max_lr``
    then anneal to ``initial_lr / final_div_factor``, cycling momentum (SGD's
    ``momentum`` or Adam's ``beta1``) inversely.

    ``OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
    pct_start=0.3, anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85,
    max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1)``.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer epochs, got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer steps_per_epoch, got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: define either total_steps or (epochs and steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected a float pct_start in [0, 1], got {pct_start}")
        if anneal_strategy not in ('cos', 'linear'):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        n = self.total_steps
        if three_phase:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr='initial_lr', end_lr='max_lr',
                     start_momentum='max_momentum', end_momentum='base_momentum'),
                dict(end_step=float(2 * pct_start * n) - 2, start_lr='max_lr', end_lr='initial_lr',
                     start_momentum='base_momentum', end_momentum='max_momentum'),
                dict(end_step=n - 1, start_lr='initial_lr', end_lr='min_lr',
                     start_momentum='max_momentum', end_momentum='max_momentum')]
        else:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr='initial_lr', end_lr='max_lr',
                     start_momentum='max_momentum', end_momentum='base_momentum'),
                dict(end_step=n - 1, start_lr='max_lr', end_lr='min_lr',
                     start_momentum='base_momentum', end_momentum='max_momentum')]
        max_lrs = _per_group('max_lr', optimizer, max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group['initial_lr'] = lr / div_factor
                group['max_lr'] = lr
                group['min_lr'] = group['initial_lr'] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if 'momentum' not in optimizer.defaults and 'betas' not in optimizer.defaults:
                raise ValueError("OneCycleLR: optimizer must support momentum or beta1 with cycle_momentum=True")
            self.use_beta1 = 'betas' in optimizer.defaults
            maxs = _per_group('max_momentum', optimizer, max_momentum)
            bases = _per_group('base_momentum', optimizer, base_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(maxs, bases, optimizer.param_groups):
                    if self.use_beta1:
                        group['betas'] = (m_max, *group['betas'][1:])
                    else:
                        group['momentum'] = m_max
                    group['max_momentum'] = m_max
                    group['base_momentum'] = m_base
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == 'cos':
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        """Interpolate within the current phase; also sets the cycled momentum."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; total_steps is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase['end_step']
                if step <= end or i == last:
                    pct = (step - start) / (end - start)
                    lr = self._anneal(group[phase['start_lr']], group[phase['end_lr']], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(group[phase['start_momentum']], group[phase['end_momentum']], pct)
                    break
                start = phase['end_step']
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group['betas'] = (mom, *group['betas'][1:])
                else:
                    group['momentum'] = mom
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Reduce the lr by ``factor`` when a metric stopped improving for ``patience`` epochs.

    ``ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4,
    threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8)``; call ``step(metric)``.
    """

    def __init__(self, optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4, threshold_mode='rel',
                 cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau: expected {len(optimizer.param_groups)} min_lrs, "
                                 f"got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _lrs(optimizer)
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record ``metrics`` for one epoch and reduce the lr if it plateaued."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lrs(self.optimizer)

    def _reduce_lr(self):
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(self.optimizer.param_groups)} "
                                   f"param groups, min_lrs has {len(self.min_lrs)}")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for i, group in enumerate(self.optimizer.param_groups):
            old = float(group['lr'])
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                group['lr'] = new

    @property
    def in_cooldown(self):
        """True while in the cooldown period after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == 'min' and self.threshold_mode == 'rel':
            return a < best * (1.0 - self.threshold)
        if self.mode == 'min':
            return a < best - self.threshold
        if self.threshold_mode == 'rel':
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ('min', 'max'):
            raise ValueError(f"ReduceLROnPlateau: mode {mode!r} is unknown (expected 'min' or 'max')")
        if threshold_mode not in ('rel', 'abs'):
            raise ValueError(f"ReduceLROnPlateau: threshold mode {threshold_mode!r} is unknown "
                             f"(expected 'rel' or 'abs')")
        self.mode_worse = math.inf if mode == 'min' else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def get_lr(self):
        """The current lrs (this scheduler changes them only in ``step(metrics)``)."""
        return _lrs(self.optimizer)

    def load_state_dict(self, state_dict):
        """Restore attributes."""
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)

