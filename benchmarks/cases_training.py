"""Training steps: forward, loss, backward and optimizer step, timed as one."""
from . import models
from .case import OUTPUT, Case
from .timing import Timer

GROUP = 'Training step'
STEP = 'step'


def _training_case(spec, quick=False):
    def build(lib, arrays):
        step = models.make_step(lib, spec, *arrays)
        first_loss = lib.to_numpy(step())  # same weights and data: the first loss must agree
        return {STEP: Timer(step, sync=lib.sync), OUTPUT: first_loss}

    return Case(GROUP, spec.name, build, lambda: models.data(spec), phases=(STEP,), quick=quick)


CASES = [_training_case(models.MLP, quick=True), _training_case(models.CNN), _training_case(models.TRANSFORMER)]
