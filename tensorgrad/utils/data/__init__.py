"""Data loading, as PyTorch's ``torch.utils.data``: datasets, ``DataLoader``,
``default_collate``, ``random_split``; ``mnist`` reads (Fashion-)MNIST IDX files."""
from .dataloader import DataLoader, default_collate
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = ['ConcatDataset', 'DataLoader', 'Dataset', 'Subset', 'TensorDataset', 'default_collate', 'random_split']
