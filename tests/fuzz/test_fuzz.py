"""The fuzzer's bounded run in the normal test suite: a fixed number of
derandomized programs (stable in CI), plus checks that the fuzzer itself
detects a disagreement."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.known import KNOWN
from tests.fuzz.ops import BY_NAME, OPS, Op
from tests.fuzz.program import Mismatch, Program, Ref, is_known, run_program
from tests.fuzz.strategies import make_array

BOUNDED = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))


@BOUNDED
@given(data=st.data())
def test_random_programs_agree_with_torch(data):
    try:
        run_program(data)
    except Mismatch as m:
        if not is_known(m, KNOWN):
            raise


def test_op_table_is_well_formed():
    for op in OPS:
        assert op.dtypes in ('float', 'num', 'any'), op
        assert op.domain in ('real', 'pos', 'unit', 'prob'), op
        assert op.operand in ('bcast', 'same', 'mm', 'scalar'), op
        assert op.arity in (1, 2), op


def test_fuzzer_catches_a_wrong_op():
    """An op whose tensorgrad side is wrong (exp for sin) is reported with the program."""
    wrong = Op('wrong_sin', lambda lib, x: x.exp() if lib.__name__ == 'tensorgrad' else x.sin())
    prog = Program()
    v = prog.add_input(((2, 3), 'float32', 'transposed', True, 0))
    with pytest.raises(Mismatch, match=r'\[value\] v1 = wrong_sin') as info:
        prog.apply(wrong, [Ref(v)], [])
    assert 'v0 = leaf(' in info.value.program


def test_fuzzer_catches_a_wrong_gradient_and_a_missing_error():
    prog = Program()
    v = prog.add_input(((3,), 'float64', 'contiguous', True, 1))
    detached_in_tg = Op('half_detached', lambda lib, x: x.detach() * 1 + x * 0 if lib.__name__ == 'tensorgrad'
                        else x * 1)
    prog.apply(detached_in_tg, [Ref(v)], [])  # same values and requires_grad: no mismatch yet
    with pytest.raises(Mismatch):
        prog.backward(0)
    prog = Program()
    v = prog.add_input(((2,), 'float32', 'contiguous', False, 2))
    raises_only_in_torch = Op('bad_reshape', lambda lib, x: x.reshape(3) if lib.__name__ == 'torch' else x)
    with pytest.raises(Mismatch, match=r'\[error\]'):
        prog.apply(raises_only_in_torch, [Ref(v)], [])


def test_layouts_are_non_contiguous():
    assert not make_array((2, 3), 'float32', 'transposed', 0).flags.c_contiguous
    assert not make_array((2, 3), 'float64', 'sliced', 0).flags.c_contiguous


def test_known_mismatches_name_real_ops():
    for (kind, ops), reason in KNOWN.items():
        assert ops <= set(BY_NAME), ops
        assert reason
