"""The PyTorch top level: ``device`` objects, ``Generator`` and seeding, the ``cuda`` /
``accelerator`` / ``backends`` namespaces, ``autocast`` and ``GradScaler``, bfloat16
(with ml_dtypes), the small runtime helpers and the ``nn.modules`` import paths,
each checked against torch where torch answers the same question."""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn

HAS_CUDA = tg.cuda.is_available()
no_cuda_only = pytest.mark.skipif(HAS_CUDA, reason='checks the behaviour without CUDA')
try:
    import ml_dtypes  # noqa: F401
    HAS_BF16 = True
except ImportError:
    HAS_BF16 = False
bf16_only = pytest.mark.skipif(not HAS_BF16, reason='bfloat16 needs the ml_dtypes package')


# ---------------------------------------------------------------------------- devices
@pytest.mark.parametrize('args', [('cpu',), ('cuda',), ('cuda:0',), ('cuda', 0), ('cpu', 0), ('cuda:1',), (0,)])
def test_device_type_index_str_repr_match_torch(args):
    d, t = tg.device(*args), torch.device(*args) if args != (0,) else torch.device('cuda', 0)
    assert (d.type, d.index, str(d), repr(d)) == (t.type, t.index, str(t), repr(t))
    assert tg.device(d) == d and tg.device(t.type, t.index) == d


def test_device_equality_follows_torch_between_devices():
    assert tg.device('cuda') != tg.device('cuda:0')  # as torch
    assert (torch.device('cuda') == torch.device('cuda:0')) is False
    assert tg.device('cuda', 0) == tg.device('cuda:0')
    assert tg.device('cpu') != tg.device('cuda')
    assert len({tg.device('cpu'), tg.device('cpu')}) == 1


def test_device_equals_strings_and_device_members():
    assert tg.device('cpu') == 'cpu' and 'cpu' == tg.device('cpu')
    assert tg.device('cuda:0') == 'cuda:0' and tg.device('cpu') != 'cuda' and tg.device('cpu') != 'gpu'
    assert tg.device('cpu') == tg.DEVICE.CPU and tg.DEVICE.CPU == tg.device('cpu')
    assert tg.DEVICE.CUDA == tg.device('cuda:0') and tg.DEVICE.CUDA == tg.device('cuda')
    assert tg.DEVICE.CUDA == 'cuda:0' and tg.DEVICE.CUDA == 'cuda' and tg.DEVICE.CPU != 'cuda'
    assert tg.DEVICE.CPU != tg.device('cuda') and not (tg.DEVICE.CPU == tg.device('cuda'))
    assert hash(tg.device('cpu')) == hash(tg.DEVICE.CPU) == hash('cpu')
    assert {tg.DEVICE.CPU: 1}[tg.device('cpu')] == 1


def test_tensor_device_compares_like_torch():
    x = tg.ones(2)
    assert x.device == tg.device('cpu') and tg.device('cpu') == x.device
    assert x.device.type == 'cpu' and x.device.index is None and str(x.device) == 'cpu'
    assert x.device is tg.DEVICE.CPU  # the documented enum is kept
    assert tg.DEVICE.CUDA.type == 'cuda' and tg.DEVICE.CUDA.index == 0


def test_device_pickles():
    d = tg.device('cuda', 0)
    assert pickle.loads(pickle.dumps(d)) == d


@pytest.mark.parametrize('bad', ['gpu', 'cuda:x', 'cuda:-1', 'cpu:0:1', ''])
def test_bad_device_strings_raise_runtime_error_as_torch(bad):
    with pytest.raises(RuntimeError, match='device'):
        tg.device(bad)
    with pytest.raises(RuntimeError):
        torch.device(bad)
    with pytest.raises(ValueError, match='device'):  # also a ValueError, as tensorgrad raised before
        tg.zeros(2, device=bad)


def test_bad_device_arguments():
    with pytest.raises(RuntimeError, match='must not include an index'):
        tg.device('cuda:0', 0)
    with pytest.raises(RuntimeError, match='negative'):
        tg.device('cuda', -1)
    with pytest.raises(TypeError, match='device'):
        tg.device(1.5)
    with pytest.raises(RuntimeError, match="single cuda device"):
        tg.ones(2).to(tg.device('cuda:1'))


