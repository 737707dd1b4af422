"""Run one random program on tensorgrad and on torch side by side.

``run_program(data)`` draws (with hypothesis' ``st.data()``) a few inputs
and a chain of ops from ``ops.OPS``, runs every op in both libraries on the
same NumPy data and checks after each step: both raise or neither; shapes,
dtypes, values and ``requires_grad`` agree. At the end it checks every
value again (in-place ops on views must show through their bases), then
back-propagates the same random (non-uniform) upstream gradient from all
differentiable values in both libraries and compares the leaves' gradients.

A disagreement raises :class:`Mismatch`, whose message holds the program
(one line per step; op lines read ``BY_NAME[name].call(lib, *operands,
*params)``) so that hypothesis' shrunk example is a minimal reproduction.
"""
import warnings

import numpy as np
import torch
from hypothesis import strategies as st

import tensorgrad as tg

from .ops import OPS
from .strategies import DTYPES, FLOATS, OPERANDS, PARAMS, Arr, input_spec, make_array

STATS = {'programs': 0, 'steps': 0}


class Mismatch(AssertionError):
    """tensorgrad and torch disagree; ``kind`` and ``ops`` identify the bug."""

    def __init__(self, kind, ops, detail, program):
        self.kind, self.ops, self.detail, self.program = kind, frozenset(ops), detail, program
        super().__init__(f"[{kind}] {detail}\n--- program ---\n{program}")

    def signature(self):
        """(kind, op names) used to recognise the same bug again."""
        return self.kind, self.ops


def is_known(mismatch, known):
    """Whether ``mismatch`` matches a known (kind, ops) signature (those ops all in it)."""
    return any(kind == mismatch.kind and ops <= mismatch.ops for kind, ops in known)


def _tol(dtype, low_precision):
    """(rtol, atol): float32's when the value, or anything in its program, is float32."""
    return (1e-3, 1e-4) if low_precision or dtype == 'float32' else (1e-7, 1e-9)


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


def _dtype_name(t):
    return str(t.dtype).replace('torch.', '')


def _compare_values(th, tgv, what, low_precision=False):
    """None when ``tgv`` (tensorgrad) matches ``th`` (torch); else (kind, detail)."""
    if not isinstance(tgv, tg.Tensor):
        return 'type', f"{what}: tensorgrad returned {type(tgv).__name__}, torch a Tensor"
    if tuple(tgv.shape) != tuple(th.shape):
        return 'shape', f"{what}: shape {tuple(tgv.shape)} != torch {tuple(th.shape)}"
    if _dtype_name(tgv) != _dtype_name(th):
        return 'dtype', f"{what}: dtype {_dtype_name(tgv)} != torch {_dtype_name(th)}"
    a, e = _np(tgv), _np(th)
    if e.dtype.kind == 'f':
        rtol, atol = _tol(_dtype_name(th), low_precision)
        scale = 1.0 + (float(np.nanmax(np.abs(e[np.isfinite(e)]))) if np.isfinite(e).any() else 0.0)
        ok = np.allclose(a, e, rtol=rtol, atol=atol * scale, equal_nan=True)
    else:
        ok = np.array_equal(a, e)
    if not ok:
        return 'value', f"{what}: values differ\n  tensorgrad: {a!r}\n  torch:      {e!r}"
    if bool(tgv.requires_grad) != bool(th.requires_grad):
        return 'requires_grad', f"{what}: requires_grad {tgv.requires_grad} != torch {th.requires_grad}"
    return None


