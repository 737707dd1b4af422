"""Shape and view ops against PyTorch (forward and backward), views sharing
memory, joins/splits, and shape errors naming the op."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from helpers import compare, rand

UNARY_SHAPE_OPS = [
    ('reshape', lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    ('reshape_tuple', lambda x: x.reshape((-1, 3)), lambda x: x.reshape((-1, 3))),
    ('view', lambda x: x.view(2, -1), lambda x: x.view(2, -1)),
    ('fn_reshape', lambda x: tg.reshape(x, (3, 8)), lambda x: torch.reshape(x, (3, 8))),
    ('flatten', lambda x: x.flatten(), lambda x: x.flatten()),
    ('flatten_1', lambda x: x.flatten(1), lambda x: x.flatten(1)),
    ('flatten_0_-2', lambda x: x.flatten(0, -2), lambda x: x.flatten(0, -2)),
    ('unflatten', lambda x: x.unflatten(-1, (2, 2)), lambda x: x.unflatten(-1, (2, 2))),
    ('permute', lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    ('permute_neg', lambda x: x.permute(-1, -3, -2), lambda x: x.permute(-1, -3, -2)),
    ('transpose', lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2)),
    ('transpose_neg', lambda x: x.transpose(-1, -2), lambda x: x.transpose(-1, -2)),
    ('T_2d', lambda x: x.reshape(6, 4).T, lambda x: x.reshape(6, 4).T),
    ('mT', lambda x: x.mT, lambda x: x.mT),
    ('swapaxes', lambda x: x.swapaxes(0, 1), lambda x: x.swapaxes(0, 1)),
    ('movedim', lambda x: x.movedim(0, -1), lambda x: x.movedim(0, -1)),
    ('unsqueeze0', lambda x: x.unsqueeze(0), lambda x: x.unsqueeze(0)),
    ('unsqueeze-1', lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1)),
    ('unsqueeze-2', lambda x: x.unsqueeze(-2), lambda x: x.unsqueeze(-2)),
    ('squeeze_dim', lambda x: x.unsqueeze(1).squeeze(1), lambda x: x.unsqueeze(1).squeeze(1)),
    ('squeeze_all', lambda x: x.reshape(1, 2, 1, 12).squeeze(), lambda x: x.reshape(1, 2, 1, 12).squeeze()),
    ('squeeze_noop', lambda x: x.squeeze(0), lambda x: x.squeeze(0)),
    ('squeeze_neg', lambda x: x.unsqueeze(-1).squeeze(-1), lambda x: x.unsqueeze(-1).squeeze(-1)),
    ('expand', lambda x: x[:, :1].expand(2, 3, 4), lambda x: x[:, :1].expand(2, 3, 4)),
    ('expand_new', lambda x: x.expand(2, 2, 3, 4), lambda x: x.expand(2, 2, 3, 4)),
    ('expand_-1', lambda x: x[:1].expand(3, -1, -1), lambda x: x[:1].expand(3, -1, -1)),
    ('broadcast_to', lambda x: tg.broadcast_to(x[:, :, :1], (2, 3, 5)), lambda x: torch.broadcast_to(x[:, :, :1], (2, 3, 5))),
    ('expand_as', lambda x: x[:1].expand_as(x) * x, lambda x: x[:1].expand_as(x) * x),
    ('repeat', lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3)),
    ('repeat_more', lambda x: x.repeat(2, 1, 1, 2), lambda x: x.repeat(2, 1, 1, 2)),
    ('tile', lambda x: x.tile(2,), lambda x: x.tile(2,)),
    ('flip', lambda x: x.flip((0, -1)), lambda x: x.flip((0, -1))),
    ('contiguous_chain', lambda x: x.permute(1, 0, 2).reshape(3, 8), lambda x: x.permute(1, 0, 2).reshape(3, 8)),
]


@pytest.mark.parametrize('name,f,g', UNARY_SHAPE_OPS, ids=[c[0] for c in UNARY_SHAPE_OPS])
def test_shape_op(name, f, g, device):
    compare(f, g, rand(2, 3, 4), device=device)


def test_views_share_memory(device):
    x = tg.tensor(rand(2, 3, 4), device=device, requires_grad=False)
    for v in (x.reshape(6, 4), x.view(-1), x.permute(2, 0, 1), x.transpose(0, 1), x.unsqueeze(0), x[0],
              x[:, 1:], x.expand(2, 2, 3, 4), x.T):
        assert np.shares_memory(v.numpy(), x.numpy())
        assert v._vc is x._vc


@pytest.mark.parametrize('dim', [0, 1, -1])
def test_cat_and_stack(dim, device):
    a, b, c = rand(2, 3), rand(2, 3), rand(2, 3)
    compare(lambda x, y, z: tg.cat([x, y, z], dim), lambda x, y, z: torch.cat([x, y, z], dim), a, b, c,
            device=device)
    compare(lambda x, y, z: tg.concat((x, y, z), dim=dim), lambda x, y, z: torch.concat((x, y, z), dim=dim),
            a, b, c, device=device)
    compare(lambda x, y, z: tg.stack([x, y, z], dim), lambda x, y, z: torch.stack([x, y, z], dim), a, b, c,
            device=device)
    compare(lambda x, y: x.cat([y], dim), lambda x, y: torch.cat([x, y], dim), a, b, device=device)
    compare(lambda x, y: tg.tensor.cat([x, y], dim), lambda x, y: torch.cat([x, y], dim), a, b, device=device)


def test_cat_different_sizes_and_no_grad_input(device):
    a, b = rand(2, 3), rand(4, 3)
    compare(lambda x, y: tg.cat([x, y]), lambda x, y: torch.cat([x, y]), a, b, device=device, grad=[True, False])


def test_stack_new_last_dim(device):
    a, b = rand(3), rand(3)
    compare(lambda x, y: tg.stack([x, y], -1), lambda x, y: torch.stack([x, y], -1), a, b, device=device)


@pytest.mark.parametrize('size,dim', [(2, 0), (2, 1), ([1, 3], -1), (3, -1)])
def test_split(size, dim, device):
    a = rand(4, 4)
    compare(lambda x: tg.cat([p * (i + 1) for i, p in enumerate(x.split(size, dim))], dim),
            lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.split(size, dim))], dim), a, device=device)
    assert [p.shape for p in tg.tensor(a).split(size, dim)] == [tuple(p.shape) for p in torch.tensor(a).split(size, dim)]


@pytest.mark.parametrize('chunks,dim', [(2, 0), (3, 1), (4, -1)])
def test_chunk_and_unbind(chunks, dim, device):
    a = rand(5, 4)
    t, r = tg.tensor(a, device=device), torch.tensor(a)
    assert [p.shape for p in t.chunk(chunks, dim)] == [tuple(p.shape) for p in r.chunk(chunks, dim)]
    compare(lambda x: tg.stack([p.sum() * (i + 1) for i, p in enumerate(x.chunk(chunks, dim))]),
            lambda x: torch.stack([p.sum() * (i + 1) for i, p in enumerate(x.chunk(chunks, dim))]), a,
            device=device)
    compare(lambda x: tg.stack(list(x.unbind(dim))[::-1], 0), lambda x: torch.stack(list(x.unbind(dim))[::-1], 0),
            a, device=device)


def test_shape_errors(device):
    x = tg.tensor(rand(2, 3), device=device)
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        tg.cat([x, tg.tensor(rand(2, 4), device=device)], 0)
    with pytest.raises(ValueError, match='stack'):
        tg.stack([x, tg.tensor(rand(3, 2), device=device)])
    with pytest.raises(ValueError, match='permute'):
        x.permute(0, 0)
    with pytest.raises(IndexError, match='transpose.*dim 2'):
        x.transpose(0, 2)
    with pytest.raises(IndexError, match='unsqueeze.*dim 3'):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match='cat.*dim 2'):
        tg.cat([x, x], 2)
    with pytest.raises(ValueError, match='expand'):
        x.expand(4, 3)
    with pytest.raises(ValueError, match='split'):
        x.split([1, 1, 1], 0)
    with pytest.raises(ValueError, match='cat'):
        tg.cat([], 0)


def test_reshape_of_non_contiguous_copies_but_is_correct(device):
    a = rand(3, 4)
    compare(lambda x: x.T.reshape(-1), lambda x: x.T.reshape(-1), a, device=device)


def test_size_and_shape(device):
    x = tg.tensor(rand(2, 3, 4), device=device)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2


@pytest.mark.parametrize('src,dst', [(0, -1), (-1, 0), ((0, 1), (2, 0)), ([2, 0], [0, 1])])
def test_movedim(src, dst, device):
    compare(lambda x: x.movedim(src, dst), lambda x: x.movedim(src, dst), rand(2, 3, 4), device=device)
    compare(lambda x: tg.moveaxis(x, src, dst), lambda x: torch.moveaxis(x, src, dst), rand(2, 3, 4),
            device=device)
