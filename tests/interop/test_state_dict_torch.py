"""``state_dict`` keys of every module with a PyTorch twin equal torch's, and
``load_state_dict(torch_module.state_dict())`` gives the same outputs."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

CASES = [
    ('Linear', (4, 3), {}, (2, 4)),
    ('Bilinear', (2, 3, 4), {}, None),
    ('Conv1d', (2, 3, 3), {'padding': 1}, (2, 2, 7)),
    ('Conv2d', (2, 3, 3), {'stride': 2}, (2, 2, 7, 7)),
    ('BatchNorm1d', (3,), {}, (4, 3)),
    ('BatchNorm2d', (3,), {}, (2, 3, 4, 4)),
    ('LayerNorm', (4,), {}, (2, 3, 4)),
    ('GroupNorm', (2, 4), {}, (2, 4, 3)),
    ('Embedding', (5, 3), {}, 'ids'),
    ('PReLU', (), {}, (2, 3)),
    ('RNN', (3, 4), {'num_layers': 2, 'bidirectional': True}, (5, 2, 3)),
    ('LSTM', (3, 4), {'num_layers': 2, 'batch_first': True}, (2, 5, 3)),
    ('LSTM', (3, 4), {'proj_size': 2, 'bidirectional': True}, (5, 2, 3)),
    ('GRU', (3, 4), {'num_layers': 2}, (5, 2, 3)),
    ('RNNCell', (3, 4), {}, (2, 3)), ('LSTMCell', (3, 4), {}, (2, 3)), ('GRUCell', (3, 4), {}, (2, 3)),
    ('MultiheadAttention', (4, 2), {'batch_first': True}, 'mha'),
    ('MultiheadAttention', (4, 2), {'kdim': 3, 'vdim': 5, 'add_bias_kv': True}, None),
    ('TransformerEncoderLayer', (4, 2), {'dim_feedforward': 8, 'batch_first': True}, (2, 3, 4)),
    ('TransformerDecoderLayer', (4, 2), {'dim_feedforward': 8}, None),
    ('Transformer', (), {'d_model': 4, 'nhead': 2, 'num_encoder_layers': 1, 'num_decoder_layers': 1,
                         'dim_feedforward': 8}, None),
]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('name,args,kwargs,inp', CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_torch_state_dict_loads(name, args, kwargs, inp):
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kwargs).double()
    g = getattr(tg.nn, name)(*args, **kwargs).double()
    ts, gs = t.state_dict(), g.state_dict()
    assert list(gs) == list(ts)
    assert all(tuple(gs[k].shape) == tuple(ts[k].shape) for k in ts)
    g.load_state_dict(ts)  # torch tensors directly
    for k, v in g.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ts[k].numpy(), err_msg=k)
    if inp is None:
        return
    t.eval()
    g.eval()
    rng = np.random.default_rng(1)
    if inp == 'ids':
        x = rng.integers(0, 5, (2, 3))
        want, got = t(torch.from_numpy(x)), g(tg.tensor(x))
    elif inp == 'mha':
        x = rng.standard_normal((2, 3, 4))
        want = t(*(torch.from_numpy(x),) * 3)[0]
        got = g(*(tg.tensor(x),) * 3)[0]
    else:
        x = rng.standard_normal(inp)
        want, got = _first(t(torch.from_numpy(x))), _first(g(tg.tensor(x)))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_bf16_torch_state_dict():
    t = torch.nn.Linear(3, 2).bfloat16()
    g = tg.nn.Linear(3, 2)
    g.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(g.weight.numpy(), t.weight.float().detach().numpy())
