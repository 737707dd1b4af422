"""A physics-informed network: a small MLP u(x) is trained to solve

    u''(x) = -u(x) on [0, pi],  u(0) = 0,  u'(pi) = -1,

whose exact solution is u(x) = sin(x). The loss holds the equation's residual
at collocation points and the two boundary conditions; u' and u'' are the
network's derivatives with respect to its input, taken with
``autograd.grad(..., create_graph=True)``, so training differentiates
third-order terms. Prints the maximum error against sin(x) on a fine grid.

Command: ``python -m examples.pinn [--steps 2000] [--seed 0] [--device cpu]``
"""
import argparse
import math

import numpy as np

import tensorgrad
from tensorgrad import nn


def derivatives(model, x):
    """u, u' and u'' of ``model`` at the points ``x`` (N, 1), all differentiable again."""
    u = model(x)
    du, = tensorgrad.autograd.grad(u.sum(), x, create_graph=True)
    d2u, = tensorgrad.autograd.grad(du.sum(), x, create_graph=True)
    return u, du, d2u


def pinn_loss(model, x):
    """Mean squared residual of u'' + u at ``x`` plus the squared boundary errors."""
    _, _, d2u = derivatives(model, x)
    u = model(x)
    residual = ((d2u + u) ** 2).mean()
    ends = tensorgrad.tensor([[0.0], [math.pi]], dtype=x.dtype, device=x.device, requires_grad=True)
    u_end, du_end, _ = derivatives(model, ends)
    boundary = u_end[0, 0] ** 2 + (du_end[1, 0] + 1) ** 2
    return residual + boundary


def main(argv=None):
    """Train the PINN; returns the maximum absolute error against sin(x)."""
    parser = argparse.ArgumentParser(description="solve u'' = -u on [0, pi] with u(0) = 0, u'(pi) = -1 "
                                                 "by a physics-informed network",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--steps', type=int, default=2000, help='Adam steps')
    parser.add_argument('--points', type=int, default=64, help='collocation points per step')
    parser.add_argument('--hidden', type=int, default=32, help='hidden units per layer')
    parser.add_argument('--lr', type=float, default=3e-3, help='Adam learning rate')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--device', default='cpu', help='device to train on')
    args = parser.parse_args(argv)
    tensorgrad.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dtype = tensorgrad.float64
    model = nn.Sequential(nn.Linear(1, args.hidden), nn.Tanh(), nn.Linear(args.hidden, args.hidden), nn.Tanh(),
                          nn.Linear(args.hidden, 1)).to(args.device).to(dtype)
    opt = tensorgrad.optim.Adam(model.parameters(), lr=args.lr)
    sched = tensorgrad.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.steps, 1))
    for step in range(args.steps):
        # stratified collocation points: one random point in each of ``points`` equal cells
        cells = (np.arange(args.points) + rng.random(args.points)) * (math.pi / args.points)
        x = tensorgrad.tensor(cells[:, None], dtype=dtype, device=args.device, requires_grad=True)
        loss = pinn_loss(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(args.steps // 5, 1) == 0:
            print(f'step {step + 1:5d}  loss {loss.item():.3e}')
    grid = np.linspace(0, math.pi, 1001)
    with tensorgrad.no_grad():
        u = model(tensorgrad.tensor(grid[:, None], dtype=dtype, device=args.device)).cpu().numpy()[:, 0]
    error = float(np.abs(u - np.sin(grid)).max())
    print(f'max |u - sin(x)| on [0, pi]: {error:.2e}')
    return error


if __name__ == '__main__':
    main()
