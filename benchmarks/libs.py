"""One small adapter per library, so a case is written once for both.

A case gets a ``Lib`` and uses ``lib.nn``, ``lib.optim``, ``lib.tensor(array)``
and the few helpers below; the differences between the two libraries
(device transfer, clock synchronisation, tuple outputs) live only here.
"""
import copy

import numpy as np


class Lib:
    """Common interface; ``name`` is 'tensorgrad' or 'torch'."""
    name = ''

    def __init__(self, device):
        self.device = device

    def sync(self):
        """Wait for queued device work, so a clock read after it is honest."""

    def module(self, torch_module, make):
        """This library's module: ``make(self.nn)`` built and loaded from ``torch_module``."""
        raise NotImplementedError

    def tensor(self, arr, requires_grad=False):
        """A tensor on this library's device holding a private copy of ``arr``."""
        raise NotImplementedError

    @staticmethod
    def first(out):
        """The main output of a module that may return a tuple (MHA, LSTM)."""
        return out[0] if isinstance(out, tuple) else out

    def mha(self, m, q, k, v):
        """Self/cross attention output only (no attention weights)."""
        return self.first(m(q, k, v))

    def to_numpy(self, t):
        """A NumPy copy of a tensor's values (for the cross-check of outputs)."""
        raise NotImplementedError

    def no_grad(self):
        """This library's ``no_grad()`` context (inference: no graph is recorded)."""
        raise NotImplementedError

    @staticmethod
    def clear_grads(tensors):
        """Drop accumulated gradients (as ``zero_grad(set_to_none=True)``)."""
        for t in tensors:
            t.grad = None


class TorchLib(Lib):
    """PyTorch (the reference)."""
    name = 'torch'

    def __init__(self, device):
        super().__init__(device)
        import torch  # noqa: PLC0415
        self.torch = torch
        self.nn = torch.nn
        self.optim = torch.optim
        self._dev = torch.device(device)

    def sync(self):
        if self.device == 'cuda':
            self.torch.cuda.synchronize()

    def module(self, torch_module, make=None):
        return copy.deepcopy(torch_module).to(self._dev)

    def tensor(self, arr, requires_grad=False):
        t = self.torch.from_numpy(np.array(arr, copy=True)).to(self._dev)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def mha(self, m, q, k, v):
        return m(q, k, v, need_weights=False)[0]

    def to_numpy(self, t):
        return t.detach().cpu().numpy()

    def no_grad(self):
        return self.torch.no_grad()


class TensorgradLib(Lib):
    """tensorgrad (the library under test)."""
    name = 'tensorgrad'

    def __init__(self, device):
        super().__init__(device)
        import tensorgrad  # noqa: PLC0415
        self.tg = tensorgrad
        self._cupy = None
        if device == 'cuda':
            import cupy  # noqa: PLC0415
            self._cupy = cupy

    @property
    def nn(self):
        """tensorgrad.nn (loaded on first use)."""
        return self.tg.nn

    @property
    def optim(self):
        """tensorgrad.optim (loaded on first use)."""
        return self.tg.optim

    def sync(self):
        if self._cupy is not None:
            self._cupy.cuda.Device().synchronize()

    def module(self, torch_module, make):
        m = make(self.tg.nn)
        if any(True for _ in torch_module.parameters()) or any(True for _ in torch_module.buffers()):
            m.init_from_torch(copy.deepcopy(torch_module).cpu())
        if self.device != 'cpu':
            m.to(self.device)
        return m

    def to_numpy(self, t):
        arr = t._data
        return arr if isinstance(arr, np.ndarray) else arr.get()

    def no_grad(self):
        return self.tg.no_grad()

    def tensor(self, arr, requires_grad=False):
        return self.tg.Tensor(np.array(arr, copy=True), requires_grad=requires_grad, device=self.device)


def set_threads(n):
    """Same thread count for PyTorch, NumPy's BLAS and tensorgrad's own worker threads.

    Returns the threadpoolctl limiter (the BLAS limit holds while it lives)."""
    import torch  # noqa: PLC0415
    torch.set_num_threads(n)
    set_tensorgrad_threads(n)
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
        return threadpool_limits(limits=n)
    except ImportError:
        return None


def set_tensorgrad_threads(n):
    """``tensorgrad.set_num_threads(n)`` (its row-parallel kernels' worker threads), when it exists."""
    try:
        import tensorgrad  # noqa: PLC0415
        if hasattr(tensorgrad, 'set_num_threads'):
            tensorgrad.set_num_threads(n)
    except Exception:  # noqa: BLE001 - tensorgrad broken: every case reports it
        pass


def tensorgrad_threads():
    """``tensorgrad.get_num_threads()``, or None."""
    try:
        import tensorgrad  # noqa: PLC0415
        return tensorgrad.get_num_threads() if hasattr(tensorgrad, 'get_num_threads') else None
    except Exception:  # noqa: BLE001
        return None


def make_libs(device):
    """(tensorgrad, torch) adapters for ``device``; tensorgrad's may be an error string."""
    try:
        tg = TensorgradLib(device)
    except Exception as e:  # noqa: BLE001 - reported as n/a for every case
        tg = f'{type(e).__name__}: {e}'
    return tg, TorchLib(device)
