"""PyTorch-style serialization: whole modules with save/load(weights_only=False),
the safe default loader and its allow-list (add_safe_globals / safe_globals),
Parameter's constructors, torch state dicts into load_state_dict,
init_from_torch (weights only), and the size-mismatch warning of regression losses."""
import io
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn, serialization
from tensorgrad.nn import functional as F


@pytest.fixture(autouse=True)
def _clean_allow_list():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


class Point:
    """A user class (module level, so it pickles by reference)."""

    def __init__(self, x, t):
        self.x = x
        self.t = t


def _model():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4))


MODEL_CLASSES = [nn.Sequential, nn.Linear, nn.ReLU, nn.BatchNorm1d]


# ---------------------------------------------------------------- whole modules
def test_whole_module_round_trip_with_weights_only_false(tmp_path):
    model = _model()
    model(tg.randn(5, 3))  # running stats move away from their initial values
    model.eval()
    tg.save(model, tmp_path / 'm.tgc')
    loaded = tg.load(tmp_path / 'm.tgc', weights_only=False)
    assert type(loaded) is nn.Sequential and repr(loaded) == repr(model) and not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and type(a) is type(b)
        np.testing.assert_array_equal(a._data, b._data)
    assert type(loaded[0].weight) is nn.Parameter and loaded[0].weight.requires_grad
    x = tg.randn(2, 3, requires_grad=False)
    np.testing.assert_array_equal(loaded(x)._data, model(x)._data)
    loaded(x).sum().backward()  # the loaded parameters are live leaves
    assert loaded[0].weight.grad.shape == (4, 3)


def test_default_load_refuses_pickled_objects_and_says_how_to_opt_in(tmp_path):
    tg.save(_model(), tmp_path / 'm.tgc')
    with pytest.raises(pickle.UnpicklingError, match=r'(?s)Sequential.*weights_only=False.*add_safe_globals'):
        tg.load(tmp_path / 'm.tgc')
    with pytest.raises(serialization.WeightsOnlyError):
        tg.load(tmp_path / 'm.tgc', weights_only=True)


def test_allow_listed_classes_load_safely(tmp_path):
    model = _model()
    tg.save({'model': model, 'point': Point(3, tg.ones(2)), 'tags': {'a', 'b'}}, tmp_path / 'ck')
    with serialization.safe_globals(MODEL_CLASSES):
        assert serialization.get_safe_globals() == MODEL_CLASSES
        with pytest.raises(pickle.UnpicklingError, match='Point'):
            tg.load(tmp_path / 'ck')  # Point is still not allowed
    assert serialization.get_safe_globals() == []  # the context manager restored the list
    serialization.add_safe_globals(MODEL_CLASSES + [(Point, f'{__name__}.Point')])
    out = tg.load(tmp_path / 'ck')
    assert isinstance(out['model'], nn.Sequential) and out['tags'] == {'a', 'b'}
    assert out['point'].x == 3 and out['point'].t.numpy().tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(out['model'][0].weight._data, model[0].weight._data)
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(TypeError, match='add_safe_globals'):
        serialization.add_safe_globals([3])


def test_tensors_inside_pickled_objects_share_with_the_rest(tmp_path):
    model = _model()
    tg.save({'model': model, 'sd': model.state_dict(), 'w': model[0].weight}, tmp_path / 'ck')
    out = tg.load(tmp_path / 'ck', weights_only=False)
    assert out['w'] is out['model'][0].weight
    with zipfile.ZipFile(tmp_path / 'ck') as zf:
        names = zf.namelist()
    assert any(n.startswith('pickles/') for n in names) and any(n.startswith('arrays/') for n in names)
    # plain state dicts stay pickle-free (version 1 archives)
    tg.save(model.state_dict(), tmp_path / 'sd')
    with zipfile.ZipFile(tmp_path / 'sd') as zf:
        assert not any(n.startswith('pickles/') for n in zf.namelist())
    assert set(tg.load(tmp_path / 'sd')) == set(model.state_dict())


class _Boom:
    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


def test_forged_pickle_entry_runs_no_code_by_default(tmp_path, monkeypatch):
    payload = pickle.dumps(_Boom(), protocol=2)
    called = []
    monkeypatch.setattr(os, 'system', lambda *a: called.append(a))
    tg.save({'p': Point(1, 2)}, tmp_path / 'ck')
    with zipfile.ZipFile(tmp_path / 'ck') as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries['pickles/0.pkl'] = payload
    with zipfile.ZipFile(tmp_path / 'forged', 'w') as zf:
        for n, data in entries.items():
            zf.writestr(n, data)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        tg.load(tmp_path / 'forged')
    serialization.add_safe_globals([Point])
    with pytest.raises(pickle.UnpicklingError, match='system'):
        tg.load(tmp_path / 'forged')
    assert called == []


