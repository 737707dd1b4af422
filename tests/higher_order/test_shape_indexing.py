"""Second-order gradients (create_graph=True) of shape, view, indexing, scatter,
embedding, layout and in-place ops against torch in float64: the first
gradient with a non-uniform upstream gradient, then a Hessian-vector product
(the gradient of ``(grad * v).sum()`` with random ``v``) for every input.
The op's output passes through ``sin`` so the first gradient depends on the
inputs and the op's second-order rule (and its transpose's) is exercised."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

RNG = np.random.default_rng(12)


def _r(*shape):
    return RNG.standard_normal(shape)


def _i(values):
    return np.asarray(values, dtype=np.int64)


def _lib_arg(L, a):
    """Float arrays become inputs (handled by the caller); int/bool arrays become constant tensors."""
    return L.tensor(a) if isinstance(a, np.ndarray) else a


def _hvp(L, fn, inputs, consts, seed):
    rng = np.random.default_rng(seed)
    xs = [L.tensor(a, requires_grad=True) for a in inputs]
    cs = [_lib_arg(L, c) for c in consts]
    out = fn(L, *xs, *cs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    loss = 0
    for o in outs:
        g = L.tensor(rng.uniform(0.5, 1.5, tuple(o.shape)))
        loss = loss + (o.sin() * g).sum()
    grads = L.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    h = 0
    for x, gr in zip(xs, grads):
        if gr is not None:
            h = h + (gr * L.tensor(rng.uniform(-1, 1, tuple(x.shape)))).sum()
    hs = L.autograd.grad(h, xs, allow_unused=True) if isinstance(h, (tg.Tensor, torch.Tensor)) and \
        h.requires_grad else [None] * len(xs)
    res = [o.detach().numpy() for o in outs]
    for x, a in list(zip(xs, grads)) + list(zip(xs, hs)):
        res.append(np.zeros(tuple(x.shape)) if a is None else a.detach().numpy())
    return res


def check(fn, inputs, consts=(), seed=0):
    ours, ref = _hvp(tg, fn, inputs, consts, seed), _hvp(torch, fn, inputs, consts, seed)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


X34 = _r(3, 4)
X234 = _r(2, 3, 4)

SHAPE = {
    'reshape': (lambda L, x: x.reshape(4, 3) * x.reshape(4, 3), [X34]),
    'view 0-d': (lambda L, x: x.reshape(()) * x.view(1, 1).reshape(()), [_r()]),
    'view size-0': (lambda L, x: x.reshape(0, 3) * 2, [_r(3, 0)]),
    'flatten unflatten': (lambda L, x: x.flatten(1).unflatten(1, (6, 2)) * x.reshape(2, 6, 2), [X234]),
    'permute': (lambda L, x: x.permute(2, 0, 1) * x.permute(2, 0, 1).exp(), [X234]),
    'permute identity 2-d': (lambda L, x: x.permute(0, 1) * x, [X34]),
    'transpose non-contiguous': (lambda L, x: x.transpose(0, 1) * x.t(), [X34]),
    'movedim': (lambda L, x: x.movedim(0, 2) ** 2, [X234]),
    'squeeze unsqueeze': (lambda L, x: x.unsqueeze(1).squeeze() * x.unsqueeze(-1).squeeze(-1), [_r(3, 1, 4)]),
    'expand': (lambda L, x, y: x.expand(2, 3, 4) * y, [_r(3, 1), X234]),
    'broadcast_to': (lambda L, x: L.broadcast_to(x, (3, 4)) ** 3, [_r(4)]),
    'expand_as of a view': (lambda L, x, y: x[:, :1].expand_as(y) * y, [X34, X34]),
    'repeat': (lambda L, x: x.repeat(2, 1, 3) * x.repeat(2, 1, 3).cos(), [X34]),
    'tile': (lambda L, x: L.tile(x, (2,)) ** 2, [X34]),
    'cat': (lambda L, x, y: L.cat([x, y, x * y[:1]], 0) ** 2, [X34, _r(2, 4)]),
    'cat size-0 piece': (lambda L, x, y: L.cat([x, y], 1) * L.cat([x, y], 1), [X34, _r(3, 0)]),
    'stack': (lambda L, x, y: L.stack([x, y * x], 1) ** 2, [X34, X34]),
    'split': (lambda L, x: [p * p for p in x.split(2, 1)], [_r(3, 5)]),
    'split sizes': (lambda L, x: [p.exp() for p in x.split([1, 3, 1], 1)], [_r(3, 5)]),
    'chunk': (lambda L, x: [p * x[:1] for p in x.chunk(3, 0)], [_r(3, 5)]),
    'unbind': (lambda L, x: [p * p[0] for p in x.unbind(1)], [X34]),
    'flip': (lambda L, x: L.flip(x, (0, 2)) * x, [X234]),
    'flip transposed': (lambda L, x: L.flip(x.t(), [1]) ** 2, [X34]),
}

INDEXING = {
    'getitem basic': (lambda L, x: x[1:, ::2] * x[:2, 1::2], [X34]),
    'getitem int 0-d': (lambda L, x: x[1, 2] * x, [X34]),
    'getitem None ellipsis': (lambda L, x: x[None, ..., 1] ** 2, [X234]),
    'getitem int array repeats': (lambda L, x, i: x[i] * x[i], [X34], [_i([0, 2, 0, 0])]),
    'getitem two arrays': (lambda L, x, i, j: x[i, j] ** 3, [X34], [_i([0, 2, 2]), _i([1, 1, 3])]),
    'getitem bool mask': (lambda L, x, m: x[m] * x[m], [X34], [X34 > 0]),
    'getitem TwoStep': (lambda L, x, i: x[0, :, i] * x[1, :, i], [X234], [_i([0, 3, 0])]),
    'getitem size-0': (lambda L, x, i: x[i] * 2, [X34], [_i([])]),
    'getitem transposed': (lambda L, x, i: x.t()[i] ** 2, [X34], [_i([3, 1, 3])]),
    'where': (lambda L, x, y, c: L.where(c, x * y, y) ** 2, [X34, _r(4)], [X34 > 0]),
    'where broadcast cond': (lambda L, x, y, c: L.where(c, x, y * x), [X34, X34], [_r(4) > 0]),
    'masked_fill': (lambda L, x, m: x.masked_fill(m, 0.5) * x, [X34], [_r(4) > 0]),
    'masked_fill tensor value': (lambda L, x, v, m: x.masked_fill(m, v * v) * x, [X34, _r()], [X34 > 0]),
    'gather': (lambda L, x, i: L.gather(x, 1, i) * L.gather(x, 1, i), [X34], [_i([[0, 0], [3, 1], [2, 2]])]),
    'gather dim 0 smaller index': (lambda L, x, i: L.gather(x, 0, i) ** 3, [X34], [_i([[2, 0], [2, 2]])]),
    'index_select': (lambda L, x, i: L.index_select(x, 1, i) ** 2, [X34], [_i([3, 0, 3])]),
}


@pytest.mark.parametrize('name', list(SHAPE))
def test_shape_ops(name):
    check(*SHAPE[name])


@pytest.mark.parametrize('name', list(INDEXING))
def test_indexing_ops(name):
    check(*INDEXING[name])


I_SC = _i([[0, 2, 0, 1], [2, 2, 1, 0]])  # scatter index into dim 0 of a (3, 4) tensor, repeats included

SCATTER = {
    'scatter src': (lambda L, x, s, i: x.scatter(0, i, s * x[:2]) ** 2, [X34, _r(2, 4)], [I_SC]),
    'scatter value': (lambda L, x, i: x.scatter(1, i, 0.5) * x, [X34], [_i([[1], [0], [3]])]),
    'scatter_add': (lambda L, x, s, i: x.scatter_add(0, i, s * s) ** 2, [X34, _r(2, 4)], [I_SC]),
    'scatter_reduce sum': (lambda L, x, s, i: x.scatter_reduce(0, i, s * x[:2], 'sum') ** 2, [X34, _r(2, 4)],
                           [I_SC]),
    'scatter_reduce mean': (lambda L, x, s, i: x.scatter_reduce(0, i, s, 'mean') ** 2, [X34, _r(2, 4)], [I_SC]),
    'scatter_reduce mean exclude self': (lambda L, x, s, i: x.scatter_reduce(0, i, s, 'mean', include_self=False)
                                         * x, [X34, _r(2, 4)], [I_SC]),
    'scatter_reduce amax': (lambda L, x, s, i: x.scatter_reduce(0, i, s, 'amax') ** 2, [X34, _r(2, 4)], [I_SC]),
    'scatter_reduce amin exclude self': (lambda L, x, s, i: x.scatter_reduce(1, i, s * s, 'amin',
                                                                             include_self=False) * x,
                                         [X34, _r(3, 2)], [_i([[0, 0], [3, 1], [2, 2]])]),
    'scatter_reduce amax ties': (lambda L, x, s, i: x.scatter_reduce(0, i, s, 'amax') * x,
                                 [np.ones((3, 4)), np.ones((2, 4))], [I_SC]),
    'scatter_reduce prod': (lambda L, x, s, i: x.scatter_reduce(0, i, s * x[:2], 'prod') ** 2, [X34, _r(2, 4)],
                            [I_SC]),
    'scatter_reduce prod zeros': (lambda L, x, s, i: x.scatter_reduce(0, i, s, 'prod') * x,
                                  [np.where(X34 > 0.5, 0.0, X34), np.where(_r(2, 4) > 0.5, 0.0, 1.3)], [I_SC]),
    'scatter_reduce prod exclude self': (lambda L, x, s, i: x.scatter_reduce(1, i, s * s, 'prod',
                                                                             include_self=False) * x,
                                         [X34, _r(3, 2)], [_i([[0, 0], [3, 1], [2, 2]])]),
    'index_add': (lambda L, x, s, i: x.index_add(1, i, s * x[:, :3], alpha=1.5) ** 2, [X34, _r(3, 3)],
                  [_i([0, 3, 0])]),
    'index_add 0-d': (lambda L, x, s, i: x.index_add(0, i, s) * x, [_r(), _r()], [_i(0)]),
    'index_copy': (lambda L, x, s, i: x.index_copy(0, i, s * s) * x, [X34, _r(2, 4)], [_i([2, 0])]),
    'index_fill': (lambda L, x, i: x.index_fill(1, i, -0.5) * x, [X34], [_i([1, -1])]),
    'index_fill tensor value': (lambda L, x, v, i: x.index_fill(0, i, v * v) * x, [X34, _r()], [_i([2, 0, 2])]),
    'masked_scatter': (lambda L, x, s, m: x.masked_scatter(m, s * s) * x, [X34, _r(3, 5)], [X34 > 0]),
    'masked_scatter broadcast mask': (lambda L, x, s, m: x.masked_scatter(m, s) ** 2, [_r(4), _r(13)],
                                      [_r(3, 4) > 0]),
    'embedding': (lambda L, w, i: L.nn.functional.embedding(i, w * w) * w[:1], [_r(5, 3)],
                  [_i([[0, 4, 4], [2, 0, 4]])]),
    'embedding padding_idx': (lambda L, w, i: L.nn.functional.embedding(i, w, padding_idx=4) ** 3, [_r(5, 3)],
                              [_i([[0, 4, 4], [2, 0, 4]])]),
}


def _h_setitem_view_then_sin(L, x):
    h = x * 1
    h[0] *= 2
    return h.sin_()


def _h_add_mul_chain(L, x, y):
    h = x * 1
    h.add_(y)
    h.mul_(y)
    h.pow_(2)
    h.sub_(x)
    return h


def _h_setitem_value(L, x, y):
    h = x.clone()
    h[1:, :2] = y * y
    return h * x


def _h_setitem_array_index(L, x, y, i):
    h = x + 1
    h[i] = y
    return h * x


def _h_transposed_view(L, x, y):
    h = x * 1
    v = h.t()
    v.mul_(y)
    return h * x


def _h_column_view_exp(L, x):
    h = x * x
    h[2:, ::2].mul_(x[:1, ::2])
    h[:, 1].exp_()
    return h


def _h_view_read_after_write(L, x):
    h = x * 1
    v = h[1]
    h.mul_(x)
    return v * v


def _h_masked_fill_pow(L, x, m):
    h = x - 1
    h.masked_fill_(m, 0.25)
    h.pow_(3)
    return h


def _h_copy_fill(L, x, y):
    h = x * 1
    h[0].copy_(y)
    h[2].fill_(0.5)
    return h * h


INPLACE = {
    'view mul_ then sin_': (_h_setitem_view_then_sin, [X34]),
    'add_ mul_ chain': (_h_add_mul_chain, [X34, _r(4)]),
    'setitem tensor value': (_h_setitem_value, [X34, _r(2, 2)]),
    'setitem array index': (_h_setitem_array_index, [X34, _r(4)], [_i([2, 0])]),
    'in-place on a transposed view': (_h_transposed_view, [_r(3, 3), _r(3, 3)]),
    'in-place on strided views': (_h_column_view_exp, [X34]),
    'view read after base write': (_h_view_read_after_write, [X34]),
    'masked_fill_ pow_': (_h_masked_fill_pow, [X34], [X34 > 0.3]),
    'copy_ fill_ on views': (_h_copy_fill, [X34, _r(4)]),
}

LAYOUT = {
    'diag vector': (lambda L, x: L.diag(x * x, 1) * L.diag(x, 1), [_r(3)]),
    'diag matrix': (lambda L, x: L.diag(x, -1) ** 3, [X34]),
    'diagonal': (lambda L, x: L.diagonal(x, 1, 0, 2) ** 2, [X234]),
    'trace': (lambda L, x: L.trace(x * x) * x, [X34]),
    'diff': (lambda L, x, y: L.diff(x, 2, 1, prepend=y) ** 2, [X34, _r(3, 1)]),
    'repeat_interleave': (lambda L, x, r: x.repeat_interleave(r, 0) ** 2, [X34], [_i([1, 0, 3])]),
    'tensor_split': (lambda L, x: [p * p for p in L.tensor_split(x, [1, 3], 1)], [X34]),
    'hstack vstack': (lambda L, x, y: L.hstack([x, y]) * L.vstack([x.t(), y.t()]).t(), [X34, _r(3, 2)]),
    'column_stack': (lambda L, x, y: L.column_stack([x, y * y]) ** 2, [_r(3), _r(3)]),
    'meshgrid': (lambda L, x, y: L.meshgrid(x, y * x[:2], indexing='xy')[0] * L.meshgrid(x, y, indexing='ij')[1].t(),
                 [_r(3), _r(2)]),
    'cartesian_prod': (lambda L, x, y: L.cartesian_prod(x, y) ** 2, [_r(3), _r(2)]),
    'take_along_dim': (lambda L, x, i: L.take_along_dim(x, i, 1) ** 2, [X34], [_i([[0, 3], [1, 1], [2, 0]])]),
    'take_along_dim flat': (lambda L, x, i: L.take_along_dim(x, i) ** 2, [X34], [_i([11, 0, 0])]),
    'select': (lambda L, x: x.select(1, -1) * x.select(0, 0)[:3], [X34]),
    'rot90 fliplr flipud': (lambda L, x: L.rot90(x, 1, (0, 1)) * L.fliplr(L.flipud(x)).t(), [_r(3, 3)]),
}


# torch's own backward fails on these ("invalid gradient ... shape", src larger than the
# index or an empty index): the first gradient and the Hessian-vector product are checked
# against finite differences
TORCH_FAILS = {
    'scatter src larger than index': (lambda L, x, s, i: x.scatter(0, i, s) ** 2, [X34, _r(3, 5)],
                                      [_i([[0, 1], [2, 0]])]),
    'scatter_add empty index': (lambda L, x, s, i: x.scatter_add(0, i, s) * x, [X34, _r(2, 4)],
                                [np.zeros((0, 4), np.int64)]),
    'scatter_reduce sum src larger': (lambda L, x, s, i: x.scatter_reduce(1, i, s, 'sum') * x, [X34, _r(3, 3)],
                                      [_i([[0], [3], [3]])]),
}


def _loss(fn, inputs, consts, create_graph=None):
    """The loss, or with ``create_graph`` given (inputs, loss, its gradients)."""
    rng = np.random.default_rng(0)
    xs = [tg.tensor(a, requires_grad=True) for a in inputs]
    out = fn(tg, *xs, *[_lib_arg(tg, c) for c in consts])
    loss = (out.sin() * tg.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)))).sum()
    if create_graph is None:
        return loss.item()
    return xs, tg.autograd.grad(loss, xs, create_graph=create_graph)


@pytest.mark.parametrize('name', list(TORCH_FAILS))
def test_scatter_second_order_against_finite_differences(name):
    fn, inputs, consts = TORCH_FAILS[name]
    xs, grads = _loss(fn, inputs, consts, True)
    vs = [RNG.uniform(-1, 1, a.shape) for a in inputs]
    eps = 1e-6
    directional = (_loss(fn, [a + eps * v for a, v in zip(inputs, vs)], consts)
                   - _loss(fn, [a - eps * v for a, v in zip(inputs, vs)], consts)) / (2 * eps)
    assert abs(sum(float((g.detach().numpy() * v).sum()) for g, v in zip(grads, vs)) - directional) < 1e-7
    hvp = tg.autograd.grad(sum((g * tg.tensor(v)).sum() for g, v in zip(grads, vs)), xs)
    plus = _loss(fn, [a + eps * v for a, v in zip(inputs, vs)], consts, False)[1]
    minus = _loss(fn, [a - eps * v for a, v in zip(inputs, vs)], consts, False)[1]
    for h, p, m in zip(hvp, plus, minus):
        np.testing.assert_allclose(h.numpy(), (p.numpy() - m.numpy()) / (2 * eps), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('name', list(SCATTER))
def test_scatter_and_embedding_ops(name):
    check(*SCATTER[name])


@pytest.mark.parametrize('name', list(INPLACE))
def test_inplace_ops_and_views(name):
    check(*INPLACE[name])


@pytest.mark.parametrize('name', list(LAYOUT))
def test_layout_ops(name):
    check(*LAYOUT[name])


def test_scatter_reduce_prod_two_zeros_at_one_position_raises_at_second_backward():
    for L in (tg, torch):
        x = L.tensor(np.array([1.5, 2.0]), requires_grad=True)
        src = L.tensor(np.array([0.0, 0.0, 3.0]), requires_grad=True)
        out = x.scatter_reduce(0, L.tensor(_i([0, 0, 1])), src, 'prod')
        gx, gs = L.autograd.grad((out * L.tensor(np.array([0.5, 2.0]))).sum(), (x, src), create_graph=True)
        np.testing.assert_allclose(gx.detach().numpy(), [0.0, 6.0])  # first order stays right
        np.testing.assert_allclose(gs.detach().numpy(), [0.0, 0.0, 4.0])
        with pytest.raises(RuntimeError, match=None if L is torch else 'ScatterReduce does not support higher-order'):
            L.autograd.grad(gs.sum(), src)


def _third_order(L, fn, a, consts=()):
    x = L.tensor(a, requires_grad=True)
    y = fn(L, x, *[_lib_arg(L, c) for c in consts])
    w = L.tensor(np.linspace(0.5, 1.5, int(np.prod(tuple(y.shape)))).reshape(tuple(y.shape)))
    g1, = L.autograd.grad((y * w).sum(), x, create_graph=True)
    g2, = L.autograd.grad((g1 * L.tensor(np.linspace(-1, 1, a.size).reshape(a.shape))).sum(), x, create_graph=True)
    g3, = L.autograd.grad((g2 * g2).sum(), x)
    return [t.detach().numpy() for t in (g1, g2, g3)]


THIRD = {
    'getitem repeats': (lambda L, x, i: x[i] ** 4, [_i([0, 2, 2, 1])]),
    'gather': (lambda L, x, i: L.gather(x, 0, i).sin() * x[:1], [_i([[1, 0, 2, 2]])]),
    'embedding': (lambda L, x, i: L.nn.functional.embedding(i, x).exp(), [_i([[2, 0], [2, 2]])]),
    'cat permute expand': (lambda L, x: L.cat([x, x.t().reshape(3, 4)], 0).expand(2, 6, 4).cos(), []),
    'scatter_reduce prod': (lambda L, x, i: x.scatter_reduce(0, i, x[:2] * x[1:], 'prod'), [I_SC]),
    'in-place on a view': (lambda L, x: _h_setitem_view_then_sin(L, x * x), []),
}


@pytest.mark.parametrize('name', list(THIRD))
def test_third_order(name):
    fn, consts = THIRD[name]
    for a, b in zip(_third_order(tg, fn, X34, consts), _third_order(torch, fn, X34, consts)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gradient_of_the_upstream_gradient():
    """The rules are linear in ``g``: differentiating a first gradient with respect to a
    ``g`` that requires grad (as gradgradcheck does) gives the op itself."""
    res = []
    for L in (tg, torch):
        x = L.tensor(X34, requires_grad=True)
        g = L.tensor(_r(4, 2) if not res else res[0][2], requires_grad=True)
        y = L.gather(x.t(), 1, L.tensor(_i([[0, 0], [2, 1], [1, 1], [0, 2]])))
        gx, = L.autograd.grad(y, x, g, create_graph=True)
        v = L.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
        gg, = L.autograd.grad((gx * v).sum(), g)
        res.append((gx.detach().numpy(), gg.numpy(), g.detach().numpy()))
    for a, b in zip(res[0][:2], res[1][:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
