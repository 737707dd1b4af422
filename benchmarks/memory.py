"""Peak memory of a model's training step or inference, measured the same way for both libraries.

Each library runs in a fresh child process (``python -m benchmarks.memory LIB
THREADS [MODEL MODE]``, MODEL a key of ``models.SPECS``, MODE ``train`` or
``infer``) that imports NumPy, PyTorch and tensorgrad alike, builds the model
and data, and reads the kernel's resident-set counters from /proc/self/status
around a "step" (a training step, or one eval-mode forward under no_grad):

- ``steady``: peak RSS during 3 steps minus RSS before them, after one
  warm-up step (so the optimizer state and the libraries' lazy set-up are
  already in the baseline): the working memory of a step;
- ``first``: peak RSS during the very first step minus RSS before it
  (adds the gradients, the optimizer state and lazy initialisation);
- ``held``: peak RSS during those 3 steps minus RSS before the very first
  step: ``steady`` plus all a library keeps from one step to the next
  (gradients, optimizer state, buffer pools and caches), which ``steady``
  counts in its baseline.

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
MODES = {'train': 'training step', 'infer': 'inference'}
# (model, mode) pairs that ``measure_all`` runs, in report order
CASES = (('CNN', 'train'), ('GPT', 'train'), ('GPT', 'infer'), ('ResNet-18', 'train'), ('ResNet-18', 'infer'))
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


def label(model, mode):
    """'GPT training step', 'ResNet-18 inference', ... (the report's name of a measurement)."""
    return f'{model} {MODES[mode]}'


def _child(lib_name, threads, model='CNN', mode='train'):
    import numpy  # noqa: F401, PLC0415
    import tensorgrad  # noqa: F401, PLC0415
    import torch  # noqa: F401, PLC0415

    from . import models  # noqa: PLC0415
    from .libs import TensorgradLib, TorchLib, set_threads  # noqa: PLC0415
    limiter = set_threads(threads)  # noqa: F841 - keeps the BLAS limit
    lib = (TorchLib if lib_name == 'torch' else TensorgradLib)('cpu')
    spec = models.SPECS[model]
    x, y = models.data(spec)
    step = models.make_step(lib, spec, x, y) if mode == 'train' else models.make_forward(lib, spec, x)
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
    peak = _status_kib('VmHWM')
    return {'steady_kib': peak - rss1, 'first_kib': first, 'held_kib': peak - rss0, 'baseline_kib': rss1}


def measure(lib_name, threads, model='CNN', mode='train', timeout=600):
    """Run the child for ``lib_name``; returns its dict, or raises RuntimeError with the reason
    (ValueError for an unknown ``mode``)."""
    if mode not in MODES:
        raise ValueError(f'memory.measure: mode must be one of {sorted(MODES)}, got {mode!r}')
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, **_ENV}
    proc = subprocess.run([sys.executable, '-m', 'benchmarks.memory', lib_name, str(threads), model, mode],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ['no output'])[-1]
        raise RuntimeError(err)
    result = json.loads(lines[-1])
    if 'error' in result:
        raise RuntimeError(result['error'])
    return result


def measure_all(threads, keep=lambda name: True, cases=CASES):
    """{label: {lib: result dict or error text}} for the (model, mode) ``cases`` whose label passes ``keep``."""
    from .timing import error_text  # noqa: PLC0415
    out = {}
    for model, mode in cases:
        name = label(model, mode)
        if not keep(name):
            continue
        out[name] = {}
        for lib in ('tensorgrad', 'torch'):
            try:
                out[name][lib] = measure(lib, threads, model, mode)
            except Exception as e:  # noqa: BLE001 - reported as n/a
                out[name][lib] = error_text(e)
    return out


def ratio(result, key='steady_kib'):
    """tensorgrad / PyTorch of measure ``key`` in one measurement ({lib: dict or error}), or None."""
    vals = [result[k][key] for k in ('tensorgrad', 'torch') if isinstance(result.get(k), dict)]
    return vals[0] / vals[1] if len(vals) == 2 and vals[1] > 0 else None


if __name__ == '__main__':
    try:
        print(json.dumps(_child(sys.argv[1], int(sys.argv[2]), *sys.argv[3:5])))
    except Exception as e:  # noqa: BLE001 - reported by the parent as n/a
        from .timing import error_text  # noqa: PLC0415
        print(json.dumps({'error': error_text(e)}))
