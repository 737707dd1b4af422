"""tensorgrad.utils.data against torch.utils.data: samplers, DataLoader's argument
rules and lengths, collation, random_split, and real worker processes."""
import collections
import os
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import tensorgrad as tg
from tensorgrad.utils import data as tgd


class Squares:
    """Map-style dataset usable by both libraries: sample i is (i, i*i as float, array)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, float(i * i), np.full(2, i, np.float32)

    def __len__(self):
        return self.n


class TgSquares(Squares, tgd.Dataset):
    pass


class TorchSquares(Squares, tud.Dataset):
    pass


def _plain(x):
    """A batch of either library as nested Python lists / numbers (+ dtype names)."""
    if isinstance(x, (tg.Tensor, torch.Tensor)):
        return ('T', str(x.dtype).replace('torch.', ''), x.detach().numpy().tolist() if isinstance(x, torch.Tensor)
                else x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    return x


class FakeGenerator:
    """Stands for ``tensorgrad.Generator``: what the loaders use is its ``_rng``."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)


# ---------------------------------------------------------------- samplers
def test_sequential_and_batch_sampler_match_torch():
    assert list(tgd.SequentialSampler(range(5))) == list(tud.SequentialSampler(range(5)))
    assert len(tgd.SequentialSampler(range(5))) == 5
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True), (0, 2, False)]:
        mine, theirs = tgd.BatchSampler(range(n), bs, drop), tud.BatchSampler(range(n), bs, drop)
        assert list(mine) == list(theirs)
        assert len(mine) == len(theirs)


@pytest.mark.parametrize('args', [dict(batch_size=0, drop_last=False), dict(batch_size=2.0, drop_last=False),
                                  dict(batch_size=True, drop_last=False), dict(batch_size=2, drop_last=1)])
def test_batch_sampler_errors_match_torch(args):
    with pytest.raises(ValueError) as theirs:
        tud.BatchSampler(range(4), **args)
    with pytest.raises(ValueError) as mine:
        tgd.BatchSampler(range(4), **args)
    assert str(mine.value) == str(theirs.value)


def test_random_sampler_permutations_and_draws():
    ds = range(7)
    for gen in (3, np.random.default_rng(3), FakeGenerator(3), tg.Generator().manual_seed(3)):
        s = tgd.RandomSampler(ds, generator=gen)
        e1, e2 = list(s), list(s)
        assert sorted(e1) == sorted(e2) == list(range(7)) and e1 != e2  # a fresh order every epoch
        assert all(type(i) is int for i in e1)
    assert list(tgd.RandomSampler(ds, generator=FakeGenerator(1))) == list(tgd.RandomSampler(ds, generator=1))
    assert list(tgd.RandomSampler(ds, generator=tg.Generator().manual_seed(5))) == \
        list(tgd.RandomSampler(ds, generator=tg.Generator().manual_seed(5)))
    long = list(tgd.RandomSampler(ds, num_samples=17, generator=0))  # 2 full permutations + 3
    assert len(long) == 17 == len(tgd.RandomSampler(ds, num_samples=17))
    assert sorted(long[:7]) == sorted(long[7:14]) == list(range(7)) and len(set(long[14:])) == 3
    drawn = list(tgd.RandomSampler(ds, replacement=True, num_samples=200, generator=0))
    assert len(drawn) == 200 and set(drawn) == set(range(7))  # duplicates, within range
    tg.manual_seed(4)
    a = list(tgd.RandomSampler(ds))
    tg.manual_seed(4)
    assert list(tgd.RandomSampler(ds)) == a  # generator=None follows tensorgrad.manual_seed


def test_random_sampler_length_follows_the_dataset():
    data = [1, 2, 3]
    s, t = tgd.RandomSampler(data), tud.RandomSampler(data)
    data.append(4)
    assert len(s) == len(t) == 4 and s.num_samples == t.num_samples


@pytest.mark.parametrize('kwargs', [dict(replacement=1), dict(num_samples=0), dict(num_samples=2.5),
                                    dict(num_samples=-1)])
def test_random_sampler_errors_match_torch(kwargs):
    with pytest.raises((TypeError, ValueError)) as theirs:
        tud.RandomSampler(range(4), **kwargs)
    with pytest.raises(theirs.type) as mine:
        tgd.RandomSampler(range(4), **kwargs)
    assert str(mine.value) == str(theirs.value)


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    s = tgd.SubsetRandomSampler(idx, generator=0)
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == idx and e1 != e2 and len(s) == 4


