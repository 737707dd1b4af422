"""safetensors reader/writer, cross-checked against the ``safetensors`` package (NumPy and torch)."""
import json
import struct

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.interop.safetensors import SafetensorsError

safetensors_numpy = pytest.importorskip('safetensors.numpy')
safetensors_torch = pytest.importorskip('safetensors.torch')

NP_DTYPES = ['bool', 'uint8', 'int8', 'int16', 'uint16', 'float16', 'int32', 'uint32', 'float32', 'float64',
             'int64', 'uint64', 'complex64']


def _arrays():
    rng = np.random.default_rng(0)
    out = {f'{dt}_t': (rng.standard_normal((2, 3)) * 10).astype(dt) for dt in NP_DTYPES}
    out['scalar'] = np.array(1.25, np.float32)
    out['empty'] = np.zeros((0, 4), np.float64)
    return out


def test_bytes_identical_to_the_package(tmp_path):
    arrays = _arrays()
    # one metadata key: the package writes several in a Rust HashMap's (random) order
    meta = {'note': 'é "quoted"\n'}
    safetensors_numpy.save_file(arrays, tmp_path / 'ref.safetensors', metadata=meta)
    tg.save_safetensors(arrays, tmp_path / 'ours.safetensors', metadata=meta)
    assert (tmp_path / 'ours.safetensors').read_bytes() == (tmp_path / 'ref.safetensors').read_bytes()
    tg.save_safetensors(arrays, tmp_path / 'plain.safetensors')
    safetensors_numpy.save_file(arrays, tmp_path / 'plainref.safetensors')
    assert (tmp_path / 'plain.safetensors').read_bytes() == (tmp_path / 'plainref.safetensors').read_bytes()


@pytest.mark.parametrize('mmap', [True, False])
def test_reads_package_files_torch(tmp_path, mmap):
    pytest.importorskip('ml_dtypes')
    torch.manual_seed(0)
    tensors = {'f32': torch.randn(3, 4), 'f64': torch.randn(2, dtype=torch.float64), 'f16': torch.randn(5).half(),
               'bf16': torch.randn(2, 3).bfloat16(), 'i64': torch.arange(6).reshape(2, 3), 'b': torch.tensor([True]),
               'u8': torch.tensor([0, 255], dtype=torch.uint8), 'f8': torch.randn(4).to(torch.float8_e4m3fn),
               'zero': torch.zeros(0), 's': torch.tensor(3.0)}
    path = tmp_path / 'm.safetensors'
    safetensors_torch.save_file(tensors, path, metadata={'k': 'v'})
    out, meta = tg.load_safetensors(path, mmap=mmap, metadata=True)
    assert meta == {'k': 'v'}
    assert set(out) == set(tensors)
    for k, t in tensors.items():
        got = out[k]
        if k == 'f8':
            assert isinstance(got, np.ndarray) and got.dtype.name == 'float8_e4m3fn'
            np.testing.assert_array_equal(got.astype(np.float32), t.float().numpy())
            continue
        assert isinstance(got, tg.Tensor) and got.shape == tuple(t.shape), k
        want = t.float().numpy() if k == 'bf16' else t.numpy()
        np.testing.assert_array_equal(got.float().numpy() if k == 'bf16' else got.numpy(), want, err_msg=k)
    # tensorgrad.load picks the reader by suffix
    np.testing.assert_array_equal(tg.load(path)['f32'].numpy(), tensors['f32'].numpy())


