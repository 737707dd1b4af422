"""The classic MNIST CNN training script (argparse, device selection, Adadelta,
StepLR, nll_loss over log_softmax, accuracy from argmax), on a small synthetic
data set shaped like MNIST (1x28x28 images, 10 classes) instead of a download."""
import argparse
import io
import contextlib
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, dropout1=0.25, dropout2=0.5):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(dropout1)
        self.dropout2 = nn.Dropout(dropout2)
        self.fc1 = nn.Linear(8 * 12 * 12, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch, history):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
        if batch_idx % args.log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                  f"({100. * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}")
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    print(f'\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)} '
          f'({100. * correct / len(test_loader.dataset):.0f}%)\n')
    return test_loss, correct


def synthetic_mnist(n, rng):
    """Digit-like images: a class-dependent blob plus noise, normalised as MNIST is."""
    labels = rng.randint(0, 10, size=n)
    yy, xx = np.mgrid[0:28, 0:28]
    images = np.empty((n, 1, 28, 28), dtype=np.float32)
    for i, c in enumerate(labels):
        cy, cx = 6 + 2 * (c // 4) * 3, 6 + 2 * (c % 4) * 2.5
        images[i, 0] = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18.0) + 0.1 * rng.rand(28, 28)
    images = (images - 0.1307) / 0.3081
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def init_from_numpy(model, rng):
    """Same initial weights in any library: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) from NumPy."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)))


def main(argv=None, tmp_path=None):
    # Training settings
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=14, metavar='N',
                        help='number of epochs to train (default: 14)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='Learning rate step gamma (default: 0.7)')
    parser.add_argument('--no-cuda', action='store_true', default=False,
                        help='disables CUDA training')
    parser.add_argument('--dry-run', action='store_true', default=False,
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--dropout', type=float, nargs=2, default=(0.25, 0.5),
                        help='dropout probabilities of the two dropout layers')
    parser.add_argument('--train-size', type=int, default=60000)
    parser.add_argument('--test-size', type=int, default=10000)
    parser.add_argument('--save-model', action='store_true', default=False,
                        help='For Saving the current Model')
    args = parser.parse_args(argv)
    use_cuda = not args.no_cuda and torch.cuda.is_available()

    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)

    device = torch.device("cuda" if use_cuda else "cpu")

    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_cuda:
        cuda_kwargs = {'num_workers': 1, 'pin_memory': True}
        train_kwargs.update(cuda_kwargs)
        test_kwargs.update(cuda_kwargs)

    dataset1 = TensorDataset(*synthetic_mnist(args.train_size, rng))
    dataset2 = TensorDataset(*synthetic_mnist(args.test_size, rng))
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net(*args.dropout)
    init_from_numpy(model, rng)
    model = model.to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    history, tests, lrs = [], [], []
    log = io.StringIO()
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    with contextlib.redirect_stdout(log):
        for epoch in range(1, args.epochs + 1):
            train(args, model, device, train_loader, optimizer, epoch, history)
            tests.append(test(model, device, test_loader))
            scheduler.step()
            lrs.append(scheduler.get_last_lr()[0])

    result = {'losses': history, 'tests': tests, 'lrs': lrs, 'log': log.getvalue().splitlines(),
              'state': model.state_dict()}
    if args.save_model:
        path = os.path.join(tmp_path, "mnist_cnn.pt")
        os.makedirs(tmp_path, exist_ok=True)
        torch.save(model.state_dict(), path)
        reloaded = Net(*args.dropout)
        reloaded.load_state_dict(torch.load(path, map_location=device))
        model.eval()
        reloaded.eval()
        x = dataset2[:3][0].to(device)
        result['reloaded_equal'] = bool(torch.equal(model(x), reloaded(x)))
        whole = os.path.join(tmp_path, "mnist_cnn_model.pt")
        torch.save(model, whole)
        again = torch.load(whole, weights_only=False)
        result['whole_model_type'] = type(again).__name__
        result['whole_model_equal'] = bool(torch.allclose(again(x), model(x)))
    return result
