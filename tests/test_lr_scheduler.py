"""Learning-rate schedulers against torch.optim.lr_scheduler (lr sequences, momentum cycling, resume)."""
import math
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import optim
from tensorgrad.optim import lr_scheduler as sched

STEPS = 40
LRS = (0.1, 0.05)


def _pair(opt_name='SGD', **opt_kwargs):
    ours = [tg.Tensor(np.ones(2, np.float32), requires_grad=True) for _ in LRS]
    theirs = [torch.ones(2, requires_grad=True) for _ in LRS]
    opt = getattr(optim, opt_name)([{'params': [p], 'lr': lr} for p, lr in zip(ours, LRS)], **opt_kwargs)
    topt = getattr(torch.optim, opt_name)([{'params': [p], 'lr': lr} for p, lr in zip(theirs, LRS)],
                                          **opt_kwargs)
    return opt, topt


def _schedule(name, *args, **kwargs):
    return lambda o: getattr(sched, name)(o, *args, **kwargs), \
        lambda o: getattr(torch.optim.lr_scheduler, name)(o, *args, **kwargs)


def _seq(o, mod):
    return mod.SequentialLR(o, [mod.LinearLR(o, start_factor=0.1, total_iters=4),
                                mod.ExponentialLR(o, gamma=0.9),
                                mod.CosineAnnealingLR(o, T_max=8, eta_min=0.01)], milestones=[6, 15])


def _chain(o, mod):
    return mod.ChainedScheduler([mod.ConstantLR(o, factor=0.2, total_iters=6), mod.ExponentialLR(o, gamma=0.9)])


