"""Shared pytest fixtures: the ``device`` tests run on (env DEVICE, default cpu)."""
import os

# The tests multiply small matrices; on a busy 2-core machine a multi-threaded
# BLAS stalls on them (a 300-step MLP run: 17 s threaded, 1.3 s single). Must be
# set before NumPy is first imported.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')
# torch is imported before tensorgrad's first compiled kernel, so numba shares
# torch's OpenMP runtime; with idle threads that sleep, the kernels' parallel
# builds may be used (and are tested: tests/ops/conftest.py).
os.environ.setdefault('GOMP_SPINCOUNT', '0')
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tensorgrad  # noqa: E402

DEVICE = os.environ.get('DEVICE', 'cpu')


@pytest.fixture(scope='session')
def device():
    """The device tensorgrad tensors are created on (env DEVICE); skips cuda runs without CUDA."""
    if DEVICE.startswith('cuda') and not tensorgrad.is_cuda_available():
        pytest.skip('DEVICE=cuda but CUDA is not available')
    return DEVICE


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """A failing test must not leave grad mode off for the next ones."""
    yield
    from tensorgrad.autograd.grad_mode import GRAD_MODE
    GRAD_MODE.enabled = True


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state (the shared ``helpers.RNG``, NumPy,
    Python, tensorgrad and, when imported, PyTorch): its data no longer depends on
    which tests ran before it (hypothesis draws vary), so a failure reproduces."""
    import random

    import numpy as np

    import helpers
    helpers.RNG.bit_generator.state = np.random.default_rng(0).bit_generator.state
    random.seed(0)
    np.random.seed(0)
    tensorgrad.manual_seed(0)
    if 'torch' in sys.modules:
        sys.modules['torch'].manual_seed(0)
    yield


cuda_only = pytest.mark.skipif(not tensorgrad.is_cuda_available(), reason='needs CUDA')
