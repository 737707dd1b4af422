"""Learn XOR with one hidden layer: the reference README's example, verbatim
apart from the seed and the command-line options.

Command: ``python -m examples.xor [--seed 0] [--device cpu] [--steps 5000]``
"""
import argparse

import tensorgrad


def main(argv=None):
    """Train on the four XOR points, then print targets, prediction and softmax."""
    parser = argparse.ArgumentParser(description='learn the XOR function with a tiny MLP',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--device', default='cpu', help='device to train on')
    parser.add_argument('--steps', type=int, default=5000, help='number of training steps')
    args = parser.parse_args(argv)
    tensorgrad.manual_seed(args.seed)

    # define training data and place it on device.
    device = args.device
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
    steps = args.steps
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
    print(f'softmax:')  # noqa: F541 - verbatim from the reference README
    print(softmax)
    return pred


if __name__ == '__main__':
    main()
