"""Mismatches the fuzzer has found that are not fixed yet: (kind, op names)
signatures, each with the reason. A program whose mismatch matches one (same
kind, all of its ops in the program) is not reported again (see
``program.is_known``); ``python -m tests.fuzz --include-known`` reports them.
Entries marked "torch quirk" are PyTorch behaviours tensorgrad need not copy."""


def _k(kind, *ops):
    return kind, frozenset(ops)


KNOWN = {
    _k('error', 'logical_and'): "logical_and/or/xor are bitwise for integers and fail on float operands; torch "
                                "casts both to bool (the same functions serve Tensor.__and__, which must stay bitwise)",
    _k('dtype', 'logical_and'): "logical_and of integer tensors gives int64 (bitwise), torch bool",
    _k('error', 'sub'): "bool - bool (and bool - number) is accepted; torch raises for subtraction with bool",
    _k('error', 'sub_'): "in-place bool subtraction is accepted; torch raises",
    _k('error', 'op_rsub_scalar'): "number - bool tensor is accepted; torch raises",
    _k('error', 'clamp_'): "int_tensor.clamp_(float, float) is accepted; torch raises (float result cannot be "
                           "cast to the integer tensor)",
    _k('dtype', 'clamp'): "int_tensor.clamp(min=float, max=float) stays int64; torch promotes to float32",
    _k('error', 'lerp'): "lerp accepts an integer `end`; torch requires the same floating dtype",
    _k('error', 'view'): "view() of a non-contiguous tensor whose strides cannot express the shape succeeds "
                         "(copies); torch raises and asks for reshape()",
    _k('error', 'squeeze'): "squeeze(dim) of a 0-d tensor accepts any dim; torch only 0 and -1",
    _k('error', 'roll'): "torch quirk: roll of a size-0 tensor returns it without checking dim",
    _k('error', 'gather'): "gather on a 0-d tensor with a 0-d index raises IndexError('tuple index out of range'); "
                           "torch returns the element",
    _k('error', 'matmul'): "matmul of float32 and int64 promotes; torch raises (both operands must have one dtype)",
    _k('error', 'add_'): "x.detach().add_(...) where x is a leaf that requires grad raises (detach counts as a view "
                         "of the leaf); torch allows it",
    _k('error', 'cat'): "torch quirk: cat skips legacy 1-d empty tensors, so cat([empty(0), empty(0)], 1) works there",
    _k('error', 'div_'): "div_ on an expanded 0-d view raises 'operand of shape () cannot be applied in place'",
    _k('backward_error', 'op_pow_tensor'): "torch quirk: x ** bool_tensor fails in torch's backward (bool subtraction)",
    _k('backward_error', 'norm', 'clamp_'): "norm's backward does not use its output, so modifying it in place is "
                                            "allowed (the gradient is right); torch raises",
    _k('backward_error', 'norm', 'add_'): "as above (norm output modified in place)",
    _k('backward_error', 'logsumexp', 'clamp_'): "logsumexp over a size-0 dim does not guard its output against "
                                                 "in-place changes; torch raises at backward",
    _k('final_requires_grad', 'permute', 'add_'): "a view of a tensor without grad keeps requires_grad=False after "
                                                  "its base is modified in place by a tensor that requires grad; in "
                                                  "torch the view then requires grad",
    _k('grad_value', 'sign', 'var'): "a nan upstream gradient through sign (and relu, below) gives nan; torch's "
                                     "backward of sign is zeros and relu's a where(), so no nan leaks",
    _k('grad_value', 'relu', 'var'): "as above (relu with a nan upstream gradient)",
    _k('grad_value', 'lerp', 'div'): "an inf upstream gradient through lerp gives nan (inf - inf in its backward); "
                                     "torch inf",
    _k('value', 'gelu'): "gelu(inf) is inf; torch nan",
    # found by the second 10-minute run
    _k('error', 'mul_'): "as add_ above: in-place ops on x.detach() of a leaf that requires grad raise",
    _k('backward_error', 'softmax', 'clamp_'): "softmax of a 0-d tensor does not save its output, so an in-place "
                                               "change of it is allowed (its gradient is zero); torch raises",
    _k('backward_error', 'norm', 'mul_'): "norm output modified in place (see norm + clamp_)",
    _k('backward_error', 'norm', 'exp_'): "norm output modified in place (see norm + clamp_)",
    _k('backward_error', 'hypot', 'mul_scalar_'): "hypot saves (and version-checks) an operand that needs no grad, "
                                                  "so modifying that operand in place raises at backward; torch "
                                                  "does not save it",
    _k('grad_value', 'clamp', 'var'): "as sign/relu: a nan upstream gradient through clamp's cut-off part gives "
                                      "nan; torch 0",
    _k('grad_value', 'cumprod', 'div'): "an inf upstream gradient through cumprod gives nan; torch inf",
    _k('final_requires_grad', 't', 'add_'): "as permute + add_: a view of a base modified in place by a tensor "
                                            "that requires grad keeps requires_grad=False",
    _k('value', 'asin'): "not a bug: float32 rounding differs by one ulp at the edge of asin's domain (1.0), "
                         "so one library gets nan",
}