def test_failed_save_leaves_the_target_as_it_was(tmp_path):
    path = tmp_path / 'ck'
    tg.save({'ok': tg.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match='pickling it failed'):
        tg.save({'model': _model(), 'bad': (lambda: 0)}, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ['ck']


def test_load_arguments_as_torch(tmp_path):
    tg.save(_model(), tmp_path / 'm')
    with pytest.raises(RuntimeError, match='pickle_module'):
        tg.load(tmp_path / 'm', pickle_module=pickle)
    assert isinstance(tg.load(tmp_path / 'm', pickle_module=pickle, weights_only=False), nn.Sequential)
    buf = io.BytesIO()
    tg.save([1, Point(2, None)], buf, pickle_protocol=4)
    buf.seek(0)
    one, p = tg.load(buf, weights_only=False)
    assert one == 1 and p.x == 2


# ---------------------------------------------------------------- Parameter
def test_parameter_constructors():
    empty, theirs = nn.Parameter(), torch.nn.Parameter()
    assert empty.shape == tuple(theirs.shape) == (0,) and empty.dtype == tg.float32 and empty.requires_grad
    assert repr(empty).startswith('Parameter containing:\ntensor(') and repr(theirs).startswith(
        'Parameter containing:\ntensor(')
    arr = np.ones(3, np.float32)
    p = nn.Parameter(arr)
    arr[0] = 7.0
    assert p._data[0] == 7.0 and isinstance(p, tg.Tensor)  # shares memory
    assert not nn.Parameter(tg.ones(2), False).requires_grad  # torch's positional requires_grad
    assert not nn.Parameter(data=tg.ones(2), requires_grad=False).requires_grad
    q = nn.Parameter([1, 2], tg.float64, 'cpu', requires_grad=True)  # the reference's form
    assert q.dtype == tg.float64 and q.requires_grad and q.device == tg.DEVICE.CPU
    r = nn.Parameter([1.5], dtype=tg.float64, device='cpu', requires_grad=False)
    assert r.dtype == tg.float64 and not r.requires_grad
    with pytest.raises(RuntimeError, match='floating point'):
        torch.nn.Parameter(torch.arange(3))
    with pytest.raises(RuntimeError, match='floating point'):
        nn.Parameter(np.arange(3))
    assert nn.Parameter(np.arange(3), requires_grad=False).dtype == tg.int64


# ---------------------------------------------------------------- torch state dicts and init_from_torch
def _pairs():
    torch.manual_seed(0)
    return [
        (nn.Linear(4, 3), torch.nn.Linear(4, 3), (2, 4)),
        (nn.Conv2d(2, 3, 3, padding=1), torch.nn.Conv2d(2, 3, 3, padding=1), (1, 2, 5, 5)),
        (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), (2, 3, 4, 4)),
        (nn.LSTM(4, 5, num_layers=2), torch.nn.LSTM(4, 5, num_layers=2), (3, 2, 4)),
        (nn.Embedding(10, 4), torch.nn.Embedding(10, 4), None),
        (nn.LayerNorm(4), torch.nn.LayerNorm(4), (2, 3, 4)),
    ]


def _randomise(theirs):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for t in list(theirs.parameters()) + [b for b in theirs.buffers() if b.is_floating_point()]:
            t.copy_(torch.rand(t.shape, generator=g) + 0.5)  # positive: valid running variances
    for name, b in theirs.named_buffers():
        if not b.is_floating_point():
            b.fill_(7)


@pytest.mark.parametrize('index', range(6))
def test_load_state_dict_takes_torch_tensors(index):
    mine, theirs, shape = _pairs()[index]
    _randomise(theirs)
    result = mine.load_state_dict(theirs.state_dict())
    assert result == ([], []) and repr(result) == '<All keys matched successfully>'
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[k]._data, v.numpy())
    mine.eval()
    theirs.eval()
    if shape is None:
        x, tx = tg.tensor(np.array([[1, 2], [3, 9]]), requires_grad=False), torch.tensor([[1, 2], [3, 9]])
    else:
        data = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        x, tx = tg.tensor(data, requires_grad=False), torch.tensor(data)
    out, tout = mine(x), theirs(tx)
    out, tout = (out[0], tout[0]) if isinstance(out, tuple) else (out, tout)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_load_state_dict_strict_false_returns_incompatible_keys_as_torch():
    mine, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    sd = {'weight': torch.zeros(3, 2), 'extra': torch.ones(1)}
    got, want = mine.load_state_dict(sd, strict=False), theirs.load_state_dict(sd, strict=False)
    assert got == want and got.missing_keys == ['bias'] and got.unexpected_keys == ['extra']
    assert repr(got) == repr(want) and type(got).__name__ == type(want).__name__ == '_IncompatibleKeys'
    assert mine.weight.numpy().tolist() == [[0.0, 0.0]] * 3
    with pytest.raises(RuntimeError, match='Missing key'):
        nn.Linear(2, 3).load_state_dict({'weight': torch.zeros(3, 2)})