SCHEDULERS = {
    'StepLR': _schedule('StepLR', step_size=3, gamma=0.5),
    'MultiStepLR': _schedule('MultiStepLR', milestones=[2, 5, 5, 9], gamma=0.3),
    'ExponentialLR': _schedule('ExponentialLR', gamma=0.9),
    'CosineAnnealingLR': _schedule('CosineAnnealingLR', T_max=10, eta_min=0.001),
    'CosineAnnealingLR-zero-min': _schedule('CosineAnnealingLR', T_max=7),
    'LambdaLR': _schedule('LambdaLR', lambda e: 0.95 ** e),
    'LambdaLR-per-group': _schedule('LambdaLR', [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    'MultiplicativeLR': _schedule('MultiplicativeLR', lambda e: 0.93),
    'ConstantLR': _schedule('ConstantLR', factor=0.5, total_iters=4),
    'LinearLR': _schedule('LinearLR', start_factor=0.2, end_factor=0.9, total_iters=7),
    'LinearLR-decay': _schedule('LinearLR', start_factor=1.0, end_factor=0.1, total_iters=30),
    'PolynomialLR': _schedule('PolynomialLR', total_iters=10, power=2.0),
    'OneCycleLR-cos': _schedule('OneCycleLR', max_lr=[0.5, 0.2], total_steps=STEPS + 1),
    'OneCycleLR-linear': _schedule('OneCycleLR', max_lr=0.4, total_steps=STEPS + 1, anneal_strategy='linear',
                                   pct_start=0.25),
    'OneCycleLR-three-phase': _schedule('OneCycleLR', max_lr=0.4, epochs=4, steps_per_epoch=11,
                                        three_phase=True, div_factor=10.0, final_div_factor=100.0),
    'SequentialLR': (lambda o: _seq(o, sched), lambda o: _seq(o, torch.optim.lr_scheduler)),
    'CosineAnnealingWarmRestarts': _schedule('CosineAnnealingWarmRestarts', T_0=5, eta_min=0.002),
    'CosineAnnealingWarmRestarts-mult': _schedule('CosineAnnealingWarmRestarts', T_0=3, T_mult=2),
    'ChainedScheduler': (lambda o: _chain(o, sched), lambda o: _chain(o, torch.optim.lr_scheduler)),
}


def _run(make, opt, steps, optimizer_steps=True, stepper=None):
    s = make(opt)
    values = [[g['lr'] for g in opt.param_groups]]
    momenta = [[g.get('momentum', g.get('betas')) for g in opt.param_groups]]
    for _ in range(steps):
        if optimizer_steps:
            opt.step()
        (stepper or s.step)()
        values.append([g['lr'] for g in opt.param_groups])
        momenta.append([g.get('momentum', g.get('betas')) for g in opt.param_groups])
    return s, values, momenta


@pytest.mark.parametrize('name', list(SCHEDULERS))
def test_lr_sequence_matches_torch(name):
    ours_make, torch_make = SCHEDULERS[name]
    opt, topt = _pair(momentum=0.9)
    s, values, momenta = _run(ours_make, opt, STEPS)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ts, tvalues, tmomenta = _run(torch_make, topt, STEPS)
    np.testing.assert_allclose(values, tvalues, rtol=1e-12, atol=0)
    np.testing.assert_allclose(momenta, tmomenta, rtol=1e-12, atol=0)
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    assert getattr(s, 'last_epoch', None) == getattr(ts, 'last_epoch', None)


@pytest.mark.parametrize('three_phase', [False, True])
def test_one_cycle_cycles_adam_beta1(three_phase):
    opt, topt = _pair('Adam')
    make = (lambda o: sched.OneCycleLR(o, max_lr=0.3, total_steps=30, three_phase=three_phase),
            lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.3, total_steps=30, three_phase=three_phase))
    _, values, betas = _run(make[0], opt, 29)
    _, tvalues, tbetas = _run(make[1], topt, 29)
    np.testing.assert_allclose(values, tvalues, rtol=1e-12)
    np.testing.assert_allclose([[b[0] for b in row] for row in betas], [[b[0] for b in row] for row in tbetas],
                               rtol=1e-12)
    assert all(b[1] == 0.999 for row in betas for b in row)


def test_one_cycle_too_many_steps():
    opt, _ = _pair(momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match='total_steps'):
        s.step()


PLATEAU_CASES = [
    dict(),
    dict(mode='max', factor=0.5, patience=2, threshold=0.05, threshold_mode='abs', cooldown=2),
    dict(mode='min', factor=0.5, patience=1, threshold_mode='abs', cooldown=1, min_lr=[0.01, 0.02]),
    dict(mode='max', factor=0.3, patience=0, threshold=0.1, min_lr=0.004, eps=1e-3),
]


@pytest.mark.parametrize('kwargs', PLATEAU_CASES)
def test_reduce_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.02 * rng.standard_normal(30),
                              np.linspace(0.5, 2.0, 8)]).tolist()
    opt, topt = _pair(momentum=0.9)
    s = sched.ReduceLROnPlateau(opt, **kwargs)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for m in metrics:
        s.step(m)
        ts.step(m)
        assert [g['lr'] for g in opt.param_groups] == pytest.approx([g['lr'] for g in topt.param_groups],
                                                                     rel=1e-12)
        assert s.num_bad_epochs == ts.num_bad_epochs and s.cooldown_counter == ts.cooldown_counter
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr())


def _cosine_warmup_formula(step, lr0, warmup, decay_iters, min_lr):
    if step < warmup:
        return lr0 * (step + 1) / (warmup + 1)
    if step > decay_iters:
        return min_lr
    ratio = (step - warmup) / (decay_iters - warmup) if decay_iters > warmup else 1.0  # no decay phase
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr0 - min_lr)


@pytest.mark.parametrize('warmup,decay,min_lr', [(5, 25, 1e-3), (0, 10, 0.0), (10, 10, 1e-4)])
def test_cosine_warmup_against_formula(warmup, decay, min_lr):
    opt, _ = _pair()
    s = sched.CosineWarmupLR(opt, warmup_steps=warmup, lr_decay_iters=decay, min_lr=min_lr)
    for step in range(STEPS):
        expected = [_cosine_warmup_formula(step, lr0, warmup, decay, min_lr) for lr0 in LRS]
        assert [g['lr'] for g in opt.param_groups] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert s.get_last_lr() == pytest.approx(expected, rel=1e-12, abs=1e-15)
        opt.step()
        s.step()


