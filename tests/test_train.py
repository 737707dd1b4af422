"""Training behaviour: the reference README's XOR example (verbatim), a linear
regression, an MLP classifier and a tiny convnet, each converging."""
import os

import numpy as np
import pytest

import tensorgrad

DEVICE = os.environ.get('DEVICE', 'cpu')
VERBOSE = bool(os.environ.get('VERBOSE'))

pytestmark = pytest.mark.skipif(DEVICE.startswith('cuda') and not tensorgrad.is_cuda_available(),
                                reason='DEVICE=cuda but CUDA is not available')


def run_readme_xor(device):
    """The reference README's XOR example, verbatim apart from the device argument."""
    # define training data and place it on device.
    x = [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
    ]
    y = [1, 0, 0, 1]
    x = tensorgrad.tensor(x, requires_grad=False).float().to(device)
    y = tensorgrad.tensor(y, requires_grad=False).long().to(device)

    # define model, loss function and optimizer and place them on device.
    model = tensorgrad.nn.Sequential(
        tensorgrad.nn.Linear(2, 8),
        tensorgrad.nn.ReLU(),
        tensorgrad.nn.Linear(8, 2),
    )
    model.to(device)
    model.train()
    optim = tensorgrad.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = tensorgrad.nn.CrossEntropyLoss()

    # train model for 5k steps.
    steps = 5000
    for step in range(steps):
        optim.zero_grad()
        outputs = model(x)
        loss = loss_fn(outputs, y)
        loss.backward()
        optim.step()

    # run inference on train data.
    model.eval()
    with tensorgrad.no_grad():
        logits = model(x)
        softmax = logits.softmax(-1).numpy()
        pred = softmax.argmax(-1)
        targets = y.numpy()

    # print targets, prediction and softmax output.
    print(f'targets: {targets}')
    print(f'prediction: {pred}')
    print(f'softmax:')  # noqa: F541 - verbatim from the README
    print(softmax)
    return targets, pred, softmax


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_readme_xor(seed):
    tensorgrad.manual_seed(seed)
    targets, pred, softmax = run_readme_xor(DEVICE)
    np.testing.assert_array_equal(targets, [1, 0, 0, 1])
    np.testing.assert_array_equal(pred, [1, 0, 0, 1])
    assert softmax[np.arange(4), targets].min() > 0.99


def test_linear_regression_converges():
    tensorgrad.manual_seed(0)
    rng = np.random.default_rng(0)
    w_true = rng.standard_normal((5, 2)).astype(np.float32)
    xs = rng.standard_normal((256, 5)).astype(np.float32)
    ys = xs @ w_true + 0.5 + 0.01 * rng.standard_normal((256, 2)).astype(np.float32)
    x, y = tensorgrad.tensor(xs, device=DEVICE), tensorgrad.tensor(ys, device=DEVICE)
    model = tensorgrad.nn.Linear(5, 2).to(DEVICE)
    optim = tensorgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = tensorgrad.nn.MSELoss()
    for step in range(150):
        optim.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()
        if VERBOSE:
            print(step, loss.item())
    assert loss.item() < 1e-3
    np.testing.assert_allclose(model.weight.numpy().T, w_true, atol=0.01)
    np.testing.assert_allclose(model.bias.numpy(), [0.5, 0.5], atol=0.01)


def test_mlp_classifier_converges():
    tensorgrad.manual_seed(0)
    rng = np.random.default_rng(1)
    # two interleaved spirals: not linearly separable
    n = 200
    t = rng.uniform(0.5, 3 * np.pi, n)
    cls = rng.integers(0, 2, n)
    r = t / (3 * np.pi)
    xs = np.stack([r * np.cos(t + np.pi * cls), r * np.sin(t + np.pi * cls)], 1).astype(np.float32)
    x, y = tensorgrad.tensor(xs, device=DEVICE), tensorgrad.tensor(cls, device=DEVICE)
    nn = tensorgrad.nn
    model = nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.Tanh(), nn.Dropout(0.05),
                          nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 2)).to(DEVICE)
    optim = tensorgrad.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for step in range(150):
        optim.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()
        if VERBOSE:
            print(step, loss.item())
    model.eval()
    with tensorgrad.no_grad():
        acc = (model(x).numpy().argmax(-1) == cls).mean()
    assert acc > 0.97, acc


def test_tiny_convnet_converges():
    tensorgrad.manual_seed(0)
    rng = np.random.default_rng(2)
    # 8x8 images holding a horizontal (class 0) or vertical (class 1) bar, plus noise
    n = 64
    cls = rng.integers(0, 2, n)
    pos = rng.integers(1, 7, n)
    imgs = 0.1 * rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    for i in range(n):
        if cls[i]:
            imgs[i, 0, :, pos[i]] += 1
        else:
            imgs[i, 0, pos[i], :] += 1
    x, y = tensorgrad.tensor(imgs, device=DEVICE), tensorgrad.tensor(cls, device=DEVICE)
    nn = tensorgrad.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding='same'), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 2)).to(DEVICE)
    optim = tensorgrad.optim.Adam(model.parameters(), lr=0.03)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(60):
        optim.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()
        if VERBOSE:
            print(step, loss.item())
    model.eval()
    with tensorgrad.no_grad():
        acc = (model(x).numpy().argmax(-1) == cls).mean()
    assert acc == 1.0, acc
