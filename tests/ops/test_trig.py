"""MyGrad's cot, csc, sec, arccot, arccsc, arcsec, coth, csch, sech, arccoth,
arccsch against their definitions composed in PyTorch, forward and backward."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from _libcheck import check, rand

REFS = {
    'cot': lambda x: 1 / torch.tan(x), 'csc': lambda x: 1 / torch.sin(x), 'sec': lambda x: 1 / torch.cos(x),
    'arccot': lambda x: torch.atan(1 / x), 'arccsc': lambda x: torch.asin(1 / x),
    'arcsec': lambda x: torch.acos(1 / x), 'coth': lambda x: 1 / torch.tanh(x),
    'csch': lambda x: 1 / torch.sinh(x), 'sech': lambda x: 1 / torch.cosh(x),
    'arccoth': lambda x: torch.atanh(1 / x), 'arccsch': lambda x: torch.asinh(1 / x),
}
OUTSIDE_UNIT = ('arccsc', 'arcsec', 'arccoth')  # defined for |x| > 1


def _fn(name):
    return lambda x, L: getattr(tg, name)(x) if L is tg else REFS[name](x)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', sorted(REFS))
def test_trig(name, dtype):
    a = rand(3, 4, dtype=dtype, low=0.2, high=1.4)
    if name in OUTSIDE_UNIT:
        a = a + 1
    a *= np.where(np.arange(4) % 2, 1, -1).astype(dtype)
    rt = 1e-4 if dtype == np.float32 else 1e-10
    check(_fn(name), a, rtol=rt, atol=1e-6)
    check(_fn(name), a, rtol=rt, atol=1e-6, layout='strided')
    check(_fn(name), a[0, 0], rtol=rt, atol=1e-6)
    check(_fn(name), np.zeros((0, 2), dtype), rtol=rt)


def test_int_input_becomes_float():
    assert tg.sech(tg.tensor([0, 1])).dtype == tg.float32
