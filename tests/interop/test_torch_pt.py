"""Reading ``torch.save`` files without torch: zip and legacy formats, sharing, hostile pickles."""
import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.interop import load_torch_checkpoint
from tensorgrad.serialization import CheckpointError, WeightsOnlyError

ROOT = Path(__file__).resolve().parents[2]


def _state(dtype=torch.float32):
    torch.manual_seed(0)
    base = torch.randn(3, 4, dtype=dtype)
    return OrderedDict([
        ('w', base), ('row', base[1]), ('t', base.t()), ('col', base[:, 2]),
        ('p', torch.nn.Parameter(torch.randn(2, dtype=dtype))),
        ('i', torch.tensor([1, -2, 3])), ('b', torch.tensor([True, False])), ('s', torch.tensor(2.5, dtype=dtype)),
        ('empty', torch.zeros(0, 3, dtype=dtype)), ('h', torch.randn(2, 2).half()), ('i8', torch.tensor([-3], dtype=torch.int8)),
    ])


@pytest.mark.parametrize('legacy', [False, True])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_values_and_types(tmp_path, legacy, dtype):
    sd = _state(dtype)
    path = tmp_path / 'm.pt'
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    out = tg.load(path)
    assert isinstance(out, OrderedDict) and list(out) == list(sd)
    for k, v in sd.items():
        assert isinstance(out[k], tg.Tensor), k
        assert out[k].shape == tuple(v.shape), k
        np.testing.assert_array_equal(out[k].numpy(), v.detach().numpy(), err_msg=k)
        assert str(out[k].dtype) == str(v.dtype).replace('torch.', ''), k
    assert type(out['p']).__name__ == 'Parameter' and out['p'].requires_grad
    assert not out['w'].requires_grad


@pytest.mark.parametrize('legacy', [False, True])
def test_views_share_memory(tmp_path, legacy):
    sd = _state()
    path = tmp_path / 'm.pt'
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    out = tg.load(path)
    out['w']._data[1, 2] = 123.0
    assert out['row'].numpy()[2] == 123.0 and out['t'].numpy()[2, 1] == 123.0 and out['col'].numpy()[1] == 123.0
    assert not out['t']._data.flags.c_contiguous  # the transposed view keeps torch's strides