def test_package_reads_ours(tmp_path):
    pytest.importorskip('ml_dtypes')
    sd = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4)).state_dict()
    sd['half'] = tg.randn(3).half()
    sd['bf'] = tg.randn(2).to(tg.bfloat16)
    sd['noncontig'] = tg.randn(3, 4).t()
    sd['bcast'] = tg.ones(1, 3).expand(2, 3)
    path = tmp_path / 'o.safetensors'
    tg.save_safetensors(sd, path, metadata={'a': 'b'})
    back = safetensors_torch.load_file(path)
    for k, v in sd.items():
        want = v.float().numpy() if k == 'bf' else v.numpy()
        got = back[k].float().numpy() if k == 'bf' else back[k].numpy()
        np.testing.assert_array_equal(got, want, err_msg=k)
    # torch tensors can be saved directly, and a torch state dict loads into a tensorgrad module
    tm = torch.nn.Linear(3, 2)
    tg.save_safetensors(tm.state_dict(), tmp_path / 't.safetensors')
    gm = tg.nn.Linear(3, 2)
    gm.load_state_dict(tg.load_safetensors(tmp_path / 't.safetensors'))
    np.testing.assert_array_equal(gm.weight.numpy(), tm.weight.detach().numpy())


def test_mmap_copy_on_write(tmp_path):
    path = tmp_path / 'm.safetensors'
    tg.save_safetensors({'w': np.arange(4, dtype=np.float32)}, path)
    w = tg.load_safetensors(path)['w']
    w._data[0] = 99
    np.testing.assert_array_equal(tg.load_safetensors(path)['w'].numpy(), [0, 1, 2, 3])


def test_save_errors(tmp_path):
    with pytest.raises(TypeError, match='metadata'):
        tg.save_safetensors({'a': np.ones(1)}, tmp_path / 'x.safetensors', metadata={'a': 1})
    with pytest.raises(SafetensorsError, match='reserved'):
        tg.save_safetensors({'__metadata__': np.ones(1)}, tmp_path / 'x.safetensors')
    with pytest.raises(SafetensorsError, match='not a tensor'):
        tg.save_safetensors({'a': [1, 2]}, tmp_path / 'x.safetensors')
    assert not (tmp_path / 'x.safetensors').exists()


def _file(header, data=b''):
    text = json.dumps(header).encode()
    return struct.pack('<Q', len(text)) + text + data


BAD = {
    'short': (b'\x01\x02', 'too short'),
    'huge_header': (struct.pack('<Q', 10 ** 12) + b'{}', 'exceeds'),
    'header_past_end': (struct.pack('<Q', 500) + b'{}', 'past the end'),
    'not_json': (struct.pack('<Q', 4) + b'{abc', 'not valid JSON'),
    'not_object': (struct.pack('<Q', 2) + b'[]', 'not a JSON object'),
    'bad_dtype': (_file({'a': {'dtype': 'X9', 'shape': [1], 'data_offsets': [0, 4]}}, b'\0' * 4), 'unknown dtype'),
    'size_mismatch': (_file({'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 4]}}, b'\0' * 4),
                      'needs 8'),
    'truncated': (_file({'a': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}}, b'\0' * 8), 'truncated'),
    'trailing': (_file({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}, b'\0' * 8), 'trailing'),
    'overlap': (_file({'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]},
                       'b': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}, b'\0' * 12), 'overlapping'),
    'gap': (_file({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [4, 8]}}, b'\0' * 8), 'gap'),
    'negative_shape': (_file({'a': {'dtype': 'F32', 'shape': [-1], 'data_offsets': [0, 4]}}, b'\0' * 4),
                       'bad shape'),
    'huge_shape': (_file({'a': {'dtype': 'F32', 'shape': [10 ** 9, 10 ** 9], 'data_offsets': [0, 4]}}, b'\0' * 4),
                   'needs'),
    'duplicate': (struct.pack('<Q', 2 * 60) + (b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                               b'"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}').ljust(120)
                  + b'\0', 'duplicate'),
    'bad_metadata': (_file({'__metadata__': {'a': 1}}), '__metadata__'),
}


@pytest.mark.parametrize('case', sorted(BAD))
def test_bad_files(tmp_path, case):
    raw, match = BAD[case]
    path = tmp_path / 'bad.safetensors'
    path.write_bytes(raw)
    with pytest.raises(SafetensorsError, match=match):
        tg.load_safetensors(path)
