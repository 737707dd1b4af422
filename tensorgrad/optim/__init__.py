"""Optimisation algorithms (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``,
``Adadelta``, ``Adamax``, ``NAdam``, ``RAdam``, ``LBFGS``) and learning-rate
schedulers (``tensorgrad.optim.lr_scheduler``), with PyTorch's semantics."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .lr_scheduler import CosineScheduler, CosineWarmupLR, LRScheduler
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ['Optimizer', 'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'NAdam', 'RAdam',
           'LBFGS', 'lr_scheduler', 'LRScheduler', 'CosineWarmupLR', 'CosineScheduler']