def test_device_objects_accepted_wherever_devices_are():
    cpu = tg.device('cpu')
    assert tg.zeros(2, device=cpu).device == cpu
    assert tg.randn(2, device=cpu).device == cpu
    assert tg.tensor([1.0], device=cpu).device == cpu
    assert tg.ones(2).to(cpu).device == cpu
    assert tg.ones(2).to(cpu, tg.float64).dtype == tg.float64
    assert tg.ones(2).to(device=cpu).device == 'cpu'
    assert tg.zeros_like(tg.ones(2), device=cpu).device == cpu
    m = nn.Linear(2, 3).to(cpu)
    assert m.weight.device == cpu
    assert tg.zeros(2, device=torch.device('cpu')).device == cpu  # a torch.device works too
    assert tg.device(torch.device('cuda', 0)) == tg.device('cuda:0')


@no_cuda_only
def test_to_cuda_without_cupy_raises_clear_error():
    for dev in ('cuda', tg.device('cuda'), tg.device('cuda:0')):
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            tg.ones(2).to(dev)
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            nn.Linear(2, 2).to(dev)


# ---------------------------------------------------------------------------- generators and seeding
def test_generator_api_matches_torch():
    g, t = tg.Generator(), torch.Generator()
    assert g.initial_seed() == t.initial_seed() == 67280421310721
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert g.device == tg.device('cpu') and g.device == t.device.type
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1 == torch.Generator().manual_seed(-1).initial_seed()
    with pytest.raises(RuntimeError, match='out of range'):
        g.manual_seed(2 ** 64)
    with pytest.raises(TypeError, match='seed'):
        g.manual_seed('x')


def test_generator_state_round_trip():
    g = tg.Generator().manual_seed(3)
    state = g.get_state()
    assert isinstance(state, tg.Tensor) and state.dtype == tg.uint8
    a = tg.rand(4, generator=g)
    assert g.set_state(state) is g and g.initial_seed() == 3
    np.testing.assert_array_equal(tg.rand(4, generator=g).numpy(), a.numpy())
    with pytest.raises(RuntimeError, match='set_state'):
        g.set_state(tg.zeros(3, dtype=tg.uint8))
    with pytest.raises(TypeError, match='uint8'):
        g.set_state(tg.zeros(45))


def test_reseeding_keeps_the_numpy_generator_object():
    g = tg.Generator()
    rng = g._rng
    g.manual_seed(7)
    assert g._rng is rng
    assert rng.random() == np.random.default_rng(7).random()
    assert tg.random.generator() is tg.default_generator._rng


@pytest.mark.parametrize('make', [
    lambda g: tg.rand(3, 2, generator=g), lambda g: tg.randn(5, generator=g),
    lambda g: tg.randint(0, 10, (6,), generator=g), lambda g: tg.randperm(8, generator=g),
    lambda g: tg.normal(0.0, 2.0, (4,), generator=g), lambda g: tg.bernoulli(0.5, (6,), generator=g),
    lambda g: tg.rand_like(tg.ones(3), generator=g), lambda g: tg.randn_like(tg.ones(3), generator=g),
])
def test_random_factories_draw_from_the_given_generator(make):
    a = make(tg.Generator().manual_seed(11))
    tg.manual_seed(0)
    glob_before = tg.get_rng_state()
    b = make(tg.Generator().manual_seed(11))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(tg.get_rng_state().numpy(), glob_before.numpy())  # global one untouched
    c = make(tg.Generator().manual_seed(12))
    assert c.shape == a.shape
    with pytest.raises(TypeError, match='generator'):
        make(3)


def test_global_seeding_functions():
    assert tg.manual_seed(4) is tg.default_generator and tg.initial_seed() == 4
    a = tg.rand(3)
    tg.manual_seed(4)
    np.testing.assert_array_equal(tg.rand(3).numpy(), a.numpy())
    state = tg.get_rng_state()
    b = tg.randn(3)
    tg.set_rng_state(state)
    np.testing.assert_array_equal(tg.randn(3).numpy(), b.numpy())
    s = tg.seed()
    assert isinstance(s, int) and tg.initial_seed() == s


