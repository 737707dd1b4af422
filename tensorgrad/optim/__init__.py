"""Optimisation algorithms (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``) and
learning-rate schedulers (``tensorgrad.optim.lr_scheduler``), with PyTorch's semantics."""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lr_scheduler import CosineScheduler, CosineWarmupLR, LRScheduler
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ['Optimizer', 'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'lr_scheduler', 'LRScheduler',
           'CosineWarmupLR', 'CosineScheduler']
