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
    return ('numpy', 'numba', 'numba-parallel') if kernels.available() else ('numpy',)


def pytest_generate_tests(metafunc):
    """Every test of the test_fused_* files runs under each fused-kernel backend
    (NumPy, and numba when installed)."""
    if metafunc.module.__name__.rsplit('.', 1)[-1].startswith('test_fused_'):
        metafunc.fixturenames.append('kernel_backend')
        metafunc.parametrize('kernel_backend', _kernel_backends(), indirect=True)


@pytest.fixture
def kernel_backend(request, monkeypatch):
    """The fused-kernel backend of this test (set for its duration);
    'numba-parallel' runs every compiled kernel's parallel build, whatever the size."""
    from tensorgrad.ops import kernels
    name = request.param
    if name == 'numba-parallel':
        force_parallel_kernels(monkeypatch)
        name = 'numba'
    prev = kernels.set_backend(name)
    yield request.param
    kernels.set_backend(prev)


def force_parallel_kernels(monkeypatch):
    """Make every compiled kernel take its parallel build (2 threads) at any size."""
    import importlib
    import pkgutil

    import tensorgrad.ops._parallel as pool
    from tensorgrad.ops import kernels
    from tensorgrad.ops.kernels import _jit
    for info in pkgutil.iter_modules(kernels.__path__):  # build every kernel now, so all are patched
        importlib.import_module(f'{kernels.__name__}.{info.name}')
    monkeypatch.setattr(pool, '_NTHREADS', 2)
    monkeypatch.setattr(_jit, '_PARALLEL_OK', True)
    for k in _jit.KERNELS:
        monkeypatch.setattr(k, 'parallel_min', 0)
