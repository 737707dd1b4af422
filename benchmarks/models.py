"""The models of the training-step and inference benchmarks, written once for both libraries.

Two kinds of spec:

- ``TrainSpec`` (MLP, CNN, transformer layer): a list of layer makers
  ``make(nn)`` (or a pair ``(torch_make, tg_make)`` where the constructors
  differ) and a plain container that calls them;
- ``ModelSpec`` (GPT, ResNet-18): one ``nn.Module`` subclass written against
  a library's ``nn`` namespace (``gpt.py``-style code that runs unchanged on
  ``torch.nn`` and ``tensorgrad.nn``), made by ``make(nn)``.

PyTorch's model is built first under a fixed seed and tensorgrad's is loaded
from it, so both libraries start from the same weights.
"""
import functools
import importlib
import math
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

    def eval(self):
        """Every layer in eval mode (for inference); returns self."""
        for layer in self.layers:
            layer.eval()
        return self


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


# ---------------------------------------------------------------- GPT (nanoGPT's model.py, no dropout)
@dataclass(frozen=True)
class GPTConfig:
    """nanoGPT's GPTConfig: vocabulary, context length, depth, heads, width."""
    vocab: int = 65  # character level (tiny Shakespeare's alphabet)
    block: int = 64
    layers: int = 4
    heads: int = 4
    d: int = 128


def _package(nn):
    """The library (``torch`` or ``tensorgrad``) whose ``nn`` namespace ``nn`` is."""
    return importlib.import_module(nn.__name__.partition('.')[0])


@functools.lru_cache(maxsize=None)
def gpt_class(nn):
    """nanoGPT's ``GPT`` module, defined on ``nn`` (one definition serves both libraries)."""
    F, lib = nn.functional, _package(nn)

    class CausalSelfAttention(nn.Module):
        """Fused qkv projection, causal scaled-dot-product attention, output projection."""

        def __init__(self, cfg):
            super().__init__()
            self.c_attn = nn.Linear(cfg.d, 3 * cfg.d)
            self.c_proj = nn.Linear(cfg.d, cfg.d)
            self.n_head = cfg.heads

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class MLP(nn.Module):
        """Linear d -> 4d, GELU, Linear 4d -> d."""

        def __init__(self, cfg):
            super().__init__()
            self.c_fc = nn.Linear(cfg.d, 4 * cfg.d)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * cfg.d, cfg.d)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        """Pre-LN transformer block: x + attn(LN(x)), then x + mlp(LN(x))."""

        def __init__(self, cfg):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg.d)
            self.attn = CausalSelfAttention(cfg)
            self.ln_2 = nn.LayerNorm(cfg.d)
            self.mlp = MLP(cfg)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        """Token + learned position embeddings, blocks, final LayerNorm, lm head tied to the token embedding."""

        def __init__(self, cfg):
            super().__init__()
            self.wte = nn.Embedding(cfg.vocab, cfg.d)
            self.wpe = nn.Embedding(cfg.block, cfg.d)
            self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
            self.ln_f = nn.LayerNorm(cfg.d)
            self.lm_head = nn.Linear(cfg.d, cfg.vocab, bias=False)
            self.lm_head.weight = self.wte.weight  # weight tying: one shared Parameter

        def forward(self, idx):
            _, T = idx.shape
            x = self.wte(idx) + self.wpe(lib.arange(T, device=idx.device))
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    return GPT


def gpt_init(model, cfg):
    """nanoGPT's initialisation (run on the PyTorch build only; tensorgrad copies it):
    N(0, 0.02) weights, zero biases, residual projections scaled by 1/sqrt(2 * layers)."""
    import torch  # noqa: PLC0415
    for name, p in model.named_parameters():
        if name.endswith('bias'):
            torch.nn.init.zeros_(p)
        elif p.dim() == 2:
            std = 0.02 / math.sqrt(2 * cfg.layers) if name.endswith('c_proj.weight') else 0.02
            torch.nn.init.normal_(p, mean=0.0, std=std)


# ---------------------------------------------------------------- ResNet-18 for CIFAR (32x32)
@dataclass(frozen=True)
class ResNetConfig:
    """BasicBlock ResNet: stage widths, blocks per stage, classes, input side."""
    widths: Tuple[int, ...] = (64, 128, 256, 512)
    blocks: Tuple[int, ...] = (2, 2, 2, 2)
    classes: int = 10
    side: int = 32