def test_weighted_random_sampler():
    w = [0.0, 1.0, 3.0, 0.0]
    drawn = list(tgd.WeightedRandomSampler(w, 4000, generator=0))
    counts = np.bincount(drawn, minlength=4)
    assert counts[0] == counts[3] == 0 and 2.5 < counts[2] / counts[1] < 3.5
    no_rep = list(tgd.WeightedRandomSampler(tg.tensor([1.0, 1.0, 5.0], requires_grad=False), 3,
                                            replacement=False, generator=0))
    assert sorted(no_rep) == [0, 1, 2] and len(tgd.WeightedRandomSampler(w, 7)) == 7
    for kwargs in (dict(num_samples=0), dict(num_samples=2, replacement=1)):
        with pytest.raises(ValueError) as theirs:
            tud.WeightedRandomSampler(w, **kwargs)
        with pytest.raises(ValueError) as mine:
            tgd.WeightedRandomSampler(w, **kwargs)
        assert str(mine.value) == str(theirs.value)
    with pytest.raises(ValueError, match='1d sequence'):
        tgd.WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(RuntimeError, match='without replacement'):
        tgd.WeightedRandomSampler(w, 3, replacement=False)
    with pytest.raises(RuntimeError, match='non-negative'):
        tgd.WeightedRandomSampler([1.0, -1.0], 2)


# ---------------------------------------------------------------- DataLoader arguments and lengths
class TgStream(tgd.IterableDataset):
    """0..n-1, split between workers by get_worker_info() (works in both libraries)."""

    def __init__(self, n, info=tgd.get_worker_info):
        self.n = n
        self.info = info

    def __iter__(self):
        w = self.info()
        lo, step = (0, 1) if w is None else (w.id, w.num_workers)
        return iter(range(lo, self.n, step))

    def __len__(self):
        return self.n


class TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.inner = TgStream(n, tud.get_worker_info)

    def __iter__(self):
        return iter(self.inner)

    def __len__(self):
        return self.inner.n


BAD_ARGS = [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(num_workers=1, prefetch_factor=-1),
    dict(shuffle=True, sampler='S'), dict(batch_sampler='B', batch_size=2), dict(batch_sampler='B', shuffle=True),
    dict(batch_sampler='B', sampler='S'), dict(batch_sampler='B', drop_last=True),
    dict(batch_size=None, drop_last=True),
]


@pytest.mark.parametrize('kwargs', BAD_ARGS)
def test_dataloader_argument_errors_match_torch(kwargs):
    def build(lib, ds):
        kw = dict(kwargs)
        if kw.get('sampler') == 'S':
            kw['sampler'] = lib.SequentialSampler(ds)
        if kw.get('batch_sampler') == 'B':
            kw['batch_sampler'] = lib.BatchSampler(lib.SequentialSampler(ds), 2, False)
        return lib.DataLoader(ds, **kw)

    with pytest.raises(ValueError) as theirs:
        build(tud, TorchSquares(4))
    with pytest.raises(ValueError) as mine:
        build(tgd, TgSquares(4))
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize('kwargs', [dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0, 1]])])
def test_iterable_dataset_rejects_samplers_like_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        tud.DataLoader(TorchStream(4), **kwargs)
    with pytest.raises(ValueError) as mine:
        tgd.DataLoader(TgStream(4), **kwargs)
    assert str(mine.value).split(', but')[0] == str(theirs.value).split(', but')[0]


def test_attributes_are_frozen_after_init_like_torch():
    for lib, ds in ((tud, TorchSquares(4)), (tgd, TgSquares(4))):
        loader = lib.DataLoader(ds)
        with pytest.raises(ValueError, match='batch_size attribute should not be set'):
            loader.batch_size = 3
        loader.num_workers = 0  # not frozen


LOADER_CONFIGS = [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                  dict(batch_size=4, sampler='seq'), dict(batch_sampler='b'), dict(batch_size=20),
                  dict(batch_size=20, drop_last=True)]


@pytest.mark.parametrize('kwargs', LOADER_CONFIGS)
def test_deterministic_batches_and_len_match_torch(kwargs):
    def build(lib, ds):
        kw = dict(kwargs)
        if kw.get('sampler') == 'seq':
            kw['sampler'] = lib.SequentialSampler(ds)
        if kw.get('batch_sampler') == 'b':
            kw['batch_sampler'] = [[3, 1], [0], [9, 8, 7]]
        return lib.DataLoader(ds, **kw)

    mine, theirs = build(tgd, TgSquares(10)), build(tud, TorchSquares(10))
    assert len(mine) == len(theirs)
    assert [_plain(b) for b in mine] == [_plain(b) for b in theirs]


@pytest.mark.parametrize('kwargs', [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)])
def test_iterable_dataset_batches_and_len_match_torch(kwargs):
    mine, theirs = tgd.DataLoader(TgStream(10), **kwargs), tud.DataLoader(TorchStream(10), **kwargs)
    assert len(mine) == len(theirs)
    assert [_plain(b) for b in mine] == [_plain(b) for b in theirs]


