"""micrograd's demo in tensorgrad: a 2-layer MLP (16, 16 hidden units) binary
classifier on scikit-learn's two moons, trained with the SVM max-margin
(hinge) loss plus L2 regularisation by full-batch SGD with a decaying
learning rate; saves the decision boundary to examples/moons.png.

Command: ``python -m examples.moons [--steps 200] [--seed 0] [--output examples/moons.png]``
Needs scikit-learn (the data) and matplotlib (the plot).
"""
import argparse
import os

import numpy as np

import tensorgrad
from tensorgrad import nn

DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'moons.png')


def make_model():
    """2 -> 16 -> 16 -> 1 MLP with ReLU; the output is a score, its sign the class."""
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))


def svm_loss(model, x, y, alpha=1e-4):
    """Max-margin loss ``mean(relu(1 - y * score))`` plus ``alpha * sum(w ** 2)``;
    also returns the accuracy (sign of the score against the +-1 labels)."""
    scores = model(x).reshape(-1)
    data_loss = (1 - y * scores).relu().mean()
    reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
    accuracy = float(((scores.numpy() > 0) == (y.numpy() > 0)).mean())
    return data_loss + reg_loss, accuracy


def plot(model, x, y, path):
    """Save the decision regions of ``model`` with the data points to ``path``."""
    import matplotlib  # noqa: PLC0415 - only needed for the picture
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415

    h = 0.25
    x_min, x_max = x[:, 0].min() - 1, x[:, 0].max() + 1
    y_min, y_max = x[:, 1].min() - 1, x[:, 1].max() + 1
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    grid = tensorgrad.tensor(np.c_[xx.ravel(), yy.ravel()].astype(np.float32), requires_grad=False)
    with tensorgrad.no_grad():
        z = (model(grid).numpy().reshape(xx.shape) > 0)
    fig = plt.figure()
    plt.contourf(xx, yy, z, cmap=plt.cm.Spectral, alpha=0.8)
    plt.scatter(x[:, 0], x[:, 1], c=y, s=40, cmap=plt.cm.Spectral)
    plt.xlim(xx.min(), xx.max())
    plt.ylim(yy.min(), yy.max())
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv=None):
    """Train, print the loss and accuracy, save the plot; returns (losses, final accuracy)."""
    parser = argparse.ArgumentParser(description='MLP on two moons with the max-margin loss (micrograd demo)',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--steps', type=int, default=200, help='number of full-batch SGD steps')
    parser.add_argument('--seed', type=int, default=0, help='random seed (model init and data)')
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help="decision boundary plot ('' skips it)")
    args = parser.parse_args(argv)
    from sklearn.datasets import make_moons  # noqa: PLC0415 - optional dependency of this example

    tensorgrad.manual_seed(args.seed)
    x_np, y_np = make_moons(n_samples=100, noise=0.1, random_state=args.seed)
    x = tensorgrad.tensor(x_np.astype(np.float32), requires_grad=False)
    y = tensorgrad.tensor((y_np * 2 - 1).astype(np.float32), requires_grad=False)  # labels -1 / +1

    model = make_model()
    optim = tensorgrad.optim.SGD(model.parameters(), lr=1.0)
    losses = []
    for k in range(args.steps):
        loss, acc = svm_loss(model, x, y)
        optim.zero_grad()
        loss.backward()
        for group in optim.param_groups:  # micrograd's schedule: 1.0 decaying to 0.1
            group['lr'] = 1.0 - 0.9 * k / args.steps
        optim.step()
        losses.append(loss.item())
        if k % 10 == 0 or k == args.steps - 1:
            print(f'step {k} loss {loss.item():.4f}, accuracy {acc * 100:.0f}%')
    with tensorgrad.no_grad():
        _, acc = svm_loss(model, x, y)
    print(f'final accuracy: {acc * 100:.0f}%')
    if args.output:
        plot(model, x_np, y_np, args.output)
        print(f'decision boundary saved to {args.output}')
    return losses, acc


if __name__ == '__main__':
    main()
