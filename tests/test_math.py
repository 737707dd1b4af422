"""The wider math library (tensorgrad/ops/math.py, einsum.py, tensorgrad/linalg.py)
against PyTorch: forward and backward with non-uniform upstream gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import assert_close, compare, rand

SHAPES = [(5,), (3, 4), (2, 3, 4)]

# name -> (tensorgrad fn, torch fn, (low, high) domain)
UNARY = {
    'tan': (tg.tan, torch.tan, (-1.2, 1.2)),
    'arcsin': (tg.arcsin, torch.asin, (-0.9, 0.9)),
    'arccos': (tg.arccos, torch.acos, (-0.9, 0.9)),
    'arctan': (tg.arctan, torch.atan, (-3, 3)),
    'sinh': (tg.sinh, torch.sinh, (-2, 2)),
    'cosh': (tg.cosh, torch.cosh, (-2, 2)),
    'arcsinh': (tg.arcsinh, torch.asinh, (-3, 3)),
    'arccosh': (tg.arccosh, torch.acosh, (1.2, 3)),
    'arctanh': (tg.arctanh, torch.atanh, (-0.9, 0.9)),
    'exp2': (tg.exp2, torch.exp2, (-2, 2)),
    'expm1': (tg.expm1, torch.expm1, (-2, 2)),
    'log2': (tg.log2, torch.log2, (0.1, 3)),
    'log10': (tg.log10, torch.log10, (0.1, 3)),
    'log1p': (tg.log1p, torch.log1p, (-0.5, 3)),
    'cbrt': (tg.cbrt, lambda t: torch.sign(t) * t.abs() ** (1 / 3), (0.2, 3)),
    'cbrt_neg': (tg.cbrt, lambda t: torch.sign(t) * t.abs() ** (1 / 3), (-3, -0.2)),
    'square': (tg.square, torch.square, (-2, 2)),
    'reciprocal': (tg.reciprocal, torch.reciprocal, (0.5, 2)),
    'rsqrt': (tg.rsqrt, torch.rsqrt, (0.2, 3)),
    # torch's float32 sinc gradient cancels near 0 (errors ~3e-4): the reference runs in float64
    'sinc': (tg.sinc, lambda t: torch.sinc(t.double()).float(), (-2, 2)),
    'soft_sign': (tg.soft_sign, F.softsign, (-3, 3)),
    'selu': (tg.selu, F.selu, (-3, 3)),
    'elu': (lambda t: tg.elu(t, 0.7), lambda t: F.elu(t, 0.7), (-3, 3)),
    'hard_tanh': (lambda t: tg.hard_tanh(t, lower_bound=-0.5, upper_bound=0.8),
                  lambda t: F.hardtanh(t, -0.5, 0.8), (-2, 2)),
    'asin': (tg.asin, torch.asin, (-0.9, 0.9)),
    'atanh': (tg.atanh, torch.atanh, (-0.9, 0.9)),
}


@pytest.mark.parametrize('name', sorted(UNARY))
@pytest.mark.parametrize('shape', SHAPES)
def test_unary_vs_torch(name, shape, device):
    f, ft, (lo, hi) = UNARY[name]
    compare(f, ft, rand(*shape, low=lo, high=hi), device=device, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('name', ['tan', 'arcsin', 'arctan', 'sinh', 'cosh', 'exp2', 'expm1', 'log1p',
                                  'square', 'reciprocal', 'rsqrt', 'cumsum', 'cumprod', 'tril', 'triu', 'roll',
                                  'atan2', 'logaddexp', 'norm'])
def test_tensor_methods_exist(name):
    assert callable(getattr(tg.Tensor, name))


def test_float32_stays_float32():
    x = tg.tensor(rand(4, low=0.5, high=2), requires_grad=True)
    for f in (tg.tan, tg.log2, tg.log10, tg.exp2, tg.cbrt, tg.rsqrt, tg.selu, tg.soft_sign, lambda t: tg.elu(t, 2.0)):
        y = f(x)
        assert y._data.dtype == np.float32
        y.backward(np.ones(4, np.float32))
        assert x.grad._data.dtype == np.float32
        x.grad = None


def test_square_of_int_stays_int():
    assert tg.square(tg.tensor([1, 2, 3]))._data.dtype == np.int64


@pytest.mark.parametrize('fn,tfn', [(tg.arctan2, torch.atan2), (tg.logaddexp, torch.logaddexp),
                                    (tg.logaddexp2, torch.logaddexp2)])
@pytest.mark.parametrize('shapes', [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5))])
def test_binary_vs_torch(fn, tfn, shapes, device):
    compare(fn, tfn, rand(*shapes[0], low=-2, high=2), rand(*shapes[1], low=-2, high=2), device=device)


def test_binary_with_constant():
    compare(lambda a: tg.arctan2(a, 0.5), lambda a: torch.atan2(a, torch.tensor(0.5)), rand(3, 4))
    compare(lambda a: tg.logaddexp(a, 1.5), lambda a: torch.logaddexp(a, torch.tensor(1.5)), rand(3, 4))


@pytest.mark.parametrize('shape,dim', [((6,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1), ((2, 3, 4), -1)])
def test_cumsum(shape, dim, device):
    compare(lambda t: tg.cumsum(t, dim), lambda t: torch.cumsum(t, dim), rand(*shape), device=device)
    compare(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), rand(*shape), device=device)


def test_cumsum_flattens_without_dim():
    x = rand(3, 4)
    compare(lambda t: tg.cumsum(t), lambda t: torch.cumsum(t.reshape(-1), 0), x)
    compare(lambda t: np.cumsum(t, axis=1), lambda t: torch.cumsum(t, 1), x)


@pytest.mark.parametrize('shape,dim', [((6,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1)])
def test_cumprod(shape, dim, device):
    compare(lambda t: tg.cumprod(t, dim), lambda t: torch.cumprod(t, dim), rand(*shape, low=0.5, high=1.5),
            device=device)


@pytest.mark.parametrize('line', [[1., 2., 0., 3., 0., 2.], [0., 2., 3., 4.], [2., 3., 4., 0.], [0., 0., 1., 2.],
                                  [1.5, -2., 0.5, 3.]])
def test_cumprod_with_zeros(line):
    x = np.array([line, line[::-1]], dtype=np.float32)
    compare(lambda t: tg.cumprod(t, 1), lambda t: torch.cumprod(t, 1), x)
    compare(lambda t: tg.cumprod(t, 0), lambda t: torch.cumprod(t, 0), x.T.copy())


@pytest.mark.parametrize('fn', ['tril', 'triu'])
@pytest.mark.parametrize('diagonal', [0, 1, -1, 3])
@pytest.mark.parametrize('shape', [(4, 4), (3, 5), (2, 4, 3)])
def test_tril_triu(fn, diagonal, shape, device):
    compare(lambda t: getattr(tg, fn)(t, diagonal), lambda t: getattr(torch, fn)(t, diagonal), rand(*shape),
            device=device)
    compare(lambda t: getattr(t, fn)(diagonal), lambda t: getattr(t, fn)(diagonal), rand(*shape), device=device)


def test_tril_needs_matrix():
    with pytest.raises(ValueError, match='tril'):
        tg.tril(tg.tensor([1., 2.]))


@pytest.mark.parametrize('shifts,dims', [(1, 0), (-2, 1), ((1, 2), (0, -1)), (5, -1), (3, None)])
def test_roll(shifts, dims, device):
    compare(lambda t: tg.roll(t, shifts, dims), lambda t: torch.roll(t, shifts, dims), rand(3, 4), device=device)
    compare(lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), rand(3, 4), device=device)


def test_roll_mismatched_lengths():
    with pytest.raises(ValueError, match='roll'):
        tg.roll(tg.ones(3, 4), (1, 2), 0)


@pytest.mark.parametrize('n', [1, 2, 3])
@pytest.mark.parametrize('shape', [(), (4,), (2, 3), (2, 3, 4)])
def test_atleast_nd(n, shape):
    x = rand(*shape) if shape else np.asarray(0.5, np.float32)
    t = tg.tensor(x, requires_grad=True)
    y = getattr(tg, f'atleast_{n}d')(t)
    assert y.shape == getattr(np, f'atleast_{n}d')(x).shape
    assert y.shape == getattr(torch, f'atleast_{n}d')(torch.tensor(x)).shape
    if shape:
        y.backward(np.ones(y.shape, np.float32))
        assert t.grad.shape == shape
    a, b = tg.atleast_2d(tg.tensor([1.]), tg.tensor([[1., 2.]]))
    assert a.shape == (1, 1) and b.shape == (1, 2)


@pytest.mark.parametrize('shape,dim', [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1)])
def test_glu(shape, dim, device):
    compare(lambda t: tg.glu(t, dim), lambda t: F.glu(t, dim), rand(*shape), device=device)


def test_glu_odd_size():
    with pytest.raises(ValueError, match='glu'):
        tg.glu(tg.ones(3, 5))


@pytest.mark.parametrize('ddof', [0, 1, 2])
@pytest.mark.parametrize('dim', [None, 0, -1, (0, 1)])
def test_var_std_ddof(ddof, dim):
    x = rand(4, 5)
    td = dim if dim is not None else None
    compare(lambda t: tg.var(t, dim, ddof=ddof), lambda t: torch.var(t, td, correction=ddof), x)
    compare(lambda t: tg.std(t, dim, ddof=ddof), lambda t: torch.std(t, td, correction=ddof), x)
    np.testing.assert_allclose(tg.var(tg.tensor(x), dim, ddof=ddof).numpy(), np.var(x, axis=dim, ddof=ddof),
                               rtol=1e-5)


def test_amax_amin_flip_moveaxis_broadcast():
    x = rand(2, 3, 4)
    compare(lambda t: tg.amax(t, (0, 2)), lambda t: torch.amax(t, (0, 2)), x)
    compare(lambda t: tg.amin(t, -1, keepdim=True), lambda t: torch.amin(t, -1, keepdim=True), x)
    compare(lambda t: tg.flip(t, (0, -1)), lambda t: torch.flip(t, (0, -1)), x)
    compare(lambda t: tg.moveaxis(t, 0, -1), lambda t: torch.moveaxis(t, 0, -1), x)
    compare(lambda t: tg.broadcast_to(t, (5, 2, 3, 4)), lambda t: torch.broadcast_to(t, (5, 2, 3, 4)), x)


@pytest.mark.parametrize('reps', [(2,), (2, 1), (1, 2, 3), 3])
def test_numpy_style_tile(reps):
    x = rand(2, 3)
    treps = reps if isinstance(reps, tuple) else (reps,)
    compare(lambda t: np.tile(t, reps), lambda t: torch.tile(t, treps), x)
    assert np.tile(tg.tensor(x), reps).shape == np.tile(x, reps).shape


# ---------------------------------------------------------------------- einsum
EINSUM = [
    ('ij,jk->ik', [(3, 4), (4, 5)]),
    ('ij,jk', [(3, 4), (4, 5)]),
    ('bij,bjk->bik', [(2, 3, 4), (2, 4, 5)]),
    ('...ij,...jk->...ik', [(2, 3, 4), (4, 5)]),
    ('...ij,...jk->...ik', [(2, 1, 3, 4), (5, 4, 2)]),
    ('ii->i', [(4, 4)]),
    ('ii', [(4, 4)]),
    ('iij->ji', [(3, 3, 2)]),
    ('ij->', [(3, 4)]),
    ('ij->ji', [(3, 4)]),
    ('ij,k->jk', [(2, 3), (4,)]),
    ('i,i', [(5,), (5,)]),
    ('i,j->ij', [(3,), (4,)]),
    ('ij,jk,kl->il', [(2, 3), (3, 4), (4, 5)]),
    ('bi,bi->b', [(3, 4), (3, 4)]),
    ('ijk->kij', [(2, 3, 4)]),
    ('...i->...', [(2, 3, 4)]),
]


@pytest.mark.parametrize('spec,shapes', EINSUM)
def test_einsum_vs_torch(spec, shapes, device):
    arrays = [rand(*s) for s in shapes]
    compare(lambda *ts: tg.einsum(spec, *ts), lambda *ts: torch.einsum(spec, *ts), *arrays, device=device)
    compare(lambda *ts: np.einsum(spec, *ts), lambda *ts: torch.einsum(spec, *ts), *arrays)


def test_einsum_constant_operand():
    a, b = rand(3, 4), rand(4, 2)
    compare(lambda t: tg.einsum('ij,jk->ik', t, b), lambda t: torch.einsum('ij,jk->ik', t, torch.tensor(b)), a)


def test_einsum_diagonal_is_a_view_and_grad():
    x = tg.arange(9.).reshape(3, 3)
    x.requires_grad_()
    d = np.einsum('ii->i', x)
    assert np.shares_memory(x, d)
    assert d._vc is x._vc
    d.backward(np.array([1., 2., 3.], np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), np.diag([1., 2., 3.]).astype(np.float32))


def test_einsum_errors():
    with pytest.raises(ValueError, match='einsum'):
        tg.einsum('ij,jk->ik', tg.ones(3, 4), tg.ones(5, 2))
    with pytest.raises(ValueError, match='einsum'):
        tg.einsum('ij->ik', tg.ones(3, 4))
    with pytest.raises(ValueError, match='einsum'):
        tg.einsum('ij,jk->ik', tg.ones(3, 4))


# ---------------------------------------------------------------------- linalg
@pytest.mark.parametrize('ord', [None, 1, 2, 3, 0.5, np.inf, -np.inf])
@pytest.mark.parametrize('dim', [None, 0, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_vector_norm(ord, dim, keepdim, device):
    x = rand(4, 5)
    if dim is None:
        if ord is not None:
            x = rand(7)
    compare(lambda t: tg.linalg.norm(t, ord, dim, keepdim), lambda t: torch.linalg.norm(t, ord, dim, keepdim), x,
            device=device, rtol=1e-4)


@pytest.mark.parametrize('ord', ['fro', 'nuc', 1, -1, np.inf, -np.inf, 2, -2])
@pytest.mark.parametrize('keepdim', [False, True])
def test_matrix_norm(ord, keepdim):
    x = rand(4, 3)
    compare(lambda t: tg.linalg.norm(t, ord, keepdim=keepdim), lambda t: torch.linalg.norm(t, ord, keepdim=keepdim),
            x, rtol=1e-4, atol=1e-4)
    x3 = rand(2, 4, 3)
    compare(lambda t: tg.linalg.norm(t, ord, (-1, 1), keepdim), lambda t: torch.linalg.norm(t, ord, (-1, 1), keepdim),
            x3, rtol=1e-4, atol=1e-4)


def test_norm_zero_vector_gradient_is_zero():
    x = tg.zeros(3, requires_grad=True)
    tg.linalg.norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3, np.float32))


def test_norm_ord0_counts_nonzeros():
    x = tg.tensor([0., 2., -1., 0.], requires_grad=True)
    n = tg.linalg.vector_norm(x, 0)
    assert float(n.item()) == 2.0


def test_torch_norm_alias_and_method():
    x = rand(3, 4)
    compare(lambda t: tg.norm(t), lambda t: torch.norm(t), x)
    compare(lambda t: t.norm(1, dim=0), lambda t: t.norm(1, dim=0), x)
    compare(lambda t: t.norm(dim=-1, keepdim=True), lambda t: t.norm(dim=-1, keepdim=True), x)
    compare(lambda t: np.linalg.norm(t, axis=1), lambda t: torch.linalg.norm(t, dim=1), x)


def test_norm_errors():
    with pytest.raises(ValueError, match='norm'):
        tg.linalg.norm(tg.ones(2, 3, 4), 1)
    with pytest.raises(ValueError, match='matrix_norm'):
        tg.linalg.matrix_norm(tg.ones(3, 3), 'bad')


@pytest.mark.parametrize('shapes', [[(2, 3), (3, 4), (4, 5)], [(10, 2), (2, 10), (10, 3), (3, 1)],
                                    [(3,), (3, 4), (4, 2)], [(3, 4), (4,)], [(3,), (3, 4), (4,)]])
def test_multi_matmul(shapes, device):
    arrays = [rand(*s) for s in shapes]
    compare(lambda *ts: tg.multi_matmul(list(ts)), lambda *ts: torch.linalg.multi_dot(list(ts)), *arrays,
            device=device, rtol=1e-4, atol=1e-5)
    compare(lambda *ts: tg.linalg.multi_dot(ts), lambda *ts: torch.linalg.multi_dot(list(ts)), *arrays,
            device=device, rtol=1e-4, atol=1e-5)


def test_multi_matmul_picks_cheap_order():
    from tensorgrad.linalg import _chain_order
    # (10x100)(100x5)(5x50): ((AB)C) costs 7500, (A(BC)) 75000
    assert _chain_order([10, 100, 5, 50])[0][2] == 1
    assert _chain_order([50, 5, 100, 10])[0][2] == 0


def test_multi_matmul_shape_error():
    with pytest.raises(ValueError, match='multi_dot'):
        tg.multi_matmul([tg.ones(2, 3), tg.ones(4, 5)])


def test_svdvals_gradient():
    compare(lambda t: tg.linalg.svdvals(t), lambda t: torch.linalg.svdvals(t), rand(4, 3), rtol=1e-4, atol=1e-4)


def test_math_ops_under_no_grad_build_no_graph():
    x = tg.tensor(rand(3, 3), requires_grad=True)
    with tg.no_grad():
        for y in (tg.tan(x), tg.cumsum(x, 0), tg.cumprod(x, 1), tg.tril(x), tg.roll(x, 1, 0), tg.einsum('ij->ji', x),
                  tg.logaddexp(x, x), tg.linalg.norm(x)):
            assert y.grad_fn is None and not y.requires_grad


def test_assert_close_helper_sanity():
    assert_close(tg.tensor([1., 2.]), np.array([1., 2.], np.float32))


# ---------------------------------------------------------------------- MyGrad / NumPy names
def test_leaky_relu_vs_torch():
    x = rand(3, 4, low=-2, high=2)
    compare(lambda t: tg.leaky_relu(t, 0.2), lambda t: F.leaky_relu(t, 0.2), x)


def test_sequences():
    a, b, c = rand(3), rand(2, 3), rand(3)
    compare(lambda x, y, z: tg.add_sequence(x, y, z), lambda x, y, z: x + y + z, a, b, c)
    compare(lambda x, y, z: tg.multiply_sequence(x, y, z), lambda x, y, z: x * y * z, a, b, c)
    with pytest.raises(ValueError, match='add_sequence'):
        tg.add_sequence(tg.ones(2))


def test_numpy_names():
    x = rand(2, 3)
    compare(lambda t: tg.expand_dims(t, (0, -1)), lambda t: t.unsqueeze(0).unsqueeze(-1), x)
    compare(lambda t: t.ravel(), lambda t: t.ravel(), x)
    compare(tg.negative, torch.negative, x)
    compare(tg.absolute, torch.absolute, x + 2)
    compare(lambda t: tg.power(t, 3), lambda t: torch.pow(t, 3), x)
    assert tg.expand_dims(tg.ones(2, 3), 1).shape == np.expand_dims(np.ones((2, 3)), 1).shape


# ---------------------------------------------------------------------- property-based einsum
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_einsum_random_specs_match_numpy_and_gradients(data):
    letters = 'abcd'
    sizes = {c: data.draw(st.integers(1, 3)) for c in letters}
    n_ops = data.draw(st.integers(1, 3))
    ops_labels = [''.join(data.draw(st.lists(st.sampled_from(letters), min_size=1, max_size=3)))
                  for _ in range(n_ops)]
    used = sorted(set(''.join(ops_labels)))
    out = ''.join(data.draw(st.permutations(used))[:data.draw(st.integers(0, len(used)))])
    spec = ','.join(ops_labels) + '->' + out
    arrays = [rand(*[sizes[c] for c in lab]) for lab in ops_labels]
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    res = tg.einsum(spec, *ts)
    np.testing.assert_allclose(res.numpy(), np.einsum(spec, *arrays), rtol=1e-4, atol=1e-5)
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref = torch.einsum(spec, *tt)
    g = rand(*ref.shape) if ref.dim() else np.asarray(0.7, np.float32)
    res.backward(g)
    ref.backward(torch.tensor(g))
    for a, b in zip(ts, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
