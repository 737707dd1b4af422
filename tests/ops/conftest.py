"""Fixtures of the fused-kernel tests."""
import pytest


@pytest.fixture
def threaded(monkeypatch):
    """Force the row-parallel path (2 threads, every size) of the fused kernels."""
    import tensorgrad.ops._parallel as kernels
    monkeypatch.setattr(kernels, '_NTHREADS', 2)
    monkeypatch.setattr(kernels, '_PARALLEL_MIN', 0)
