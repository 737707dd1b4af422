"""Random number generation: ``Generator`` (PyTorch's ``torch.Generator``),
the global ``default_generator`` behind ``rand``, ``randn``, ``dropout`` and
the initialisers, and ``manual_seed`` / ``seed`` / ``initial_seed`` /
``get_rng_state`` / ``set_rng_state`` on it.

A Generator wraps a NumPy ``Generator`` (PCG64) at ``_rng``; library code
draws from ``generator._rng`` (or ``generator()`` for the global one).
Reseeding changes that NumPy Generator in place, so a reference to it stays
valid. Random values for cuda tensors are drawn here too, then moved.
"""
import numpy as np

from . import backend

_TORCH_DEFAULT_SEED = 67280421310721  # the seed of a fresh torch.Generator()
_MAX_SEED = 2 ** 64
# get_state layout: seed (8 bytes) | PCG64 state (16) | inc (16) | has_uint32 (1) | uinteger (4)
_STATE_BYTES = 45


def _check_seed(seed, who):
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: seed must be an int, got {seed.__class__.__name__}") from None
    if not -2 ** 63 <= seed < _MAX_SEED:
        raise RuntimeError(f"{who}: seed {seed} is out of range [-2**63, 2**64)")
    return seed % _MAX_SEED  # a negative seed wraps around, as PyTorch's


def _fresh_seed():
    return int(np.random.SeedSequence().entropy) % _MAX_SEED


class Generator:
    """A random number generator, as ``torch.Generator(device='cpu')``: pass it as
    ``generator=`` to the random factories and samplers. ``manual_seed(seed)`` (returns
    the generator), ``seed()`` (a fresh non-deterministic seed, returned),
    ``initial_seed()``, ``get_state()`` / ``set_state(state)`` (a uint8 tensor).
    A new Generator starts from PyTorch's default seed 67280421310721."""

    def __init__(self, device='cpu'):
        from .dtypes import device as _device, to_device  # noqa: PLC0415 - dtypes is light
        to_device(device)  # validate the spelling
        self.device = _device(device)
        self._seed = _TORCH_DEFAULT_SEED
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Reseed with ``seed`` (an int; negative seeds wrap around modulo 2**64); returns self."""
        seed = _check_seed(seed, 'Generator.manual_seed')
        self._rng.bit_generator.state = np.random.PCG64(seed).state
        self._seed = seed
        return self

    def seed(self):
        """Reseed from a non-deterministic source; returns the new seed."""
        s = _fresh_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor (give it to ``set_state``)."""
        from ._tensor import Tensor  # noqa: PLC0415 - random is imported below the Tensor
        st = self._rng.bit_generator.state
        raw = (self._seed.to_bytes(8, 'little') + st['state']['state'].to_bytes(16, 'little')
               + st['state']['inc'].to_bytes(16, 'little') + bytes([st['has_uint32']])
               + int(st['uinteger']).to_bytes(4, 'little'))
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state()``; returns self."""
        arr = getattr(new_state, '_data', new_state)
        if not isinstance(arr, np.ndarray) and hasattr(arr, 'get'):
            arr = arr.get()
        if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8:
            raise TypeError(f"Generator.set_state: expected a uint8 tensor from get_state(), got "
                            f"{getattr(arr, 'dtype', arr.__class__.__name__)}")
        if arr.shape != (_STATE_BYTES,):
            raise RuntimeError(f"Generator.set_state: expected a state of shape ({_STATE_BYTES},), "
                               f"got {tuple(arr.shape)}")
        raw = arr.tobytes()
        state = {'bit_generator': 'PCG64',
                 'state': {'state': int.from_bytes(raw[8:24], 'little'), 'inc': int.from_bytes(raw[24:40], 'little')},
                 'has_uint32': raw[40], 'uinteger': int.from_bytes(raw[41:45], 'little')}
        try:
            self._rng.bit_generator.state = state
        except (ValueError, TypeError) as e:
            raise RuntimeError(f"Generator.set_state: invalid state ({e})") from None
        self._seed = int.from_bytes(raw[:8], 'little')
        return self

    def __repr__(self):
        return f"<tensorgrad.Generator device='{self.device}' initial_seed={self._seed}>"


default_generator = Generator()
default_generator.seed()  # non-deterministic until manual_seed, as PyTorch's default generator


def manual_seed(seed):
    """Seed tensorgrad's default generator (cpu, and CuPy's when cuda is loaded);
    returns ``default_generator``."""
    default_generator.manual_seed(seed)
    if backend._cupy is not None:
        backend._cupy.random.seed(default_generator.initial_seed())
    return default_generator


def seed(s=None):
    """Without an argument, as PyTorch: reseed the default generator non-deterministically
    and return the seed. ``seed(s)`` is ``manual_seed(s)``."""
    if s is not None:
        return manual_seed(s)
    s = default_generator.seed()
    if backend._cupy is not None:
        backend._cupy.random.seed(s)
    return s


def generator():
    """The NumPy Generator tensorgrad draws from (``default_generator._rng``)."""
    return default_generator._rng


def initial_seed():
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


def numpy_rng(generator, who):
    """The NumPy Generator behind a ``generator=`` argument (None: the default one)."""
    if generator is None:
        return default_generator._rng
    rng = getattr(generator, '_rng', None)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who}: generator must be a tensorgrad.Generator or None, "
                        f"got {generator.__class__.__name__}")
    return rng
