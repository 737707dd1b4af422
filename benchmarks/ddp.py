"""DDP benchmark: training step time and communication share on 1 and 2
processes (MPI, CPU), and the all-reduce bandwidth behind it.

    python -m benchmarks.ddp [--steps 30] [--out PATH]

Each configuration runs in its own job started by ``python -m
tensorgrad.distributed.run`` (one BLAS / tensorgrad thread per process). The
global batch is the same for 1 and 2 processes (each of 2 processes computes
half of it), so on 2 processes a step ideally takes half the time; the
communication share is the time spent in DDP's bucket all-reduces over the
step time (rank 0). Prints a markdown table (and writes it to ``--out``)."""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

MODELS = ('MLP 784-256-10, global batch 128, SGD', 'CNN 2x(conv3x3+ReLU+maxpool)+linear, global batch 64, SGD')


def _model(name, nn):
    if name.startswith('MLP'):
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)), (128, 784)
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10)), (64, 1, 28, 28)


def _worker(steps, ddp):
    import tensorgrad as tg  # noqa: PLC0415
    import tensorgrad.distributed as dist  # noqa: PLC0415
    from tensorgrad import nn  # noqa: PLC0415
    from tensorgrad.nn.parallel import DistributedDataParallel  # noqa: PLC0415
    dist.init_process_group('mpi')
    rank, world = dist.get_rank(), dist.get_world_size()
    out = {'world': world, 'ddp': ddp, 'models': {}}
    # all-reduce bandwidth: float32 in place, the median of 20 calls
    for n in (1 << 18, 1 << 20, 1 << 22):
        t = tg.ones(n)
        times = []
        for _ in range(20):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - t0)
        out[f'allreduce_{n * 4 / 2 ** 20:g}MiB_ms'] = float(np.median(times) * 1e3)
    for name in MODELS:
        tg.manual_seed(0)
        model, shape = _model(name, nn)
        if ddp:
            model = DistributedDataParallel(model)
        opt = tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(rank)
        local = (shape[0] // world,) + shape[1:]
        x = tg.tensor(rng.standard_normal(local).astype(np.float32), requires_grad=False)
        y = tg.tensor(rng.integers(0, 10, local[0]), requires_grad=False)
        times, comm = [], []
        for i in range(steps + 3):
            dist.barrier()
            c0 = model.reducer.comm_seconds if ddp else 0.0
            t0 = time.perf_counter()
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            if i >= 3:  # warm-up steps are not counted
                times.append(time.perf_counter() - t0)
                comm.append((model.reducer.comm_seconds if ddp else 0.0) - c0)
        out['models'][name] = {'step_ms': float(np.median(times) * 1e3),
                               'comm_share': float(np.sum(comm) / np.sum(times))}
    if rank == 0:
        print('RESULT ' + json.dumps(out), flush=True)
    dist.destroy_process_group()


def _run(nproc, steps, ddp):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, '-m', 'tensorgrad.distributed.run', '--nproc-per-node', str(nproc), '-m',
           'benchmarks.ddp', '--worker', '--steps', str(steps)] + ([] if ddp else ['--no-ddp'])
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    raise RuntimeError(f'benchmarks.ddp: the {nproc}-process job failed:\n{proc.stdout}\n{proc.stderr}')


def render(results):
    """The markdown report of the runs."""
    plain, one, two = results
    lines = ['### DDP training step (CPU, MPI; one thread per process)', '',
             '| model | 1 process, no DDP | 1 process, DDP | 2 processes, DDP | speed-up 1 → 2 | '
             'communication share (2 processes) |', '|---|---|---|---|---|---|']
    for name in MODELS:
        a, b, c = (r['models'][name] for r in (plain, one, two))
        lines.append(f"| {name} | {a['step_ms']:.2f} ms | {b['step_ms']:.2f} ms | {c['step_ms']:.2f} ms | "
                     f"{b['step_ms'] / c['step_ms']:.2f}x | {c['comm_share'] * 100:.0f}% |")
    lines += ['', '| all-reduce, float32, in place (2 processes) | median time | bandwidth (buffer size / time) |',
              '|---|---|---|']
    for key, ms in two.items():
        if key.startswith('allreduce_'):
            mib = float(key.split('_')[1][:-3])
            lines.append(f'| {mib:g} MiB | {ms:.3f} ms | {mib * 2 ** 20 / (ms / 1e3) / 1e9:.2f} GB/s |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    """Run the worker (inside a job) or the three jobs and print the report."""
    p = argparse.ArgumentParser(prog='python -m benchmarks.ddp', description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=30, help='timed steps per model (default 30)')
    p.add_argument('--out', default=None, help='also write the report to this file')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--no-ddp', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        _worker(args.steps, not args.no_ddp)
        return
    results = [_run(1, args.steps, False), _run(1, args.steps, True), _run(2, args.steps, True)]
    body = render(results)
    print(body)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(body)


if __name__ == '__main__':
    main()
