"""A DataLoader-heavy training pipeline: a ``Dataset`` subclass of variable-length
sequences, a padding ``collate_fn``, ``random_split`` / ``Subset``, shuffled
multi-worker loading with a seeded generator and ``worker_init_fn``,
``WeightedRandomSampler``, ``BatchSampler`` over Sequential/Random samplers, and
``TensorDataset``. Where the sampled order cannot match between libraries, the
results are the facts that do not depend on the draw (sizes, coverage), or the
training is made order-independent (one optimiser step per epoch)."""
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, Subset, TensorDataset,
    WeightedRandomSampler, random_split,
)

FEATURES, CLASSES = 3, 4


class SequenceDataset(Dataset):
    """Variable-length feature sequences with a class label each."""

    def __init__(self, n, rng):
        self.lengths = rng.randint(1, 7, size=n)
        self.seqs = [rng.standard_normal((int(k), FEATURES)).astype(np.float32) for k in self.lengths]
        self.labels = [int(s.sum() > 0) + 2 * int(len(s) > 3) for s in self.seqs]

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, idx):
        return {'x': torch.from_numpy(self.seqs[idx]), 'y': self.labels[idx], 'idx': idx}


def pad_collate(batch):
    lengths = torch.tensor([len(item['x']) for item in batch])
    x = torch.zeros(len(batch), int(lengths.max()), FEATURES)
    for i, item in enumerate(batch):
        x[i, :len(item['x'])] = item['x']
    y = torch.tensor([item['y'] for item in batch])
    idx = torch.tensor([item['idx'] for item in batch])
    return x, lengths, y, idx


class MeanPoolClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(FEATURES, 8)
        self.out = nn.Linear(8, CLASSES)

    def forward(self, x, lengths):
        h = torch.tanh(self.proj(x))
        mask = (torch.arange(x.size(1))[None, :] < lengths[:, None]).unsqueeze(-1)
        pooled = (h * mask).sum(dim=1) / lengths[:, None].to(h.dtype)
        return self.out(pooled)


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2 ** 32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def init_from_numpy(model, rng):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, size=tuple(p.shape)).astype(np.float32)))


def split_facts(dataset):
    train_set, val_set = random_split(dataset, [0.75, 0.25], generator=torch.Generator().manual_seed(42))
    a, b, c = random_split(range(10), [5, 3, 2])
    ids = sorted(list(train_set.indices) + list(val_set.indices))
    return {
        'sizes': [len(train_set), len(val_set)],
        'types': [type(train_set).__name__, type(val_set).__name__],
        'partition': ids == list(range(len(dataset))),
        'range_split': [len(a), len(b), len(c), sorted(list(a) + list(b) + list(c)) == list(range(10))],
        'subset_item_is_dataset_item': train_set[0]['idx'] == train_set.indices[0],
    }


def train_shuffled(dataset, rng, epochs=2):
    """Shuffled, multi-worker loading; gradients accumulate over the whole epoch,
    so the result does not depend on the order the samples come in."""
    order = rng.permutation(len(dataset))
    train_ds = Subset(dataset, order[:18].tolist())
    g = torch.Generator()
    g.manual_seed(0)
    loader = DataLoader(train_ds, batch_size=5, shuffle=True, num_workers=2, collate_fn=pad_collate,
                        worker_init_fn=seed_worker, generator=g)
    model = MeanPoolClassifier()
    init_from_numpy(model, rng)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
    epoch_losses, coverage, batch_sizes = [], [], []
    for epoch in range(epochs):
        optimizer.zero_grad()
        total, seen = 0.0, []
        for x, lengths, y, idx in loader:
            loss = F.cross_entropy(model(x, lengths), y, reduction='sum') / len(train_ds)
            loss.backward()
            total += loss.item()
            seen.extend(idx.tolist())
            batch_sizes.append(len(y))
        optimizer.step()
        epoch_losses.append(total)
        coverage.append(sorted(seen) == sorted(train_ds.indices))
    g1 = torch.Generator().manual_seed(7)
    g2 = torch.Generator().manual_seed(7)
    first = [b[3].tolist() for b in DataLoader(train_ds, batch_size=4, shuffle=True, collate_fn=pad_collate,
                                               generator=g1)]
    second = [b[3].tolist() for b in DataLoader(train_ds, batch_size=4, shuffle=True, collate_fn=pad_collate,
                                                generator=g2)]
    return {
        'epoch_losses': epoch_losses,
        'coverage': coverage,
        'batch_sizes': batch_sizes,
        'num_batches': len(loader),
        'same_seed_same_order': first == second,
        'params': [p.detach().clone() for p in model.parameters()],
        'grads': [p.grad.clone() for p in model.parameters()],
    }