def test_mmap_and_file_object(tmp_path):
    sd = _state()
    path = tmp_path / 'm.pt'
    torch.save(sd, path)
    mapped = tg.load(path, mmap=True)
    np.testing.assert_array_equal(mapped['t'].numpy(), sd['t'].numpy())
    mapped['w']._data[0, 0] = -1.0  # copy on write: the file is untouched
    np.testing.assert_array_equal(tg.load(path)['w'].numpy(), sd['w'].numpy())
    with open(path, 'rb') as fh:
        np.testing.assert_array_equal(tg.load(fh)['row'].numpy(), sd['row'].numpy())
    buf = io.BytesIO()
    torch.save({'x': torch.arange(3)}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(tg.load(buf)['x'].numpy(), [0, 1, 2])


def test_nested_containers_and_bf16(tmp_path):
    pytest.importorskip('ml_dtypes')
    obj = {'a': [torch.ones(2), (torch.zeros(1, dtype=torch.int64), 3, 'x', None, 1.5)],
           'bf': torch.tensor([1.5, -2.0], dtype=torch.bfloat16), 'set': {1, 2}}
    torch.save(obj, tmp_path / 'n.pt')
    out = tg.load(tmp_path / 'n.pt')
    assert out['a'][1][1:] == (3, 'x', None, 1.5) and out['set'] == {1, 2}
    assert str(out['bf'].dtype) == 'bfloat16'
    np.testing.assert_array_equal(out['bf'].float().numpy(), [1.5, -2.0])


def test_module_load_state_dict_from_torch_file(tmp_path):
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    tm(torch.randn(8, 4))  # running stats move
    tm.eval()
    torch.save(tm.state_dict(), tmp_path / 'm.pt')
    gm = tg.nn.Sequential(tg.nn.Linear(4, 3), tg.nn.BatchNorm1d(3), tg.nn.ReLU(), tg.nn.Linear(3, 2)).eval()
    gm.load_state_dict(tg.load(tmp_path / 'm.pt'))
    x = np.random.randn(5, 4).astype(np.float32)
    np.testing.assert_allclose(gm(tg.tensor(x)).numpy(), tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_hostile_pickle_refused(tmp_path):
    path = tmp_path / 'evil.pt'
    torch.save({'w': torch.ones(2), 'evil': _Evil()}, path)
    with pytest.raises(WeightsOnlyError, match='system'):
        tg.load(path)
    with pytest.raises(WeightsOnlyError):
        tg.load(path, weights_only=False)  # torch files are always read restricted
    torch.save({'m': torch.nn.Linear(2, 2)}, tmp_path / 'mod.pt')
    with pytest.raises(WeightsOnlyError, match='torch.nn.modules.linear.Linear'):
        tg.load(tmp_path / 'mod.pt')


def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)


def test_bad_files(tmp_path):
    src = tmp_path / 'ok.pt'
    torch.save({'w': torch.ones(4, 4), 'v': torch.ones(3)}, src)
    cases = {
        'short_record': lambda n, d: d[:-4] if n.endswith('data/0') else d,
        'no_record': lambda n, d: None if n.endswith('data/1') else d,
        'bad_pickle': lambda n, d: d[:len(d) // 2] if n.endswith('data.pkl') else d,
    }
    for name, edit in cases.items():
        dst = tmp_path / f'{name}.pt'
        _rewrite(src, dst, edit)
        with pytest.raises(CheckpointError, match='PyTorch checkpoint'):
            tg.load(dst)
    raw = src.read_bytes()
    (tmp_path / 'trunc.pt').write_bytes(raw[:len(raw) // 2])
    with pytest.raises(CheckpointError):
        tg.load(tmp_path / 'trunc.pt')


def test_lying_geometry_refused(tmp_path):
    """A pickle whose size/stride reaches past its storage is refused, not read out of bounds."""
    src = tmp_path / 'ok.pt'
    torch.save({'w': torch.ones(2, 2)}, src)

    def edit(name, data):
        if not name.endswith('data.pkl'):
            return data
        return data.replace(b'K\x02K\x02\x86', b'K\x09K\x02\x86')  # size (2, 2) -> (9, 2)

    dst = tmp_path / 'lie.pt'
    _rewrite(src, dst, edit)
    with pytest.raises(CheckpointError, match='reaches element'):
        tg.load(dst)


def test_legacy_lying_storage_size(tmp_path):
    src = tmp_path / 'leg.pt'
    torch.save({'w': torch.ones(3)}, src, _use_new_zipfile_serialization=False)
    raw = bytearray(src.read_bytes())
    at = len(raw) - 12 - 8  # the int64 element count before the 12 data bytes
    raw[at:at + 8] = (10 ** 12).to_bytes(8, 'little')
    (tmp_path / 'lie.pt').write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match='claims'):
        tg.load(tmp_path / 'lie.pt')


def test_not_a_torch_file(tmp_path):
    (tmp_path / 'x.pt').write_bytes(pickle.dumps({'a': 1}))
    with pytest.raises(CheckpointError, match='not a PyTorch checkpoint'):
        load_torch_checkpoint(tmp_path / 'x.pt')


def test_loads_without_torch(tmp_path):
    """In a process where ``import torch`` fails, torch files still load (and tensorgrad never imports torch)."""
    sd = _state()
    torch.save(sd, tmp_path / 'z.pt')
    torch.save(sd, tmp_path / 'l.pt', _use_new_zipfile_serialization=False)
    np.save(tmp_path / 'expect.npy', sd['t'].numpy())
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == 'torch' or name.startswith('torch.'):
                    raise ImportError('torch is blocked in this test')
        sys.meta_path.insert(0, Block())
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np, tensorgrad as tg
        want = np.load({str(tmp_path / 'expect.npy')!r})
        for name in ('z.pt', 'l.pt'):
            out = tg.load({str(tmp_path)!r} + '/' + name)
            assert np.array_equal(out['t'].numpy(), want), name
            assert type(out['p']).__name__ == 'Parameter'
        assert 'torch' not in sys.modules
        print('OK')
    """)
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == 'OK'
