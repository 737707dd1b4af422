"""The current accelerator, as ``torch.accelerator``: cuda when CuPy sees a GPU,
otherwise none (tensorgrad then computes on the cpu)."""
from . import backend


def is_available():
    """Whether an accelerator (a CUDA device) is usable."""
    return backend.is_cuda_available()


def current_accelerator(check_available=False):
    """``device('cuda')`` when CUDA is usable, else None (``check_available`` is accepted
    for PyTorch's signature: the answer is None whenever none is usable)."""
    from .dtypes import device  # noqa: PLC0415
    return device('cuda') if backend.is_cuda_available() else None


def device_count():
    """The number of accelerator devices (0 without CUDA)."""
    from . import cuda  # noqa: PLC0415
    return cuda.device_count()


def current_device_index():
    """The index of the current accelerator device (0); raises without one."""
    from . import cuda  # noqa: PLC0415
    return cuda.current_device()


def synchronize(device=None):
    """Wait for the accelerator's queued work; raises without one."""
    from . import cuda  # noqa: PLC0415
    cuda.synchronize(device)
