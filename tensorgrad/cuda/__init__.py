"""The cuda device, as ``torch.cuda``: ``is_available``, ``device_count``, seeding,
``synchronize``, ``current_device``, ``get_device_name``, memory queries and
``empty_cache``; ``tensorgrad.cuda.amp`` holds ``autocast`` and ``GradScaler``.

Nothing here imports CuPy until a function needs the device; without CuPy the
queries answer as PyTorch's do on a machine without CUDA, and calls that need
a GPU raise a clear error. tensorgrad uses one cuda device (index 0).
"""
from .. import backend

_seed = {'value': None}


def is_available():
    """Whether a CUDA device is usable (CuPy installed and a GPU present)."""
    return backend.is_cuda_available()


def device_count():
    """The number of CUDA devices (0 without CUDA)."""
    if not backend.is_cuda_available():
        return 0
    return int(backend.cupy().cuda.runtime.getDeviceCount())


def is_initialized():
    """Whether the cuda backend has been loaded in this process."""
    return backend._cupy is not None


def _index(device, who):
    if device is None:
        return 0
    if isinstance(device, int) and not isinstance(device, bool):
        idx = device
    else:
        from ..dtypes import device as _device  # noqa: PLC0415
        d = _device(device)
        if d.type != 'cuda':
            raise ValueError(f"{who}: expected a cuda device, got {str(d)!r}")
        idx = 0 if d.index is None else d.index
    if idx != 0:
        raise ValueError(f"{who}: tensorgrad uses a single cuda device (index 0), got index {idx}")
    return idx


def current_device():
    """The index of the current cuda device (0); raises without CUDA."""
    backend.cupy()
    return 0


def set_device(device):
    """Select the cuda device; only index 0 is supported. Raises without CUDA."""
    _index(device, 'set_device')
    backend.cupy()


def get_device_name(device=None):
    """The name of a cuda device (the GPU's model); raises without CUDA."""
    idx = _index(device, 'get_device_name')
    name = backend.cupy().cuda.runtime.getDeviceProperties(idx)['name']
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None):
    """The (major, minor) compute capability of a cuda device; raises without CUDA."""
    idx = _index(device, 'get_device_capability')
    props = backend.cupy().cuda.runtime.getDeviceProperties(idx)
    return int(props['major']), int(props['minor'])


def is_bf16_supported():
    """Whether bfloat16 can be used on the cuda device (compute capability 8.0 or newer)."""
    return is_available() and get_device_capability()[0] >= 8


def synchronize(device=None):
    """Wait until all work queued on the cuda device has finished; raises without CUDA."""
    _index(device, 'synchronize')
    backend.cupy().cuda.Device(0).synchronize()


def manual_seed(seed):
    """Seed CuPy's random generator (when cuda is loaded). tensorgrad draws the random
    values of cuda tensors from the cpu generator, so ``tensorgrad.manual_seed`` is what
    makes them reproducible; without CUDA this only records the seed, as PyTorch's."""
    from ..random import _check_seed  # noqa: PLC0415
    seed = _check_seed(seed, 'cuda.manual_seed')
    _seed['value'] = seed
    if backend._cupy is not None:
        backend._cupy.random.seed(seed)


def manual_seed_all(seed):
    """``manual_seed`` for every cuda device (tensorgrad uses one)."""
    manual_seed(seed)


def initial_seed():
    """The seed last given to ``cuda.manual_seed`` (None when never given)."""
    return _seed['value']


def empty_cache():
    """Release the cached, unused blocks of CuPy's memory pools (a no-op when cuda is not loaded)."""
    cp = backend._cupy
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes of cuda memory held by tensors (0 when cuda is not loaded)."""
    _index(device, 'memory_allocated')
    cp = backend._cupy
    return 0 if cp is None else int(cp.get_default_memory_pool().used_bytes())


def memory_reserved(device=None):
    """Bytes of cuda memory held by CuPy's memory pool, cached blocks included (0 when not loaded)."""
    _index(device, 'memory_reserved')
    cp = backend._cupy
    return 0 if cp is None else int(cp.get_default_memory_pool().total_bytes())


def __getattr__(name):
    if name == 'amp':
        import importlib  # noqa: PLC0415
        return importlib.import_module(f'{__name__}.amp')
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
