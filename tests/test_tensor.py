"""The Tensor class: construction and dtype inference, the reference's
classmethod factories, PyTorch-style module factories, DTYPE/DEVICE enums,
conversions and device moves."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import assert_close


def test_tensor_stands_for_the_class():
    t = tg.tensor([[1, 2]])
    assert type(t) is tg.Tensor and t.shape == (1, 2)
    assert isinstance(t, tg.tensor) and issubclass(tg.Tensor, tg.tensor)
    assert not isinstance([1], tg.tensor)


@pytest.mark.parametrize('data,dtype', [
    ([1.0, 2.0], 'float32'), ([1, 2], 'int64'), ([True, False], 'bool'), (3.5, 'float32'), (3, 'int64'),
    (True, 'bool'), ([[1, 2.5]], 'float32'), ([], 'float32'),
])
def test_dtype_inference_like_torch(data, dtype):
    t = tg.tensor(data)
    assert t.dtype == dtype
    assert str(torch.tensor(data).dtype) == 'torch.' + dtype
    np.testing.assert_array_equal(t.numpy(), torch.tensor(data).numpy())


@pytest.mark.parametrize('np_dtype', [np.float64, np.float32, np.int32, np.int64, np.bool_, np.float16])
def test_numpy_arrays_keep_their_dtype(np_dtype, device):
    arr = np.zeros((2, 2), dtype=np_dtype)
    t = tg.tensor(arr, device=device)
    assert t.dtype == np.dtype(np_dtype).name
    assert tg.tensor(arr, dtype='float32', device=device).dtype == tg.float32
    assert tg.tensor(arr, dtype=tg.DTYPE.INT64, device=device).dtype == tg.int64


def test_constructor_signature_and_defaults(device):
    t = tg.tensor([1.0, 2.0], tg.DTYPE.FLOAT64, device, True, 'w')
    assert t.dtype == tg.DTYPE.FLOAT64 and t.requires_grad and t.name == 'w' and t.is_leaf and t.grad is None
    assert tg.tensor([1.0]).requires_grad  # the reference's default
    assert not tg.tensor([1, 2]).requires_grad  # only floating tensors require grad
    assert tg.tensor([1.0], requires_grad=False).requires_grad is False
    assert t.device == 'cpu' if device == 'cpu' else t.device == 'cuda'


def test_construct_from_tensor_and_list_of_tensors(device):
    a = tg.tensor([1.0, 2.0], device=device)
    b = tg.tensor(a)
    assert_close(b, a)
    c = tg.tensor([tg.tensor(1.0), tg.tensor(2.0)])
    assert c.shape == (2,) and c.dtype == tg.float32


def test_ragged_and_bad_data_raise():
    with pytest.raises(ValueError, match='tensor'):
        tg.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match='tensor'):
        tg.tensor(['a', 'b'])
    with pytest.raises(TypeError, match='dtype'):
        tg.tensor([1.0], dtype='complex7')


def test_enums_are_strings():
    assert tg.DTYPE.FLOAT32 == 'float32' and tg.DTYPE.INT64 == 'int64' and tg.DTYPE.BOOL == 'bool'
    assert tg.DTYPE.FLOAT64 == 'float64' and tg.DTYPE.INT32 == 'int32'
    assert tg.DEVICE.CPU == 'cpu' and tg.DEVICE.CUDA == 'cuda'
    assert tg.float32 == 'float32' and tg.long == 'int64'
    t = tg.tensor([1.0], dtype='float64', device='cpu')
    assert t.dtype == tg.DTYPE.FLOAT64 and t.device == tg.DEVICE.CPU
    assert isinstance(t.dtype, str) and isinstance(t.device, str)


# ---------------------------------------------------------------------- classmethod factories (reference)
@pytest.mark.parametrize('name', ['zeros', 'ones', 'empty', 'rand', 'randn'])
def test_classmethod_shape_factories(name, device):
    t = getattr(tg.tensor, name)(2, 3, device=device)
    assert t.shape == (2, 3) and t.dtype == tg.float32 and t.requires_grad
    t = getattr(tg.tensor, name)(4, dtype=tg.DTYPE.FLOAT64, device=device, requires_grad=False)
    assert t.shape == (4,) and t.dtype == tg.float64 and not t.requires_grad


def test_classmethod_values(device):
    assert (tg.tensor.zeros(2, 2, device=device).numpy() == 0).all()
    assert (tg.tensor.ones(3, device=device).numpy() == 1).all()
    r = tg.tensor.rand(1000, device=device).numpy()
    assert r.min() >= 0 and r.max() < 1
    n = tg.tensor.randn(4000, mu=3.0, sigma=0.5, device=device).numpy()
    assert abs(n.mean() - 3.0) < 0.05 and abs(n.std() - 0.5) < 0.05
    ri = tg.tensor.randint(2, 5, (3, 4), device=device)
    assert ri.shape == (3, 4) and ri.dtype == tg.int64 and ri.numpy().min() >= 2 and ri.numpy().max() < 5
    assert not ri.requires_grad
    b = tg.tensor.bernoulli(0.3, (2000,), device=device)
    assert b.shape == (2000,) and set(np.unique(b.numpy())) <= {0.0, 1.0} and abs(b.numpy().mean() - 0.3) < 0.05
    a = tg.tensor.arange(5, device=device)
    np.testing.assert_array_equal(a.numpy(), np.arange(5))
    assert tg.tensor.arange(4, dtype='float32', device=device).requires_grad


def test_instance_like_factories(device):
    t = tg.tensor([[1.0, 2.0]], dtype='float64', device=device)
    z, o = t.zeros_like(), t.ones_like()
    assert z.shape == (1, 2) and z.dtype == tg.float64 and (z.numpy() == 0).all() and (o.numpy() == 1).all()
    f = t.from_data([[5, 6]])
    assert f.dtype == tg.float64 and f.tolist() == [[5.0, 6.0]]


# ---------------------------------------------------------------------- module-level factories (PyTorch style)
def test_module_factories_like_torch(device):
    for name in ('zeros', 'ones', 'empty', 'rand', 'randn'):
        t = getattr(tg, name)(2, 3, device=device)
        r = getattr(torch, name)(2, 3)
        assert t.shape == tuple(r.shape) and str(t.dtype) == 'float32' and not t.requires_grad
        assert getattr(tg, name)((2, 3), device=device).shape == (2, 3)
    assert_close(tg.full((2, 2), 7.0, device=device), torch.full((2, 2), 7.0))
    assert tg.full((2,), 3, device=device).dtype == tg.int64
    assert_close(tg.eye(3, device=device), torch.eye(3))
    assert_close(tg.eye(2, 3, device=device), torch.eye(2, 3))
    for args in ((5,), (1, 4), (0, 10, 3), (0.0, 1.0, 0.25)):
        out, ref = tg.arange(*args, device=device), torch.arange(*args)
        assert_close(out, ref)
        assert str(out.dtype) == str(ref.dtype).replace('torch.', '')
    x = tg.tensor([[1.0, 2.0]], device=device)
    for name in ('zeros_like', 'ones_like', 'rand_like', 'randn_like', 'empty_like'):
        assert getattr(tg, name)(x).shape == (1, 2)
    assert_close(tg.full_like(x, 2.0), torch.full((1, 2), 2.0))
    assert tg.zeros(2, requires_grad=True).requires_grad


def test_manual_seed_reproducible(device):
    tg.manual_seed(123)
    a = tg.rand(5, device=device).numpy().copy()
    b = tg.randn(5, device=device).numpy().copy()
    tg.manual_seed(123)
    np.testing.assert_array_equal(tg.rand(5, device=device).numpy(), a)
    np.testing.assert_array_equal(tg.randn(5, device=device).numpy(), b)
    tg.manual_seed(124)
    assert not np.array_equal(tg.rand(5, device=device).numpy(), a)


def test_factory_errors():
    with pytest.raises(ValueError, match='zeros'):
        tg.zeros(-1, 2)
    with pytest.raises(TypeError, match='ones'):
        tg.ones('a')


# ---------------------------------------------------------------------- conversions
def test_numpy_tolist_item_copy(device):
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().dtype == np.float32
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tg.tensor(2.5).item() == 2.5 and isinstance(tg.tensor(2).item(), int)
    assert tg.tensor([[7.0]]).item() == 7.0
    with pytest.raises(ValueError, match='item'):
        t.item()
    c = t.copy()
    assert_close(c, t)
    assert not np.shares_memory(c.numpy(), t.numpy())
    assert float(tg.tensor(1.5)) == 1.5 and int(tg.tensor(3)) == 3
    assert tg.tensor(5.0).tolist() == 5.0


def test_to_and_cpu_default_inplace():
    t = tg.tensor([1.0, 2.0])
    assert t.cpu() is t and t.to('cpu') is t and t.to(tg.DEVICE.CPU) is t
    d = t.to('float64')
    assert d.dtype == tg.float64 and t.dtype == tg.float32
    assert t.to(device='cpu', dtype='int64').dtype == tg.int64


def test_cuda_unavailable_raises_clearly():
    if tg.is_cuda_available():
        pytest.skip('CUDA is available here')
    assert tg.ctx.is_cuda_available() is False
    with pytest.raises(RuntimeError, match='cuda'):
        tg.tensor([1.0], device='cuda')
    with pytest.raises(RuntimeError, match='cuda'):
        tg.zeros(2, device='cuda')
    t = tg.tensor([1.0])
    with pytest.raises(RuntimeError, match='cuda'):
        t.cuda()
    assert t.device == 'cpu'
    with pytest.raises(ValueError, match='device'):
        tg.tensor([1.0], device='tpu')


@pytest.mark.skipif(not tg.is_cuda_available(), reason='needs CUDA')
def test_cuda_moves_and_mixing_raises():
    t = tg.tensor([1.0, 2.0])
    c = t.cuda(inplace=False)
    assert c.device == 'cuda' and t.device == 'cpu'
    with pytest.raises(RuntimeError, match='cpu.*cuda|cuda.*cpu'):
        t + c
    (c * 2).sum().backward()
    assert t.grad.device == 'cpu'
    assert t.cuda() is t and t.device == 'cuda'


def test_repr_and_len_and_iter():
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 'tensor(' in repr(t) and 'requires_grad=True' in repr(t)
    assert 'grad_fn' in repr(t * 2)
    assert len(t) == 2 and [r.tolist() for r in t] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError):
        len(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match='ambiguous'):
        bool(t)
    assert bool(tg.tensor([1.0]))


def test_pickle_roundtrip():
    import pickle
    t = tg.tensor([1.0, 2.0], name='w')
    u = pickle.loads(pickle.dumps(t))
    assert_close(u, t)
    assert u.requires_grad and u.name == 'w'
