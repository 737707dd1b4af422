"""(Fashion-)MNIST as tensorgrad datasets: IDX files read from local disk
(by default Debian's ``dataset-fashion-mnist``; ``--data DIR`` for others)."""
import numpy as np

import tensorgrad
from tensorgrad.utils.data import TensorDataset
from tensorgrad.utils.data.mnist import load_mnist


def load_datasets(root=None, truncate_train=None, truncate_test=None, device='cpu'):
    """Train and test ``TensorDataset``s of (image (1, 28, 28) float32, label int64),
    truncated to the first ``truncate_*`` samples and standardised with the
    mean and std of the training images; the tensors live on ``device``."""
    train_x, train_y = load_mnist(root, 'train')
    test_x, test_y = load_mnist(root, 'test')
    train_x, train_y = train_x[:truncate_train], train_y[:truncate_train]
    test_x, test_y = test_x[:truncate_test], test_y[:truncate_test]
    scaled = train_x.astype(np.float32) / 255.0
    mean, std = float(scaled.mean()), float(scaled.std()) or 1.0

    def prepare(images, labels):
        x = ((images.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)[:, None]
        return TensorDataset(tensorgrad.tensor(x, requires_grad=False).to(device),
                             tensorgrad.tensor(labels, requires_grad=False).to(device))

    return prepare(train_x, train_y), prepare(test_x, test_y)
