"""Helpers the examples share: seeding, interrupt-safe checkpoints, progress bars."""
import os
import random

import numpy as np

import tensorgrad


def seed_everything(seed):
    """Seed tensorgrad's, NumPy's and Python's random generators."""
    tensorgrad.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def save_checkpoint(state, path):
    """Write ``state`` to ``path`` with ``tensorgrad.save``, which writes a
    temporary file and renames it: an interrupt never leaves a half-written checkpoint."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tensorgrad.save(state, path)


def checkpoint_path(example_file, name):
    """Default checkpoint file: ``checkpoints/<name>`` next to the example (git-ignored)."""
    return os.path.join(os.path.dirname(os.path.abspath(example_file)), 'checkpoints', name)


def load_checkpoint(path):
    """The state saved at ``path``, or None when there is none yet."""
    if not path or not os.path.exists(path):
        return None
    return tensorgrad.load(path)


def progress(iterable, enabled=True, **kwargs):
    """A tqdm progress bar over ``iterable`` (plain iteration without tqdm or when disabled)."""
    if enabled:
        try:
            from tqdm import tqdm  # noqa: PLC0415 - optional dependency
            return tqdm(iterable, leave=False, dynamic_ncols=True, **kwargs)
        except ImportError:
            pass
    return _Quiet(iterable)


class _Quiet:
    """Stands in for a tqdm bar: iterates and ignores postfix updates."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, *args, **kwargs):
        pass

    @staticmethod
    def write(text):
        print(text, flush=True)

    def close(self):
        pass
