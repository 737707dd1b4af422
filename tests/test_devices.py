"""Devices: the cpu path never needs CuPy; cuda is a clear error without a GPU, and the
CUDA tests (skipped here with a reason) run on a GPU machine."""
import io
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn

ROOT = Path(__file__).resolve().parent.parent
HAS_CUDA = tg.is_cuda_available()
cuda_only = pytest.mark.skipif(not HAS_CUDA, reason='needs CUDA (CuPy and an NVIDIA GPU)')
no_cuda_only = pytest.mark.skipif(HAS_CUDA, reason='checks the behaviour without CUDA')


def _mlp():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _data(device='cpu'):
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((5, 4)).astype(np.float32), device=device)
    y = tg.tensor(rng.integers(0, 3, 5), device=device)
    return x, y


def _train_step(model, opt, x, y):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss


# ---------------------------------------------------------------------------- without a GPU
def test_cpu_path_never_imports_cupy():
    # every attempt to import cupy is recorded (a failed import leaves nothing in sys.modules)
    code = textwrap.dedent('''
        import sys
        tried = []
        class Spy:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('cupy', 'cupyx'):
                    tried.append(name)
                return None
        sys.meta_path.insert(0, Spy())
        import numpy as np
        import tensorgrad as tg
        from tensorgrad import nn, optim
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.Adam(model.parameters(), lr=1e-2)
        x = tg.tensor(np.ones((5, 4), np.float32))
        loss = nn.functional.cross_entropy(model(x), tg.tensor(np.zeros(5, np.int64)))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched = optim.lr_scheduler.StepLR(opt, 1)
        sched.step()
        assert not tried, tried
        assert 'cupy' not in sys.modules
        print('ok')
    ''')
    res = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == 'ok', res.stderr


@no_cuda_only
def test_is_cuda_available_is_false():
    assert tg.is_cuda_available() is False


@no_cuda_only
@pytest.mark.parametrize('make', [
    lambda: tg.zeros(3, device='cuda'),
    lambda: tg.tensor([1.0, 2.0], device='cuda'),
    lambda: tg.ones(2).to('cuda'),
    lambda: tg.ones(2).cuda(),
    lambda: nn.Linear(2, 3).to('cuda'),
    lambda: nn.Linear(2, 3).cuda(),
], ids=['zeros', 'tensor', 'tensor.to', 'tensor.cuda', 'module.to', 'module.cuda'])
def test_cuda_request_without_cuda_is_a_clear_error(make):
    with pytest.raises(RuntimeError, match='CuPy'):
        make()


@no_cuda_only
def test_failed_module_move_leaves_module_unchanged():
    lin = nn.Linear(2, 3)
    before = lin.weight._data
    with pytest.raises(RuntimeError, match='cuda'):
        lin.to('cuda')
    assert lin.weight._data is before and lin.weight.device is tg.DEVICE.CPU


@no_cuda_only
def test_load_with_map_location_cuda_without_cuda_raises():
    buf = io.BytesIO()
    tg.save({'w': tg.ones(2)}, buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match='cuda'):
        tg.load(buf, map_location='cuda')


def test_optimizer_state_lives_with_its_parameters():
    model = _mlp()
    for opt_cls, kw in [(tg.optim.SGD, dict(lr=0.1, momentum=0.9)), (tg.optim.Adam, dict(amsgrad=True)),
                        (tg.optim.RMSprop, dict(momentum=0.5, centered=True)), (tg.optim.Adagrad, {})]:
        opt = opt_cls(model.parameters(), **kw)
        x, y = _data()
        _train_step(model, opt, x, y)
        for p in model.parameters():
            arrays = [v for v in opt.state[p].values() if not isinstance(v, (int, float))]
            assert arrays, opt_cls.__name__
            for v in arrays:
                assert type(v) is type(p._data) and v.dtype == p._data.dtype, opt_cls.__name__


def test_optimizer_load_state_dict_places_state_on_parameter_device():
    model = _mlp()
    opt = tg.optim.Adam(model.parameters())
    _train_step(model, opt, *_data())
    buf = io.BytesIO()
    tg.save(opt.state_dict(), buf)
    buf.seek(0)
    opt2 = tg.optim.Adam(model.parameters())
    opt2.load_state_dict(tg.load(buf))
    for p in model.parameters():
        for key in ('exp_avg', 'exp_avg_sq'):
            v = opt2.state[p][key]
            assert type(v) is type(p._data)
            np.testing.assert_array_equal(v, opt.state[p][key])
            assert not np.shares_memory(v, opt.state[p][key])


