"""Per-op overhead: tiny tensors, so the time is the library's Python/dispatch/graph cost."""
import numpy as np

from .case import Case
from .timing import Timer

GROUP = 'Per-op overhead'
TIME = 'time'


def _arrays():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((4, 4)).astype(np.float32) for _ in range(2)]


def _one_op(lib, arrays):
    a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
    return {TIME: Timer(lambda: a * b, sync=lib.sync)}


def _small_graph(lib, arrays):
    a, b = (lib.tensor(x, requires_grad=True) for x in arrays)

    def step():
        a.grad = b.grad = None
        (a * b + a).sum().backward()

    return {TIME: Timer(step, sync=lib.sync)}


CASES = [
    Case(GROUP, 'mul 4x4 (grad on), forward', _one_op, _arrays, phases=(TIME,), quick=True),
    Case(GROUP, '(a*b + a).sum() 4x4, forward+backward', _small_graph, _arrays, phases=(TIME,), quick=True),
]
