"""The examples, run in reduced form (few steps, little data, files in a tmp dir)."""
import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorgrad

ROOT = Path(__file__).resolve().parent.parent


def _has(name):
    return hasattr(tensorgrad.nn, name)


def _idx(arr):
    return struct.pack('>BBBB', 0, 0, 8, arr.ndim) + struct.pack(f'>{arr.ndim}I', *arr.shape) + arr.tobytes()


@pytest.fixture(scope='module')
def mnist_dir(tmp_path_factory):
    """A tiny learnable MNIST look-alike (class = which quadrant is bright), in IDX files."""
    root = tmp_path_factory.mktemp('mnist')
    rng = np.random.default_rng(0)
    for prefix, n in (('train', 96), ('t10k', 48)):
        labels = rng.integers(0, 4, size=n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):
            r, q = divmod(int(c), 2)
            images[i, r * 14:(r + 1) * 14, q * 14:(q + 1) * 14] += 180
        (root / f'{prefix}-images-idx3-ubyte.gz').write_bytes(gzip.compress(_idx(images)))
        (root / f'{prefix}-labels-idx1-ubyte').write_bytes(_idx(labels))
    return root


def test_xor_subprocess():
    out = subprocess.run([sys.executable, '-m', 'examples.xor'], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == 'targets: [1 0 0 1]'
    assert lines[1] == 'prediction: [1 0 0 1]'
    assert lines[2] == 'softmax:'
    softmax = np.array([[float(v) for v in line.strip(' []').split()] for line in lines[3:7]])
    assert softmax.shape == (4, 2)
    np.testing.assert_allclose(softmax.sum(-1), 1, atol=1e-5)
    assert (softmax.max(-1) > 0.99).all()


def test_graph(tmp_path):
    pytest.importorskip('graphviz')
    import shutil
    if shutil.which('dot') is None:
        pytest.skip('needs the Graphviz dot binary')
    from examples import graph
    path = graph.main(['--output', str(tmp_path / 'graph.png')])
    assert Path(path).read_bytes()[:4] == b'\x89PNG'


def test_moons(tmp_path, capsys):
    pytest.importorskip('sklearn')
    pytest.importorskip('matplotlib')
    from examples import moons
    losses, acc = moons.main(['--steps', '40', '--output', str(tmp_path / 'moons.png')])
    assert losses[-1] < losses[0] / 2
    assert acc >= 0.85
    assert (tmp_path / 'moons.png').read_bytes()[:4] == b'\x89PNG'
    assert 'final accuracy' in capsys.readouterr().out


@pytest.mark.skipif(not (_has('Conv2d') and _has('MaxPool2d')), reason='needs nn.Conv2d and nn.MaxPool2d')
def test_mnist_cnn_trains_checkpoints_and_resumes(tmp_path, mnist_dir, capsys):
    from examples.mnist.cnn import train
    ck = tmp_path / 'cnn.tg'
    base = ['--data', str(mnist_dir), '--truncate_train', '64', '--truncate_test', '32', '--batch_size', '16',
            '--lr', '3e-3', '--checkpoint', str(ck), '--no_progress']
    first = train.main(base + ['--epochs', '2'])
    assert ck.exists() and not Path(f'{ck}.tmp').exists()
    h = first['history']
    assert len(h) == 2 and h[1]['loss'] < h[0]['loss']
    resumed = train.main(base + ['--epochs', '3', '--resume'])
    assert [e['epoch'] for e in resumed['history']] == [1, 2, 3]
    straight = train.main(base + ['--epochs', '3', '--checkpoint', str(tmp_path / 'other.tg')])
    assert resumed['history'][-1]['loss'] == pytest.approx(straight['history'][-1]['loss'], rel=1e-5)
    out = capsys.readouterr().out
    assert 'resumed from' in out and 'test accuracy:' in out


@pytest.mark.skipif(not _has('MultiheadAttention'), reason='needs nn.MultiheadAttention')
def test_mnist_vit(tmp_path, mnist_dir):
    from examples.mnist.vit import train
    result = train.main(['--data', str(mnist_dir), '--epochs', '2', '--truncate_train', '64', '--truncate_test',
                         '32', '--batch_size', '16', '--embed', '32', '--patch_size', '7', '--lr', '3e-3',
                         '--checkpoint', str(tmp_path / 'vit.tg'), '--no_progress'])
    h = result['history']
    assert h[1]['loss'] < h[0]['loss']
    assert (tmp_path / 'vit.tg').exists()


def test_mnist_missing_data_message(tmp_path):
    from examples.mnist.cnn import train
    with pytest.raises(FileNotFoundError, match='apt-get install dataset-fashion-mnist'):
        train.main(['--data', str(tmp_path), '--epochs', '1', '--checkpoint', '', '--no_progress'])


@pytest.mark.skipif(not _has('MultiheadAttention'), reason='needs nn.MultiheadAttention')
def test_char_lm_trains_resumes_and_samples(tmp_path, capsys):
    from examples import char_lm
    ck = tmp_path / 'lm.tg'
    base = ['--block_size', '16', '--embed', '16', '--num_heads', '2', '--num_layers', '1', '--batch_size', '8',
            '--warmup', '5', '--checkpoint', str(ck), '--save_every', '10', '--sample_len', '20', '--no_progress']
    first = char_lm.main(base + ['--steps', '30'])
    losses = first['losses']
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert first['sample'].startswith('The ') and len(first['sample']) == 24
    resumed = char_lm.main(base + ['--steps', '40', '--resume'])
    assert len(resumed['losses']) == 10  # steps 30..39 only
    assert 'resumed from' in capsys.readouterr().out
