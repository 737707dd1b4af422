"""Each library timed in its own process (the default on cpu).

Two OpenMP runtimes in one process fight over the cores: PyTorch's idle
threads spin after each of its parallel loops and steal the cores that
NumPy's BLAS threads and tensorgrad's kernel threads need next, and the other
way round (measured on 2 cores: a MultiheadAttention forward+backward took
4.1 ms in PyTorch and 3.9 ms in tensorgrad when the two alternated in one
process, 1.1 ms and 1.3 ms each alone). So ``bench.py`` runs the cases once
per library in a child process (``--side tensorgrad`` / ``--side torch``),
each child writes its medians and outputs to files, and the parent merges
them into one report. Each side runs as its users run it: PyTorch with its
default OpenMP settings; tensorgrad with ``GOMP_SPINCOUNT=0``, which is what
tensorgrad sets for its own kernel threads when it loads first (its child
imports PyTorch only to build the reference weights, which would otherwise
hand tensorgrad PyTorch's spinning runtime)."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from .case import PhaseResult, compare_outputs

SIDES = ('tensorgrad', 'torch')
SIDE_ENV = {'tensorgrad': {'GOMP_SPINCOUNT': '0'}, 'torch': {}}


def child_argv(argv, side, results_path):
    """The child's command line: the parent's options plus ``--side`` and ``--results``."""
    return [sys.executable, '-m', 'benchmarks.bench', *argv, '--side', side, '--results', results_path]


def run_sides(argv, log=print):
    """Run both children, one after the other; returns {side: (records, outputs)}
    where records maps 'group: name' to {phase: {'time', 'error', 'reps'}}."""
    merged = {}
    with tempfile.TemporaryDirectory(prefix='tg-bench-') as tmp:
        for side in SIDES:
            path = os.path.join(tmp, side)
            env = {**os.environ, **SIDE_ENV[side]}
            log(f'--- {side} (own process)', flush=True)
            proc = subprocess.run(child_argv(argv, side, path), env=env, check=False)
            if proc.returncode != 0 or not os.path.exists(path + '.json'):
                merged[side] = ({}, {}, f'{side} process failed (exit {proc.returncode})')
                continue
            with open(path + '.json', encoding='utf-8') as f:
                records = json.load(f)
            with np.load(path + '.npz') as z:
                outputs = {k: z[k] for k in z.files}
            merged[side] = (records, outputs, None)
    return merged


def write_side(path, side, case_results, outputs):
    """Child side: ``case_results`` is [(key, {phase: PhaseResult})], ``outputs`` {key: array}."""
    records = {key: {ph: {'time': r.times.get(side), 'error': r.errors.get(side), 'reps': r.reps}
                     for ph, r in results.items()}
               for key, results in case_results}
    with open(path + '.json', 'w', encoding='utf-8') as f:
        json.dump(records, f)
    np.savez(path + '.npz', **outputs)


def merge(key, phases, merged):
    """{phase: PhaseResult} of one case from both sides' records."""
    outs = {side: merged[side][1].get(key) for side in SIDES}
    mismatch = compare_outputs(outs)
    results = {}
    for ph in phases:
        r = PhaseResult(mismatch=mismatch)
        for side in SIDES:
            records, _, failed = merged[side]
            rec = records.get(key, {}).get(ph)
            if failed or rec is None:
                r.errors[side] = failed or 'not run'
                continue
            if rec['time'] is not None:
                r.times[side] = rec['time']
            if rec['error']:
                r.errors[side] = rec['error']
            r.reps = max(r.reps, rec['reps'])
        results[ph] = r
    return results
