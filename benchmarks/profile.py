"""Profile the tensorgrad side of benchmark cases with cProfile.

    python -m benchmarks.profile --filter "LayerNorm 32x128" [--phase backward] [--calls 20] [--top 15]

Prints, per case and phase, the functions with the most own time (file:line),
so kernel owners can see where tensorgrad spends it.
"""
import argparse
import cProfile
import pstats

from . import bench
from .libs import TensorgradLib, set_threads


def profile_case(case, phases, calls, top, sort):
    """Warm up, then profile ``calls`` timed calls of each phase and print the top functions."""
    lib = TensorgradLib('cpu')
    timers = case.build(lib, case.shared())
    for phase in phases:
        if phase not in timers:
            continue
        t = timers[phase]
        for _ in range(2):  # warm-up
            t.run(t.prepare()) if t.prepare else t.run()
        prof = cProfile.Profile()
        for _ in range(calls):
            if t.prepare is None:
                prof.runcall(t.run)
            else:
                state = t.prepare()
                prof.runcall(t.run, state)
        print(f'\n=== {case.group}: {case.name} [{phase}] x{calls} ===')
        pstats.Stats(prof).strip_dirs().sort_stats(sort).print_stats(top)


def main(argv=None):
    """Command line: see the module docstring."""
    p = argparse.ArgumentParser(prog='python -m benchmarks.profile', description=__doc__.split('\n')[0])
    p.add_argument('--filter', required=True, help='substring of "group: name" (case-insensitive)')
    p.add_argument('--phase', default=None, help='forward, backward, step or time (default: all of the case)')
    p.add_argument('--calls', type=int, default=20)
    p.add_argument('--top', type=int, default=15)
    p.add_argument('--threads', type=int, default=1, help='threads for tensorgrad and NumPy (default 1)')
    p.add_argument('--sort', default='tottime', help='pstats sort key (tottime, cumulative, ...)')
    args = p.parse_args(argv)
    limiter = set_threads(args.threads)  # noqa: F841
    sel = bench.select(argparse.Namespace(quick=False, filter=args.filter))
    for case in sel:
        profile_case(case, [args.phase] if args.phase else case.phases, args.calls, args.top, args.sort)


if __name__ == '__main__':
    main()
