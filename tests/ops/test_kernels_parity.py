"""The compiled (numba) fused kernels against the NumPy ones: same forward and
gradients within float32 rounding, on row lengths around the vector widths,
non-contiguous inputs, 0-size inputs and NaN / inf rows; and the backend
switch itself. Skipped without numba. (The test_fused_* files also run under
both backends: see conftest.py.)"""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.backends import kernels as kb
from tensorgrad.ops import softmax as softmax_mod

pytestmark = pytest.mark.skipif(not kb.available(), reason='numba is not installed')
RNG = np.random.default_rng(7)


def _run(backend, fn, arrays, needs_grad):
    prev = kb.set_backend(backend)
    try:
        ts = [tg.tensor(a, requires_grad=r) for a, r in zip(arrays, needs_grad)]
        y = fn(*ts)
        g = np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype)
        (y * tg.tensor(g)).sum().backward()
        return y.numpy(), [t.grad.numpy() if r else None for t, r in zip(ts, needs_grad)]
    finally:
        kb.set_backend(prev)


def _parity(fn, *arrays, needs_grad=None, rtol=2e-5, atol=2e-6):
    needs_grad = needs_grad or [a.dtype.kind == 'f' for a in arrays]
    y0, g0 = _run('numpy', fn, arrays, needs_grad)
    y1, g1 = _run('numba', fn, arrays, needs_grad)
    np.testing.assert_allclose(y1, y0, rtol=rtol, atol=atol, err_msg='forward')
    for a, b in zip(g1, g0):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * 10, err_msg='gradient')


@pytest.fixture(params=['serial', 'parallel'])
def builds(request, monkeypatch):
    """The compiled kernels' serial builds as chosen by size, or their parallel
    builds (2 threads) at every size."""
    if request.param == 'parallel':
        import tensorgrad.ops._parallel as pool
        from tensorgrad.ops.kernels import _jit, cross_entropy, embedding, layer_norm  # noqa: F401 - built now
        monkeypatch.setattr(pool, '_NTHREADS', 2)
        monkeypatch.setattr(_jit, '_PARALLEL_OK', True)
        for k in _jit.KERNELS:
            monkeypatch.setattr(k, 'parallel_min', 0)
    return request.param


def _x(*shape, dtype=np.float32, scale=3.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


SHAPES = [(1, 1), (3, 7), (5, 16), (4, 33), (2, 3, 64), (7, 257), (300, 300)]  # (300, 300): parallel build


@pytest.mark.parametrize('shape', SHAPES, ids=str)
@pytest.mark.parametrize('op', ['softmax', 'log_softmax'])
def test_softmax_family(op, shape):
    _parity(lambda x: getattr(tg, op)(x, -1), _x(*shape))
    _parity(lambda x: getattr(tg, op)(x.transpose(0, -1), -1), _x(*shape))  # non-contiguous rows
    _parity(lambda x: getattr(tg, op)(x, 0), _x(*shape))  # another axis: the NumPy kernel
    _parity(lambda x: getattr(tg, op)(x, -1), _x(*shape, dtype=np.float64), rtol=1e-12, atol=1e-12)


def test_softmax_special_values():
    x = np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [-np.inf] * 3,
                  [100.0, -100.0, 0.0], [-200.0, -201.0, -250.0]], np.float32)
    for op in (tg.softmax, tg.log_softmax):
        outs = []
        for b in ('numpy', 'numba'):
            prev = kb.set_backend(b)
            outs.append(op(tg.tensor(x), -1).numpy())
            kb.set_backend(prev)
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, atol=1e-7, equal_nan=True)
    prev = kb.set_backend('numba')
    try:
        assert tg.softmax(tg.tensor(x), -1).numpy()[2, 0] == 0.0  # exp(-inf) is exactly 0
    finally:
        kb.set_backend(prev)


