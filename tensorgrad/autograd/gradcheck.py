"""``gradcheck`` and ``gradgradcheck`` in PyTorch's form.

``gradcheck(func, inputs)`` compares the Jacobian that tensorgrad's backward
gives (one ``autograd.grad`` call per output element, "analytical") with
central finite differences ("numerical"), for every floating input that
requires grad and every floating output. It returns True or raises
:class:`GradcheckError` (``raise_exception=False``: returns False).
``fast_mode=True`` compares ``v^T J u`` for random ``u``, ``v`` instead of the
whole Jacobian, as PyTorch does.

Differences from PyTorch: no forward-mode AD (``check_forward_ad``,
``check_batched_forward_grad``) and no ``vmap`` (``check_batched_grad``), so
those raise NotImplementedError; no sparse tensors, so ``masked`` changes
nothing. For the finite differences an input's array is swapped for a
perturbed copy during the call (PyTorch writes into ``input.data``), so a
``func`` that reads the same tensors through a closure (a module's
parameters) sees the perturbation too.
"""
import warnings

import numpy as np

from .. import backend
from ..dtypes import DEVICE

__all__ = ['GradcheckError', 'gradcheck', 'gradgradcheck']


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` and :func:`gradgradcheck` when a check fails."""


def _tensor_cls():
    from .._tensor import Tensor  # noqa: PLC0415 - the tensor module imports autograd
    return Tensor


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_float(t):
    return t._data.dtype.kind == 'f'


def _host64(arr):
    """A float64 NumPy copy of a NumPy or CuPy array."""
    return np.array(backend.move(arr, DEVICE.CPU), dtype=np.float64)


def _diff_inputs(inputs):
    Tensor = _tensor_cls()
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _differentiable_outputs(outs):
    Tensor = _tensor_cls()
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: func must return a Tensor or a tuple of Tensors, "
                            f"got an output of type {type(o).__name__}")
    return tuple(o for o in outs if o.requires_grad)


def _check_inputs(inputs):
    found = False
    for idx, inp in _diff_inputs(inputs):
        if inp._data.dtype != np.float64:
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point "
                          "or complex. This check will likely fail if all the inputs are not of double "
                          "precision floating point or complex. ", stacklevel=3)
        arr = inp._data
        if arr.size and any(st == 0 and sz > 1 for st, sz in zip(arr.strides, arr.shape)):
            raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports "
                               "inputs that are non-overlapping to be able to compute the numerical "
                               "gradients correctly. You should call .contiguous on the input before "
                               "passing it to gradcheck.")
        found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")


def _evaluate(func, inputs, idx, arr):
    """``func(*inputs)`` with input ``idx`` holding the array ``arr`` for the call
    (its array is swapped, not written into, and restored after); returns the
    outputs' raw arrays, copied."""
    Tensor = _tensor_cls()
    t = inputs[idx]
    orig = t._data
    t._data = arr
    try:
        outs = _as_tuple(func(*inputs))
    finally:
        t._data = orig
    return [o._data.copy() if isinstance(o, Tensor) else o for o in outs]


def _check_same_dtype_and_shape(a, b, eps, idx=None):
    on_index = f"on index {idx} " if idx is not None else ""
    if a.shape != b.shape:
        raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are "
                             f"perturbed {on_index}by {eps}, but got: shapes {a.shape} and {b.shape}.")
    if a.dtype != b.dtype:
        raise AssertionError(f"Expected `func` to return outputs with the same dtype when inputs are "
                             f"perturbed {on_index}by {eps}, but got: dtypes {a.dtype} and {b.dtype}.")


def _central_difference(func, inputs, idx, delta, eps, index=None):
    """``(f(x + delta) - f(x - delta)) / (2 eps)`` for input ``idx``, flattened,
    one float64 vector per output (None for non-floating outputs)."""
    x = inputs[idx]._data
    xp = backend.array_module(x)
    delta = xp.asarray(delta, dtype=x.dtype)
    lo = _evaluate(func, inputs, idx, xp.asarray(x - delta))  # asarray: NumPy makes 0-d results scalars
    hi = _evaluate(func, inputs, idx, xp.asarray(x + delta))
    res = []
    for a, b in zip(lo, hi):
        if not hasattr(a, 'dtype') or a.dtype.kind != 'f':
            res.append(None)
            continue
        _check_same_dtype_and_shape(a, b, eps, index)
        res.append(((_host64(b) - _host64(a)) / (2 * eps)).reshape(-1))
    return res


def _numerical_jacobians(func, inputs, out_arrays, eps):
    """``jac[i][j]``: the (numel(input i), numel(output j)) finite-difference
    Jacobian for the i-th differentiable input and the j-th output (None for a
    non-floating output)."""
    jacs = []
    for idx, inp in _diff_inputs(inputs):
        x = inp._data
        n = x.size
        per_out = [np.zeros((n, o.size)) if hasattr(o, 'dtype') and o.dtype.kind == 'f' else None
                   for o in out_arrays]
        xp = backend.array_module(x)
        for k in range(n):
            delta = xp.zeros(x.shape, dtype=x.dtype)
            delta.reshape(-1)[k] = eps
            cols = _central_difference(func, inputs, idx, delta, eps, np.unravel_index(k, x.shape))
            for j, col in enumerate(cols):
                if per_out[j] is not None and col is not None:
                    per_out[j][k] = col
        jacs.append(per_out)
    return jacs


def _vjp(output, diff, grad_output, retain_graph=True):
    from . import grad  # noqa: PLC0415 - the package's public autograd.grad
    return grad(output, diff, grad_output, retain_graph=retain_graph, allow_unused=True)


def _analytical_rows(output, diff, vectors):
    """Stack ``vjp(v)`` for each ``v`` in ``vectors`` into per-input (numel, len)
    float64 matrices; also says whether sizes and dtypes were right."""
    Tensor = _tensor_cls()
    mats = [np.zeros((t._data.size, len(vectors))) for t in diff]
    sizes_ok = types_ok = True
    for col, v in enumerate(vectors):
        grads = _vjp(output, diff, Tensor._wrap(v))
        for i, (g, t) in enumerate(zip(grads, diff)):
            if g is None:
                continue
            if tuple(g._data.shape) != tuple(t._data.shape):
                sizes_ok = False
                continue
            if g._data.dtype != t._data.dtype:
                types_ok = False
            mats[i][:, col] = _host64(g._data).reshape(-1)
    return mats, sizes_ok, types_ok


_FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations, this failure might be expected:
call gradcheck/gradgradcheck with `nondet_tol=<tol>` as a keyword argument.
"""


def _analytical(output, diff, vectors, nondet_tol, check_grad_dtypes):
    """The analytical Jacobian rows for ``vectors``, computed twice to check that
    backward is deterministic (reentrant)."""
    mats1, sizes_ok, types_ok = _analytical_rows(output, diff, vectors)
    mats2, _, _ = _analytical_rows(output, diff, vectors)
    reentrant = all(m1.size == 0 or np.abs(m1 - m2).max() <= nondet_tol for m1, m2 in zip(mats1, mats2))
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
            "times gives different values, although analytical gradient matches numerical gradient."
            f"The tolerance for nondeterminism was {nondet_tol}." + _FAILED_NONDET_MSG)
    return mats1


def _basis(output):
    xp = backend.array_module(output._data)
    vecs = []
    for j in range(output._data.size):
        e = xp.zeros(output._data.shape, dtype=output._data.dtype)
        e.reshape(-1)[j] = 1
        vecs.append(e)
    return vecs


def _fmt(mat):
    return repr(_tensor_cls()._wrap(mat))


def _notallclose_msg(analytical, numerical, output_idx, input_idx):
    return (f"Jacobian mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"
            f"numerical:{_fmt(numerical)}\nanalytical:{_fmt(analytical)}\n")


def _allclose(a, b, rtol, atol):
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _float_out_positions(outs):
    """Positions (in ``outs``) of the outputs that require grad."""
    return [k for k, o in enumerate(outs) if o.requires_grad]


def _slow_gradcheck(func, inputs, outs, eps, rtol, atol, nondet_tol, check_grad_dtypes):
    out_arrays = [o._data for o in outs]
    numerical = _numerical_jacobians(func, inputs, out_arrays, eps)
    positions = _float_out_positions(outs)
    if not positions:
        for per_out in numerical:
            for jac in per_out:
                if jac is not None and np.any(jac != 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    diff = [t for _, t in _diff_inputs(inputs)]
    for i, k in enumerate(positions):
        o = outs[k]
        analytical = _analytical(o, diff, _basis(o), nondet_tol, check_grad_dtypes)
        for j, a in enumerate(analytical):
            n = numerical[j][k]
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_notallclose_msg(a, n, i, j))
    return True


def _random_unit(rng, arr):
    v = rng.random(arr.size)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def _fast_gradcheck(func, inputs, outs, eps, rtol, atol, nondet_tol, check_grad_dtypes):
    rng = np.random.default_rng(0)  # its own generator: the user's random state is untouched
    diff_idx = _diff_inputs(inputs)
    all_u = [_random_unit(rng, t._data).astype(t._data.dtype) for _, t in diff_idx]
    positions = _float_out_positions(outs)
    all_v = [_random_unit(rng, outs[k]._data).astype(outs[k]._data.dtype) for k in positions]
    numerical_Ju = []
    for (idx, t), u in zip(diff_idx, all_u):
        delta = backend.move(eps * u.reshape(t._data.shape), backend.device_of(t._data))
        numerical_Ju.append(_central_difference(func, inputs, idx, delta, eps))
    if not positions:
        for per_out in numerical_Ju:
            for ju in per_out:
                if ju is not None and ju.size and np.abs(ju).max() > nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    diff = [t for _, t in diff_idx]
    for i, (k, v) in enumerate(zip(positions, all_v)):
        o = outs[k]
        v_arr = backend.move(v.reshape(o._data.shape), backend.device_of(o._data))
        vJ = _analytical(o, diff, [v_arr], nondet_tol, check_grad_dtypes)
        v64 = v.astype(np.float64)
        for j, (vj, u) in enumerate(zip(vJ, all_u)):
            u64 = u.astype(np.float64)
            a = float(vj[:, 0] @ u64)
            n = float(v64 @ numerical_Ju[j][k])
            tol = atol * float(u64.sum()) * float(v64.sum())
            if not _allclose(a, n, rtol, tol):
                raise GradcheckError(_notallclose_msg(np.asarray(a), np.asarray(n), i, j)
                                     + _slow_mode_message(func, inputs, outs, j, k, i, eps, rtol, atol))
    return True


_FAST_FAIL_SLOW_OK_MSG = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode! Call gradcheck/gradgradcheck with
`fast_mode=False` as a keyword argument.
""".strip()


def _slow_mode_message(func, inputs, outs, input_idx, out_pos, output_idx, eps, rtol, atol):
    numerical = _numerical_jacobians(func, inputs, [o._data for o in outs], eps)[input_idx][out_pos]
    diff = [t for _, t in _diff_inputs(inputs)]
    o = outs[out_pos]
    analytical = _analytical(o, diff, _basis(o), float('inf'), False)[input_idx]
    max_diff = np.abs(numerical - analytical).max() if numerical.size else 0.0
    msg = ("\nThe above quantities relating the numerical and analytical jacobians are computed \n"
           "in fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
           f"Numerical:\n {_fmt(numerical)}\nAnalytical:\n{_fmt(analytical)}\n\n"
           f"The max per-element difference (slow mode) is: {max_diff}.\n")
    if _allclose(analytical, numerical, rtol, atol):
        msg += _FAST_FAIL_SLOW_OK_MSG
    return msg


def _zeros_like(t):
    return _tensor_cls()._wrap(backend.array_module(t._data).zeros(t._data.shape, dtype=t._data.dtype))


def _test_backward_mul_by_grad_output(outputs, inputs):
    diff = [t for _, t in _diff_inputs(inputs)]
    grads = _vjp(list(outputs), diff, [_zeros_like(o) for o in outputs], retain_graph=False)
    for gi, di in zip(grads, diff):
        if gi is None:
            continue
        if np.any(_host64(gi._data) != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if gi._data.dtype != di._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi.device != di.device:
            raise GradcheckError("grad is incorrect device")
        if tuple(gi._data.shape) != tuple(di._data.shape):
            raise GradcheckError("grad is incorrect size")
    return True


def _test_undefined_backward_mode(func, inputs):
    """Backward must work when some outputs get no gradient (tensorgrad's
    "undefined" gradients: the outputs left out of the backward call) and then
    give zero (or no) input gradients. When every output's gradient is
    undefined tensorgrad's engine runs no backward at all, so only the cases
    with one output left out are exercised (functions with several outputs)."""
    diff = [t for _, t in _diff_inputs(inputs)]
    n_out = len(_differentiable_outputs(_as_tuple(func(*inputs))))
    if n_out < 2:
        return True
    for undef in range(n_out):
        outs = _differentiable_outputs(_as_tuple(func(*inputs)))
        kept = [o for k, o in enumerate(outs) if k != undef]
        try:
            grads = _vjp(kept, diff, [_zeros_like(o) for o in kept], retain_graph=False)
        except RuntimeError as e:
            raise GradcheckError("Expected backward function to handle undefined output grads. "
                                 f"Backward raised: {e}") from e
        for gi in grads:
            if gi is not None and np.any(_host64(gi._data) != 0):
                raise GradcheckError("Expected all input grads to be undefined or zero when all output "
                                     "grads are undefined or zero.")
    return True


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Check the gradients of ``func`` at ``inputs`` (a Tensor or a tuple) against
    central finite differences, as ``torch.autograd.gradcheck``: True, or
    :class:`GradcheckError` (False with ``raise_exception=False``). The default
    tolerances are meant for float64 inputs. Forward-mode AD and batched (vmap)
    checks are not available in tensorgrad and raise NotImplementedError."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    if check_forward_ad:
        raise NotImplementedError("gradcheck: check_forward_ad=True needs forward-mode AD, "
                                  "which tensorgrad does not have")
    if check_batched_grad:
        raise NotImplementedError("gradcheck: check_batched_grad=True needs vmap, which tensorgrad does not have")
    try:
        return _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
                                 check_grad_dtypes, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                      fast_mode):
    tupled = _as_tuple(inputs)
    _check_inputs(tupled)
    outs = _as_tuple(func(*tupled))
    outputs = _differentiable_outputs(outs)
    check = _fast_gradcheck if fast_mode else _slow_gradcheck
    check(func, tupled, outs, eps, rtol, atol, nondet_tol, check_grad_dtypes)
    if outputs:
        _test_backward_mul_by_grad_output(outputs, tupled)
    if check_undefined_grad:
        _test_undefined_backward_mode(func, tupled)
    return True


def _random_grad_outputs(outputs, noncontiguous):
    """Random grad_outputs in [-1, 1) like the outputs (float64 for non-floating
    ones), requiring grad; seeded so that a failure reproduces."""
    Tensor = _tensor_cls()
    rng = np.random.default_rng(0)
    res = []
    for o in outputs:
        dtype = o._data.dtype if _is_float(o) else np.dtype(np.float64)
        shape = tuple(o._data.shape)
        if noncontiguous and len(shape) and all(shape):
            big = rng.uniform(-1, 1, size=shape[:-1] + (2 * shape[-1],)).astype(dtype)
            arr = big[..., ::2]
        else:
            arr = rng.uniform(-1, 1, size=shape).astype(dtype)
        res.append(Tensor._wrap(backend.move(arr, backend.device_of(o._data)), requires_grad=True))
    return tuple(res)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second-order gradients of ``func`` (gradients of its gradients with
    respect to ``inputs`` and ``grad_outputs``) as ``torch.autograd.gradgradcheck``.

    It runs :func:`gradcheck` on ``autograd.grad(func(*inputs), inputs,
    grad_outputs, create_graph=True)``, written against the public API only.
    ``grad_outputs`` default to seeded random values in [-1, 1). Where
    ``autograd.grad`` cannot build the graph of the backward pass, this raises
    NotImplementedError naming create_graph."""
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    from . import grad  # noqa: PLC0415
    Tensor = _tensor_cls()
    tupled = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(_as_tuple(func(*tupled)))
        tupled_go = _random_grad_outputs(outs, gen_non_contig_grad_outputs)
    else:
        tupled_go = _as_tuple(grad_outputs)
    num_outputs = len(tupled_go)
    diff_input_idx = {i for i, x in enumerate(tupled) if isinstance(x, Tensor) and x.requires_grad}
    diff_go_idx = {i for i, x in enumerate(tupled_go) if x.requires_grad}

    def new_func(*args):
        input_args = tuple(x.requires_grad_() if i in diff_input_idx and not x.requires_grad else x
                           for i, x in enumerate(args[:-num_outputs]))
        outputs = _differentiable_outputs(_as_tuple(func(*input_args)))
        gos = tuple(x.requires_grad_() if i in diff_go_idx and not x.requires_grad else x
                    for i, x in enumerate(args[-num_outputs:]))
        diff_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_idx)
        try:
            grad_inputs = grad(outputs, diff_args, gos, create_graph=True, allow_unused=True)
        except NotImplementedError as e:
            raise NotImplementedError(f"gradgradcheck needs autograd.grad(..., create_graph=True) "
                                      f"(higher-order gradients): {e}") from e
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(new_func, tupled + tupled_go, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)