def _as_if_saved_on_cuda(src, dst):
    """Copy checkpoint ``src`` to ``dst`` with every array recorded as a cuda one."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == 'manifest.json':
                data = data.replace(b'"dev": "cpu"', b'"dev": "cuda"')
            zout.writestr(name, data)


@no_cuda_only
@pytest.mark.parametrize('map_location', [None, 'cpu'])
def test_training_checkpoint_from_cuda_resumes_on_cpu(tmp_path, map_location):
    model = _mlp()
    opt = tg.optim.Adam(model.parameters(), lr=0.01)
    _train_step(model, opt, *_data())
    tg.save({'model': model.state_dict(), 'opt': opt.state_dict()}, tmp_path / 'cpu.tg')
    _as_if_saved_on_cuda(tmp_path / 'cpu.tg', tmp_path / 'cuda.tg')
    if map_location is None:
        with pytest.warns(UserWarning, match='CUDA is not available'):
            ckpt = tg.load(tmp_path / 'cuda.tg')
    else:
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            ckpt = tg.load(tmp_path / 'cuda.tg', map_location=map_location)
    resumed = _mlp()
    resumed.load_state_dict(ckpt['model'])
    resumed_opt = tg.optim.Adam(resumed.parameters(), lr=0.01)
    resumed_opt.load_state_dict(ckpt['opt'])
    _train_step(model, opt, *_data())
    _train_step(resumed, resumed_opt, *_data())
    for a, b in zip(model.parameters(), resumed.parameters()):
        assert isinstance(b._data, np.ndarray)
        np.testing.assert_array_equal(a._data, b._data)


# ---------------------------------------------------------------------------- with a GPU
@cuda_only
def test_tensor_round_trip_to_cuda_and_back():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tg.tensor(a)
    t.to('cuda')
    assert t.device is tg.DEVICE.CUDA
    t.to('cpu')
    assert t.device is tg.DEVICE.CPU and isinstance(t._data, np.ndarray)
    np.testing.assert_array_equal(t._data, a)


@cuda_only
def test_module_round_trip_to_cuda_and_back():
    model = _mlp()
    before = {k: v._data.copy() for k, v in model.state_dict().items()}
    model.to('cuda')
    assert all(p.device is tg.DEVICE.CUDA for p in model.parameters())
    model.cpu()
    for k, v in model.state_dict().items():
        assert isinstance(v._data, np.ndarray)
        np.testing.assert_array_equal(v._data, before[k])


@cuda_only
@pytest.mark.parametrize('opt_cls', [tg.optim.SGD, tg.optim.Adam, tg.optim.RMSprop, tg.optim.Adagrad])
def test_training_step_on_cuda_matches_cpu(opt_cls):
    kw = dict(lr=0.05, momentum=0.9) if opt_cls is tg.optim.SGD else dict(lr=0.01)
    cpu_model, gpu_model = _mlp(), _mlp().to('cuda')
    cpu_opt, gpu_opt = opt_cls(cpu_model.parameters(), **kw), opt_cls(gpu_model.parameters(), **kw)
    for _ in range(3):
        _train_step(cpu_model, cpu_opt, *_data())
        _train_step(gpu_model, gpu_opt, *_data('cuda'))
    for p in gpu_model.parameters():
        assert p.device is tg.DEVICE.CUDA
        for v in gpu_opt.state[p].values():
            assert isinstance(v, (int, float)) or type(v) is type(p._data)
    gpu_model.cpu()
    for a, b in zip(cpu_model.parameters(), gpu_model.parameters()):
        np.testing.assert_allclose(a._data, b._data, rtol=1e-4, atol=1e-5)


@cuda_only
def test_optimizer_state_follows_a_parameter_moved_after_steps():
    model = _mlp()
    opt = tg.optim.Adam(model.parameters(), lr=0.01)
    _train_step(model, opt, *_data())
    model.to('cuda')
    _train_step(model, opt, *_data('cuda'))
    for p in model.parameters():
        for key in ('exp_avg', 'exp_avg_sq'):
            assert type(opt.state[p][key]) is type(p._data)


@cuda_only
def test_save_on_cuda_load_on_cpu(tmp_path):
    model = _mlp().to('cuda')
    opt = tg.optim.Adam(model.parameters())
    _train_step(model, opt, *_data('cuda'))
    path = tmp_path / 'ckpt.tg'
    tg.save({'model': model.state_dict(), 'opt': opt.state_dict()}, path)
    ckpt = tg.load(path, map_location='cpu')
    cpu_model = _mlp()
    cpu_model.load_state_dict(ckpt['model'])
    cpu_opt = tg.optim.Adam(cpu_model.parameters())
    cpu_opt.load_state_dict(ckpt['opt'])
    for (name, p), q in zip(cpu_model.named_parameters(), model.parameters()):
        assert isinstance(p._data, np.ndarray), name
        np.testing.assert_array_equal(p._data, q._data.get())
        assert isinstance(cpu_opt.state[p]['exp_avg'], np.ndarray)


@cuda_only
@pytest.mark.parametrize('op', [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a @ b],
                         ids=['add', 'mul', 'matmul'])
def test_mixing_devices_raises_naming_both(op):
    a = tg.ones((2, 2))
    b = tg.ones((2, 2), device='cuda')
    with pytest.raises(RuntimeError) as info:
        op(a, b)
    assert 'cpu' in str(info.value) and 'cuda' in str(info.value)
