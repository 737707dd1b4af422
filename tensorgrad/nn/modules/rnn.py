"""PyTorch's ``torch.nn.modules.rnn`` path: the recurrent layers and cells."""
from .. import rnn as _src
from ..rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from ._forward import _forward

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']


def __getattr__(name):
    """Names added to ``tensorgrad.nn.rnn`` later are found here too."""
    return _forward(_src, __name__, name)

