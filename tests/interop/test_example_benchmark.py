"""``examples/from_pytorch.py`` (torch -> tensorgrad without torch -> ONNX) and ``benchmarks/inference.py``."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip('onnxruntime')


def test_from_pytorch_example(tmp_path):
    res = subprocess.run([sys.executable, '-m', 'examples.from_pytorch', '--steps', '5', '--out', str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert 'torch imported: False' in res.stdout and 'same predictions: True' in res.stdout
    diffs = [float(d) for d in re.findall(r'= ([0-9.e+-]+)', res.stdout)]
    assert len(diffs) == 2 and max(diffs) < 1e-4, res.stdout
    assert (tmp_path / 'model.pt').exists() and (tmp_path / 'model.onnx').exists()


def test_inference_benchmark_runs():
    sys.path.insert(0, str(ROOT))
    from benchmarks.inference import run
    rows = run(repeat=1, threads=1)
    assert {(r[0], r[1]) for r in rows} == {(m, b) for m in ('cnn 1x12x12', 'encoder 16x32') for b in (1, 32)}
    assert all(r[2] > 0 and r[3] > 0 and r[4] > 0 and r[5] < 1e-4 for r in rows)
