"""Start-up costs of the compiled kernels, each measured in a fresh process:
``import tensorgrad`` with numba importable and with it blocked (as without the
``fast`` extra), and the first call of a compiled op (softmax and GELU forward
and backward on a small float32 input) with numba's on-disk cache warm and
with an empty cache (a cold compile).

``python -m benchmarks.startup`` prints the table."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPEATS = 5  # import timings: the median of this many processes

_IMPORT = """
import sys, time
if {block}:
    sys.modules['numba'] = None  # as if the fast extra were not installed
t = time.perf_counter()
import tensorgrad
print(time.perf_counter() - t, tensorgrad.backends.kernels.get_backend())
"""

_FIRST_CALL = """
import time
import numpy as np
import tensorgrad as tg
x = tg.tensor(np.ones((8, 16), dtype=np.float32), requires_grad=True)
t = time.perf_counter()
y = tg.nn.functional.gelu(tg.softmax(x, -1))
y.sum().backward()
print(time.perf_counter() - t, tg.backends.kernels.get_backend())
"""


def _run(code, env=None):
    """(seconds, backend) printed by ``code`` in a fresh interpreter."""
    base = {k: v for k, v in os.environ.items() if k != 'PYTHONDONTWRITEBYTECODE'}  # imports as installed: .pyc
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**base, **(env or {})}, check=True).stdout.split()
    return float(out[0]), out[1]


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def measure():
    """{label: (seconds, kernel backend)} of every start-up measurement."""
    res = {}
    _run(_IMPORT.format(block=False))  # writes the .pyc files if there are none
    for label, block in (('import tensorgrad, numba importable', False),
                         ('import tensorgrad, numba blocked (no fast extra)', True)):
        runs = [_run(_IMPORT.format(block=block)) for _ in range(REPEATS)]
        res[label] = (_median([s for s, _ in runs]), runs[0][1])
    _run(_FIRST_CALL)  # fills the on-disk cache if it was empty
    res['first softmax + GELU forward/backward, cache warm'] = _run(_FIRST_CALL)
    with tempfile.TemporaryDirectory() as cache:
        res['first softmax + GELU forward/backward, cache empty'] = _run(_FIRST_CALL, {'NUMBA_CACHE_DIR': cache})
    res['first softmax + GELU forward/backward, NumPy kernels'] = _run(_FIRST_CALL, {'TENSORGRAD_KERNELS': 'numpy'})
    return res


def table(res):
    """Markdown table of ``measure()``'s results."""
    rows = ['| measurement | time | kernels |', '|---|---|---|']
    rows += [f'| {label} | {seconds * 1e3:,.0f} ms | {backend} |' for label, (seconds, backend) in res.items()]
    return '\n'.join(rows)


if __name__ == '__main__':
    print(table(measure()))
