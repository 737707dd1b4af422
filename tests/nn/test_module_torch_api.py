"""Module's PyTorch API, checked side by side with torch.nn.Module on the same tree:
traversal (named_modules / children / buffers / parameters with prefixes and
duplicates), buffers (persistent or not), lookups, apply, train/eval, zero_grad,
requires_grad_, dtype casts, attribute registration and deletion, repr with
extra_repr, forward hooks and pre-hooks (with_kwargs, prepend, always_call)."""
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn


def _tree(lib):
    """The same small tree in either library: a shared Linear, a buffer of each kind, nesting."""
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
            self.shared = self.body[0]
            self.register_buffer('steps', lib.zeros(2))
            self.register_buffer('cache', lib.ones(3), persistent=False)
            self.head = lib.nn.Linear(2, 1, bias=False)

        def forward(self, x, scale=1.0):
            return self.head(self.body(x)) * scale

        def extra_repr(self):
            return 'custom=1'
    return Net()


def _names(pairs):
    return [n for n, _ in pairs]


@pytest.fixture
def trees():
    return _tree(tg), _tree(torch)


def test_traversal_names_match_torch(trees):
    a, b = trees
    assert _names(a.named_modules()) == _names(b.named_modules())
    assert _names(a.named_modules(prefix='net')) == _names(b.named_modules(prefix='net'))
    assert _names(a.named_modules(remove_duplicate=False)) == _names(b.named_modules(remove_duplicate=False))
    assert _names(a.named_children()) == _names(b.named_children())
    assert _names(a.named_parameters()) == _names(b.named_parameters())
    assert _names(a.named_parameters(prefix='p', recurse=True)) == _names(b.named_parameters(prefix='p'))
    assert _names(a.named_parameters(remove_duplicate=False)) == _names(b.named_parameters(remove_duplicate=False))
    assert _names(a.named_buffers()) == _names(b.named_buffers())
    assert _names(a.named_buffers(prefix='x', recurse=False)) == _names(b.named_buffers(prefix='x', recurse=False))
    assert list(a.state_dict()) == list(b.state_dict())  # the non-persistent buffer is left out
    assert 'cache' not in a.state_dict() and a.cache.shape == (3,)


def test_lookups(trees):
    a, b = trees
    assert type(a.get_submodule('body.2')).__name__ == type(b.get_submodule('body.2')).__name__ == 'Linear'
    assert a.get_submodule('') is a
    assert a.get_parameter('body.0.bias').shape == tuple(b.get_parameter('body.0.bias').shape)
    assert a.get_buffer('steps').shape == (2,)
    for lib_tree in (a, b):
        with pytest.raises(AttributeError):
            lib_tree.get_submodule('body.7')
        with pytest.raises(AttributeError):
            lib_tree.get_parameter('body.0.nope')


def test_apply_order_and_modes(trees):
    a, b = trees
    seen_a, seen_b = [], []
    assert a.apply(lambda m: seen_a.append(type(m).__name__)) is a
    b.apply(lambda m: seen_b.append(type(m).__name__))
    assert seen_a == seen_b
    assert a.eval() is a and not any(m.training for m in a.modules())
    assert a.train() is a and all(m.training for m in a.modules())
    assert a.train(False) is a and not a.body[0].training
    with pytest.raises(ValueError, match='training mode is expected to be boolean'):
        a.train('yes')


def test_zero_grad_and_requires_grad(trees):
    a, _ = trees
    a(tg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in a.parameters())
    a.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in a.parameters())
    a.zero_grad()  # torch's default: set_to_none=True
    assert all(p.grad is None for p in a.parameters())
    assert a.requires_grad_(False) is a and not any(p.requires_grad for p in a.parameters())
    a.requires_grad_()
    assert all(p.requires_grad for p in a.parameters())


def test_dtype_casts(trees):
    a, b = trees
    for method in ('double', 'half', 'float'):
        assert getattr(a, method)() is a
        getattr(b, method)()
        assert [str(p.dtype) for p in a.parameters()] == [str(p.dtype).replace('torch.', '') for p in b.parameters()]
        assert str(a.steps.dtype) == str(b.steps.dtype).replace('torch.', '')
    assert a.to(tg.float64) is a and a.head.weight.dtype == tg.float64
    with pytest.raises(TypeError):
        a.to(tg.int64)


def test_setattr_registration_and_delattr(trees):
    a, b = trees
    for m, lib in ((a, tg), (b, torch)):
        m.extra = lib.nn.Linear(1, 1)
        m.scale = lib.nn.Parameter(lib.ones(1))
        m.steps = lib.ones(2)  # assigning a tensor to a buffer name keeps it a buffer
        m.plain = 3
        m.add_module('added', lib.nn.Identity())
        m.register_module('registered', lib.nn.Identity())
    assert _names(a.named_children()) == _names(b.named_children())
    assert _names(a.named_parameters()) == _names(b.named_parameters())
    assert 'steps' in dict(a.named_buffers()) and a.plain == 3
    for m in (a, b):
        with pytest.raises(TypeError):
            m.scale = 'not a parameter'
        del m.extra, m.scale, m.steps
        assert 'extra' not in dict(m.named_children()) and 'scale' not in dict(m.named_parameters())
        with pytest.raises(AttributeError):
            m.extra
        with pytest.raises(KeyError):
            m.register_buffer('plain', None)  # an attribute of that name exists


def test_repr_shows_extra_repr(trees):
    a, b = trees
    assert repr(a).replace('tensorgrad', 'torch') == repr(b)
    assert repr(a).splitlines()[1] == '  custom=1'


def test_forward_hooks_as_torch(trees):
    logs = {}
    x = {'tg': tg.ones(2, 3), 'torch': torch.ones(2, 3)}
    for key, m in zip(('tg', 'torch'), trees):
        log = logs[key] = []
        h1 = m.register_forward_pre_hook(lambda mod, args: log.append(('pre', len(args))))
        m.register_forward_pre_hook(lambda mod, args, kwargs: (log.append(('pre_kw', sorted(kwargs))) or
                                                               (args, {**kwargs, 'scale': 2.0})), with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, args: log.append(('first',)), prepend=True)
        m.register_forward_hook(lambda mod, args, out: log.append(('post', tuple(out.shape))))
        m.register_forward_hook(lambda mod, args, kwargs, out: out * 0 + kwargs['scale'], with_kwargs=True)
        out = m(x[key], scale=1.0)
        assert float(out.detach().sum()) == 4.0  # the kwargs hook set scale=2, the last hook replaced the output
        h1.remove()
        m(x[key])
    assert logs['tg'] == logs['torch']


def test_always_call_hook_runs_when_forward_raises():
    for lib in (tg, torch):
        m = lib.nn.Linear(3, 2)
        calls = []
        m.register_forward_hook(lambda mod, args, out: calls.append(out), always_call=True)
        m.register_forward_hook(lambda mod, args, out: calls.append('normal'))
        with pytest.raises(Exception):
            m(lib.ones(2, 5))
        assert calls == [None]
        with m.register_forward_hook(lambda mod, args, out: calls.append('ctx')):
            m(lib.ones(1, 3))
        m(lib.ones(1, 3))
        assert [c for c in calls if isinstance(c, str)] == ['normal', 'ctx', 'normal']  # ctx hook removed


def test_bad_kwargs_pre_hook_result():
    m = nn.Linear(3, 2)
    m.register_forward_pre_hook(lambda mod, args, kwargs: 'bad', with_kwargs=True)
    with pytest.raises(RuntimeError, match=r'forward pre-hook must return None or a tuple of \(new_args, new_kwargs\)'):
        m(tg.ones(1, 3))
