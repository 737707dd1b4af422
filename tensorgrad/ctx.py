"""Utilities for controlling the current context: grad mode and device availability."""
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .backend import is_cuda_available  # noqa: F401

__all__ = ['enable_grad', 'is_grad_enabled', 'no_grad', 'set_grad_enabled', 'is_cuda_available']
