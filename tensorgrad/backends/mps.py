"""``tensorgrad.backends.mps``: Apple's Metal backend, which tensorgrad does not have."""


def is_available():
    """Whether the MPS device is usable: always False."""
    return False


def is_built():
    """Whether tensorgrad was built with MPS: always False."""
    return False
