"""Timing: warm-up, adaptive repetition count, medians, interleaved libraries.

A ``Timer`` is ``run`` (the timed call) plus an optional ``prepare`` whose
result is passed to ``run`` and whose cost is not timed (the backward
timer prepares by running the forward). Unprepared calls shorter than
``batch_seconds`` are timed in batches of ``number`` calls, as ``timeit``
does, so the clock's resolution and overhead do not dominate; prepared
calls are timed one by one.

The two libraries of a case are sampled alternately (tensorgrad, torch,
tensorgrad, ...), so on a shared, noisy machine both see the same load.
"""
import gc
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

CLOCKS = {
    'wall': time.perf_counter,
    # CPU time of the whole process (all threads): immune to being descheduled on a shared machine,
    # but it adds up the threads' time, so use it with one thread per library
    'cpu': time.process_time,
}
_clock = time.perf_counter


def set_clock(name):
    """Use the 'wall' (default) or 'cpu' clock for all later samples."""
    global _clock
    _clock = CLOCKS[name]


@dataclass
class Timer:
    """What to time for one library: ``run()`` or ``run(prepare())``."""
    run: Callable[..., Any]
    prepare: Optional[Callable[[], Any]] = None
    sync: Callable[[], None] = lambda: None


@dataclass
class Budget:
    """How long to spend: seconds per case and phase (both libraries), repetition bounds."""
    seconds: float = 0.6
    min_reps: int = 5
    max_reps: int = 2000
    repeat: Optional[int] = None  # fixed number of samples (--repeat)
    warmup: int = 2
    batch_seconds: float = 2e-3   # a sample of tiny calls lasts at least this long


def _sample(timer, number):
    """Seconds per call over ``number`` calls."""
    if timer.prepare is None:
        timer.sync()
        t0 = _clock()
        for _ in range(number):
            timer.run()
        timer.sync()
        return (_clock() - t0) / number
    state = timer.prepare()
    timer.sync()
    t0 = _clock()
    timer.run(state)
    timer.sync()
    return _clock() - t0


def _calibrate(timer, budget):
    """Warm up; return (number of calls per sample, wall seconds per sample incl. prepare)."""
    for _ in range(budget.warmup):
        w0 = _clock()
        t = _sample(timer, 1)
        wall = _clock() - w0
    # prepared calls are never batched: the prepared graphs would share leaves, so all calls but the
    # first would accumulate gradients instead of creating them
    if timer.prepare is not None or t >= budget.batch_seconds:
        number = 1
    else:
        number = math.ceil(budget.batch_seconds / max(t, 1e-7))
    if number > 1:
        w0 = _clock()
        _sample(timer, number)
        wall = _clock() - w0
    return number, wall


def measure_pair(timers, budget):
    """Median seconds per call for each timer in ``timers`` (a dict name -> Timer).

    Returns ``(medians, errors, reps)``: a timer whose warm-up raises is left
    out of ``medians`` and its error message put in ``errors``. All timers get
    the same number of samples, taken in alternation."""
    gc.collect()
    calib, errors = {}, {}
    for name, t in timers.items():
        try:
            calib[name] = _calibrate(t, budget)
        except Exception as e:  # noqa: BLE001 - a failing side is reported, not fatal
            errors[name] = error_text(e)
    if not calib:
        return {}, errors, 0
    if budget.repeat is not None:
        reps = budget.repeat
    else:
        per_round = sum(wall for _, wall in calib.values())
        reps = int(budget.seconds / max(per_round, 1e-9))
        reps = max(budget.min_reps, min(budget.max_reps, reps))
        if per_round > 2 * budget.seconds:  # very slow case: fewer samples, still a median
            reps = 3
    samples = {name: [] for name in calib}
    for _ in range(reps):
        for name in calib:
            samples[name].append(_sample(timers[name], calib[name][0]))
    return {name: statistics.median(s) for name, s in samples.items()}, errors, reps


def error_text(e, limit=120):
    """One short line describing an exception, for the report."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ''
    text = f'{type(e).__name__}: {msg}' if msg else type(e).__name__
    return text if len(text) <= limit else text[:limit - 3] + '...'
