"""Long-run mode: ``python -m tests.fuzz --seconds 600``.

Runs batches of random programs (hypothesis, a new seed per batch) until the
time is up. Each distinct mismatch is shrunk by hypothesis to a minimal
program, printed, and then treated as known so the run keeps exploring.
Prints a summary: programs run, mismatches with their reproductions.
"""
import argparse
import os
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .known import KNOWN  # noqa: E402
from .program import STATS, Mismatch, is_known, run_program  # noqa: E402


def main(argv=None):
    """Fuzz for ``--seconds``; print the summary; exit status 1 if a new mismatch was found."""
    parser = argparse.ArgumentParser(prog='python -m tests.fuzz', description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=60.0, help='how long to run (default 60)')
    parser.add_argument('--batch', type=int, default=300, help='programs per hypothesis run (default 300)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the first batch (default 0)')
    parser.add_argument('--max-steps', type=int, default=6, help='ops per program (default 6)')
    parser.add_argument('--include-known', action='store_true', help='report the mismatches in known.py too')
    args = parser.parse_args(argv)
    known = set() if args.include_known else set(KNOWN)
    found = []
    deadline = time.monotonic() + args.seconds
    start = time.monotonic()
    batch_seed = args.seed

    while time.monotonic() < deadline:
        @seed(batch_seed)
        @settings(max_examples=args.batch, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def batch(data):
            if time.monotonic() >= deadline:
                return
            try:
                run_program(data, max_steps=args.max_steps)
            except Mismatch as m:
                if not is_known(m, known):
                    raise
        try:
            batch()
        except Mismatch as m:
            known.add(m.signature())
            found.append(m)
            print(f"\n=== mismatch {len(found)} (batch seed {batch_seed}): {m.kind} in {sorted(m.ops)}\n{m}\n",
                  flush=True)
        except Exception as e:  # noqa: BLE001 - a crash of the fuzzer itself: report and go on
            if time.monotonic() >= deadline:  # a replay cut short by the deadline, not a finding
                break
            found.append(e)
            print(f"\n=== fuzzer error (batch seed {batch_seed}): {e!r}\n", flush=True)
        batch_seed += 1

    elapsed = time.monotonic() - start
    print("=" * 70)
    print(f"programs run: {STATS['programs']} (steps: {STATS['steps']}) in {elapsed:.0f} s, "
          f"{batch_seed - args.seed} batches, seeds {args.seed}..{batch_seed - 1}")
    print(f"distinct mismatches: {len(found)}")
    for i, m in enumerate(found, 1):
        if isinstance(m, Mismatch):
            print(f"  {i}. [{m.kind}] {sorted(m.ops)}: {m.detail.splitlines()[0]}")
        else:
            print(f"  {i}. fuzzer error: {m!r}")
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