# ---------------------------------------------------------------------------- cuda, accelerator, backends
@no_cuda_only
def test_cuda_namespace_without_cuda():
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.cuda.is_available() == torch.cuda.is_available()
    tg.cuda.manual_seed(1)
    tg.cuda.manual_seed_all(2)
    assert tg.cuda.initial_seed() == 2
    tg.cuda.empty_cache()
    assert tg.cuda.memory_allocated() == 0 and tg.cuda.is_bf16_supported() is False
    for fn in (tg.cuda.current_device, tg.cuda.get_device_name, tg.cuda.synchronize):
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            fn()
    assert tg.accelerator.is_available() is False and tg.accelerator.current_accelerator() is None
    assert tg.accelerator.device_count() == 0
    assert torch.accelerator.current_accelerator() is None


def test_cuda_rejects_other_device_indices():
    with pytest.raises(ValueError, match='single cuda device'):
        tg.cuda.get_device_name(1)
    with pytest.raises(ValueError, match='expected a cuda device'):
        tg.cuda.synchronize('cpu')


def test_import_loads_no_optional_package_and_bfloat16_without_ml_dtypes_names_it():
    code = ("import sys, tensorgrad as tg\ntg.cuda.is_available; tg.backends.cudnn; tg.amp.autocast; tg.bfloat16\n"
            "bad = [m for m in ('cupy', 'ml_dtypes', 'threadpoolctl') if m in sys.modules]\n"
            "assert not bad, bad\n"
            "sys.modules['ml_dtypes'] = None  # as if it were not installed\n"
            "for make in (lambda: tg.ones(2).bfloat16(), lambda: tg.zeros(2, dtype=tg.bfloat16)):\n"
            "    try:\n        make()\n    except ImportError as e:\n        assert 'ml_dtypes' in str(e), e\n"
            "    else:\n        raise SystemExit('no error')\n")
    subprocess.run([sys.executable, '-c', code], check=True)


def test_backends_flags_are_settable_with_torch_defaults():
    b = tg.backends
    assert (b.cuda.matmul.allow_tf32, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.enabled,
            b.cudnn.allow_tf32, b.mps.is_available()) == (
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic, torch.backends.cudnn.enabled, torch.backends.cudnn.allow_tf32,
        torch.backends.mps.is_available())
    try:
        b.cudnn.benchmark = True
        b.cudnn.deterministic = True
        assert tg.backends.cudnn.benchmark and tg.backends.cudnn.deterministic
        b.cuda.matmul.allow_tf32 = True
        assert tg.get_float32_matmul_precision() == 'high'
        tg.set_float32_matmul_precision('highest')
        assert b.cuda.matmul.allow_tf32 is False
        tg.set_float32_matmul_precision('medium')
        assert b.cuda.matmul.allow_tf32 is True
        with pytest.warns(UserWarning, match='no effect'):
            tg.set_float32_matmul_precision('fast')
        assert tg.get_float32_matmul_precision() == 'medium'
        with pytest.raises(AttributeError):
            b.cuda.matmul.allow_tf33 = True
    finally:
        b.cudnn.benchmark = b.cudnn.deterministic = False
        tg.set_float32_matmul_precision('highest')


# ---------------------------------------------------------------------------- autocast
def test_autocast_state_matches_torch_on_cpu():
    with tg.autocast('cpu') as ac, torch.autocast('cpu'):
        assert isinstance(ac, tg.autocast)
        assert tg.is_autocast_enabled('cpu') == torch.is_autocast_enabled('cpu') is True
        assert str(tg.get_autocast_dtype('cpu')) == 'bfloat16'
        assert tg.is_autocast_enabled() is False  # no argument: cuda, as torch
        with tg.autocast('cpu', enabled=False):
            assert tg.is_autocast_enabled('cpu') is False
        assert tg.is_autocast_enabled('cpu')
    assert tg.is_autocast_enabled('cpu') is False
    with tg.amp.autocast('cpu', dtype=tg.float16):
        assert tg.get_autocast_dtype('cpu') == tg.float16


