"""PyTorch's ``torch.nn.modules.activation`` path: the activation layers and
``MultiheadAttention`` (which PyTorch keeps in this file)."""
from .. import activation as _src
from .. import attention as _attention
from ..activation import (  # noqa: F401
    CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU,
    ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign, Tanh, Tanhshrink,
)
from ..attention import MultiheadAttention  # noqa: F401
from ._forward import _forward

__all__ = ['CELU', 'ELU', 'GELU', 'GLU', 'SELU', 'Hardsigmoid', 'Hardswish', 'Hardtanh', 'LeakyReLU', 'LogSigmoid',
           'LogSoftmax', 'Mish', 'PReLU', 'ReLU', 'ReLU6', 'Sigmoid', 'SiLU', 'Softmax', 'Softmin', 'Softplus',
           'Softsign', 'Tanh', 'Tanhshrink', 'MultiheadAttention']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.activation`` later are found here too."""
    try:
        return _forward(_src, __name__, name)
    except AttributeError:
        return _forward(_attention, __name__, name)
