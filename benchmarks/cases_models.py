"""Whole models (GPT, ResNet-18): a training step and eval-mode inference, with throughput."""
from . import models, report
from .case import FWD, OUTPUT, Case
from .cases_training import STEP, training_case
from .timing import Timer

TRAIN = 'Model training'
INFER = 'Model inference (eval, no_grad)'


def _inference_case(spec):
    def build(lib, arrays):
        forward = models.make_forward(lib, spec, arrays[0])
        return {FWD: Timer(forward, sync=lib.sync), OUTPUT: lib.to_numpy(forward())}

    return Case(INFER, f'{spec.name.rsplit(",", 1)[0]}, forward', build, lambda: models.data(spec), phases=(FWD,))


CASES = []
for _spec in (models.GPT, models.RESNET18):
    for _case in (training_case(_spec, TRAIN), _inference_case(_spec)):
        report.set_throughput(_case.name, _spec.items, _spec.unit)
        CASES.append(_case)

PHASES = {TRAIN: STEP, INFER: FWD}  # the timed phase of each group (for the targets)
