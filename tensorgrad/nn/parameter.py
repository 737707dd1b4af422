"""PyTorch's ``torch.nn.parameter`` path: ``Parameter``."""
from .module import Parameter  # noqa: F401

__all__ = ['Parameter']
