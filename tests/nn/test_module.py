"""Module machinery: registration, traversal order, state_dict round trip,
load_state_dict validation, modes, devices/dtypes, hooks, repr, containers."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import assert_close

nn = tg.nn
tnn = torch.nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(tg.ones(4))
        self.register_buffer('counter', tg.zeros(1))
        self.register_buffer('scratch', tg.zeros(2), persistent=False)
        self.plain = 5

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class TBlock(tnn.Module):
    def __init__(self):
        super().__init__()
        self.fc = tnn.Linear(3, 4)
        self.bn = tnn.BatchNorm1d(4)
        self.scale = tnn.Parameter(torch.ones(4))
        self.register_buffer('counter', torch.zeros(1))
        self.register_buffer('scratch', torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def make():
    return nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2))


def make_torch():
    return tnn.Sequential(TBlock(), tnn.ReLU(), tnn.Linear(4, 2))


def test_registration_and_order_match_torch():
    m, t = make(), make_torch()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert list(m.state_dict()) == list(t.state_dict())
    assert m.num_parameters() == sum(p.numel() for p in t.parameters())
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())
    assert len(list(m.parameters(recurse=False))) == 0
    assert m[0].plain == 5 and 'plain' not in m[0]._parameters
    assert m.get_submodule('0.fc') is m[0].fc and m.get_parameter('0.fc.weight') is m[0].fc.weight


def test_shared_parameter_counted_once():
    a = nn.Linear(2, 2)
    m = nn.Sequential(a, a)
    assert len(list(m.parameters())) == 2
    assert len(list(m.modules())) == 2


def test_setattr_rules():
    m = nn.Linear(2, 3)
    m.bias = None
    assert m.bias is None and 'bias' in m._parameters
    with pytest.raises(TypeError, match='parameter'):
        m.weight = tg.zeros(3, 2)
    m.extra = nn.ReLU()
    assert 'extra' in m._modules
    del m.extra
    assert 'extra' not in m._modules and not hasattr(m, 'extra')
    with pytest.raises(AttributeError, match='nothing'):
        m.nothing  # noqa: B018
    with pytest.raises(KeyError):
        m.register_buffer('a.b', tg.zeros(1))
    with pytest.raises(KeyError, match='already exists'):
        m.register_parameter('extra_repr', None)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.zeros(1))
    with pytest.raises(AttributeError, match='__init__'):
        Early()


def test_parameter():
    p = nn.Parameter(tg.tensor([1.0, 2.0]))
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith('Parameter containing:\ntensor(')
    q = nn.Parameter(np.zeros(3, dtype=np.float32), requires_grad=False)
    assert not q.requires_grad
    (p * 2).sum().backward()
    assert_close(p.grad, [2.0, 2.0])


def test_forward_backward_of_custom_module_vs_torch():
    m, t = make(), make_torch()
    m.init_from_torch(t)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out, ref = m(tg.tensor(x)), t(torch.tensor(x))
    assert_close(out, ref, 1e-4, 1e-4)
    g = np.random.default_rng(1).uniform(0.5, 1.5, (5, 2)).astype(np.float32)
    out.backward(tg.tensor(g))
    ref.backward(torch.tensor(g))
    for (n, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        assert_close(p.grad, tp.grad, 1e-4, 1e-4, n)


def test_state_dict_round_trip():
    src, dst = make(), make()
    src(tg.randn(4, 3))  # update running stats
    sd = src.state_dict()
    assert isinstance(sd, OrderedDict)
    assert 'scratch' not in ''.join(sd)
    assert all(not v.requires_grad for v in sd.values())
    assert np.shares_memory(sd['2.weight']._data, src[2].weight._data)
    res = dst.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    for k, v in dst.state_dict().items():
        assert_close(v, sd[k], 0, 0, k)
    assert not np.shares_memory(dst[2].weight._data, src[2].weight._data)
    x = tg.randn(4, 3)
    src.eval(), dst.eval()
    assert_close(dst(x), src(x), 0, 0)
    # keep_vars gives the parameters themselves
    assert src.state_dict(keep_vars=True)['2.weight'] is src[2].weight


def test_state_dict_loads_torch_state_dict():
    m, t = make(), make_torch()
    m.load_state_dict(t.state_dict())
    assert_close(m[0].fc.weight, t[0].fc.weight, 0, 0)
    assert int(m[0].bn.num_batches_tracked.item()) == 0


def test_load_state_dict_errors_list_keys_and_change_nothing():
    m = make()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    sd = make().state_dict()
    del sd['2.bias']
    sd['extra.weight'] = tg.zeros(2)
    sd['0.fc.weight'] = tg.zeros(7, 3)
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(sd)
    msg = str(err.value)
    assert '2.bias' in msg and 'Missing' in msg
    assert 'extra.weight' in msg and 'Unexpected' in msg
    assert '0.fc.weight' in msg and '(7, 3)' in msg and '(4, 3)' in msg
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    # strict=False still refuses shape mismatches, accepts the rest
    with pytest.raises(RuntimeError, match='size mismatch'):
        m.load_state_dict(sd, strict=False)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    sd['0.fc.weight'] = tg.ones(4, 3)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ['2.bias'] and unexpected == ['extra.weight']
    assert np.all(m[0].fc.weight.numpy() == 1)


def test_train_eval_flags():
    m = make()
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m
    assert not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())


def test_zero_grad_requires_grad_apply():
    m = make()
    m(tg.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == 'Sequential' and seen[0] == 'Linear'


def test_to_dtype_moves_params_grads_and_buffers():
    m = make()
    m(tg.randn(4, 3)).sum().backward()
    assert m.to(tg.float64) is m
    assert all(p._data.dtype == np.float64 for p in m.parameters())
    assert all(p.grad._data.dtype == np.float64 for p in m.parameters())
    assert m[0].bn.running_mean._data.dtype == np.float64
    assert m[0].bn.num_batches_tracked._data.dtype == np.int64
    m.float()
    assert all(p._data.dtype == np.float32 for p in m.parameters())
    assert m.to('cpu') is m and m.cpu() is m


def test_double_module_matches_torch_double():
    m, t = make().double(), make_torch().double()
    m.init_from_torch(t)
    x = np.random.default_rng(0).standard_normal((5, 3))
    out = m(tg.tensor(x))
    assert out.dtype == tg.float64
    assert_close(out, t(torch.tensor(x)), 1e-10, 1e-10)


@pytest.mark.skipif(not tg.is_cuda_available(), reason='needs CUDA')
def test_to_cuda_and_back():
    m = make()
    m(tg.randn(4, 3)).sum().backward()
    m.to('cuda')
    assert all(p.device == 'cuda' and p.grad.device == 'cuda' for p in m.parameters())
    assert all(b.device == 'cuda' for b in m.buffers())
    out = m(tg.randn(4, 3, device='cuda'))
    assert out.device == 'cuda'
    m.cpu()
    assert all(p.device == 'cpu' for p in m.parameters())


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append('pre'))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    out = m(tg.ones(1, 2))
    assert calls == ['pre'] and np.all(out.numpy() == 0)
    h1.remove(), h2.remove()
    assert np.any(m(tg.ones(1, 2)).numpy() != 0) and calls == ['pre']


def test_repr_matches_torch():
    assert repr(make()) == repr(make_torch()).replace('TBlock', 'Block')


def test_deepcopy_and_pickle():
    m = make()
    c = copy.deepcopy(m)
    c[2].weight._data[...] = 7
    assert not np.any(m[2].weight.numpy() == 7)
    assert isinstance(c[2].weight, nn.Parameter)
    p = pickle.loads(pickle.dumps(m))
    assert_close(p[2].weight, m[2].weight, 0, 0)
    assert isinstance(p[2].weight, nn.Parameter) and p[2].weight.requires_grad


def test_init_from_torch_recurses_and_checks_shapes():
    m, t = make(), make_torch()
    assert m.init_from_torch(t) is m
    assert_close(m[2].weight, t[2].weight, 0, 0)
    assert_close(m[0].scale, t[0].scale, 0, 0)
    with pytest.raises(ValueError, match='shape'):
        nn.Linear(3, 4).init_from_torch(tnn.Linear(3, 5))


def test_sequential_forms():
    a, b = nn.Linear(2, 3), nn.ReLU()
    for s in (nn.Sequential(a, b), nn.Sequential([a, b]), nn.Sequential(OrderedDict(fc=a, act=b))):
        assert len(s) == 2 and s[0] is a and s[-1] is b and list(s) == [a, b]
    s = nn.Sequential(OrderedDict(fc=a, act=b))
    assert s.fc is a and list(s.state_dict()) == ['fc.weight', 'fc.bias']
    s = nn.Sequential([a, b])
    s.append(nn.Linear(3, 1))
    assert len(s) == 3 and s(tg.ones(4, 2)).shape == (4, 1)
    assert isinstance(s[1:], nn.Sequential) and len(s[1:]) == 2
    del s[0]
    assert [k for k in s._modules] == ['0', '1']
    s.insert(0, a)
    assert s[0] is a and len(s) == 3
    with pytest.raises(IndexError):
        s[5]
    with pytest.raises(TypeError, match='Module'):
        nn.Sequential(a, 3)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    assert isinstance(layers[-1], nn.ReLU)
    assert [n for n, _ in layers.named_parameters()][:2] == ['0.weight', '0.bias']
    del layers[0]
    assert list(layers._modules) == ['0', '1', '2']
    d = nn.ModuleDict({'a': nn.Linear(2, 2), 'b': nn.ReLU()})
    assert 'a' in d and list(d.keys()) == ['a', 'b'] and len(list(d.parameters())) == 2
    d['c'] = nn.Tanh()
    assert len(d) == 3
    pl = nn.ParameterList([nn.Parameter(tg.zeros(2)), tg.ones(3)])
    assert len(list(pl.parameters())) == 2 and isinstance(pl[1], nn.Parameter)
    pd = nn.ParameterDict({'w': tg.ones(2)})
    assert [n for n, _ in pd.named_parameters()] == ['w']


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match='forward'):
        nn.Module()(1)


def test_nn_namespace():
    for name in ('functional', 'init', 'utils', 'RNN', 'LSTM', 'GRU', 'Module', 'Parameter'):
        assert hasattr(nn, name), name
    assert nn.utils.clip_grad_norm_ is not None
