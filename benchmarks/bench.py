"""Benchmark tensorgrad against PyTorch and write BENCHMARK.md.

    python -m benchmarks.bench [--quick] [--device cpu|cuda] [--out PATH] [--filter SUBSTR] [--repeat N]

Both libraries run in this process on the same inputs, with the same number
of threads; see benchmarks/README.md and the "Method" part of the report.
"""
import argparse
import os
import sys
import time

from . import (cases_layers, cases_models, cases_overhead, cases_suite, cases_training, isolate, memory, report,
               startup, targets)
from .case import run_case
from .libs import make_libs, set_threads
from .timing import Budget, error_text, set_clock

GROUPS = (cases_suite, cases_layers, cases_overhead, cases_training, cases_models)
MEMORY_NAME = 'Peak memory'
CLOCK_TEXT = {
    'wall': 'wall time (`time.perf_counter`)',
    'cpu': ('CPU time of the process (`time.process_time`, all threads added up), chosen because the '
            'machine was shared: it does not count the time the process waits while descheduled'),
}

METHOD = """\
- Each case builds its inputs once with NumPy (float32, fixed seed) and gives both libraries private
  copies; module weights come from a seeded PyTorch module, loaded into tensorgrad with `init_from_torch`.
- **forward** = `module(x)` with gradients enabled (a graph is recorded, as in training).
  **backward** = `out.backward(g)` alone, with a fixed random `g`; the forward is re-run (untimed) before
  each repetition and the parameters' and inputs' gradients are cleared (set to None).
  **step** = `zero_grad`, forward, cross-entropy loss, `backward`, optimizer `step`.
- {process}
- Warm-up calls first, then timed repetitions; the repetition count adapts so a case takes {seconds:g} s or so, at least {min_reps}
  repetitions (3 for very slow cases). Forward and step calls shorter than {batch_ms:g} ms are timed in
  batches (as `timeit` does); backward calls are timed one by one. Reported time = median per call.
  Clock: {clock}. Python's garbage collector stays on (its cost is part of each library's overhead).
- Both libraries use the same thread count n = {threads}: `torch.set_num_threads(n)`; NumPy's BLAS
  limited to n with threadpoolctl; `tensorgrad.set_num_threads(n)` for its row-parallel kernels.
- {sync}
- Cross-check: the forward outputs (and the first training loss) of the two libraries are compared
  (rtol 1e-3, atol 1e-4); a case whose outputs differ is flagged with ⚠.
- A case whose tensorgrad (or PyTorch) side fails is shown as "n/a (reason)" and left out of the means.
"""


def parse_args(argv=None):
    """Command-line options (see benchmarks/README.md)."""
    p = argparse.ArgumentParser(prog='python -m benchmarks.bench', description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='a small subset with short timings (< 1 minute)')
    p.add_argument('--device', default='cpu', choices=('cpu', 'cuda'),
                   help='run both libraries on this device (default: cpu)')
    p.add_argument('--out', default='BENCHMARK.md', help='report file (default: BENCHMARK.md)')
    p.add_argument('--filter', default=None, metavar='SUBSTR',
                   help='only cases whose "group: name" contains SUBSTR (case-insensitive)')
    p.add_argument('--repeat', type=int, default=None, metavar='N',
                   help='exactly N timed repetitions per case (default: adaptive)')
    p.add_argument('--seconds', type=float, default=None,
                   help='time budget per case and phase, both libraries together (default 0.6, quick 0.15)')
    p.add_argument('--threads', type=int, default=os.cpu_count(), help='threads for both libraries')
    p.add_argument('--clock', default='wall', choices=('wall', 'cpu'),
                   help="'wall' (default) or 'cpu': process CPU time, robust on a loaded machine; "
                        'use it with --threads 1 (cpu device only)')
    p.add_argument('--json', default=None, metavar='PATH', help='also write the raw results as JSON')
    p.add_argument('--no-memory', action='store_true', help='skip the peak-memory measurement')
    p.add_argument('--no-startup', action='store_true',
                   help='skip the start-up measurement (import time, first kernel calls); also skipped by '
                        '--quick and --filter')
    p.add_argument('--same-process', action='store_true',
                   help='time both libraries in this one process, alternating (default on cpu: each in its own)')
    p.add_argument('--side', choices=isolate.SIDES, default=None, help=argparse.SUPPRESS)  # child process
    p.add_argument('--results', default=None, help=argparse.SUPPRESS)  # child: where its results go
    return p.parse_args(argv)


def check_cuda():
    """Exit with a clear message unless both libraries can use CUDA."""
    problems = []
    try:
        import torch  # noqa: PLC0415
        if not torch.cuda.is_available():
            problems.append(f'PyTorch {torch.__version__} sees no CUDA device (a CUDA build of torch is needed)')
    except ImportError as e:
        problems.append(f'PyTorch is not importable ({e})')
    try:
        import tensorgrad  # noqa: PLC0415
        if not tensorgrad.is_cuda_available():
            problems.append('tensorgrad sees no CUDA device (install CuPy: pip install "tensorgrad[cuda]")')
    except ImportError as e:
        problems.append(f'tensorgrad is not importable ({e})')
    if problems:
        sys.exit('benchmarks: --device cuda needs a CUDA GPU usable by both libraries:\n  - '
                 + '\n  - '.join(problems))


