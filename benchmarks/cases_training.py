"""Training steps: forward, loss, backward and optimizer step, timed as one."""
from . import models
from .case import OUTPUT, Case
from .timing import Timer

GROUP = 'Training step'
STEP = 'step'


def training_case(spec, group=GROUP, quick=False):
    """A case timing one training step of ``spec`` (a ``models`` spec); its first loss is cross-checked."""
    def build(lib, arrays):
        step = models.make_step(lib, spec, *arrays)
        first_loss = lib.to_numpy(step())  # same weights and data: the first loss must agree
        return {STEP: Timer(step, sync=lib.sync), OUTPUT: first_loss}

    return Case(group, spec.name, build, lambda: models.data(spec), phases=(STEP,), quick=quick)


CASES = [training_case(models.MLP, quick=True), training_case(models.CNN), training_case(models.TRANSFORMER)]
