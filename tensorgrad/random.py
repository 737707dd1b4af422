"""The global random generator behind ``rand``, ``randn``, ``dropout`` and
initialisers; ``manual_seed`` makes runs reproducible."""
import numpy as np

from . import backend

_state = {'rng': np.random.default_rng(), 'seed': None}


def manual_seed(seed):
    """Seed tensorgrad's random generator (cpu, and cuda when available)."""
    seed = int(seed)
    _state['rng'] = np.random.default_rng(seed)
    _state['seed'] = seed
    if backend._cupy is not None:
        backend._cupy.random.seed(seed)
    return _state['rng']


seed = manual_seed


def generator():
    """The NumPy Generator tensorgrad draws from."""
    return _state['rng']


def initial_seed():
    """The seed last given to ``manual_seed`` (None when never seeded)."""
    return _state['seed']
