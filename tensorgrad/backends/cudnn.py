"""``tensorgrad.backends.cudnn``: the cuDNN switches as settable module flags
(``benchmark``, ``deterministic``, ``enabled``, ``allow_tf32``), PyTorch's defaults.
tensorgrad does not use cuDNN; the flags are recorded only."""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    """Whether cuDNN is usable: False, tensorgrad's cuda kernels do not use it."""
    return False


def version():
    """The cuDNN version: None, as PyTorch without cuDNN."""
    return None
