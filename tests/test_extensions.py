"""The device extension point: an op implementation registered for a device
is used instead of the default, and costs nothing once removed."""
import numpy as np
import pytest

import tensorgrad
from tensorgrad.extensions import register_op, registered_ops, unregister_op


@pytest.fixture
def counting_exp():
    calls = []
    default = tensorgrad.exp

    def my_exp(x):
        calls.append(x.shape)
        return default(x)

    register_op('exp', 'cpu')(my_exp)
    yield calls
    unregister_op('exp')


def test_override_is_used_by_methods_and_functions(counting_exp):
    x = tensorgrad.tensor([1.0, 2.0])
    y = x.exp()
    z = tensorgrad.exp(x)
    assert counting_exp == [(2,), (2,)]
    np.testing.assert_allclose(y.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    z.sum().backward()  # the override returned a tracked tensor: gradients still flow
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    assert registered_ops() == {'exp': ['cpu']}


def test_override_for_other_device_leaves_cpu_on_default():
    default = tensorgrad.Tensor.exp
    register_op('exp', 'cuda')(lambda x: pytest.fail('cuda override called for a cpu tensor'))
    try:
        x = tensorgrad.tensor([0.0])
        assert x.exp().item() == 1.0
    finally:
        unregister_op('exp', 'cuda')
    assert tensorgrad.Tensor.exp is default  # restored: the default path is the original function again


def test_unknown_op_is_a_clear_error():
    with pytest.raises(KeyError, match='unknown op'):
        register_op('no_such_op', 'cpu')(lambda x: x)