def test_shuffle_uses_the_generator_and_is_a_permutation():
    for gen in (np.random.default_rng(0), FakeGenerator(0), 0):
        loader = tgd.DataLoader(TgSquares(12), batch_size=5, shuffle=True, generator=gen)
        epochs = [np.concatenate([b[0].numpy() for b in loader]).tolist() for _ in range(2)]
        assert sorted(epochs[0]) == list(range(12)) and epochs[0] != epochs[1]
    with pytest.raises(TypeError, match='generator'):
        tgd.DataLoader(TgSquares(3), generator='seed')


def test_collated_batches_never_require_grad():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    for ds in (TgSquares(6), tgd.TensorDataset(x, np.arange(6)),
               tgd.TensorDataset(tg.tensor(x, requires_grad=False))):
        for batch in tgd.DataLoader(ds, batch_size=4, shuffle=True, generator=0):
            assert all(not t.requires_grad for t in batch if isinstance(t, tg.Tensor))
    assert not tgd.default_collate([1.5, 2.5]).requires_grad
    assert not tgd.default_convert(np.ones(2)).requires_grad


def test_default_collate_and_convert_match_torch():
    Point = collections.namedtuple('Point', 'x y')
    samples = [{'i': i, 'f': i / 2, 'b': bool(i % 2), 'a': np.full((2,), i, np.int16), 's': f's{i}',
                'np': np.float32(i), 'tup': (i, [i, -i]), 'p': Point(i, float(i))} for i in range(3)]
    assert _plain(tgd.default_collate(samples)) == _plain(tud.default_collate(samples))
    for sample in (samples[1], (np.arange(3), 2, 'x'), [np.float64(1.5)], 'text', 3):
        assert _plain(tgd.default_convert(sample)) == _plain(tud.default_convert(sample))
    with pytest.raises(RuntimeError) as theirs:
        tud.default_collate([(1, 2), (1,)])
    with pytest.raises(RuntimeError) as mine:
        tgd.default_collate([(1, 2), (1,)])
    assert str(mine.value) == str(theirs.value)
    for bad in ([object()], [np.array(['a'])]):
        with pytest.raises(TypeError) as theirs:
            tud.default_collate(bad)
        with pytest.raises(TypeError) as mine:
            tgd.default_collate(bad)
        assert str(mine.value) == str(theirs.value)


# ---------------------------------------------------------------- datasets
@pytest.mark.parametrize('n,fracs', [(10, [0.3, 0.7]), (11, [0.5, 0.3, 0.2]), (7, [0.25, 0.25, 0.25, 0.25]),
                                     (5, [1.0]), (3, [0.1, 0.9])])
