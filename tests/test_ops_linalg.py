"""matmul against PyTorch: 1-D, 2-D, batched, broadcast batch dims, the
reflected operator, mm/bmm/dot, and shape errors."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import compare, rand

SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)),
          ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)),
          ((5, 2, 3), (3,)), ((1, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize('sa,sb', SHAPES, ids=str)
def test_matmul(sa, sb, device):
    a, b = rand(*sa), rand(*sb)
    compare(lambda x, y: x @ y, lambda x, y: x @ y, a, b, device=device)
    compare(tg.matmul, torch.matmul, a, b, device=device, grad=[True, False])
    compare(lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), a, b, device=device, grad=[False, True])


def test_matmul_with_array_operands(device):
    a = rand(2, 3)
    w = rand(3, 4)
    compare(lambda x: x @ w, lambda x: x @ torch.tensor(w), a, device=device)
    compare(lambda x: w.T @ x.T, lambda x: torch.tensor(w.T) @ x.T, a, device=device)
    compare(lambda x: x @ w.tolist(), lambda x: x @ torch.tensor(w), a, device=device)


def test_mm_bmm_dot(device):
    compare(tg.mm, torch.mm, rand(2, 3), rand(3, 4), device=device)
    compare(tg.bmm, torch.bmm, rand(2, 2, 3), rand(2, 3, 4), device=device)
    compare(tg.dot, torch.dot, rand(5), rand(5), device=device)
    compare(lambda x, y: x.mm(y), lambda x, y: x.mm(y), rand(2, 3), rand(3, 1), device=device)


def test_matmul_errors(device):
    a, b = tg.tensor(rand(3, 4), device=device), tg.tensor(rand(5, 2), device=device)
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        a @ b
    with pytest.raises(ValueError, match='matmul'):
        a @ tg.tensor(1.0, device=device)
    with pytest.raises(ValueError, match='mm'):
        tg.mm(a, tg.tensor(rand(4), device=device))
    with pytest.raises(ValueError, match='bmm'):
        tg.bmm(a, b)


def test_matmul_mixed_dtypes_raise_as_torch(device):
    a = tg.tensor([[1, 2], [3, 4]], device=device)
    b = tg.tensor([[0.5], [1.0]], device=device)
    with pytest.raises(RuntimeError, match='same dtype'):  # torch: "expected m1 and m2 to have the same dtype"
        a @ b
    with pytest.raises(RuntimeError, match='same dtype'):
        tg.matmul(b.T, b.double())
    np.testing.assert_allclose((a.float() @ b).numpy(), [[2.5], [5.5]])
    assert (a @ a).dtype == tg.int64