def test_autocast_runs_ops_in_float32_on_cpu():
    a, b = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    x, w = tg.tensor(a), tg.tensor(b.T.copy())
    with tg.autocast('cpu', dtype=tg.bfloat16):
        y = x @ w
    assert y.dtype == tg.float32
    np.testing.assert_allclose(y.numpy(), a @ b.T, rtol=1e-6)


def test_autocast_as_decorator():
    @tg.autocast('cpu')
    def f():
        return tg.is_autocast_enabled('cpu')
    assert f() is True and tg.is_autocast_enabled('cpu') is False


def test_autocast_bad_arguments():
    with pytest.raises(RuntimeError, match='device_type'):
        tg.autocast('xyz')
    with pytest.raises(ValueError, match='str'):
        tg.autocast(tg.device('cpu'))
    with pytest.warns(UserWarning, match='Disabling autocast'):
        ac = tg.autocast('cpu', dtype=tg.float64)
    with ac:
        assert tg.is_autocast_enabled('cpu') is False


@no_cuda_only
def test_cuda_autocast_without_cuda_warns_and_disables():
    with pytest.warns(UserWarning, match='CUDA is not available'):
        ac = tg.autocast('cuda')
    with ac:
        assert tg.is_autocast_enabled('cuda') is False
    with pytest.warns(FutureWarning, match='deprecated'), warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        tg.cuda.amp.autocast()


# ---------------------------------------------------------------------------- GradScaler
def _model_and_opt(lib, w):
    lin = lib.nn.Linear(3, 2)
    if lib is tg:
        lin.weight._data[...] = w[:, :3]
        lin.bias._data[...] = w[:, 3]
    else:
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w[:, :3]))
            lin.bias.copy_(torch.tensor(w[:, 3]))
    return lin, (tg.optim.SGD(lin.parameters(), lr=0.1) if lib is tg else _TorchSGD(lin.parameters(), 0.1))


class _TorchSGD:
    """Plain SGD with torch.optim's interface (torch.optim's first use costs seconds of imports)."""

    def __init__(self, params, lr):
        self.param_groups = [{'params': list(params), 'lr': lr}]

    def zero_grad(self):
        for p in self.param_groups[0]['params']:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p in self.param_groups[0]['params']:
            p -= self.param_groups[0]['lr'] * p.grad


@pytest.mark.filterwarnings('ignore:invalid value:RuntimeWarning')
def test_grad_scaler_matches_torch_on_cpu():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 4)).astype(np.float32)
    xs = rng.standard_normal((5, 4, 3)).astype(np.float32)
    xs[2, 0, 0] = np.inf  # one step with an inf gradient: skipped, scale backs off
    results = []
    for lib, scaler in ((tg, tg.amp.GradScaler('cpu', init_scale=1024.0, growth_interval=2)),
                        (torch, torch.amp.GradScaler('cpu', init_scale=1024.0, growth_interval=2))):
        lin, opt = _model_and_opt(lib, w)
        scales = []
        for x in xs:
            opt.zero_grad()
            loss = (lin(lib.tensor(x)) ** 2).mean()
            scaled = scaler.scale(loss)
            if np.isfinite(x).all():
                assert scaled.item() == pytest.approx(loss.item() * scaler.get_scale(), rel=1e-5)
            scaled.backward()
            scaler.step(opt)
            scaler.update()
            scales.append(scaler.get_scale())
        results.append((scales, lin.weight.detach().numpy().copy(), scaler.state_dict()))
    (s1, w1, d1), (s2, w2, d2) = results
    assert s1 == s2
    np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)
    assert d1 == d2


def test_grad_scaler_unscale_and_errors():
    lin, opt = _model_and_opt(tg, np.ones((2, 4), np.float32))
    scaler = tg.amp.GradScaler('cpu', init_scale=8.0)
    loss = lin(tg.ones(1, 3)).sum()
    scaler.scale(loss).backward()
    assert lin.bias.grad.numpy().tolist() == [8.0, 8.0]
    scaler.unscale_(opt)
    assert lin.bias.grad.numpy().tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match='already been called'):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match='step\\(\\) has already been called'):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match='Closure'):
        scaler.step(opt, closure=lambda: None)
    with pytest.raises(AssertionError, match='No inf checks'):
        scaler.update()
    scaler.update(4.0)
    assert scaler.get_scale() == 4.0
    assert isinstance(scaler.scale([loss, (loss,)])[1], tuple)
    with pytest.raises(AssertionError, match='growth factor'):
        tg.amp.GradScaler('cpu', growth_factor=0.5)