@pytest.mark.parametrize('shape', [(3, 7), (2, 4, 32, 32), (300, 300), (2, 0)], ids=str)
def test_softmax_in_place_kernel(shape, builds):
    """``_softmax_array(x, -1, out=x)`` (attention normalises its fresh scores in place)
    under numba is the NumPy result, special values included, and writes into x."""
    x = _x(*shape)
    if x.size:
        x.reshape(-1)[:4] = [np.nan, np.inf, -np.inf, 100.0]
    prev = kb.set_backend('numpy')
    ref = softmax_mod._softmax_array(x.copy(), -1)
    kb.set_backend('numba')
    try:
        buf = x.copy()
        out = softmax_mod._softmax_array(buf, -1, out=buf)
    finally:
        kb.set_backend(prev)
    assert out is buf
    np.testing.assert_allclose(out, ref, rtol=2e-6, atol=1e-7, equal_nan=True)


def test_softmax_zero_size():
    for shape in ((0, 5), (4, 0)):
        _parity(lambda x: tg.softmax(x, -1), _x(*shape))


@pytest.mark.parametrize('n,c', [(1, 1), (8, 10), (64, 1000), (300, 300), (600, 500)])
def test_cross_entropy(n, c, builds):
    t = RNG.integers(0, c, n)
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x, t), _x(n, c), t)
    # atol: a row whose target is its max has loss log(1 + tiny), whose rounding depends on the order of the sum
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x, t, reduction='none'), _x(n, c, scale=30.0), t, atol=1e-5)
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x, t, reduction='sum'), _x(n, c), t.astype(np.int32),
            rtol=1e-4)
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x.transpose(0, 1), t), _x(c, n), t)  # strided rows
    _parity(lambda x, t: tg.nn.functional.cross_entropy(x, t), _x(n, c, dtype=np.float64), t,
            rtol=1e-12, atol=1e-12)


def _ce_torch(x, t, **opts):
    """cross_entropy of both backends against torch: forward and the input gradient."""
    g = RNG.standard_normal(() if opts.get('reduction', 'mean') != 'none' else t.shape).astype(x.dtype)
    w = opts.pop('weight', None)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.cross_entropy(xt, torch.tensor(t.astype(np.int64)),
                                           None if w is None else torch.tensor(w), **opts)
    (yt * torch.tensor(g)).sum().backward()
    for backend in ('numpy', 'numba'):
        prev = kb.set_backend(backend)
        try:
            xs = tg.tensor(x, requires_grad=True)
            y = tg.nn.functional.cross_entropy(xs, tg.tensor(t), None if w is None else tg.tensor(w), **opts)
            (y * tg.tensor(g)).sum().backward()
        finally:
            kb.set_backend(prev)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=backend)
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=backend)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('ignore_index', [-100, 3])
def test_cross_entropy_weight_and_ignore_index(reduction, weighted, ignore_index, builds):
    n, c = 40, 7
    t = RNG.integers(0, c, n)
    t[::5] = ignore_index
    opts = dict(reduction=reduction, ignore_index=ignore_index)
    if weighted:
        opts['weight'] = RNG.uniform(0.2, 2.0, c).astype(np.float32)
    _ce_torch(_x(n, c), t, **opts)
    _ce_torch(_x(n, c), t.astype(np.int32), **opts)


def test_cross_entropy_every_target_ignored():
    t = np.full(5, -100)
    _ce_torch(_x(5, 4), t)  # mean over no target: nan, as PyTorch
    _ce_torch(_x(5, 4), t, reduction='sum')
    _ce_torch(_x(5, 4), t, weight=RNG.uniform(0.5, 1.5, 4).astype(np.float32), reduction='none')


def test_cross_entropy_special_values(builds):
    x = np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [-np.inf] * 3,
                  [100.0, -100.0, 0.0], [-200.0, -201.0, -250.0]], np.float32)
    t = np.array([0, 1, 2, 0, 1, 2])
    outs = []
    for b in ('numpy', 'numba'):
        prev = kb.set_backend(b)
        try:
            xs = tg.tensor(x, requires_grad=True)
            y = tg.nn.functional.cross_entropy(xs, tg.tensor(t), reduction='none')
            y.sum().backward()
            outs.append((y.numpy(), xs.grad.numpy()))
        finally:
            kb.set_backend(prev)
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True)
    yt = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), reduction='none').numpy()
    np.testing.assert_allclose(outs[1][0], yt, rtol=1e-6, atol=1e-5, equal_nan=True)


