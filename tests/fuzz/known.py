"""Mismatches the fuzzer has found that are not fixed yet: (kind, op names)
signatures, each with the reason. A program whose mismatch matches one (same
kind, all of its ops in the program) is not reported again (see
``program.is_known``); ``python -m tests.fuzz --include-known`` reports them.
Entries marked "torch quirk" are PyTorch behaviours tensorgrad need not copy."""


def _k(kind, *ops):
    return kind, frozenset(ops)


KNOWN = {
    _k('error', 'view'): "view() raises as torch for tensorgrad's own views (transpose, permute, slicing, expand) "
                         "of a contiguous tensor; a tensor whose memory is not such a view (a Fortran-ordered "
                         "from_numpy input, or an op result whose layout NumPy chose) is copied instead",
    _k('error', 'roll'): "torch quirk: roll of a size-0 tensor returns it without checking dim",
    _k('error', 'cat'): "torch quirk: cat skips legacy 1-d empty tensors, so cat([empty(0), empty(0)], 1) works there",
    _k('backward_error', 'op_pow_tensor'): "torch quirk: x ** bool_tensor fails in torch's backward (bool subtraction)",
    _k('value', 'gelu'): "torch quirk: gelu(inf) is nan only in torch's vectorized CPU float32 kernel (contiguous, "
                         "2+ elements); its 0-d, strided and float64 paths and the tanh form give inf, as "
                         "tensorgrad does (x * Phi(x) -> inf)",
    # found by the second 10-minute run
    _k('value', 'asin'): "not a bug: float32 rounding differs by one ulp at the edge of asin's domain (1.0), "
                         "so one library gets nan",
    # found by the final 10-minute run (the others it found are fixed, see test_fuzz_regressions.py)
    _k('error', 'matmul'): "torch quirk: torch skips its dtype check when an operand is empty, so int64 @ float32 "
                           "with a size-0 dim works there; tensorgrad raises as torch does for non-empty operands",
    # found by the run after those fixes
    _k('backward_error', 'abs', 'clamp_', 'div_', 'neg'): "lenient, not wrong: a recorded in-place op computes on "
                                                          "a copy, so a later in-place change of a tensor the "
                                                          "earlier op read is allowed; torch raises",
    _k('backward_error', 'add_', 'permute'): "conservative, not wrong: a view of a base whose memory is not one "
                                             "dense block (a slice of a larger array) cannot be re-derived after "
                                             "an in-place op on the base, so using it raises; torch allows it",
    _k('backward_error', 'add_', 'squeeze_all'): "as add_ + permute (a view of a non-dense base)",
    _k('backward_error', 'add_', 'expand', 'neg'): "as add_ + permute (a view of a non-dense base)",
    # found by the issue-14 final runs (fixed there: mixed-dtype operands, var/std and gather now check the
    # versions torch checks; fill_ of an expanded view of a sliced array; see test_fuzz_regressions.py)
    _k('backward_error', 'add_', 't'): "as add_ + permute (a view of a non-dense base)",
    _k('backward_error', 'matmul'): "torch quirk: 1-D @ 3-D matmul saves a reshaped copy of the 3-D operand, so "
                                    "changing it in place afterwards (clamp_, exp_, ...) is allowed there; "
                                    "tensorgrad checks the operand, as torch does for 2-D @ 2-D",
}