def sampler_facts(dataset):
    labels = torch.tensor(dataset.labels)
    class_count = torch.bincount(labels, minlength=CLASSES).double()
    class_weights = 1.0 / class_count.clamp(min=1)
    weights = class_weights[labels]
    weights[labels == 0] = 0.0  # never draw class 0
    g = torch.Generator().manual_seed(3)
    drawn = list(WeightedRandomSampler(weights, num_samples=30, replacement=True, generator=g))
    unique = list(WeightedRandomSampler(weights.tolist(), num_samples=5, replacement=False, generator=g))
    weighted_loader = DataLoader(dataset, batch_size=6, collate_fn=pad_collate,
                                 sampler=WeightedRandomSampler(weights, 12, generator=g))
    batch_labels = torch.cat([y for _, _, y, _ in weighted_loader])
    random_batches = DataLoader(dataset, collate_fn=pad_collate,
                                batch_sampler=BatchSampler(RandomSampler(dataset, generator=g), 7, drop_last=False))
    seen = sorted(i for batch in random_batches for i in batch[3].tolist())
    return {
        'drawn_count': len(drawn),
        'drawn_types_int': all(isinstance(i, int) for i in drawn),
        'drawn_in_range': all(0 <= i < len(dataset) for i in drawn),
        'no_zero_weight_drawn': all(dataset.labels[i] != 0 for i in drawn),
        'unique_without_replacement': len(set(unique)) == 5 and all(dataset.labels[i] != 0 for i in unique),
        'weighted_loader_labels_nonzero': bool((batch_labels != 0).all()) and len(batch_labels) == 12,
        'sequential_batches': list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False)),
        'sequential_batches_drop_last': list(BatchSampler(SequentialSampler(range(10)), batch_size=3,
                                                          drop_last=True)),
        'random_batch_sizes': [len(b[2]) for b in DataLoader(
            dataset, collate_fn=pad_collate,
            batch_sampler=BatchSampler(RandomSampler(dataset, generator=g), 7, drop_last=False))],
        'random_batches_cover': seen == list(range(len(dataset))),
        'len_batch_sampler': len(BatchSampler(range(10), 4, False)),
    }


def train_tensor_dataset(rng, epochs=2):
    """Fixed-order loading (shuffle=False) with workers: every step must match."""
    X = torch.from_numpy(rng.standard_normal((20, 3)).astype(np.float32))
    w_true = torch.tensor([[1.5], [-2.0], [0.5]])
    Y = X @ w_true + 0.1
    dataset = TensorDataset(X, Y)
    loader = DataLoader(dataset, batch_size=8, shuffle=False, num_workers=2)
    model = nn.Linear(3, 1)
    init_from_numpy(model, rng)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for epoch in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    dict_batch = next(iter(DataLoader([{'a': torch.ones(2) * i, 'b': i, 'c': float(i)} for i in range(5)],
                                      batch_size=3)))
    return {
        'losses': losses,
        'len_loader': len(loader),
        'first_item': dataset[0],
        'weight': model.weight,
        'bias': model.bias,
        'dict_batch': dict_batch,
        'dict_batch_dtypes': [dict_batch['b'].dtype == torch.int64, dict_batch['c'].dtype == torch.float64],
    }


def main(seed=0):
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    dataset = SequenceDataset(24, rng)
    return {
        'split': split_facts(dataset),
        'shuffled': train_shuffled(dataset, rng),
        'samplers': sampler_facts(dataset),
        'tensor_dataset': train_tensor_dataset(rng),
    }