def test_grad_scaler_state_dict_round_trip_and_disabled():
    s = tg.amp.GradScaler('cpu', init_scale=16.0)
    assert s.state_dict() == torch.amp.GradScaler('cpu', init_scale=16.0).state_dict()
    s2 = tg.amp.GradScaler('cpu')
    s2.load_state_dict(s.state_dict())
    assert s2.get_scale() == 16.0
    off = tg.amp.GradScaler('cpu', enabled=False)
    loss = tg.ones(1).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(RuntimeError, match='empty'):
        s2.load_state_dict({})
    lin, opt = _model_and_opt(tg, np.ones((2, 4), np.float32))
    lin(tg.ones(1, 3)).sum().backward()
    before = lin.bias.numpy().copy()
    off.step(opt)
    off.update()
    assert not np.array_equal(before, lin.bias.numpy())


@no_cuda_only
def test_cuda_grad_scaler_without_cuda_disables_like_torch():
    with pytest.warns(UserWarning, match='CUDA is not available'):
        s = tg.amp.GradScaler('cuda')
    assert s.is_enabled() is False and s.get_scale() == 1.0
    with pytest.warns(FutureWarning, match='deprecated'), warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        assert tg.cuda.amp.GradScaler().is_enabled() is False


# ---------------------------------------------------------------------------- bfloat16
@bf16_only
@pytest.mark.parametrize('src', [np.float32, np.float64])
def test_bfloat16_casts_arithmetic_and_matmul_match_torch(src):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(src)
    b = rng.standard_normal((5, 4)).astype(src)  # used transposed: a non-contiguous operand
    g = rng.standard_normal((3, 5)).astype(np.float32)
    x, y = tg.tensor(a), tg.tensor(b)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    xb, yb = x.bfloat16(), y.to(tg.bfloat16)
    assert xb.dtype == tg.bfloat16 == 'bfloat16' and yb.dtype == tg.bfloat16
    out = ((xb @ yb.T) * 2.5 + 1 - xb.sum(1, keepdim=True) / 3) * tg.tensor(g).bfloat16()
    tout = ((tx.bfloat16() @ ty.bfloat16().T) * 2.5 + 1 - tx.bfloat16().sum(1, keepdim=True) / 3) \
        * torch.tensor(g).bfloat16()
    assert out.dtype == tg.bfloat16
    np.testing.assert_allclose(out.float().numpy(), tout.float().detach().numpy(), rtol=2e-2, atol=5e-2)
    out.float().sum().backward()
    tout.float().sum().backward()
    assert x.grad.dtype == x.dtype and str(x.dtype) == np.dtype(src).name
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=2e-2, atol=5e-2)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=2e-2, atol=5e-2)


@bf16_only
def test_bfloat16_leaves_get_bfloat16_gradients():
    v = tg.tensor(np.arange(4, dtype=np.float32), dtype=tg.bfloat16)
    m = tg.ones(4, 2, dtype=tg.bfloat16, requires_grad=True)
    assert v.requires_grad and m.requires_grad
    (v @ m).sum().backward()
    assert v.grad.dtype == tg.bfloat16 and m.grad.dtype == tg.bfloat16
    np.testing.assert_array_equal(m.grad.float().numpy(), np.repeat(np.arange(4.0)[:, None], 2, 1))
    assert (v + tg.tensor([1, 2, 3, 4])).dtype == tg.bfloat16  # float beats int, as torch
    assert (v + tg.ones(4)).dtype == tg.float32
    assert (v.half() + v).dtype == tg.float32
    assert torch.promote_types(torch.float16, torch.bfloat16) == torch.float32
    assert tg.zeros(0, dtype=tg.bfloat16).shape == (0,) and tg.tensor(1.5).bfloat16().item() == 1.5


