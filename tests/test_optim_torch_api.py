"""The optimisers' PyTorch surface against torch.optim 2.13: the newer algorithms
(Adadelta, Adamax, NAdam, RAdam, LBFGS) step by step, PyTorch's keyword arguments,
parameter groups, state_dict layout, error messages, schedulers over several groups."""
import inspect
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import optim
from tensorgrad.optim import lr_scheduler as sched

STEPS = 10
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def _arrays(dtype, seed=0):
    """Parameter arrays: a matrix, a transposed (non-contiguous) one, a 0-d, a size-0 one."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype).T,
            np.asarray(rng.standard_normal(), dtype), np.zeros((0, 3), dtype)]


def _pair(dtype, seed=0):
    arrays = _arrays(dtype, seed)
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]  # the transposed one stays a strided view
    assert not ours[1]._data.flags.c_contiguous
    theirs = [torch.tensor(np.array(a), requires_grad=True) for a in arrays]
    return ours, theirs


def _set_grads(ours, theirs, rng):
    for p, tp in zip(ours, theirs):
        g = rng.standard_normal(p.shape).astype(p._data.dtype)
        p.grad = tg.Tensor._wrap(g.copy())
        tp.grad = torch.tensor(g)


def _close(ours, theirs, dtype):
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p._data, tp.detach().numpy(), **TOL[dtype])


def _ids(case):
    return case[0] + '-' + ','.join(f'{k}={v}' for k, v in case[1].items())


NEW_CASES = [
    ('Adadelta', dict()),
    ('Adadelta', dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ('Adadelta', dict(weight_decay=0.05, maximize=True, foreach=False, capturable=False)),
    ('Adamax', dict()),
    ('Adamax', dict(lr=0.01, betas=(0.3, 0.9), eps=1e-6)),  # beta1 < 0.5: the other lerp form
    ('Adamax', dict(lr=0.01, weight_decay=0.1, maximize=True, foreach=True)),
    ('NAdam', dict()),
    ('NAdam', dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01, weight_decay=0.1)),
    ('NAdam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('RAdam', dict()),  # rho_t crosses 5 around step 6: both branches run
    ('RAdam', dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1)),
    ('RAdam', dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True, maximize=True, capturable=False)),
]

# PyTorch's extra keyword arguments on the older optimisers
KWARG_CASES = [
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, foreach=False, fused=None, maximize=True)),
    ('SGD', dict(lr=0.05, momentum=0.5, dampening=0.2, weight_decay=0.1, foreach=True)),
    ('Adam', dict(lr=0.01, amsgrad=True, foreach=False, capturable=False, fused=None, maximize=True)),
    ('Adam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, foreach=True)),
    ('AdamW', dict(lr=0.01, amsgrad=True, foreach=False, capturable=False)),
    ('RMSprop', dict(lr=0.01, momentum=0.5, centered=True, capturable=False, foreach=False, maximize=True)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01, foreach=False, fused=None, maximize=True)),
]


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize('case', NEW_CASES + KWARG_CASES, ids=_ids)
def test_steps_match_torch(case, dtype):
    name, kwargs = case
    ours, theirs = _pair(dtype)
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    rng = np.random.default_rng(1)
    for _ in range(STEPS):
        _set_grads(ours, theirs, rng)
        opt.step()
        topt.step()
        _close(ours, theirs, dtype)
    for p, tp in zip(ours, theirs):
        assert p._data.dtype == dtype and p.grad_fn is None and p.shape == tuple(tp.shape)
        assert set(opt.state[p]) == set(topt.state[tp])
        for key, value in opt.state[p].items():
            if key == 'mu_product':  # float32 whatever the parameters' dtype, as torch keeps it
                assert value.dtype == np.float32 and float(value) == float(topt.state[tp][key])
            elif isinstance(value, np.ndarray) and value.shape == p.shape:
                assert value.dtype == dtype
                np.testing.assert_allclose(value, topt.state[tp][key].numpy(), rtol=1e-4, atol=1e-6)
    assert opt.param_groups[0].keys() == topt.param_groups[0].keys()
    assert {k: v for k, v in opt.defaults.items()} == topt.defaults


@pytest.mark.parametrize('name', ['Adadelta', 'Adamax', 'NAdam', 'RAdam', 'SGD', 'Adam', 'AdamW', 'RMSprop',
                                  'Adagrad'])
def test_per_group_options_and_lr_changes(name):
    ours, theirs = _pair(np.float64, 3)
    extra = {'Adadelta': dict(rho=0.7), 'Adamax': dict(betas=(0.5, 0.99)), 'NAdam': dict(momentum_decay=0.02),
             'RAdam': dict(betas=(0.8, 0.95)), 'SGD': dict(momentum=0.9, nesterov=True),
             'Adam': dict(amsgrad=True), 'AdamW': dict(betas=(0.7, 0.9)), 'RMSprop': dict(centered=True),
             'Adagrad': dict(lr_decay=0.1)}[name]

    def groups(ps):
        return [{'params': ps[:1], 'lr': 0.03, **extra}, {'params': ps[1:2]},
                {'params': ps[2:], 'weight_decay': 0.1, 'maximize': True}]
    opt, topt = getattr(optim, name)(groups(ours), lr=0.01), getattr(torch.optim, name)(groups(theirs), lr=0.01)
    rng = np.random.default_rng(4)
    for i in range(STEPS):
        if i == 5:  # lr changes take effect at the next step
            opt.param_groups[1]['lr'] = topt.param_groups[1]['lr'] = 0.2
        _set_grads(ours, theirs, rng)
        opt.step()
        topt.step()
    _close(ours, theirs, np.float64)
    assert [g['lr'] for g in opt.param_groups] == [g['lr'] for g in topt.param_groups]


@pytest.mark.parametrize('name', ['Adadelta', 'Adamax', 'NAdam', 'RAdam', 'Adagrad', 'SGD'])
def test_add_param_group_later(name):
    ours, theirs = _pair(np.float32, 5)
    kw = dict(lr=0.05, momentum=0.9) if name == 'SGD' else {}
    opt, topt = getattr(optim, name)(ours[:2], **kw), getattr(torch.optim, name)(theirs[:2], **kw)
    opt.add_param_group({'params': ours[2:], 'lr': 0.02})
    topt.add_param_group({'params': theirs[2:], 'lr': 0.02})
    rng = np.random.default_rng(6)
    for i in range(6):
        _set_grads(ours, theirs, rng)
        if i % 2:  # a parameter without a gradient is skipped
            ours[0].grad = theirs[0].grad = None
        opt.step()
        topt.step()
    _close(ours, theirs, np.float32)
    assert opt.param_groups[1]['lr'] == 0.02 and opt.param_groups[1].keys() == topt.param_groups[1].keys()


@pytest.mark.parametrize('name', ['Adadelta', 'Adamax', 'NAdam', 'RAdam', 'Adagrad', 'SGD', 'Adam', 'RMSprop'])
def test_state_dict_layout_and_torch_state_loads(name):
    kw = dict(lr=0.05, momentum=0.9) if name in ('SGD', 'RMSprop') else {}
    ours, theirs = _pair(np.float32, 7)
    opt = getattr(optim, name)([{'params': ours[:1]}, {'params': ours[1:], 'lr': 0.02}], **kw)
    topt = getattr(torch.optim, name)([{'params': theirs[:1]}, {'params': theirs[1:], 'lr': 0.02}], **kw)
    rng = np.random.default_rng(8)
    for _ in range(3):
        _set_grads(ours, theirs, rng)
        opt.step()
        topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd['param_groups'] == tsd['param_groups']
    assert sd['state'].keys() == tsd['state'].keys()
    for k, st in sd['state'].items():
        assert st.keys() == tsd['state'][k].keys()
        if 'step' in st:
            assert isinstance(st['step'], tg.Tensor) and st['step'].dtype == tg.float32
            assert float(st['step']) == float(tsd['state'][k]['step'])
    # a torch state dict loaded into fresh tensorgrad parameters continues as torch does
    fresh = [tg.Tensor(tp.detach().numpy().copy(), requires_grad=True) for tp in theirs]
    opt2 = getattr(optim, name)([{'params': fresh[:1]}, {'params': fresh[1:]}], **kw)
    opt2.load_state_dict(tsd)
    assert opt2.param_groups[1]['lr'] == 0.02
    for _ in range(3):
        _set_grads(fresh, theirs, rng)
        opt2.step()
        topt.step()
    _close(fresh, theirs, np.float32)


def test_named_parameters_and_param_names():
    ours, theirs = _pair(np.float32)
    opt = optim.Adam([('w', ours[0]), ('v', ours[1])])
    topt = torch.optim.Adam([('w', theirs[0]), ('v', theirs[1])])
    assert opt.param_groups[0]['param_names'] == ['w', 'v'] and opt.param_groups[0]['params'][0] is ours[0]
    assert opt.state_dict()['param_groups'] == topt.state_dict()['param_groups']
    with pytest.raises(ValueError, match='with/without names'):
        optim.Adam([('w', ours[0]), ours[1]])
    with pytest.raises(ValueError, match='with/without names'):
        opt.add_param_group({'params': ours[2:]})
    assert len(opt.param_groups) == 1


def test_group_dict_is_kept_and_tensor_params_accepted():
    ours, _ = _pair(np.float32)
    group = {'params': ours[0], 'lr': 0.5}
    opt = optim.RAdam([group])
    assert opt.param_groups[0] is group and group['params'] == [ours[0]] and group['eps'] == 1e-8
    opt = optim.SGD(params=ours, lr=0.1)  # PyTorch's keyword name
    assert opt.param_groups[0]['params'] == ours
    assert optim.SGD(ours).defaults['lr'] == 1e-3 == torch.optim.SGD([torch.zeros(1)]).defaults['lr']
    # tensors that do not require grad are accepted, as in torch
    optim.Adam([tg.Tensor(np.ones(2, np.float32), requires_grad=False)])


def test_zero_grad_defaults_to_none():
    assert inspect.signature(optim.Optimizer.zero_grad).parameters['set_to_none'].default is True
    ours, theirs = _pair(np.float32)
    opt = optim.NAdam(ours)
    _set_grads(ours, theirs, np.random.default_rng(0))
    opt.zero_grad()
    assert all(p.grad is None for p in ours)


def test_state_is_keyed_by_parameter():
    ours, theirs = _pair(np.float32)
    opt = optim.Adamax(ours)
    _set_grads(ours, theirs, np.random.default_rng(0))
    opt.step()
    assert set(map(id, opt.state)) == set(map(id, ours))
    assert opt.state[ours[0]]['exp_inf'].shape == (3, 4)


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'Adadelta', 'Adamax', 'NAdam', 'RAdam', 'RMSprop', 'Adagrad'])
def test_bad_gradient_raises_before_any_update(name):
    ours, theirs = _pair(np.float32)
    opt = getattr(optim, name)([{'params': ours[:2]}, {'params': ours[2:]}], lr=0.1)
    _set_grads(ours, theirs, np.random.default_rng(0))
    before = [p._data.copy() for p in ours]
    state_before = {id(k): dict(v) for k, v in opt.state.items()}
    versions = [p._version for p in ours]
    # assigning a wrong gradient is refused at once (issue 11 item 15) ...
    with pytest.raises(RuntimeError, match='assigned grad has shape'):
        ours[2].grad = tg.Tensor._wrap(np.ones(3, np.float32))
    with pytest.raises(TypeError, match='assigned grad has dtype'):
        ours[2].grad = tg.Tensor._wrap(np.ones((), np.float64))
    # ... and one that got past the setter (the internal slot) is caught by step() before any update
    ours[2]._grad = tg.Tensor._wrap(np.ones(3, np.float32))  # a 0-d parameter with a (3,) gradient
    with pytest.raises(RuntimeError, match=r'shape \(3,\).*does not match.*shape \(\)'):
        opt.step()
    ours[2]._grad = tg.Tensor._wrap(np.ones((), np.float64))
    with pytest.raises(RuntimeError, match='dtype float64'):
        opt.step()
    for p, b, v in zip(ours, before, versions):
        np.testing.assert_array_equal(p._data, b)
        assert p._version == v
    assert {id(k): dict(v) for k, v in opt.state.items()}.keys() == state_before.keys()
    assert all(not st or st.get('step', 0) == 0 for st in opt.state.values())


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'NAdam',
                                  'RAdam', 'LBFGS'])
def test_errors_as_torch(name):
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    tp = torch.ones(3, requires_grad=True)
    cls, tcls = getattr(optim, name), getattr(torch.optim, name)
    with pytest.raises(ValueError, match='optimizer got an empty parameter list'):
        cls([])
    with pytest.raises(ValueError, match='some parameters appear in more than one parameter group'):
        cls([{'params': [p]}, {'params': [p]}])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        cls([p * 2])
    with pytest.raises(ValueError, match=r'Invalid learning rate: -1'):
        cls([p], lr=-1)
    with pytest.raises(TypeError, match='single Tensor'):
        cls(p)
    with pytest.raises(TypeError, match='ordered collections'):
        cls([{'params': {p}}])
    with pytest.raises(TypeError, match='can only optimize Tensors'):
        cls([np.ones(3)])
    for bad in ([], [{'params': [tp]}, {'params': [tp]}], [tp * 2]):  # torch raises ValueError too
        with pytest.raises(ValueError):
            tcls(bad)
    if 'betas' in inspect.signature(cls).parameters:
        with pytest.raises(ValueError, match='Invalid beta parameter at index 0: 1.0'):
            cls([p], betas=(1.0, 0.9))
        with pytest.raises(ValueError, match='Invalid beta parameter at index 1: -0.1'):
            cls([p], betas=(0.9, -0.1))
    if 'eps' in inspect.signature(cls).parameters:
        with pytest.raises(ValueError, match='Invalid epsilon value: -1'):
            cls([p], eps=-1)
    sig = inspect.signature(cls).parameters
    if 'differentiable' in sig:
        with pytest.raises(NotImplementedError, match='differentiable=True'):
            cls([p], differentiable=True)
        with pytest.raises(NotImplementedError, match='differentiable=True'):
            cls([{'params': [p], 'differentiable': True}])
    if 'fused' in sig:
        with pytest.raises(RuntimeError, match='`fused` and `foreach` cannot be `True` together'):
            cls([p], fused=True, foreach=True)
        cls([p], fused=True)  # picks a kernel only: accepted


def test_duplicate_parameter_warns_as_torch():
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match='duplicate parameters'):
        opt = optim.SGD([p, p], lr=0.1)
    assert len(opt.param_groups[0]['params']) == 2


def test_specific_value_errors():
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match='Invalid rho value: 1.5'):
        optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match='Invalid momentum_decay value: -1'):
        optim.NAdam([p], momentum_decay=-1)
    with pytest.raises(ValueError, match='Invalid weight_decay value: -1'):
        optim.RAdam([p], weight_decay=-1)
    with pytest.raises(ValueError, match='Invalid momentum value: -1'):
        optim.SGD([p], momentum=-1)
    with pytest.raises(ValueError, match='Nesterov momentum requires a momentum and zero dampening'):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


# ---------------------------------------------------------------------------------------------- LBFGS
def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _run_lbfgs(make_params, loss_fn, steps, **kwargs):
    """Trajectories (after every step) of ours and torch's LBFGS, plus both optimisers."""
    ours, theirs = make_params()
    opt, topt = optim.LBFGS(ours, **kwargs), torch.optim.LBFGS(theirs, **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn(ours)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = loss_fn(theirs)
        loss.backward()
        return loss
    traj, ttraj, losses, tlosses = [], [], [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        tlosses.append(float(topt.step(tclosure).detach()))
        traj.append([p._data.copy() for p in ours])
        ttraj.append([tp.detach().numpy().copy() for tp in theirs])
    return opt, topt, traj, ttraj, losses, tlosses


@pytest.mark.parametrize('line_search_fn', [None, 'strong_wolfe'])
def test_lbfgs_rosenbrock_float64_matches_torch(line_search_fn):
    x0 = np.array([-1.5, 2.0, 0.5, -0.7])

    def make():
        return [tg.Tensor(x0.copy(), requires_grad=True)], [torch.tensor(x0.copy(), requires_grad=True)]
    opt, topt, traj, ttraj, losses, tlosses = _run_lbfgs(make, lambda ps: _rosenbrock(ps[0]), 5, max_iter=10,
                                                         history_size=5, line_search_fn=line_search_fn)
    for step, (a, b) in enumerate(zip(traj, ttraj)):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-9, atol=1e-10, err_msg=f'step {step}')
    np.testing.assert_allclose(losses, tlosses, rtol=1e-9)
    p, tp = opt.param_groups[0]['params'][0], topt.param_groups[0]['params'][0]
    st, tst = opt.state[p], topt.state[tp]
    assert st.keys() == tst.keys()
    assert (st['func_evals'], st['n_iter']) == (tst['func_evals'], tst['n_iter'])
    assert len(st['old_dirs']) == len(tst['old_dirs']) <= 5


def _least_squares_pair(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((12, 4)).astype(dtype), rng.standard_normal((12, 3)).astype(dtype)
    w0, c0 = rng.standard_normal((3, 4)).astype(dtype), np.zeros(3, dtype)

    def make():  # the weight is a transposed (non-contiguous) array
        return ([tg.Tensor(w0.copy().T, requires_grad=True), tg.Tensor(c0.copy(), requires_grad=True)],
                [torch.tensor(np.ascontiguousarray(w0.T), requires_grad=True),
                 torch.tensor(c0.copy(), requires_grad=True)])
    ta, tb = torch.tensor(a), torch.tensor(b)

    def loss(ps):
        if isinstance(ps[0], torch.Tensor):
            return ((ta @ ps[0] + ps[1] - tb) ** 2).mean()
        return ((tg.Tensor._wrap(a) @ ps[0] + ps[1] - tg.Tensor._wrap(b)) ** 2).mean()
    return make, loss


@pytest.mark.parametrize('line_search_fn', [None, 'strong_wolfe'])
@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: d.__name__)
def test_lbfgs_least_squares_matches_torch(dtype, line_search_fn):
    make, loss = _least_squares_pair(dtype)
    opt, topt, traj, ttraj, losses, tlosses = _run_lbfgs(make, loss, 3, lr=0.8, max_iter=4, history_size=3,
                                                         line_search_fn=line_search_fn)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for a, b in zip(traj, ttraj):
        for x, y in zip(a, b):
            assert x.dtype == dtype
            np.testing.assert_allclose(x, y, **tol)
    np.testing.assert_allclose(losses, tlosses, **tol)


def test_lbfgs_state_dict_resume_and_options():
    make, loss = _least_squares_pair(np.float64)
    ref_opt, _, ref_traj, _, _, _ = _run_lbfgs(make, loss, 4, max_iter=3, history_size=4)
    ours, _ = make()
    opt = optim.LBFGS(ours, max_iter=3, history_size=4)

    def closure(params, o):
        def run():
            o.zero_grad()
            value = loss(params)
            value.backward()
            return value
        return run
    for _ in range(2):
        opt.step(closure(ours, opt))
    sd = opt.state_dict()
    assert sd['param_groups'][0]['max_eval'] == 3 * 5 // 4 and sd['param_groups'][0]['params'] == [0, 1]
    assert list(sd['state']) == [0] and isinstance(sd['state'][0]['d'], tg.Tensor)
    fresh = [tg.Tensor(p._data.copy(), requires_grad=True) for p in ours]
    opt2 = optim.LBFGS(fresh, max_iter=3, history_size=4)
    opt2.load_state_dict(sd)
    for _ in range(2):
        opt2.step(closure(fresh, opt2))
    for p, r in zip(fresh, ref_traj[-1]):
        np.testing.assert_allclose(p._data, r, rtol=1e-12, atol=1e-14)


def test_lbfgs_errors():
    p = tg.Tensor(np.ones(3), requires_grad=True)
    q = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{'params': [p]}, {'params': [q]}])
    opt = optim.LBFGS([p])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        opt.add_param_group({'params': [q]})
    with pytest.raises(TypeError):
        opt.step()  # the closure is required, as in torch
    with pytest.raises(ValueError, match='strong_wolfe'):
        optim.LBFGS([p], line_search_fn='armijo')
    assert optim.LBFGS([p], max_iter=8).defaults['max_eval'] == 10

    def closure():  # already optimal: one evaluation, nothing changes
        opt.zero_grad()
        value = (p * 0.0).sum()
        value.backward()
        return value
    before = p._data.copy()
    opt.step(closure)
    np.testing.assert_array_equal(p._data, before)
    assert opt.state[p]['func_evals'] == 1