def test_cross_entropy_large_logits(builds):
    # the target's shifted logit is taken before log(sum) is added: at logits near 1e4 a reassociated
    # log(sum) - x + max loses ~4e-4
    x = np.array([[1e4, 1e4 - 2, 1e4 + 0.5, 1e4 - 1], [0., 1., 2., 3.], [-3e4, -3e4 + 1, -3e4 - 7, -3e4]],
                 np.float32)
    t = np.array([1, 1, 2])
    ref = torch.nn.functional.cross_entropy(torch.tensor(x, dtype=torch.float64), torch.tensor(t),
                                            reduction='none').numpy()
    for b in ('numpy', 'numba'):
        prev = kb.set_backend(b)
        try:
            y = tg.nn.functional.cross_entropy(tg.tensor(x), tg.tensor(t), reduction='none').numpy()
        finally:
            kb.set_backend(prev)
        np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6, err_msg=b)


def test_cross_entropy_bad_target_raises_under_both(builds):
    for b in ('numpy', 'numba'):
        prev = kb.set_backend(b)
        try:
            with pytest.raises(IndexError, match=r"cross_entropy: target values must lie in \[0, 4\)"):
                tg.nn.functional.cross_entropy(tg.tensor(_x(6, 4)), tg.tensor(np.array([0, 1, 4, 0, 1, 2])))
            with pytest.raises(IndexError, match=r"cross_entropy: target values must lie in \[0, 4\)"):
                tg.nn.functional.cross_entropy(tg.tensor(_x(3, 4)), tg.tensor(np.array([0, -1, 2])),
                                               weight=tg.tensor(np.ones(4, np.float32)))
        finally:
            kb.set_backend(prev)


def test_cross_entropy_zero_classes_and_rows():
    for b in ('numpy', 'numba'):
        prev = kb.set_backend(b)
        try:
            y = tg.nn.functional.cross_entropy(tg.tensor(_x(0, 4)), tg.tensor(np.zeros(0, np.int64)),
                                               reduction='sum')
            assert y.numpy() == 0
            with pytest.raises(IndexError):
                tg.nn.functional.cross_entropy(tg.tensor(_x(2, 0)), tg.tensor(np.zeros(2, np.int64)))
        finally:
            kb.set_backend(prev)


@pytest.mark.parametrize('shape', [(0,), (1,), (17,), (3, 5, 7), (300, 300)], ids=str)
def test_gelu(shape):
    x = _x(*shape)
    _parity(tg.nn.functional.gelu, x, atol=5e-7)
    if len(shape) == 3:
        _parity(lambda x: tg.nn.functional.gelu(x.transpose(0, 2)), x, atol=5e-7)
    _parity(tg.nn.functional.gelu, _x(*shape, dtype=np.float64), rtol=1e-12, atol=1e-12)


