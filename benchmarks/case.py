"""A benchmark case and how it is run for both libraries.

A ``Case`` has a ``shared()`` step, run once, that makes what both libraries
must see identically (NumPy float32 inputs, the seeded PyTorch reference
module), and a ``build(lib, shared)`` step, run per library, that returns
``{phase: Timer}``. Whatever fails on one side (a missing tensorgrad module,
an unsupported argument, NotImplementedError) becomes "n/a (reason)" for that
side instead of stopping the run.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict

import numpy as np

from .timing import Timer, error_text, measure_pair

FWD, BWD = 'forward', 'backward'


@dataclass
class Case:
    """One benchmark case; ``phases`` name the timers ``build`` returns."""
    group: str
    name: str
    build: Callable[[Any, Any], Dict[str, Timer]]
    shared: Callable[[], Any] = lambda: None
    phases: tuple = (FWD, BWD)
    quick: bool = False


@dataclass
class PhaseResult:
    """Median seconds per call for each library, or the reason it is missing."""
    times: Dict[str, float] = field(default_factory=dict)
    errors: Dict[str, str] = field(default_factory=dict)
    reps: int = 0
    mismatch: str = ''  # set when the two libraries' outputs differ

    def ratio(self):
        """tensorgrad time / torch time, or None."""
        tg, th = self.times.get('tensorgrad'), self.times.get('torch')
        return tg / th if tg is not None and th else None


def run_case(case, libs, budget, outputs=None):
    """Time every phase of ``case``; returns {phase: PhaseResult}. ``outputs``
    (a dict), when given, receives each library's NumPy output for the cross-check."""
    timers, errors = {}, {}
    try:
        shared = case.shared()
    except Exception as e:  # noqa: BLE001
        shared, errors = None, {'tensorgrad' if isinstance(lib, str) else lib.name: error_text(e) for lib in libs}
    for lib in libs:
        if isinstance(lib, str):  # the library itself failed to load
            errors['tensorgrad'] = lib
            continue
        if lib.name in errors:
            continue
        try:
            timers[lib.name] = case.build(lib, shared)
        except Exception as e:  # noqa: BLE001
            errors[lib.name] = error_text(e)
    outs = {n: t.pop(OUTPUT, None) for n, t in timers.items()}
    if outputs is not None:
        outputs.update((n, o) for n, o in outs.items() if o is not None)
    mismatch = compare_outputs(outs)
    results = {}
    for phase in case.phases:
        medians, errs, reps = measure_pair({n: t[phase] for n, t in timers.items()}, budget)
        results[phase] = PhaseResult(medians, {**errors, **errs}, reps, mismatch)
    return results


OUTPUT = 'output'  # key of the NumPy output a build may return next to its timers


def compare_outputs(outputs, rtol=1e-3, atol=1e-4):
    """'' when both libraries produced the same output (or one is missing), else a short note."""
    a, b = outputs.get('tensorgrad'), outputs.get('torch')
    if a is None or b is None:
        return ''
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f'output shapes differ: {a.shape} vs {b.shape}'
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        return f'outputs differ (max abs diff {np.max(np.abs(a - b)):.2e})'
    return ''


# ---------------------------------------------------------------- module cases
def floats(*shape, grad=True, scale=1.0):
    """Input spec: standard normal float32 array of ``shape`` (requires grad by default)."""
    return lambda rng: ((rng.standard_normal(shape) * scale).astype(np.float32), grad)


def ints(high, *shape):
    """Input spec: int64 indices in [0, high) (no grad)."""
    return lambda rng: (rng.integers(0, high, size=shape, dtype=np.int64), False)


def _default_call(lib, m, xs):
    return lib.first(m(*xs))


def module_case(group, name, make, inputs, make_tg=None, call=_default_call, quick=False, seed=0):
    """A case timing ``module(*inputs)`` (forward, grad enabled) and ``out.backward(g)``.

    ``make(nn)`` builds the module from a library's ``nn`` namespace (PyTorch's
    first, seeded, then copied into tensorgrad's via ``init_from_torch``);
    ``make_tg`` overrides it for tensorgrad when the constructors differ.
    The backward phase re-runs the forward before each timed ``backward``
    and clears the gradients of parameters and inputs, as a training step does.
    """
    def shared():
        import torch  # noqa: PLC0415
        torch.manual_seed(seed)
        ref = make(torch.nn).float()
        rng = np.random.default_rng(seed)
        return ref, [spec(rng) for spec in inputs]

    def build(lib, shared_data):
        ref, arrays = shared_data
        m = lib.module(ref, make_tg or make)
        xs = [lib.tensor(a, rg) for a, rg in arrays]

        def forward():
            return call(lib, m, xs)

        out = forward()
        g_arr = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape)).astype(np.float32)
        g = lib.tensor(g_arr)
        leaves = list(m.parameters()) + [x for x in xs if x.requires_grad]

        def prepare():
            lib.clear_grads(leaves)
            return forward()

        return {FWD: Timer(forward, sync=lib.sync),
                BWD: Timer(lambda o: o.backward(g), prepare, lib.sync),
                OUTPUT: lib.to_numpy(out)}

    return Case(group, name, build, shared, quick=quick)
