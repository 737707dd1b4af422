"""Argument checks shared by the optimisers, with PyTorch's messages (prefixed
by the optimiser's name): ``ValueError("Adam: Invalid learning rate: -1")``."""
from .._tensor import Tensor


def _value(v):
    """A hyperparameter as a float (a one-element Tensor is accepted, as in PyTorch)."""
    if isinstance(v, Tensor):
        return float(v.item())
    return v


def check_lr(name, lr):
    """``lr`` is a number >= 0, or a one-element Tensor."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"{name}: Tensor lr must be 1-element, got shape {tuple(lr.shape)}")
    if not 0.0 <= _value(lr):
        raise ValueError(f"{name}: Invalid learning rate: {lr}")


def check_nonneg(name, label, value):
    """``value`` >= 0, else ``ValueError("<name>: Invalid <label> value: <value>")``."""
    if not 0.0 <= _value(value):
        raise ValueError(f"{name}: Invalid {label} value: {value}")


def check_betas(name, betas):
    """Two coefficients, each in [0, 1)."""
    try:
        b0, b1 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{name}: betas must be a pair of floats, got {betas!r}") from None
    for i, b in enumerate((b0, b1)):
        if not 0.0 <= _value(b) < 1.0:
            raise ValueError(f"{name}: Invalid beta parameter at index {i}: {b}")


def check_impl_flags(name, foreach=None, fused=None, differentiable=False):
    """``foreach`` / ``fused`` / ``capturable`` only choose PyTorch's kernels and are
    accepted as no-ops; ``differentiable=True`` (a step that autograd can see
    through) is not supported; ``fused`` with ``foreach`` is refused as in PyTorch."""
    if fused and foreach:
        raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together.")
    if fused and differentiable:
        raise RuntimeError(f"{name}: `fused` does not support `differentiable`")
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True is not supported: tensorgrad's optimisers "
                                  f"update parameters in place outside the graph")
