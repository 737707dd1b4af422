"""Curve fitting with L-BFGS: a damped sine's parameters fitted to noisy data
with ``optim.LBFGS`` and a closure (strong-Wolfe line search or a fixed step),
in float64 as such fits usually are, plus a small float32 MLP regression."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class DampedSine(nn.Module):
    def __init__(self):
        super().__init__()
        self.amplitude = nn.Parameter(torch.tensor(1.0))
        self.decay = nn.Parameter(torch.tensor(0.1))
        self.freq = nn.Parameter(torch.tensor([1.5]))
        self.phase = nn.Parameter(torch.zeros(1))

    def forward(self, t):
        return self.amplitude * torch.exp(-self.decay * t) * torch.sin(self.freq * t + self.phase)


def fit_curve(line_search_fn, rng):
    t = torch.from_numpy(np.linspace(0.0, 6.0, 40))
    y = 2.0 * torch.exp(-0.3 * t) * torch.sin(1.8 * t + 0.4) + torch.from_numpy(0.01 * rng.standard_normal(40))
    model = DampedSine().double()
    optimizer = optim.LBFGS(model.parameters(), lr=1 if line_search_fn else 0.5, max_iter=20,
                            history_size=10, line_search_fn=line_search_fn)
    evaluations = []

    def closure():
        optimizer.zero_grad()
        loss = torch.mean((model(t) - y) ** 2)
        loss.backward()
        evaluations.append(loss.item())
        return loss

    step_losses = []
    for _ in range(3):
        loss = optimizer.step(closure)
        step_losses.append(loss.item())
    state = optimizer.state[model.amplitude]  # LBFGS keeps its state on the first parameter
    return {
        'step_losses': step_losses,
        'evaluations': evaluations,
        'n_iter': state['n_iter'],
        'func_evals': state['func_evals'],
        'params': {n: p.detach().clone() for n, p in model.named_parameters()},
    }


def fit_mlp(rng):
    x = torch.from_numpy(rng.uniform(-2, 2, size=(32, 1)).astype(np.float32))
    y = torch.tanh(2 * x) + 0.5 * x
    net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, size=tuple(p.shape)).astype(np.float32)))
    optimizer = optim.LBFGS(net.parameters(), lr=1.0, max_iter=10, line_search_fn='strong_wolfe')
    criterion = nn.MSELoss()
    losses = []
    for _ in range(2):
        def closure():
            optimizer.zero_grad()
            loss = criterion(net(x), y)
            loss.backward()
            return loss
        losses.append(optimizer.step(closure).item())
    return {'losses': losses, 'params': [p.detach().clone() for p in net.parameters()]}


def main(seed=0, parts=('strong_wolfe', 'fixed_step', 'mlp')):
    rng = np.random.RandomState(seed)
    curve = {'strong_wolfe': fit_curve('strong_wolfe', rng), 'fixed_step': fit_curve(None, rng)}
    results = dict(curve, mlp=fit_mlp(rng))
    return {part: results[part] for part in parts}