# ---------------------------------------------------------------------------------------------- schedulers
def _sched_pair(name, opt_name, **kwargs):
    ours, theirs = _pair(np.float64, 9)
    groups = lambda ps: [{'params': ps[:2], 'lr': 0.1}, {'params': ps[2:], 'lr': 0.05}]  # noqa: E731
    opt, topt = getattr(optim, opt_name)(groups(ours)), getattr(torch.optim, opt_name)(groups(theirs))
    return (opt, topt, getattr(sched, name)(opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(topt, **kwargs),
            ours, theirs)


@pytest.mark.parametrize('opt_name', ['Adadelta', 'Adamax', 'NAdam', 'RAdam'])
@pytest.mark.parametrize('name,kwargs', [
    ('StepLR', dict(step_size=3, gamma=0.5)),
    ('CosineAnnealingLR', dict(T_max=6, eta_min=0.001)),
    ('LambdaLR', dict(lr_lambda=[lambda e: 0.9 ** e, lambda e: 1 / (e + 1)])),
    ('OneCycleLR', dict(max_lr=[0.3, 0.1], total_steps=13)),
], ids=['StepLR', 'CosineAnnealingLR', 'LambdaLR', 'OneCycleLR'])
def test_schedulers_with_new_optimizers_and_two_groups(name, kwargs, opt_name):
    if name == 'OneCycleLR' and opt_name == 'Adadelta':
        kwargs = dict(kwargs, cycle_momentum=False)  # Adadelta has neither momentum nor betas
    opt, topt, s, ts, ours, theirs = _sched_pair(name, opt_name, **kwargs)
    rng = np.random.default_rng(2)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(12):
            _set_grads(ours, theirs, rng)
            opt.step()
            topt.step()
            s.step()
            ts.step()
            np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
            for g, tgroup in zip(opt.param_groups, topt.param_groups):  # OneCycleLR cycles beta1
                assert g.get('betas') == pytest.approx(tgroup.get('betas'))
    _close(ours, theirs, np.float64)


def test_onecycle_requires_momentum_or_betas():
    p = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match='momentum'):
        sched.OneCycleLR(optim.Adadelta([p]), max_lr=0.1, total_steps=10)
