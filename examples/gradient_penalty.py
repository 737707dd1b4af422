"""WGAN-GP on 2-D data: a generator learns to put its samples on a ring, judged by
a critic trained with the gradient penalty of Gulrajani et al. (2017),
``lambda * (|grad_x critic(x_hat)| - 1) ** 2`` at random points between real
and generated samples. The penalty differentiates the critic's input gradient
with respect to the critic's weights: ``autograd.grad(..., create_graph=True)``.

Prints the sliced Wasserstein-1 distance between generated and real samples
before and after training, next to the distance between two real samples of
the same size (the noise floor a perfect generator reaches).

Command: ``python -m examples.gradient_penalty [--steps 600] [--seed 0] [--device cpu]``
"""
import argparse

import numpy as np

import tensorgrad
from tensorgrad import nn


def real_batch(rng, n, radius=2.0, noise=0.05):
    """``n`` points on a circle of ``radius`` around (1, -1), with Gaussian noise."""
    angle = rng.uniform(0, 2 * np.pi, n)
    pts = np.stack([np.cos(angle), np.sin(angle)], 1) * radius + np.array([1.0, -1.0])
    return (pts + noise * rng.standard_normal((n, 2))).astype(np.float32)


def mlp(n_in, n_out, hidden):
    """Two hidden layers with tanh (smooth, so the penalty's own gradient is informative)."""
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, n_out))


def gradient_penalty(critic, real, fake):
    """``mean((|d critic / d x_hat| - 1) ** 2)`` at random interpolates ``x_hat``,
    recorded so that its gradient reaches the critic's parameters."""
    eps = tensorgrad.rand(real.shape[0], 1, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    grad, = tensorgrad.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def sliced_w1(a, b, n_proj=64, seed=0):
    """Sliced Wasserstein-1 distance between two equally large point clouds."""
    dirs = np.random.default_rng(seed).standard_normal((n_proj, a.shape[1]))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    pa, pb = np.sort(a @ dirs.T, axis=0), np.sort(b @ dirs.T, axis=0)
    return float(np.abs(pa - pb).mean())


def main(argv=None):
    """Train the WGAN-GP; returns a dict with the distances (start, final, noise floor)."""
    parser = argparse.ArgumentParser(description='WGAN-GP on 2-D ring data (a gradient penalty '
                                                 'needs second-order gradients)',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--steps', type=int, default=600, help='generator steps')
    parser.add_argument('--critic_steps', type=int, default=5, help='critic steps per generator step')
    parser.add_argument('--batch_size', type=int, default=256, help='samples per batch')
    parser.add_argument('--hidden', type=int, default=64, help='hidden units of both networks')
    parser.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate (both networks)')
    parser.add_argument('--gp_weight', type=float, default=0.1, help='weight lambda of the gradient penalty')
    parser.add_argument('--eval_size', type=int, default=2000, help='samples for the final distance')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--device', default='cpu', help='device to train on')
    args = parser.parse_args(argv)
    tensorgrad.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dev = args.device

    gen, critic = mlp(2, 2, args.hidden).to(dev), mlp(2, 1, args.hidden).to(dev)
    opt_g = tensorgrad.optim.Adam(gen.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_c = tensorgrad.optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.9))

    def sample(n):
        return gen(tensorgrad.randn(n, 2, device=dev))

    def distance():
        with tensorgrad.no_grad():
            fake = sample(args.eval_size).cpu().numpy()
        return sliced_w1(fake, real_batch(rng, args.eval_size))

    start = distance()
    for step in range(args.steps):
        for _ in range(args.critic_steps):
            real = tensorgrad.tensor(real_batch(rng, args.batch_size), device=dev)
            with tensorgrad.no_grad():
                fake = sample(args.batch_size)
            loss_c = critic(fake).mean() - critic(real).mean() + args.gp_weight * \
                gradient_penalty(critic, real, fake)
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
        loss_g = -critic(sample(args.batch_size)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if (step + 1) % max(args.steps // 5, 1) == 0:
            print(f'step {step + 1:5d}  critic loss {loss_c.item():+.4f}  generator loss {loss_g.item():+.4f}')
    final = distance()
    floor = sliced_w1(real_batch(rng, args.eval_size), real_batch(rng, args.eval_size))
    print(f'sliced W1 to the data: {start:.4f} before training, {final:.4f} after '
          f'(two real samples: {floor:.4f})')
    return {'start': start, 'final': final, 'floor': floor}


if __name__ == '__main__':
    main()
