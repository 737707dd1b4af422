"""Optimisers against torch.optim: same parameters, same random per-step gradients."""
import copy

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import optim
from tensorgrad.optim.optimizer import required

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 12

CASES = [
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9)),
    ('SGD', dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ('SGD', dict(lr=0.05, momentum=0.8, nesterov=True)),
    ('SGD', dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ('SGD', dict(lr=0.05, weight_decay=0.2, maximize=True)),
    ('SGD', dict(lr=0.05, momentum=0.7, dampening=0.1, weight_decay=0.05, maximize=True)),
    ('Adam', dict()),
    ('Adam', dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ('Adam', dict(lr=0.01, weight_decay=0.1)),
    ('Adam', dict(lr=0.01, amsgrad=True)),
    ('Adam', dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ('AdamW', dict()),
    ('AdamW', dict(lr=0.01, weight_decay=0.3)),
    ('AdamW', dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ('RMSprop', dict()),
    ('RMSprop', dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ('RMSprop', dict(lr=0.01, momentum=0.9)),
    ('RMSprop', dict(lr=0.01, centered=True)),
    ('RMSprop', dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ('Adagrad', dict()),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01)),
    ('Adagrad', dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ('Adagrad', dict(lr=0.1, maximize=True)),
]


def _ids(case):
    return case[0] + '-' + ','.join(f'{k}={v}' for k, v in case[1].items())


def _make_params(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    ours = [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


def _grads(rng):
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _set_grads(ours, theirs, grads):
    for i, (p, g) in enumerate(zip(ours, grads)):
        p.grad = tg.Tensor._wrap(g.copy())
        if theirs is not None:
            theirs[i].grad = torch.tensor(g.copy())


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p._data, tp.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize('case', CASES, ids=_ids)
def test_matches_torch(case):
    name, kwargs = case
    ours, theirs = _make_params()
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    rng = np.random.default_rng(1)
    for _ in range(STEPS):
        _set_grads(ours, theirs, _grads(rng))
        opt.step()
        topt.step()
    _close(ours, theirs)
    for p in ours:
        assert p._data.dtype == np.float32 and p.grad_fn is None and p.requires_grad
        for v in opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32
    # same state entries as PyTorch
    for p, tp in zip(ours, theirs):
        assert set(opt.state[p]) == set(topt.state[tp])


@pytest.mark.parametrize('case', CASES[::3], ids=_ids)
def test_param_groups_with_different_options(case):
    name, kwargs = case
    ours, theirs = _make_params(3)
    lr = kwargs.get('lr', 0.01)

    def groups(ps):
        return [{'params': ps[:1], 'lr': lr * 3}, {'params': ps[1:2]}, {'params': ps[2:], 'lr': lr / 2,
                                                                          'weight_decay': 0.05}]
    opt = getattr(optim, name)(groups(ours), **kwargs)
    topt = getattr(torch.optim, name)(groups(theirs), **kwargs)
    rng = np.random.default_rng(4)
    for _ in range(STEPS):
        _set_grads(ours, theirs, _grads(rng))
        opt.step()
        topt.step()
    _close(ours, theirs)
    assert [g['lr'] for g in opt.param_groups] == [g['lr'] for g in topt.param_groups]


def test_add_param_group_and_missing_grads():
    ours, theirs = _make_params(5)
    opt = optim.SGD(ours[:1], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs[:1], lr=0.1, momentum=0.9)
    opt.add_param_group({'params': ours[1:], 'lr': 0.01})
    topt.add_param_group({'params': theirs[1:], 'lr': 0.01})
    rng = np.random.default_rng(6)
    for i in range(STEPS):
        grads = _grads(rng)
        _set_grads(ours, theirs, grads)
        if i % 3 == 0:  # a parameter without gradient is skipped
            ours[1].grad = None
            theirs[1].grad = None
        opt.step()
        topt.step()
    _close(ours, theirs)


def test_zero_grad_semantics():
    ours, _ = _make_params()
    opt = optim.Adam(ours)
    _set_grads(ours, None, _grads(np.random.default_rng(0)))
    grad_obj = ours[0].grad
    opt.zero_grad(set_to_none=False)
    assert ours[0].grad is grad_obj
    for p in ours:
        assert p.grad is not None and not p.grad._data.any()
    opt.zero_grad()
    assert all(p.grad is None for p in ours)
    opt.step()  # no gradients: nothing happens, no error
    assert not opt.state


@pytest.mark.parametrize('name', ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'NAdam',
                                  'RAdam'])
def test_gradient_arrays_are_never_modified(name):
    # two parameters sharing one gradient array: the update must not write into it
    a = tg.Tensor(np.ones(4, np.float32), requires_grad=True)
    b = tg.Tensor(np.full(4, 2.0, np.float32), requires_grad=True)
    g = np.arange(4, dtype=np.float32)
    a.grad = tg.Tensor._wrap(g)
    b.grad = tg.Tensor._wrap(g)
    kwargs = dict(lr=0.1, weight_decay=0.1, maximize=True)
    if name == 'SGD':
        kwargs.update(momentum=0.9)
    opt = getattr(optim, name)([a, b], **kwargs)
    v0 = a._version
    opt.step()
    opt.step()
    np.testing.assert_array_equal(g, np.arange(4, dtype=np.float32))
    assert a._version > v0


def test_step_closure_and_no_graph():
    w = tg.Tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)
    tw = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.1, momentum=0.5), torch.optim.SGD([tw], lr=0.1, momentum=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = (tw * tw).sum()
        loss.backward()
        return loss

    with tg.no_grad():  # the closure runs with grad enabled anyway
        for _ in range(5):
            loss = opt.step(closure)
            tloss = topt.step(tclosure)
            assert loss.item() == pytest.approx(tloss.item(), rel=1e-6)
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-5, atol=1e-7)
    assert w.grad_fn is None


def test_reference_signatures():
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD(parameters=[p], lr=0.1, momentum=None)
    assert opt.param_groups[0]['momentum'] == 0
    opt = optim.SGD({'weight': p}, 0.1)  # the reference's dict of named parameters
    assert opt.param_groups[0]['params'][0] is p
    opt = optim.Adam([p], 1e-3, (0.9, 0.999), 1e-8)
    assert opt.defaults['betas'] == (0.9, 0.999)


def test_bad_arguments():
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match='empty'):
        optim.SGD([], lr=0.1)
    optim.SGD([tg.Tensor(np.ones(2, np.float32), requires_grad=False)], lr=0.1)  # accepted, as in torch
    with pytest.raises(ValueError, match='more than one'):
        optim.SGD([{'params': [p]}, {'params': [p]}], lr=0.1)
    with pytest.raises(ValueError, match='learning rate'):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match='Invalid beta parameter at index 0'):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match='Nesterov'):
        optim.SGD([p], lr=0.1, nesterov=True)
    assert optim.SGD([p]).defaults['lr'] == 1e-3  # torch 2.13's default

    class Custom(optim.Optimizer):  # a hyperparameter without default must be given
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Custom([p])
    assert Custom([p], lr=0.5).param_groups[0]['lr'] == 0.5
    with pytest.raises(TypeError, match='single Tensor'):
        optim.SGD(p, lr=0.1)


@pytest.mark.parametrize('case', [CASES[i] for i in (2, 4, 11, 14, 19, 22)], ids=_ids)
def test_state_dict_resume_matches_uninterrupted_run(case, tmp_path):
    name, kwargs = case
    rng = np.random.default_rng(7)
    grads = [_grads(rng) for _ in range(10)]
    ref, _ = _make_params(8)
    ref_opt = getattr(optim, name)([{'params': ref[:2]}, {'params': ref[2:], 'lr': 0.02}], **kwargs)
    for g in grads:
        _set_grads(ref, None, g)
        ref_opt.step()

    a, _ = _make_params(8)
    opt_a = getattr(optim, name)([{'params': a[:2]}, {'params': a[2:], 'lr': 0.02}], **kwargs)
    for g in grads[:5]:
        _set_grads(a, None, g)
        opt_a.step()
    sd = opt_a.state_dict()
    assert sorted(sd['state']) == [0, 1, 2] and sd['param_groups'][1]['params'] == [2]
    tg.save(sd, tmp_path / 'opt.tgc')
    loaded = tg.load(tmp_path / 'opt.tgc')

    b = [tg.Tensor(p._data.copy(), requires_grad=True) for p in a]
    opt_b = getattr(optim, name)([{'params': b[:2]}, {'params': b[2:]}], **kwargs)
    opt_b.load_state_dict(loaded)
    assert opt_b.param_groups[1]['lr'] == 0.02
    for g in grads[5:]:
        _set_grads(b, None, g)
        opt_b.step()
    for p, q in zip(ref, b):
        np.testing.assert_array_equal(p._data, q._data)


def test_state_dict_layout_matches_torch():
    ours, theirs = _make_params()
    opt, topt = optim.Adam(ours, amsgrad=True), torch.optim.Adam(theirs, amsgrad=True)
    _set_grads(ours, theirs, _grads(np.random.default_rng(0)))
    opt.step()
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd['state'].keys() == tsd['state'].keys()
    for k in sd['state']:
        assert sd['state'][k].keys() == tsd['state'][k].keys()
        assert int(sd['state'][k]['step']) == int(tsd['state'][k]['step'])
        np.testing.assert_allclose(sd['state'][k]['exp_avg'].numpy(), tsd['state'][k]['exp_avg'].numpy(),
                                   rtol=1e-6)
    assert sd['param_groups'][0]['params'] == tsd['param_groups'][0]['params']


def test_load_state_dict_errors_change_nothing():
    ours, _ = _make_params()
    opt = optim.SGD([{'params': ours[:2]}, {'params': ours[2:]}], lr=0.1, momentum=0.9)
    _set_grads(ours, None, _grads(np.random.default_rng(0)))
    opt.step()
    before_state = copy.deepcopy({id(k): {n: np.array(v) for n, v in s.items()} for k, s in opt.state.items()})
    before_groups = [dict(g) for g in opt.param_groups]

    other, _ = _make_params()
    one_group = optim.SGD(other, lr=0.5, momentum=0.9)
    with pytest.raises(ValueError, match='parameter groups'):
        opt.load_state_dict(one_group.state_dict())
    wrong_sizes = optim.SGD([{'params': other[:1]}, {'params': other[1:]}], lr=0.5, momentum=0.9)
    with pytest.raises(ValueError, match='group 0'):
        opt.load_state_dict(wrong_sizes.state_dict())
    with pytest.raises(ValueError, match="'state'"):
        opt.load_state_dict({'param_groups': []})
    assert [dict(g) for g in opt.param_groups] == before_groups
    for k, s in opt.state.items():
        for n, v in s.items():
            np.testing.assert_array_equal(v, before_state[id(k)][n])


def test_loaded_state_is_copied_and_cast():
    p = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    buf = np.array([1.0, 2.0, 3.0])  # float64 in the state dict
    opt.load_state_dict({'state': {0: {'momentum_buffer': buf}},
                         'param_groups': [dict(opt.state_dict()['param_groups'][0])]})
    st = opt.state[p]['momentum_buffer']
    assert st.dtype == np.float32 and not np.shares_memory(st, buf)