@functools.lru_cache(maxsize=None)
def resnet_class(nn):
    """A CIFAR ResNet (3x3 stem, no max pool, BasicBlocks), defined on ``nn``."""
    F = nn.functional

    class BasicBlock(nn.Module):
        """Two 3x3 conv + BatchNorm; a strided 1x1 conv + BatchNorm shortcut where the shape changes."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        """Stem conv3x3 + BN + ReLU, four stages (the first at stride 1), global average pool, Linear."""

        def __init__(self, cfg):
            super().__init__()
            w0 = cfg.widths[0]
            self.conv1 = nn.Conv2d(3, w0, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(w0)
            stages, cin = [], w0
            for i, (width, n) in enumerate(zip(cfg.widths, cfg.blocks)):
                blocks = []
                for j in range(n):
                    blocks.append(BasicBlock(cin, width, 2 if i > 0 and j == 0 else 1))
                    cin = width
                stages.append(nn.Sequential(*blocks))
            self.layers = nn.Sequential(*stages)
            self.fc = nn.Linear(cin, cfg.classes)

        def forward(self, x):
            out = self.layers(F.relu(self.bn1(self.conv1(x))))
            return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))

    return ResNet


# ---------------------------------------------------------------- whole-model specs
@dataclass
class ModelSpec:
    """A benchmark model: ``make(nn)`` builds it in either library; ``inputs(rng)`` gives (x, y)
    NumPy arrays; ``items`` (tokens or images per batch, in ``unit``) turns times into throughput."""
    name: str
    make: Callable
    inputs: Callable
    optimizer: Callable  # (optim namespace, params) -> optimizer
    items: int
    unit: str
    init: Callable = lambda model: None  # run on the seeded PyTorch build only


def gpt_spec(cfg=GPTConfig(), batch=16):
    """nanoGPT-shaped character model on random token windows; AdamW(3e-4, weight decay 0.1)."""
    def inputs(rng):
        seq = rng.integers(0, cfg.vocab, size=(batch, cfg.block + 1), dtype=np.int64)
        return seq[:, :-1].copy(), seq[:, 1:].copy()  # targets: the next character

    return ModelSpec(f'GPT {cfg.layers}L d{cfg.d} {cfg.heads}h T{cfg.block} vocab {cfg.vocab}, batch {batch}, AdamW',
                     lambda nn: gpt_class(nn)(cfg), inputs,
                     lambda optim, ps: optim.AdamW(ps, lr=3e-4, weight_decay=0.1),
                     batch * cfg.block, 'tokens', lambda m: gpt_init(m, cfg))


def resnet_spec(cfg=ResNetConfig(), batch=32):
    """CIFAR ResNet on random images; SGD(0.1, momentum 0.9, weight decay 5e-4)."""
    def inputs(rng):
        x = rng.standard_normal((batch, 3, cfg.side, cfg.side)).astype(np.float32)
        return x, rng.integers(0, cfg.classes, size=(batch,), dtype=np.int64)

    depth = 2 * sum(cfg.blocks) + 2
    return ModelSpec(f'ResNet-{depth} CIFAR {batch}x3x{cfg.side}x{cfg.side}, SGD',
                     lambda nn: resnet_class(nn)(cfg), inputs,
                     lambda optim, ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4),
                     batch, 'images')


GPT = gpt_spec()
RESNET18 = resnet_spec()
# what ``python -m benchmarks.memory LIB THREADS MODEL MODE`` can measure
SPECS = {'CNN': CNN, 'GPT': GPT, 'ResNet-18': RESNET18}


# ---------------------------------------------------------------- building and running
def data(spec, seed=0):
    """(inputs, targets) as NumPy arrays: float32 (or int64 tokens) and int64."""
    rng = np.random.default_rng(seed)
    if isinstance(spec, ModelSpec):
        return spec.inputs(rng)
    x = rng.standard_normal(spec.x_shape).astype(np.float32)
    y = rng.integers(0, spec.classes, size=(spec.x_shape[0],), dtype=np.int64)
    return x, y


def build_model(lib, spec, seed=0):
    """The model of ``spec`` in ``lib``, with weights from a seeded PyTorch build."""
    import torch  # noqa: PLC0415
    torch.manual_seed(seed)
    if isinstance(spec, ModelSpec):
        ref = spec.make(torch.nn).float()
        spec.init(ref)
        return lib.module(ref, spec.make)
    layers = []
    for make in spec.makers:
        torch_make, tg_make = make if isinstance(make, tuple) else (make, make)
        layers.append(lib.module(torch_make(torch.nn).float(), tg_make))
    return spec.container(lib, layers)


def make_step(lib, spec, x_arr, y_arr):
    """A function running one training step: zero_grad, forward, loss, backward, optimizer step.
    Sequence outputs (B, T, V) are scored at every position, as nanoGPT: logits (B*T, V)."""
    model = build_model(lib, spec)
    opt = spec.optimizer(lib.optim, model.parameters())
    loss_fn = lib.nn.CrossEntropyLoss()
    x, y = lib.tensor(x_arr), lib.tensor(y_arr)
    if y.ndim > 1:
        y = y.reshape(-1)

    def step():
        opt.zero_grad()
        out = model(x)
        if out.ndim > 2:
            out = out.reshape(-1, out.shape[-1])
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        return loss

    return step


def make_forward(lib, spec, x_arr):
    """A function running inference: the model in eval mode, forward only, under no_grad."""
    model = build_model(lib, spec)
    model.eval()
    x = lib.tensor(x_arr)

    def forward():
        with lib.no_grad():
            return model(x)

    return forward