# ---------------------------------------------------------------------------- runtime helpers
def test_runtime_helpers():
    assert tg.is_tensor(tg.ones(1)) and tg.is_tensor(nn.Parameter(tg.ones(1))) and not tg.is_tensor(np.ones(1))
    assert tg.numel(tg.ones(2, 3)) == torch.numel(torch.ones(2, 3)) == 6 and tg.numel(tg.ones(0, 3)) == 0
    with pytest.raises(TypeError, match='numel'):
        tg.numel([1, 2])
    assert tg.get_default_dtype() == tg.float32 and str(torch.get_default_dtype()) == 'torch.float32'
    tg.set_default_dtype(tg.float32)
    with pytest.raises(TypeError, match='floating'):
        tg.set_default_dtype(tg.int64)
    with pytest.raises(NotImplementedError, match='float32'):
        tg.set_default_dtype(tg.float64)
    assert tg.get_num_threads() >= 1
    old = tg.get_num_threads()
    with pytest.raises(RuntimeError, match='positive number'):
        tg.set_num_threads(0)
    with pytest.raises(ValueError, match='positive number'):
        tg.set_num_threads(-2)
    assert tg.get_num_threads() == old


def test_set_num_threads_limits_blas():
    code = ("import tensorgrad as tg, threadpoolctl\ntg.set_num_threads(1)\nassert tg.get_num_threads() == 1\n"
            "info = [p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']\n"
            "assert all(n == 1 for n in info), info\n")
    pytest.importorskip('threadpoolctl')
    subprocess.run([sys.executable, '-c', code], check=True)


# ---------------------------------------------------------------------------- nn.modules paths
def test_nn_modules_paths_are_torch_s():
    import tensorgrad.nn.modules.linear
    m = nn.modules
    pairs = [(m.linear.Linear, nn.Linear), (m.conv.Conv2d, nn.Conv2d), (m.module.Module, nn.Module),
             (m.activation.ReLU, nn.ReLU), (m.activation.MultiheadAttention, nn.MultiheadAttention),
             (m.batchnorm.BatchNorm1d, nn.BatchNorm1d), (m.batchnorm.BatchNorm2d, nn.BatchNorm2d),
             (m.normalization.LayerNorm, nn.LayerNorm), (m.dropout.Dropout, nn.Dropout),
             (m.sparse.Embedding, nn.Embedding), (m.rnn.LSTM, nn.LSTM), (m.pooling.MaxPool2d, nn.MaxPool2d),
             (m.loss.CrossEntropyLoss, nn.CrossEntropyLoss), (m.container.Sequential, nn.Sequential),
             (m.flatten.Flatten, nn.Flatten), (m.Linear, nn.Linear), (nn.parameter.Parameter, nn.Parameter),
             (tensorgrad.nn.modules.linear.Linear, nn.Linear)]
    for ours, want in pairs:
        assert ours is want
    for mod in (m.linear, m.conv, m.activation, m.batchnorm, m.loss, m.rnn):
        for name in mod.__all__:
            assert hasattr(getattr(torch.nn.modules, mod.__name__.rsplit('.', 1)[1]), name) or name == 'FocalLoss'
    with pytest.raises(AttributeError, match='no attribute'):
        m.linear.NoSuchLayer


def test_nn_modules_transformer_loads_lazily():
    t = nn.modules.transformer
    try:
        import tensorgrad.nn.transformer as source
    except ImportError:
        with pytest.raises(AttributeError, match='could not be imported'):
            t.Transformer
    else:
        assert t.Transformer is source.Transformer
    with pytest.raises(AttributeError):
        t.__wrapped__


def test_nn_modules_utils_match_torch():
    from tensorgrad.nn.modules import utils as u
    from torch.nn.modules import utils as tu
    for x in (3, (1, 2), [4, 5], (1, 2, 3)):
        for name in ('_single', '_pair', '_triple', '_quadruple'):
            assert getattr(u, name)(x) == getattr(tu, name)(x)
    assert u._reverse_repeat_tuple((1, 2), 2) == tu._reverse_repeat_tuple((1, 2), 2)
    assert u._pair.__name__ == '_pair'