def test_gelu_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -6.0, 40.0, -40.0], np.float32)
    y = []
    for b in ('numpy', 'numba'):
        prev = kb.set_backend(b)
        y.append(tg.nn.functional.gelu(tg.tensor(x)).numpy())
        kb.set_backend(prev)
    np.testing.assert_allclose(y[1], y[0], rtol=1e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize('shape', [(1, 1), (4, 7), (2, 5, 32), (33, 130), (300, 300)], ids=str)
@pytest.mark.parametrize('affine', [True, False])
def test_layer_norm(shape, affine, builds):
    M = shape[-1]
    if affine:
        fn = lambda x, w, b: tg.nn.functional.layer_norm(x, (M,), w, b)  # noqa: E731
        arrays = (_x(*shape), _x(M), _x(M))
    else:
        fn = lambda x: tg.nn.functional.layer_norm(x, (M,))  # noqa: E731
        arrays = (_x(*shape),)
    _parity(fn, *arrays, atol=1e-5)
    _parity(fn, *(a.astype(np.float64) for a in arrays), rtol=1e-10, atol=1e-10)
    _parity(lambda x: tg.nn.functional.layer_norm(x.transpose(0, -1), (shape[0],)), _x(*shape), atol=1e-5)


def test_layer_norm_only_weight_grad(builds):
    x, w = _x(6, 9), _x(9)
    _parity(lambda x, w: tg.nn.functional.layer_norm(x, (9,), w), x, w, needs_grad=[False, True], atol=1e-5)
    _parity(lambda x, w: tg.nn.functional.layer_norm(x, (9,), w), x, w, needs_grad=[True, False], atol=1e-5)
    _parity(lambda x, b: tg.nn.functional.layer_norm(x, (9,), None, b), x, w, atol=1e-5)  # bias only


def test_layer_norm_large_offset():
    # a mean far from 0: the two-pass (centred) variance keeps the precision a sum of squares would lose
    # (the float32 mean itself is off by up to ~1e-4 here: sum of 300 values near 1000)
    x = _x(8, 300, scale=1.0) + np.float32(1000.0)
    _parity(lambda x: tg.nn.functional.layer_norm(x, (300,)), x, atol=1e-3)
    ref = torch.nn.functional.layer_norm(torch.tensor(x.astype(np.float64)), (300,)).numpy()
    prev = kb.set_backend('numba')
    try:
        np.testing.assert_allclose(tg.nn.functional.layer_norm(tg.tensor(x), (300,)).numpy(), ref, atol=2e-3)
    finally:
        kb.set_backend(prev)


def test_layer_norm_special_values(builds):
    x = np.array([[0.0, np.nan, 1.0, 2.0], [np.inf, 0.0, 1.0, 2.0], [-np.inf, 0.0, 1.0, 2.0],
                  [3.0, 3.0, 3.0, 3.0], [1e30, -1e30, 0.0, 1.0]], np.float32)
    for eps in (1e-5, 0.0):  # eps 0 and a constant row: 0 / 0, nan as PyTorch (and no ZeroDivisionError)
        outs = []
        for b in ('numpy', 'numba'):
            prev = kb.set_backend(b)
            try:
                with np.errstate(all='ignore'):
                    xs = tg.tensor(x, requires_grad=True)
                    y = tg.nn.functional.layer_norm(xs, (4,), eps=eps)
                    y.sum().backward()
                outs.append((y.numpy(), xs.grad.numpy()))
            finally:
                kb.set_backend(prev)
        for a, b in zip(*outs):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, equal_nan=True)
        yt = torch.nn.functional.layer_norm(torch.tensor(x), (4,), eps=eps).numpy()
        np.testing.assert_allclose(outs[1][0], yt, rtol=1e-5, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize('shape,ns', [((0, 5), (5,)), ((3, 0), (0,)), ((2, 0, 4), (4,))], ids=str)
def test_layer_norm_zero_size(shape, ns, builds):
    _parity(lambda x, w, b: tg.nn.functional.layer_norm(x, ns, w, b), _x(*shape), _x(*ns), _x(*ns))


def test_layer_norm_double_backward():
    x, w, b = _x(5, 12, dtype=np.float64), _x(12, dtype=np.float64), _x(12, dtype=np.float64)
    gs = RNG.standard_normal((5, 12))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    gxt, = torch.autograd.grad((torch.nn.functional.layer_norm(xt, (12,), wt, bt, 1e-3) * torch.tensor(gs)).sum(),
                               xt, create_graph=True)
    ref = torch.autograd.grad((gxt * gxt).sum(), (xt, wt))
    for backend in ('numpy', 'numba'):
        prev = kb.set_backend(backend)
        try:
            xs, ws, bs = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
            y = tg.nn.functional.layer_norm(xs, (12,), ws, bs, 1e-3)
            gx, = tg.autograd.grad((y * tg.tensor(gs)).sum(), xs, create_graph=True)
            got = tg.autograd.grad((gx * gx).sum(), (xs, ws))
        finally:
            kb.set_backend(prev)
        for a, r in zip(got, ref):
            np.testing.assert_allclose(a.numpy(), r.numpy(), rtol=1e-8, atol=1e-10, err_msg=backend)


def test_layer_norm_input_changed_before_backward():
    # the backward recomputes xhat from the saved input: an in-place change to it must raise
    for backend in ('numpy', 'numba'):
        prev = kb.set_backend(backend)
        try:
            x = tg.tensor(_x(4, 6), requires_grad=True)
            h = x * 1.0
            y = tg.nn.functional.layer_norm(h, (6,))
            h.add_(1.0)
            with pytest.raises(RuntimeError):
                y.sum().backward()
        finally:
            kb.set_backend(prev)


@pytest.mark.parametrize('vocab,dim,n', [(10, 3, 100), (50, 64, 2048), (7, 1, 70), (1000, 300, 400)])
def test_embedding_backward(vocab, dim, n):
    idx = RNG.integers(0, vocab, n)
    _parity(lambda w, i: tg.nn.functional.embedding(i, w), _x(vocab, dim), idx, atol=1e-5)


def _same_forward(fn, *arrays):
    """``fn`` of tensors of ``arrays`` under both backends: bit-identical outputs."""
    outs = []
    for backend in ('numpy', 'numba'):
        prev = kb.set_backend(backend)
        try:
            outs.append(fn(*(tg.tensor(a) for a in arrays)).numpy())
        finally:
            kb.set_backend(prev)
    np.testing.assert_array_equal(outs[1], outs[0])


@pytest.mark.parametrize('vocab,dim,ishape', [(10, 3, (100,)), (50, 64, (32, 64)), (7, 1, (70,)),
                                             (1000, 300, (400,)), (30, 512, (4, 200))], ids=str)
@pytest.mark.parametrize('itype', [np.int64, np.int32, np.uint8])
def test_embedding_forward(vocab, dim, ishape, itype, builds):
    idx = RNG.integers(0, min(vocab, 256), ishape).astype(itype)
    emb = tg.nn.functional.embedding
    w = _x(vocab, dim)
    _parity(lambda w, i: emb(i, w), w, idx, atol=1e-5)
    _parity(lambda w, i: emb(i, w, padding_idx=0), w, idx, atol=1e-5)
    _same_forward(lambda w, i: emb(i, w), w, idx)  # a copy of rows: exact
    _same_forward(lambda w, i: emb(i, w), w.astype(np.float64), idx)
    _same_forward(lambda w, i: emb(i, w.transpose(0, 1)), _x(dim, vocab), idx)  # strided weight
    if len(ishape) == 2:
        _same_forward(lambda w, i: emb(i.transpose(0, 1), w), w, idx)


@pytest.mark.parametrize('vocab,dim,ishape', [(5, 3, (0,)), (5, 0, (4,)), (0, 3, (0, 2))], ids=str)
def test_embedding_zero_size(vocab, dim, ishape):
    _parity(lambda w, i: tg.nn.functional.embedding(i, w), _x(vocab, dim), np.zeros(ishape, np.int64))


def test_embedding_bad_index_raises_under_both(builds):
    w = tg.tensor(_x(5, 3))
    for backend in ('numpy', 'numba'):
        prev = kb.set_backend(backend)
        try:
            for bad in ([0, 5, 1], [2, -1], [-7, 9]):
                lo, hi = min(bad), max(bad)
                with pytest.raises(IndexError, match=rf"embedding: indices must lie in \[0, 5\), got values in "
                                                     rf"\[{lo}, {hi}\]"):
                    tg.nn.functional.embedding(tg.tensor(np.array(bad)), w)
        finally:
            kb.set_backend(prev)


def test_switch_is_module_level_and_reversible():
    prev = kb.set_backend('numpy')
    try:
        assert kb.get_backend() == 'numpy'
        assert softmax_mod._softmax_array.__module__ == 'tensorgrad.ops.softmax'
        kb.set_backend('numba')
        assert kb.get_backend() == 'numba'
        tg.softmax(tg.tensor(_x(3, 4)), -1)  # the first call puts the compiled function in place
        assert softmax_mod._softmax_array.__module__ == 'tensorgrad.ops.kernels.softmax'
    finally:
        kb.set_backend(prev)
    with pytest.raises(ValueError, match="set_backend: backend must be one of"):
        kb.set_backend('fortran')


def test_threads_follow_set_num_threads():
    import numba
    prev_n = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        prev = kb.set_backend('numba')
        x = tg.tensor(_x(400, 400))
        tg.softmax(x, -1)
        tg.set_num_threads(2)
        tg.softmax(x, -1)
        assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    finally:
        tg.set_num_threads(prev_n)
        kb.set_backend(prev)
