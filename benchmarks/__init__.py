"""Benchmarks of tensorgrad against PyTorch, run in one process on the same inputs.

Run ``python -m benchmarks.bench`` (see benchmarks/README.md); it writes BENCHMARK.md.
"""
