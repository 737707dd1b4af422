"""softmax and log_softmax (tensorgrad.ops.softmax) against torch, including the
unshifted-exp fast path and its fallbacks.
(Forward and every gradient, non-uniform upstream gradients.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgrad as tg
from helpers import RNG, assert_close, compare, rand


@pytest.mark.parametrize('shape,dim', [((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1),
                                       ((2, 3, 4), 1), ((2, 3, 4), -3), ((2, 3, 4, 5), 2), ((2, 3, 4, 5), -1)],
                         ids=str)
def test_softmax_log_softmax(shape, dim, device):
    x = rand(*shape, low=-5, high=5)
    compare(lambda x: tg.softmax(x, dim), lambda x: F.softmax(x, dim), x, device=device)
    compare(lambda x: x.softmax(dim), lambda x: x.softmax(dim), x, device=device)
    compare(lambda x: tg.log_softmax(x, dim), lambda x: F.log_softmax(x, dim), x, device=device)
    compare(lambda x: x.log_softmax(dim), lambda x: x.log_softmax(dim), x, device=device)


def test_softmax_stable_for_large_logits(device):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1001.0]], np.float32)
    compare(lambda x: tg.softmax(x, -1), lambda x: F.softmax(x, -1), x, device=device)
    compare(lambda x: tg.log_softmax(x, -1), lambda x: F.log_softmax(x, -1), x, device=device)


def test_softmax_dim_error():
    with pytest.raises(IndexError, match='softmax: dim 2 is out of range'):
        tg.softmax(tg.tensor(rand(3, 4)), 2)


# softmax / log_softmax / cross_entropy use exp(x) unshifted when the values allow it (global max
# and row sums checked), else the per-row max: both paths, and switching between them per block.
@pytest.mark.parametrize('rows', [
    [[0.5, -1.0, 2.0, 0.0]],                        # direct exp
    [[80.0, 79.0, 60.0, 81.0]],                     # near float32 overflow: shifted
    [[-95.0, -96.0, -120.0, -94.0]],                # row sums below the normal range: shifted
    [[1000.0, 999.0, 0.0, 998.0], [-1000.0, -1001.0, -999.5, -1200.0]],  # rows far apart
    [[0.0, -np.inf, 1.0, -np.inf], [3.0, 2.0, 1.0, 0.0]],                # masked entries
], ids=['direct', 'overflow', 'underflow', 'far_apart', 'masked'])
def test_softmax_shift_paths(rows, device):
    x = np.array(rows, np.float32)
    x = np.concatenate([x, rand(5, 4, low=-3, high=3)])
    grad = not np.isinf(x).any()
    for tfn, ffn in ((tg.softmax, F.softmax), (tg.log_softmax, F.log_softmax)):
        if grad:
            compare(lambda x, f=tfn: f(x, -1), lambda x, f=ffn: f(x, -1), x, device=device)
        else:
            y = tfn(tg.tensor(x), -1)._data
            assert_close(y, ffn(torch.tensor(x), -1).numpy())
    if grad:
        t = RNG.integers(0, 4, size=x.shape[0])
        compare(lambda x, t: tg.cross_entropy(x, t), lambda x, t: F.cross_entropy(x, t), x, t, device=device,
                grad=[True, False])


def test_softmax_nan_row_and_float64(device):
    x = np.array([[np.nan, 1.0, 2.0], [1.0, 2.0, 3.0]], np.float32)
    y = tg.softmax(tg.tensor(x), -1)._data
    assert np.isnan(y[0]).all()
    np.testing.assert_allclose(y[1], F.softmax(torch.tensor(x[1]), -1).numpy(), rtol=1e-6)
    x64 = RNG.standard_normal((6, 9)) * 300  # float64: direct exp is safe far beyond float32's range
    for fn, ref in ((tg.softmax, F.softmax), (tg.log_softmax, F.log_softmax)):
        out = fn(tg.tensor(x64), -1)
        assert out._data.dtype == np.float64
        np.testing.assert_allclose(out._data, ref(torch.tensor(x64), -1).numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_threaded_mixed_blocks(threaded, device):
    # one block on the direct path, the other shifted: each block picks its own path
    x = np.concatenate([rand(6, 5, low=-2, high=2), rand(6, 5, low=200, high=210)])
    compare(lambda x: tg.softmax(x, -1), lambda x: F.softmax(x, -1), x, device=device)
    compare(lambda x: tg.log_softmax(x, -1), lambda x: F.log_softmax(x, -1), x, device=device)