def test_init_from_torch_copies_weights_not_running_stats():
    theirs = torch.nn.BatchNorm2d(3)
    _randomise(theirs)
    mine = nn.BatchNorm2d(3).init_from_torch(theirs)
    np.testing.assert_array_equal(mine.weight.numpy(), theirs.weight.detach().numpy())
    np.testing.assert_array_equal(mine.bias.numpy(), theirs.bias.detach().numpy())
    assert mine.running_mean.numpy().tolist() == [0.0] * 3 and mine.running_var.numpy().tolist() == [1.0] * 3
    assert int(mine.num_batches_tracked.item()) == 0
    mine.load_state_dict(theirs.state_dict())  # the running statistics come with the state dict
    np.testing.assert_array_equal(mine.running_var.numpy(), theirs.running_var.numpy())
    assert int(mine.num_batches_tracked.item()) == 7
    # nested: a Sequential holding BatchNorm and an LSTM
    seq_t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    _randomise(seq_t)
    seq = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).init_from_torch(seq_t)
    np.testing.assert_array_equal(seq[0].weight.numpy(), seq_t[0].weight.detach().numpy())
    assert seq[1].running_mean.numpy().tolist() == [0.0] * 3
    lstm_t = torch.nn.LSTM(3, 2)
    lstm = nn.LSTM(3, 2).init_from_torch(lstm_t)
    np.testing.assert_array_equal(lstm.weight_hh_l0.numpy(), lstm_t.weight_hh_l0.detach().numpy())


def test_init_from_torch_checks_every_shape_before_writing():
    mine = nn.Linear(3, 2)
    before = mine.weight.numpy().copy()
    bad = torch.nn.Linear(3, 2)
    bad.bias = torch.nn.Parameter(torch.zeros(5))
    with pytest.raises(ValueError, match=r'bias.*\(5,\).*\(2,\)'):
        mine.init_from_torch(bad)
    np.testing.assert_array_equal(mine.weight.numpy(), before)


# ---------------------------------------------------------------- regression losses with mismatched shapes
LOSSES = [('mse_loss', {}), ('l1_loss', {}), ('smooth_l1_loss', {'beta': 0.5}), ('huber_loss', {'delta': 0.7})]


@pytest.mark.parametrize('name,kw', LOSSES)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shapes', [((3, 4), (4,)), ((4,), (3, 4)), ((2, 1, 3), (2, 3)), ((3, 4), ())])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_broadcasting_losses_warn_and_match_torch(name, kw, dtype, shapes, reduction):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    x, t = tg.tensor(a), tg.tensor(b)
    tx, tt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    with pytest.warns(UserWarning, match='Using a target size') as mine:
        out = getattr(F, name)(x, t, reduction=reduction, **kw)
    with pytest.warns(UserWarning, match='Using a target size'):
        tout = getattr(torch.nn.functional, name)(tx, tt, reduction=reduction, **kw)
    assert 'different to the input size' in str(mine[0].message)
    assert out.shape == tuple(tout.shape) and out.dtype == getattr(tg, dtype)
    g = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    (out * tg.tensor(g, requires_grad=False)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    tol = 1e-5 if dtype == 'float32' else 1e-12
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=tol, atol=tol)


def test_loss_modules_warn_and_bad_shapes_raise():
    with pytest.warns(UserWarning, match=r'Using a target size \(4,\) that is different to the input size \(3, 4\)'):
        nn.MSELoss()(tg.zeros(3, 4), tg.zeros(4))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        nn.MSELoss()(tg.zeros(3, 4), tg.zeros(3, 4))  # same shapes: no warning
    with pytest.raises(RuntimeError), pytest.warns(UserWarning):
        torch.nn.MSELoss()(torch.zeros(3, 4), torch.zeros(3))
    with pytest.raises(RuntimeError, match=r'mse_loss.*\(3, 4\).*\(3,\)'):
        nn.MSELoss()(tg.zeros(3, 4), tg.zeros(3))
