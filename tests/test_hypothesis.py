"""Property-based tests: random broadcastable shape pairs for binary ops and
random shapes/dims/keepdim for reductions, values and gradients vs PyTorch."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tensorgrad as tg
from helpers import compare

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

BINARY = {
    'add': (lambda a, b: a + b, lambda a, b: a + b),
    'sub': (lambda a, b: a - b, lambda a, b: a - b),
    'mul': (lambda a, b: a * b, lambda a, b: a * b),
    'div': (lambda a, b: a / b, lambda a, b: a / b),
    'maximum': (tg.maximum, torch.maximum),
}


def _values(shape, seed, positive=False):
    rng = np.random.default_rng(seed)
    v = rng.uniform(-2, 2, size=shape).astype(np.float32)
    if positive:
        v = np.sign(v) * (np.abs(v) + 0.5)
    return v


@pytest.mark.parametrize('name', list(BINARY))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       seed=st.integers(0, 2 ** 16))
def test_broadcast_binary(name, shapes, seed, device):
    sa, sb = shapes.input_shapes
    f, g = BINARY[name]
    a, b = _values(sa, seed), _values(sb, seed + 1, positive=(name == 'div'))
    compare(f, g, a, b, device=device, atol=1e-4, rtol=1e-4)


@st.composite
def _shape_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    kind = draw(st.sampled_from(['none', 'int', 'tuple']))
    if kind == 'none':
        dim = None
    elif kind == 'int':
        dim = draw(st.integers(-nd, nd - 1))
    else:
        axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        dim = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    return shape, dim


@pytest.mark.parametrize('name', ['sum', 'mean', 'amax', 'var'])
@SETTINGS
@given(case=_shape_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_reduction(name, case, keepdim, seed, device):
    shape, dim = case
    a = _values(shape, seed)
    tdim = tuple(range(len(shape))) if dim is None else dim
    if name == 'var':
        n = a.size if dim is None else int(np.prod([shape[d] for d in np.atleast_1d(dim)]))
        if n < 2:
            return  # torch returns nan with a warning for a single element
    compare(lambda x: getattr(x, name)(dim, keepdim=keepdim), lambda x: getattr(x, name)(tdim, keepdim=keepdim),
            a, device=device, atol=1e-4, rtol=1e-4)
