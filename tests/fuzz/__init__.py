"""Differential fuzzer: random op chains run on tensorgrad and on torch from
the same NumPy data, comparing values, dtypes, shapes, errors and gradients.

``tests/fuzz/test_fuzz.py`` runs a bounded, derandomized budget with the test
suite; ``python -m tests.fuzz --seconds 600`` runs for longer and prints a
summary (programs run, each distinct mismatch with its shrunk reproduction).
The op table is ``tests/fuzz/ops.py``.
"""