def test_cosine_scheduler_reference_callable():
    s = sched.CosineScheduler(warmup_steps=100, lr_decay_iters=200, min_lr=1e-4)
    assert optim.CosineScheduler is optim.CosineWarmupLR is sched.CosineWarmupLR
    for step in (0, 50, 99, 100, 150, 200, 201, 1000):
        assert s(step, 0.01, 0.5) == pytest.approx(_cosine_warmup_formula(step, 0.01, 100, 200, 1e-4))


@pytest.mark.parametrize('name', ['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR', 'LinearLR',
                                  'ConstantLR', 'PolynomialLR', 'CosineAnnealingWarmRestarts-mult'])
def test_step_with_epoch_uses_closed_form(name):
    opt, topt = _pair()
    s, ts = SCHEDULERS[name][0](opt), SCHEDULERS[name][1](topt)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for epoch in (3, 7, 2, 12):
            s.step(epoch)
            ts.step(epoch)
            assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize('name', ['StepLR', 'MultiStepLR', 'CosineAnnealingLR', 'LambdaLR', 'LinearLR',
                                  'OneCycleLR-cos', 'SequentialLR', 'ChainedScheduler',
                                  'CosineAnnealingWarmRestarts-mult', 'plateau', 'cosine-warmup'])
def test_state_dict_resume(name, tmp_path):
    make = {'plateau': lambda o: sched.ReduceLROnPlateau(o, patience=1, factor=0.5),
            'cosine-warmup': lambda o: sched.CosineWarmupLR(o, warmup_steps=5, lr_decay_iters=20, min_lr=1e-3)
            }.get(name) or SCHEDULERS[name][0]
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.85, 0.9, 0.9, 0.9, 0.8] * 4

    def advance(s, opt, i):
        opt.step()
        s.step(metrics[i]) if name == 'plateau' else s.step()

    opt, _ = _pair(momentum=0.9)
    full = make(opt)
    for i in range(30):
        advance(full, opt, i)
    expected = [g['lr'] for g in opt.param_groups]

    opt_a, _ = _pair(momentum=0.9)
    a = make(opt_a)
    for i in range(12):
        advance(a, opt_a, i)
    tg.save({'opt': opt_a.state_dict(), 'sched': a.state_dict()}, tmp_path / 'ckpt')
    ckpt = tg.load(tmp_path / 'ckpt')

    opt_b, _ = _pair(momentum=0.9)
    b = make(opt_b)
    opt_b.load_state_dict(ckpt['opt'])
    b.load_state_dict(ckpt['sched'])
    for i in range(12, 30):
        advance(b, opt_b, i)
    assert [g['lr'] for g in opt_b.param_groups] == expected
    assert b.get_last_lr() == full.get_last_lr()


def test_resume_with_last_epoch_requires_initial_lr():
    opt, _ = _pair()
    with pytest.raises(KeyError, match='initial_lr'):
        sched.StepLR(opt, step_size=2, last_epoch=4)


def test_bad_arguments():
    opt, _ = _pair()
    with pytest.raises(TypeError, match='not an Optimizer'):
        sched.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match='lr_lambdas'):
        sched.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match='total_steps'):
        sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match='mode'):
        sched.ReduceLROnPlateau(opt, mode='up')
    with pytest.raises(ValueError, match='milestones'):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(opt, 3)], milestones=[])
    opt_adagrad = optim.Adagrad([tg.Tensor(np.ones(1, np.float32), requires_grad=True)])
    with pytest.raises(ValueError, match='momentum'):
        sched.OneCycleLR(opt_adagrad, max_lr=0.1, total_steps=10)
