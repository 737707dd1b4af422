"""linear (tensorgrad.ops.linear) against torch.
(Forward and every gradient, non-uniform upstream gradients.)"""
import pytest
import torch.nn.functional as F

import tensorgrad as tg
from helpers import compare, rand


@pytest.mark.parametrize('xs', [(4, 3), (2, 5, 3), (2, 2, 2, 3), (3,)], ids=str)
def test_linear(xs, device):
    x, w, b = rand(*xs), rand(6, 3), rand(6)
    compare(tg.linear, F.linear, x, w, b, device=device)
    compare(tg.linear, F.linear, x, w, device=device)
    compare(tg.linear, F.linear, x, w, b, device=device, grad=[False, True, False])


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) does not match weight of shape \(6, 5\)"):
        tg.linear(tg.tensor(rand(4, 3)), tg.tensor(rand(6, 5)))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(5,\)"):
        tg.linear(tg.tensor(rand(4, 3)), tg.tensor(rand(6, 3)), tg.tensor(rand(5)))
