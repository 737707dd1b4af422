"""The small models of the training-step benchmarks, written once for both libraries.

Each model is a list of layer makers ``make(nn)`` (or a pair ``(torch_make,
tg_make)`` where the constructors differ) and a container that calls them.
PyTorch's layers are built first under a fixed seed and tensorgrad's are
loaded from them, so both libraries start from the same weights.
"""
from dataclasses import dataclass
from typing import Callable, Sequence, Tuple

import numpy as np


class Stack:
    """Layers applied in order (the same plain container for both libraries)."""

    def __init__(self, lib, layers):
        self.layers = list(layers)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        """All layers' parameters, in order."""
        return [p for layer in self.layers for p in layer.parameters()]


class Encoder(Stack):
    """Pre-norm transformer encoder layer plus a classifier head on the mean token:
    x + MHA(LN(x)), then x + Linear(GELU(Linear(LN(x)))), then Linear(mean over T)."""

    def __init__(self, lib, layers):
        super().__init__(lib, layers)
        self.lib = lib
        self.ln1, self.attn, self.ln2, self.fc1, self.act, self.fc2, self.head = self.layers

    def __call__(self, x):
        h = self.ln1(x)
        x = x + self.lib.mha(self.attn, h, h, h)
        x = x + self.fc2(self.act(self.fc1(self.ln2(x))))
        return self.head(x.mean(1))


@dataclass
class TrainSpec:
    """A training-step benchmark: model, input shape, classes, optimizer."""
    name: str
    makers: Sequence
    container: type
    x_shape: Tuple[int, ...]
    classes: int
    optimizer: Callable  # (optim namespace, params) -> optimizer


MLP = TrainSpec('MLP 784-256-10, batch 64, SGD', [
    lambda nn: nn.Linear(784, 256), lambda nn: nn.ReLU(), lambda nn: nn.Linear(256, 10),
], Stack, (64, 784), 10, lambda optim, ps: optim.SGD(ps, lr=0.01, momentum=0.9))

CNN = TrainSpec('CNN 2x(conv3x3+ReLU+maxpool)+linear, 32x1x28x28, SGD', [
    lambda nn: nn.Conv2d(1, 16, 3, padding=1), lambda nn: nn.ReLU(), lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.Conv2d(16, 32, 3, padding=1), lambda nn: nn.ReLU(), lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.Flatten(), lambda nn: nn.Linear(32 * 7 * 7, 10),
], Stack, (32, 1, 28, 28), 10, lambda optim, ps: optim.SGD(ps, lr=0.01, momentum=0.9))

_E, _HEADS, _FF = 128, 4, 512
TRANSFORMER = TrainSpec(f'Transformer encoder layer (E={_E}, {_HEADS} heads, FF {_FF}), 32x64x128, Adam', [
    lambda nn: nn.LayerNorm(_E),
    (lambda nn: nn.MultiheadAttention(_E, _HEADS, batch_first=True, bias=False),
     lambda nn: nn.MultiheadAttention(_E, _HEADS)),
    lambda nn: nn.LayerNorm(_E), lambda nn: nn.Linear(_E, _FF), lambda nn: nn.GELU(), lambda nn: nn.Linear(_FF, _E),
    lambda nn: nn.Linear(_E, 10),
], Encoder, (32, 64, _E), 10, lambda optim, ps: optim.Adam(ps, lr=1e-3))


def data(spec, seed=0):
    """(inputs, targets) as NumPy arrays: float32 and int64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(spec.x_shape).astype(np.float32)
    y = rng.integers(0, spec.classes, size=(spec.x_shape[0],), dtype=np.int64)
    return x, y


def build_model(lib, spec, seed=0):
    """The model of ``spec`` in ``lib``, with weights from a seeded PyTorch build."""
    import torch  # noqa: PLC0415
    torch.manual_seed(seed)
    layers = []
    for make in spec.makers:
        torch_make, tg_make = make if isinstance(make, tuple) else (make, make)
        layers.append(lib.module(torch_make(torch.nn).float(), tg_make))
    return spec.container(lib, layers)


def make_step(lib, spec, x_arr, y_arr):
    """A function running one training step: zero_grad, forward, loss, backward, optimizer step."""
    model = build_model(lib, spec)
    opt = spec.optimizer(lib.optim, model.parameters())
    loss_fn = lib.nn.CrossEntropyLoss()
    x, y = lib.tensor(x_arr), lib.tensor(y_arr)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step