def test_random_split_fraction_lengths_match_torch(n, fracs):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        theirs = [len(p) for p in tud.random_split(range(n), fracs)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        parts = tgd.random_split(range(n), fracs, generator=FakeGenerator(0))
    assert [len(p) for p in parts] == theirs
    assert sorted(x for p in parts for x in (p[i] for i in range(len(p)))) == list(range(n))
    assert any('Length of split at index' in str(x.message) for x in w) == (0 in theirs)


def test_random_split_errors_match_torch():
    for lengths in ([3, 3], [0.5, 0.6]):
        with pytest.raises(ValueError) as theirs:
            tud.random_split(range(10), lengths)
        with pytest.raises(ValueError, match=str(theirs.value)[:40]):
            tgd.random_split(range(10), lengths)
    with pytest.raises(ValueError, match='Fraction at index 0 is not between 0 and 1'):
        tgd.random_split(range(10), [1.5, -0.5])


def test_iterable_and_chain_datasets():
    chained = TgStream(3) + TgStream(2)
    assert isinstance(chained, tgd.ChainDataset) and list(chained) == [0, 1, 2, 0, 1] and len(chained) == 5
    with pytest.raises(TypeError, match='ConcatDataset does not support IterableDataset'):
        tgd.ConcatDataset([TgSquares(2), TgStream(2)])
    assert tgd.get_worker_info() is None  # main process


# ---------------------------------------------------------------- worker processes
_init_ids = []


def _record_init(worker_id):
    _init_ids.append(worker_id)
    os.environ['TG_TEST_WORKER_INIT'] = str(worker_id)


class WhoAmI(tgd.Dataset):
    """Sample i: (i, worker id, worker_init_fn's mark, pid, a draw from tensorgrad's generator)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = tgd.get_worker_info()
        return (i, -1 if info is None else info.id, int(os.environ.get('TG_TEST_WORKER_INIT', -1)), os.getpid(),
                float(tg.random.generator().random()))


def test_workers_give_the_same_batches_in_order():
    for kwargs in (dict(batch_size=3), dict(batch_size=5, shuffle=True), dict(batch_size=None),
                   dict(batch_size=4, drop_last=True, shuffle=True)):
        if kwargs.get('shuffle'):
            kwargs['generator'] = FakeGenerator(7)
        serial = [_plain(b) for b in tgd.DataLoader(TgSquares(11), **kwargs)]
        if kwargs.get('shuffle'):
            kwargs['generator'] = FakeGenerator(7)
        loader = tgd.DataLoader(TgSquares(11), num_workers=2, **kwargs)
        assert len(loader) == len(serial)
        assert [_plain(b) for b in loader] == serial


def test_worker_info_init_fn_and_seeds():
    os.environ.pop('TG_TEST_WORKER_INIT', None)
    loader = tgd.DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=_record_init,
                            generator=tg.Generator().manual_seed(1))
    rows = [r for b in loader for r in zip(*(x.numpy().tolist() for x in b))]
    assert [r[0] for r in rows] == list(range(12))
    ids = {r[1] for r in rows}
    assert ids == {0, 1} and all(r[1] == r[2] for r in rows)  # init_fn ran in the worker that fetched
    assert len({r[3] for r in rows}) == 2 and os.getpid() not in {r[3] for r in rows}
    assert _init_ids == []  # worker_init_fn ran in the workers, not here
    draws = [r[4] for r in rows]
    again = tgd.DataLoader(WhoAmI(), batch_size=2, num_workers=2, generator=tg.Generator().manual_seed(1))
    assert [r[4] for b in again for r in zip(*(x.numpy().tolist() for x in b))] == draws  # seeded per worker
    assert len(set(draws)) == len(draws)  # the two workers draw different numbers


def test_iterable_dataset_with_workers_matches_torch():
    mine = [_plain(b) for b in tgd.DataLoader(TgStream(11), batch_size=2, num_workers=2)]
    theirs = [_plain(b) for b in tud.DataLoader(TorchStream(11), batch_size=2, num_workers=2,
                                                multiprocessing_context='fork')]
    assert mine == theirs  # round-robin over the workers, each worker's last short batch kept


class Failing(tgd.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 7:
            raise KeyError(f'no sample {i}')
        if i == 8:
            raise ZeroDivisionError('eight')
        return i


def _alive(loader_iter):
    return [w.is_alive() for w in loader_iter._workers]


def test_worker_exception_reraises_in_the_main_process():
    it = iter(tgd.DataLoader(Failing(), batch_size=2, num_workers=2))
    assert next(it).numpy().tolist() == [0, 1]
    assert next(it).numpy().tolist() == [2, 3]
    assert next(it).numpy().tolist() == [4, 5]
    with pytest.raises(KeyError, match=r'(?s)Caught KeyError in DataLoader worker process 1.*no sample 7'):
        next(it)
    with pytest.raises(ZeroDivisionError, match='worker process 0'):
        next(it)
    with pytest.raises(StopIteration):
        next(it)
    assert not any(_alive(it))  # the epoch ended: workers have exited

    def bad_init(worker_id):
        raise ValueError(f'init failed in {worker_id}')

    with pytest.raises(ValueError, match='init failed in 0'):
        list(tgd.DataLoader(TgSquares(4), num_workers=2, worker_init_fn=bad_init))


def test_workers_shut_down_when_the_iterator_is_dropped():
    it = iter(tgd.DataLoader(TgSquares(50), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    deadline = time.monotonic() + 5
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(w.is_alive() for w in workers)


def test_persistent_workers_keep_their_processes():
    loader = tgd.DataLoader(WhoAmI(), batch_size=3, num_workers=2, persistent_workers=True)
    first = [b[0].numpy().tolist() for b in loader]
    pids = [w.pid for w in loader._iterator._workers]
    it = iter(loader)
    next(it)  # an epoch abandoned half way is drained by the next one
    second = [b[0].numpy().tolist() for b in loader]
    assert first == second == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert [w.pid for w in loader._iterator._workers] == pids and all(_alive(loader._iterator))
    loader._iterator._shutdown_workers()
    assert not any(_alive(loader._iterator))


class Slow(tgd.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(1)
        return i


class Dies(tgd.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


def test_timeout_dead_worker_and_unpicklable_batch():
    with pytest.raises(RuntimeError, match='DataLoader timed out after 0.3 seconds'):
        next(iter(tgd.DataLoader(Slow(), num_workers=1, timeout=0.3)))
    with pytest.raises(RuntimeError, match=r'DataLoader worker \(pid\(s\) .*\) exited unexpectedly'):
        list(tgd.DataLoader(Dies(), num_workers=1))
    with pytest.raises(AttributeError, match='(?s)pickling its batch.*pickle local object'):
        list(tgd.DataLoader(TgSquares(2), num_workers=1, collate_fn=lambda b: (lambda: b)))
