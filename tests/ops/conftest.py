"""Fixtures of the fused-kernel tests."""
import pytest


@pytest.fixture
def threaded(monkeypatch):
    """Force the row-parallel path (2 threads, every size) of the fused kernels."""
    import tensorgrad.ops._parallel as kernels
    monkeypatch.setattr(kernels, '_NTHREADS', 2)
    monkeypatch.setattr(kernels, '_PARALLEL_MIN', 0)


def _kernel_backends():
    from tensorgrad.ops import kernels
    return ('numpy', 'numba') if kernels.available() else ('numpy',)


def pytest_generate_tests(metafunc):
    """Every test of the test_fused_* files runs under each fused-kernel backend
    (NumPy, and numba when installed)."""
    if metafunc.module.__name__.rsplit('.', 1)[-1].startswith('test_fused_'):
        metafunc.fixturenames.append('kernel_backend')
        metafunc.parametrize('kernel_backend', _kernel_backends(), indirect=True)


@pytest.fixture
def kernel_backend(request):
    """The fused-kernel backend of this test (set for its duration)."""
    from tensorgrad.ops import kernels
    prev = kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(prev)