class Program:
    """The values of one program in both libraries, and its text."""

    def __init__(self):
        self.th, self.tg, self.lines, self.ops, self.leaves = [], [], [], [], []
        self.low_precision = False  # a float32 value anywhere: float64 results of it are float32-accurate

    def text(self):
        return '\n'.join(self.lines)

    def fail(self, kind, ops, detail):
        raise Mismatch(kind, ops, detail, self.text())

    def add_input(self, spec):
        shape, dtype, layout, requires_grad, seed = spec
        arr = make_array(shape, dtype, layout, seed)  # each library gets its own array of the same layout
        th = torch.from_numpy(make_array(shape, dtype, layout, seed))
        tgv = tg.from_numpy(make_array(shape, dtype, layout, seed))
        if requires_grad:
            th.requires_grad_()
            tgv.requires_grad_()
        self.th.append(th)
        self.tg.append(tgv)
        self.low_precision |= dtype == 'float32'
        self.leaves.append(len(self.th) - 1)
        self.lines.append(f"v{len(self.th) - 1} = leaf(np.array({arr.tolist()!r}, dtype='{dtype}'), "
                          f"layout='{layout}', requires_grad={requires_grad})")
        return len(self.th) - 1

    def apply(self, op, operands, params):
        """Run ``op`` on values/numbers ``operands`` with ``params`` in both libraries."""
        self.ops.append(op.name)
        STATS['steps'] += 1
        th_args = [self.th[o] if isinstance(o, Ref) else o for o in operands] + [_lib_param(p, torch) for p in params]
        tg_args = [self.tg[o] if isinstance(o, Ref) else o for o in operands] + [_lib_param(p, tg) for p in params]
        shown = ', '.join([f"v{o}" if isinstance(o, Ref) else repr(o) for o in operands] + [repr(p) for p in params])
        th_out = tg_out = th_err = tg_err = None
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                th_out = op.call(torch, *th_args)
            except Exception as e:  # noqa: BLE001 - any error is compared with tensorgrad's
                th_err = e
            try:
                tg_out = op.call(tg, *tg_args)
            except Exception as e:  # noqa: BLE001
                tg_err = e
        if th_err is not None or tg_err is not None:
            self.lines.append(f"{op.name}({shown})  # torch: {_outcome(th_err)}, tensorgrad: {_outcome(tg_err)}")
            if (th_err is None) != (tg_err is None):
                self.fail('error', [op.name], f"{op.name}: torch {'raised ' + repr(th_err) if th_err else 'ok'}, "
                                              f"tensorgrad {'raised ' + repr(tg_err) if tg_err else 'ok'}")
            return None
        idx = len(self.th)
        self.lines.append(f"v{idx} = {op.name}({shown})")
        self.th.append(th_out)
        self.tg.append(tg_out)
        self.low_precision |= isinstance(th_out, torch.Tensor) and th_out.dtype == torch.float32
        bad = _compare_values(th_out, tg_out, f"v{idx} = {op.name}", self.low_precision)
        if bad:
            self.fail(bad[0], [op.name], bad[1])
        return Ref(idx)

    def check_final(self):
        """Every value again: in-place ops must show through views and bases."""
        for i, (th, tgv) in enumerate(zip(self.th, self.tg)):
            bad = _compare_values(th, tgv, f"v{i} at the end of the program", self.low_precision)
            if bad:
                self.fail('final_' + bad[0], self.ops, bad[1])

    def backward(self, seed):
        """Backward from sum_i (v_i * g_i).sum() over the differentiable values."""
        live = [i for i, t in enumerate(self.th) if t.requires_grad and t.dtype.is_floating_point]
        if not live:
            return
        rng = np.random.default_rng(seed)
        ups = [rng.uniform(0.5, 1.5, size=tuple(self.th[i].shape)).astype(_dtype_name(self.th[i])) for i in live]
        self.lines.append(f"loss = sum((v * g).sum() for v in {['v%d' % i for i in live]}), "
                          f"g ~ U(0.5, 1.5) seed {seed}; loss.backward()")
        errs = []
        for lib, vals in ((torch, self.th), (tg, self.tg)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    loss = None
                    for i, g in zip(live, ups):
                        gt = torch.from_numpy(g.copy()) if lib is torch else tg.tensor(g.copy(), requires_grad=False)
                        term = (vals[i] * gt).sum()
                        loss = term if loss is None else loss + term
                    loss.backward()
                errs.append(None)
            except Exception as e:  # noqa: BLE001
                errs.append(e)
        if (errs[0] is None) != (errs[1] is None):
            self.fail('backward_error', self.ops, f"backward: torch {errs[0]!r}, tensorgrad {errs[1]!r}")
        if errs[0] is not None:
            return
        for i in self.leaves:
            th, tgv = self.th[i], self.tg[i]
            if not th.requires_grad or not th.is_leaf:  # an in-place op made it a non-leaf
                continue
            if th.grad is None or tgv.grad is None:
                if (th.grad is None) != (tgv.grad is None) and not (
                        th.grad is None and not np.any(_np(tgv.grad))):
                    self.fail('grad_none', self.ops, f"grad of v{i}: torch {th.grad}, tensorgrad {tgv.grad}")
                continue
            bad = _compare_values(th.grad, tgv.grad, f"grad of v{i}", self.low_precision)
            if bad:
                self.fail('grad_' + bad[0], self.ops, bad[1])


def _outcome(err):
    return 'ok' if err is None else f"raises {type(err).__name__}"


class Ref(int):
    """An operand that is a value of the program (by index)."""


def _lib_param(p, lib):
    if isinstance(p, Arr):
        return torch.from_numpy(p.array.copy()) if lib is torch else tg.tensor(p.array.copy(), requires_grad=False)
    return p


def _fix_domain(prog, ref, domain):
    """Make value ``ref`` satisfy ``domain`` (recorded as program steps); None if it cannot."""
    from .ops import BY_NAME  # noqa: PLC0415
    t = prog.th[ref]
    if t.dtype == torch.bool or t.numel() == 0:
        return ref if t.dtype != torch.bool else None
    lo, hi = {'pos': (0, float('inf')), 'unit': (-1, 1), 'prob': (0, 1)}[domain]
    if bool(((t > lo) & (t < hi)).all()):
        return ref
    if domain == 'prob':
        return prog.apply(BY_NAME['sigmoid'], [ref], [])
    if domain == 'pos':
        r = prog.apply(BY_NAME['abs'], [ref], [])
        return None if r is None else prog.apply(_ADD_HALF, [r, 0.5], [])
    r = prog.apply(BY_NAME['tanh'], [ref], [])
    return None if r is None else prog.apply(_MUL_09, [r, 0.9], [])


def _make_fixers():
    from .ops import Op  # noqa: PLC0415
    return (Op('fix_add', lambda lib, x, s: x + s, 2, dtypes='num'),
            Op('fix_mul', lambda lib, x, s: x * s, 2, dtypes='num'))


_ADD_HALF, _MUL_09 = _make_fixers()


def run_program(data, max_steps=6):
    """Draw and run one program (see the module docstring); raises Mismatch."""
    STATS['programs'] += 1
    prog = Program()
    for _ in range(data.draw(st.integers(1, 2), label='inputs')):
        prog.add_input(data.draw(input_spec(), label='input'))
    for _ in range(data.draw(st.integers(1, max_steps), label='steps')):
        op = data.draw(st.sampled_from(OPS), label='op')
        allowed = DTYPES[op.dtypes]
        cands = [i for i, t in enumerate(prog.th) if _dtype_name(t) in allowed]
        if not cands:
            continue
        ref = Ref(data.draw(st.sampled_from(cands), label='operand'))
        if op.domain != 'real':
            ref = _fix_domain(prog, ref, op.domain)
            if ref is None:
                continue
            ref = Ref(ref)
        x = prog.th[ref]
        shape, dtype = tuple(x.shape), _dtype_name(x)
        operands = [ref]
        for _ in range(op.arity - 1):
            spec = data.draw(OPERANDS[op.operand](shape, dtype), label='operand2')
            operands.append(Ref(prog.add_input(spec)) if isinstance(spec, tuple) else spec)
        params = []
        for name in op.params:
            params.append(data.draw(PARAMS[name](shape, params), label=name))
        prog.apply(op, operands, params)
    prog.check_final()
    prog.backward(data.draw(st.integers(0, 2 ** 16), label='upstream seed'))
    return prog


__all__ = ['FLOATS', 'Mismatch', 'STATS', 'is_known', 'run_program']
