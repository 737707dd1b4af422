"""tensorgrad.utils.data: DataLoader batching/shuffling/collation, random_split,
Subset, and the IDX (MNIST) readers on small files written by the tests."""
import collections
import gzip
import struct

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.utils.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, default_collate,
                                   random_split)
from tensorgrad.utils.data.mnist import IDXError, load_mnist, read_idx


class Squares(Dataset):
    """A plain map-style dataset: sample i is (i, i*i as float)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i, float(i * i)

    def __len__(self):
        return self.n


def _first_column(loader):
    return [b[0].numpy().tolist() for b in loader]


# ---------------------------------------------------------------- DataLoader
def test_batches_in_order_with_partial_last_batch():
    loader = DataLoader(Squares(10), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].numpy().tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    ids, sq = batches[1]
    assert ids.dtype == tg.int64 and sq.dtype == tg.float64  # Python floats collate to float64, as torch
    np.testing.assert_array_equal(sq.numpy(), [16, 25, 36, 49])


def test_drop_last():
    loader = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert _first_column(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(Squares(3), batch_size=4, drop_last=True)) == 0
    assert list(DataLoader(Squares(3), batch_size=4, drop_last=True)) == []


def test_default_batch_size_is_one_and_none_disables_batching():
    assert _first_column(DataLoader(Squares(3))) == [[0], [1], [2]]
    assert list(DataLoader(Squares(3), batch_size=None)) == [[0, 0.0], [1, 1.0], [2, 4.0]]  # default_convert, as torch


def test_shuffle_is_a_permutation_and_seed_deterministic():
    def epochs(seed):
        loader = DataLoader(Squares(20), batch_size=6, shuffle=True, generator=seed)
        return [np.concatenate(_first_column(loader)).tolist() for _ in range(3)]

    a, b, c = epochs(1), epochs(1), epochs(2)
    assert a == b  # same seed -> same sequence of epochs
    assert a != c
    assert a[0] != a[1]  # a fresh order every epoch
    for order in a:
        assert sorted(order) == list(range(20))
    # a numpy Generator works too, and the global generator follows manual_seed
    g1 = DataLoader(Squares(20), batch_size=20, shuffle=True, generator=np.random.default_rng(5))
    g2 = DataLoader(Squares(20), batch_size=20, shuffle=True, generator=np.random.default_rng(5))
    assert _first_column(g1) == _first_column(g2)
    tg.manual_seed(3)
    first = _first_column(DataLoader(Squares(20), batch_size=20, shuffle=True))
    tg.manual_seed(3)
    assert _first_column(DataLoader(Squares(20), batch_size=20, shuffle=True)) == first


def test_tensor_dataset_batches_match_default_collate():
    x = tg.tensor(np.arange(30, dtype=np.float32).reshape(10, 3), requires_grad=False)
    y = tg.tensor(np.arange(10), requires_grad=False)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), [6, 7, 8])
    assert yi.item() == 2
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, generator=0))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, generator=0, collate_fn=default_collate))
    assert len(fast) == len(slow) == 3
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
        assert fx.shape[1:] == (3,) and fx.dtype == tg.float32 and fy.dtype == tg.int64
    arrays = TensorDataset(np.arange(6, dtype=np.float32).reshape(3, 2), np.arange(3))
    for bx, by in DataLoader(arrays, batch_size=2):  # arrays are batched into Tensors as default_collate does
        assert isinstance(bx, tg.Tensor) and isinstance(by, tg.Tensor) and by.dtype == tg.int64
    with pytest.raises(ValueError, match='TensorDataset'):
        TensorDataset(x, tg.tensor(np.arange(9), requires_grad=False))


def test_custom_collate_fn():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda samples: [s[0] for s in samples])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_bad_arguments():
    with pytest.raises(ValueError, match='batch_size'):
        DataLoader(Squares(3), batch_size=0)
    with pytest.raises(TypeError, match='generator'):
        DataLoader(Squares(3), shuffle=True, generator='seed')
    with pytest.raises(TypeError, match='dataset'):
        DataLoader(object())


# ---------------------------------------------------------------- default_collate
def test_collate_tensors_arrays_numbers():
    t = default_collate([tg.tensor([1.0, 2.0], requires_grad=False), tg.tensor([3.0, 4.0], requires_grad=False)])
    assert isinstance(t, tg.Tensor) and t.shape == (2, 2)
    a = default_collate([np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)])
    assert isinstance(a, tg.Tensor) and a.shape == (2, 2, 3) and a.dtype == tg.uint8
    assert default_collate([np.float32(1), np.float32(2)]).dtype == tg.float32
    assert default_collate([1, 2, 3]).dtype == tg.int64
    f = default_collate([0.5, 1.5])
    assert f.dtype == tg.float64 and f.numpy().tolist() == [0.5, 1.5]
    assert default_collate([True, False]).dtype == tg.bool
    assert default_collate(['a', 'b']) == ['a', 'b']


def test_collate_keeps_the_graph_of_tensors():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [5.0, 5.0])


def test_collate_nested_structures():
    Point = collections.namedtuple('Point', 'x y')
    samples = [{'img': np.full((2,), i, np.float32), 'meta': (i, Point(i, float(i))), 'tags': [i, -i]}
               for i in range(3)]
    out = default_collate(samples)
    assert set(out) == {'img', 'meta', 'tags'}
    assert out['img'].shape == (3, 2)
    ids, point = out['meta']
    assert isinstance(out['meta'], list) and isinstance(point, Point)  # tuples collate to lists, as torch
    assert ids.numpy().tolist() == [0, 1, 2] and point.y.numpy().tolist() == [0.0, 1.0, 2.0]
    assert isinstance(out['tags'], list) and out['tags'][1].numpy().tolist() == [0, -1, -2]
    od = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert isinstance(od, collections.OrderedDict)


def test_collate_errors():
    with pytest.raises(RuntimeError, match='equal size'):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match='default_collate'):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match='default_collate'):
        default_collate([])


# ---------------------------------------------------------------- random_split / Subset
def test_random_split_lengths_and_fractions():
    ds = Squares(10)
    parts = random_split(ds, [3, 7], generator=0)
    assert [len(p) for p in parts] == [3, 7]
    seen = sorted(p[i][0] for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    again = random_split(ds, [3, 7], generator=0)
    assert [p.indices.tolist() for p in parts] == [p.indices.tolist() for p in again]
    fr = random_split(Squares(11), [0.5, 0.3, 0.2], generator=np.random.default_rng(1))
    assert [len(p) for p in fr] == [6, 3, 2]  # floor(5.5, 3.3, 2.2) = 5, 3, 2 plus the remainder 1 to the first
    with pytest.raises(ValueError, match='add up to'):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match='random_split'):
        random_split(ds, [-1, 11])


def test_subset_and_loader_over_subset():
    x = tg.tensor(np.arange(10, dtype=np.float32), requires_grad=False)
    sub = Subset(TensorDataset(x), [9, 0, 4])
    assert len(sub) == 3 and sub[0][0].item() == 9.0
    assert [b[0].numpy().tolist() for b in DataLoader(sub, batch_size=2)] == [[9.0, 0.0], [4.0]]
    plain = Subset(Squares(10), [5, 6])
    assert _first_column(DataLoader(plain, batch_size=2)) == [[5, 6]]


def test_concat_dataset():
    ds = Squares(3) + Squares(2)
    assert isinstance(ds, ConcatDataset) and len(ds) == 5
    assert [ds[i][0] for i in range(5)] == [0, 1, 2, 0, 1]
    assert ds[-1][0] == 1
    with pytest.raises(IndexError):
        ds[5]


# ---------------------------------------------------------------- IDX readers
def _idx_bytes(arr, code):
    arr = np.asarray(arr)
    header = struct.pack('>BBBB', 0, 0, code, arr.ndim) + struct.pack(f'>{arr.ndim}I', *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder('>')).tobytes()


@pytest.mark.parametrize('compress', [False, True])
@pytest.mark.parametrize('dtype,code', [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_roundtrip(tmp_path, compress, dtype, code):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    raw = _idx_bytes(arr, code)
    path = tmp_path / ('a.idx.gz' if compress else 'a.idx')
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.idx'):
        read_idx(tmp_path / 'missing.idx')
    good = _idx_bytes(np.zeros((4, 2), np.uint8), 0x08)
    cases = {'magic.idx': b'\x01\x00' + good[2:], 'code.idx': good[:2] + b'\x42' + good[3:],
             'short.idx': good[:-1], 'long.idx': good + b'\x00', 'header.idx': good[:6], 'empty.idx': b''}
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(IDXError, match=name):
            read_idx(tmp_path / name)
    (tmp_path / 'bad.gz').write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(IDXError, match='bad.gz'):
        read_idx(tmp_path / 'bad.gz')


def _write_mnist(root, n_train=5, n_test=3, gz=True):
    rng = np.random.default_rng(0)
    for prefix, n in (('train', n_train), ('t10k', n_test)):
        imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for stem, arr, dims in ((f'{prefix}-images-idx3-ubyte', imgs, 3), (f'{prefix}-labels-idx1-ubyte', labels, 1)):
            raw = _idx_bytes(arr, 0x08)
            (root / (stem + ('.gz' if gz else ''))).write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize('gz', [True, False])
def test_load_mnist(tmp_path, gz):
    _write_mnist(tmp_path, gz=gz)
    x, y = load_mnist(tmp_path, 'train')
    assert x.shape == (5, 28, 28) and x.dtype == np.uint8 and y.shape == (5,) and y.dtype == np.int64
    x, y = load_mnist(str(tmp_path), split='test')
    assert x.shape == (3, 28, 28) and y.shape == (3,)
    with pytest.raises(ValueError, match='split'):
        load_mnist(tmp_path, 'valid')


def test_load_mnist_missing_and_corrupt_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'train-images-idx3-ubyte.*apt-get install dataset-fashion-mnist'):
        load_mnist(tmp_path)
    _write_mnist(tmp_path)
    (tmp_path / 't10k-labels-idx1-ubyte.gz').write_bytes(b'garbage')
    with pytest.raises(IDXError, match=r't10k-labels-idx1-ubyte.gz.*--data DIR'):
        load_mnist(tmp_path, 'test')
    # labels that do not match the images
    (tmp_path / 't10k-labels-idx1-ubyte.gz').write_bytes(gzip.compress(_idx_bytes(np.zeros(4, np.uint8), 0x08)))
    with pytest.raises(IDXError, match='labels of shape'):
        load_mnist(tmp_path, 'test')
