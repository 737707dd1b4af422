"""Peak memory of the CNN training step, measured the same way for both libraries.

Each library runs in a fresh child process (``python -m benchmarks.memory LIB``)
that imports NumPy, PyTorch and tensorgrad alike, builds the model and data,
and reads the kernel's resident-set counters from /proc/self/status:

- ``steady``: peak RSS during 3 training steps minus RSS before them, after
  one warm-up step (so the optimizer state and the libraries' lazy set-up
  are already in the baseline): the working memory of a step;
- ``first``: peak RSS during the very first step minus RSS before it
  (adds the gradients, the optimizer state and lazy initialisation).

The peak counter (VmHWM) is reset through /proc/self/clear_refs before each
measurement. glibc is told to return freed blocks to the system at once
(MALLOC_MMAP_THRESHOLD_=65536, MALLOC_TRIM_THRESHOLD_=0) so that RSS
follows live memory in both libraries rather than allocator caching.
NumPy and PyTorch both allocate through malloc on cpu, so RSS sees both.
"""
import gc
import json
import os
import subprocess
import sys

STEPS = 3
_ENV = {'MALLOC_MMAP_THRESHOLD_': '65536', 'MALLOC_TRIM_THRESHOLD_': '0'}


def _status_kib(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{key} not found in /proc/self/status')


def _reset_peak():
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def _child(lib_name, threads):
    import numpy  # noqa: F401, PLC0415
    import tensorgrad  # noqa: F401, PLC0415
    import torch  # noqa: F401, PLC0415

    from . import models  # noqa: PLC0415
    from .libs import TensorgradLib, TorchLib, set_threads  # noqa: PLC0415
    limiter = set_threads(threads)  # noqa: F841 - keeps the BLAS limit
    lib = (TorchLib if lib_name == 'torch' else TensorgradLib)('cpu')
    step = models.make_step(lib, models.CNN, *models.data(models.CNN))
    gc.collect()
    rss0 = _status_kib('VmRSS')
    _reset_peak()
    step()
    first = _status_kib('VmHWM') - rss0
    gc.collect()
    rss1 = _status_kib('VmRSS')
    _reset_peak()
    for _ in range(STEPS):
        step()
    steady = _status_kib('VmHWM') - rss1
    return {'steady_kib': steady, 'first_kib': first, 'baseline_kib': rss1}


def measure(lib_name, threads, timeout=600):
    """Run the child for ``lib_name``; returns its dict, or raises RuntimeError with the reason."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, **_ENV}
    proc = subprocess.run([sys.executable, '-m', 'benchmarks.memory', lib_name, str(threads)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ['no output'])[-1]
        raise RuntimeError(err)
    result = json.loads(lines[-1])
    if 'error' in result:
        raise RuntimeError(result['error'])
    return result


if __name__ == '__main__':
    try:
        print(json.dumps(_child(sys.argv[1], int(sys.argv[2]))))
    except Exception as e:  # noqa: BLE001 - reported by the parent as n/a
        from .timing import error_text  # noqa: PLC0415
        print(json.dumps({'error': error_text(e)}))