def select(args):
    """The cases to run, in report order."""
    cases = [c for mod in GROUPS for c in mod.CASES]
    if args.quick:
        cases = [c for c in cases if c.quick]
    if args.filter:
        cases = [c for c in cases if args.filter.lower() in f'{c.group}: {c.name}'.lower()]
    return cases


def command_line(argv):
    """The command as typed, for the report."""
    return 'python -m benchmarks.bench' + ''.join(f' {a}' for a in argv)


def main(argv=None):
    """Run the selected cases for both libraries and write the report."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.device == 'cuda':
        check_cuda()
        if args.clock != 'wall':
            sys.exit('benchmarks: --clock cpu cannot time GPU work; use --clock wall with --device cuda')
    set_clock(args.clock)
    limiter = set_threads(args.threads)  # noqa: F841 - the limit holds while it lives
    budget = Budget(seconds=args.seconds or (0.15 if args.quick else 0.6), min_reps=3 if args.quick else 5,
                    repeat=args.repeat)
    if args.side:
        run_side(args, budget)
        return
    isolated = args.device == 'cpu' and not args.same_process
    libs = None if isolated else make_libs(args.device)
    load_before = report.load_average()
    started = time.time()
    merged = isolate.run_sides(argv) if isolated else None

    groups = {}  # group -> (phases, [(name, {phase: PhaseResult})])
    for case in select(args):
        t0 = time.time()
        if isolated:
            results = isolate.merge(case_key(case), case.phases, merged)
        else:
            results = run_case(case, libs, budget)
        phases, rows = groups.setdefault(case.group, ([], []))
        phases.extend(p for p in case.phases if p not in phases)
        rows.append((case.name, results))
        summary = '  '.join(f'{ph}: {report.fmt_ratio(r.ratio())}' + (' (n/a)' if r.errors else '')
                            for ph, r in results.items())
        print(f'[{time.time() - t0:5.1f}s] {case.group}: {case.name}  {summary}', flush=True)

    mem = None
    if args.device == 'cpu' and not args.no_memory:
        def keep(name):
            return not args.filter or args.filter.lower() in f'{MEMORY_NAME}: {name}'.lower()
        mem = memory.measure_all(args.threads, keep, memory.CASES[:1] if args.quick else memory.CASES) or None
        for name, res in (mem or {}).items():
            print(f'{MEMORY_NAME}: {name}: ' + ', '.join(f'{k}: {v}' for k, v in res.items()), flush=True)

    start = None
    if args.device == 'cpu' and not (args.quick or args.filter or args.no_startup):
        start = startup.measure()
        print(startup.table(start), flush=True)

    body = render(args, argv, groups, mem, budget, load_before, time.time() - started, isolated, start)
    report.write_section(args.out, args.device, body)
    print(f'wrote {args.out}')
    if args.json:
        write_json(args.json, args, groups, mem)
        print(f'wrote {args.json}')


def case_key(case):
    """The case's name in the children's result files."""
    return f'{case.group}: {case.name}'


def run_side(args, budget):
    """Child process: time one library (``args.side``) on every selected case; write its results."""
    libs = [lib for lib in make_libs(args.device)
            if (lib if isinstance(lib, str) else lib.name) == args.side
            or (isinstance(lib, str) and args.side == 'tensorgrad')]
    case_results, outputs = [], {}
    for case in select(args):
        t0 = time.time()
        outs = {}
        results = run_case(case, libs, budget, outs)
        key = case_key(case)
        case_results.append((key, results))
        if args.side in outs:
            outputs[key] = outs[args.side]
        times = '  '.join(f'{ph}: ' + (f'{r.times[args.side] * 1e3:.3f} ms' if args.side in r.times
                                      else f'n/a ({r.errors.get(args.side, "?")})')
                          for ph, r in results.items())
        print(f'[{time.time() - t0:5.1f}s] {args.side}: {key}  {times}', flush=True)
    isolate.write_side(args.results, args.side, case_results, outputs)


def write_json(path, args, groups, mem):
    """Raw results: one record per case and phase, plus the memory measurement."""
    import json  # noqa: PLC0415
    records = [{'group': group, 'case': name, 'phase': ph, 'tensorgrad_s': r.times.get('tensorgrad'),
                'torch_s': r.times.get('torch'), 'ratio': r.ratio(), 'reps': r.reps, 'errors': r.errors,
                'mismatch': r.mismatch,
                'throughput': {lib: report.throughput(name, r.times.get(lib)) for lib in ('tensorgrad', 'torch')}}
               for group, (_, rows) in groups.items() for name, results in rows for ph, r in results.items()]
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'device': args.device, 'threads': args.threads, 'clock': args.clock, 'quick': args.quick,
                   'time': report.now_utc(), 'results': records, 'memory': mem}, f, indent=1)


PROCESS_TEXT = {
    True: ('Each library runs in its own process, one after the other (`benchmarks/isolate.py`): two OpenMP '
           'runtimes in one process steal each other\'s cores (each one\'s idle threads spin). PyTorch keeps its '
           'default OpenMP settings; tensorgrad\'s process sets `GOMP_SPINCOUNT=0`, as tensorgrad does for its '
           'own kernel threads when PyTorch is not loaded first (its process imports PyTorch only to build the '
           'reference weights). The outputs are saved and compared afterwards.'),
    False: ('Both libraries run in this one process (`--same-process`); repetitions are sampled alternately '
            'for the two (so both see the same machine load).'),
}


def render(args, argv, groups, mem, budget, load_before, elapsed, isolated=False, start=None):
    """The report section for this run (``start``: ``startup.measure()``'s results, or None)."""
    dev = args.device
    sync = ('Clocks are read after `cupy.cuda.Device().synchronize()` (tensorgrad) and '
            '`torch.cuda.synchronize()` (PyTorch).' if dev == 'cuda' else
            'CPU: no synchronisation needed (both libraries compute eagerly).')
    parts = [f'## {dev.upper()}{" (quick subset)" if args.quick else ""}', '',
             f'Command: `{command_line(argv)}` — run {report.now_utc()}, {elapsed:.0f} s; '
             f'load average (1/5/15 min) {load_before} before, {report.load_average()} after.', '',
             '### Machine', ''] + [f'- {line}' for line in report.machine_info(dev, args.threads)]
    parts += ['', '### Method', '', METHOD.format(seconds=budget.seconds, min_reps=budget.min_reps,
                                                  batch_ms=budget.batch_seconds * 1e3, threads=args.threads,
                                                  sync=sync, clock=CLOCK_TEXT[args.clock],
                                                  process=PROCESS_TEXT[isolated])]
    parts += ['### Summary (geometric mean of tensorgrad/PyTorch ratios per group)', '',
              '| group | phase | geometric mean | worst case | cases rated |', '|---|---|---|---|---|']
    for group, ph, g, worst, n in report.summary_rows(groups):
        w = f'{report.fmt_ratio(worst[0])} ({worst[1]})' if worst else '—'
        parts.append(f'| {group} | {ph} | {report.fmt_ratio(g)} | {w} | {n} |')
    mem_ratio = False  # not measured
    if mem is not None:
        mem_ratio = {name: memory.ratio(r) for name, r in mem.items()}
        for name, r in mem_ratio.items():
            parts.append(f'| {MEMORY_NAME}: {name} | peak RSS increase | {report.fmt_ratio(r)} | | |')
    checks = targets.check(groups, mem_ratio)
    if checks:
        parts += ['', '### Targets', '', targets.table(checks)]
    for group, (phases, rows) in groups.items():
        parts += ['', f'### {group}', '', report.group_table(rows, phases)]
    if dev == 'cuda':
        parts += ['', 'Peak memory is measured for the cpu device only.']
    if mem is not None:
        parts += ['', f'### {MEMORY_NAME}', '', report.memory_tables(mem), '',
                  'Measured in a fresh process per library and model (`python -m benchmarks.memory LIB N MODEL '
                  'MODE`), identical for both: import NumPy, PyTorch and tensorgrad, build the model and data, '
                  'run one warm-up step (for inference, a "step" is one eval-mode forward under no_grad), '
                  f'then read the peak resident set size (VmHWM, reset via /proc/self/clear_refs) over '
                  f'{memory.STEPS} steps minus the RSS before them (the targets use this steady-state figure). '
                  '"First step" is the same over the very first step (it also allocates gradients, optimizer '
                  'state and lazy library set-up). The third row is the steady peak minus the RSS before the '
                  'first step: it adds what a library keeps from step to step (gradients, optimizer state, '
                  'buffer pools, caches). '
                  'glibc returns freed memory at once (MALLOC_MMAP_THRESHOLD_=65536, MALLOC_TRIM_THRESHOLD_=0; '
                  'tensorgrad\'s own malloc settings, `tensorgrad/_malloc.py`, then stay off) so RSS follows '
                  'live memory for both libraries.']
    if start is not None:
        parts += ['', '### Start-up (compiled kernels)', '', startup.table(start), '',
                  'Each row is a fresh process (`python -m benchmarks.startup`): the import rows are the median '
                  f'of {startup.REPEATS}; "first ..." times the first call of softmax and GELU (forward and '
                  'backward) on an 8x16 tensor, which loads numba and the kernels from its on-disk cache, or '
                  'compiles them into an empty one (`NUMBA_CACHE_DIR` set to a fresh directory).']
    return '\n'.join(parts) + '\n'


if __name__ == '__main__':
    main()
