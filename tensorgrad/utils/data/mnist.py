"""Readers for the IDX files of MNIST and Fashion-MNIST (gzipped or plain).

Nothing is downloaded: ``load_mnist`` reads local files, by default those of
Debian's ``dataset-fashion-mnist`` package.
"""
import gzip
import os
import zlib

import numpy as np

DEFAULT_ROOT = '/usr/share/datasets/fashion-mnist'
HOW_TO_GET = ("install Fashion-MNIST with `apt-get install dataset-fashion-mnist` "
              "or pass --data DIR with the MNIST IDX files (train-images-idx3-ubyte[.gz], "
              "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])")

# IDX type codes -> big-endian element types
_IDX_DTYPES = {0x08: np.dtype('u1'), 0x09: np.dtype('i1'), 0x0B: np.dtype('>i2'),
               0x0C: np.dtype('>i4'), 0x0D: np.dtype('>f4'), 0x0E: np.dtype('>f8')}

_FILES = {'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
          'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}


class IDXError(ValueError):
    """An IDX file that is truncated, corrupt or not in IDX format."""


def read_idx(path):
    """Read an IDX file (gzipped or plain) into a NumPy array in native byte order.
    Raises FileNotFoundError for a missing file and ``IDXError`` for a corrupt one."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_idx: no such file {path!r}")
    try:
        with open(path, 'rb') as f:
            raw = f.read()
        if raw[:2] == b'\x1f\x8b':
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise IDXError(f"read_idx: {path!r} is not a readable gzip file: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"read_idx: {path!r} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    code, ndim = raw[2], raw[3]
    dtype = _IDX_DTYPES.get(code)
    if dtype is None:
        raise IDXError(f"read_idx: {path!r} has unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"read_idx: {path!r} is truncated inside its header ({len(raw)} bytes, "
                       f"{ndim} dimensions need {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype='>u4', count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = 'truncated' if len(raw) < expected else 'longer than its header says'
        raise IDXError(f"read_idx: {path!r} is {what}: dims {dims} of {dtype.name} need {expected} bytes, "
                       f"file has {len(raw)}")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder('='), copy=True)


def _find(root, stem):
    """Path of ``stem`` or ``stem.gz`` under ``root`` (or its torchvision-style
    ``raw`` / ``MNIST/raw`` folders), or None."""
    for folder in (root, os.path.join(root, 'raw'), os.path.join(root, 'MNIST', 'raw'),
                   os.path.join(root, 'FashionMNIST', 'raw')):
        for name in (stem + '.gz', stem):
            p = os.path.join(folder, name)
            if os.path.isfile(p):
                return p
    return None


def load_mnist(root=None, split='train'):
    """Load an (Fashion-)MNIST split from IDX files under ``root`` (default: the
    Debian ``dataset-fashion-mnist`` files in /usr/share/datasets/fashion-mnist).
    Returns ``(images, labels)``: uint8 array (N, 28, 28) and int64 array (N,).
    A missing or corrupt file raises an error naming it and saying how to get it."""
    if split not in _FILES:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    root = os.fspath(root) if root is not None else DEFAULT_ROOT
    arrays = []
    for stem in _FILES[split]:
        path = _find(root, stem)
        if path is None:
            raise FileNotFoundError(f"load_mnist: {os.path.join(root, stem)}[.gz] not found; {HOW_TO_GET}")
        try:
            arrays.append(read_idx(path))
        except IDXError as e:
            raise IDXError(f"load_mnist: corrupt file {path!r} ({e}); {HOW_TO_GET}") from None
    images, labels = arrays
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise IDXError(f"load_mnist: {_find(root, _FILES[split][0])!r} holds {images.dtype} images of shape "
                       f"{images.shape}, expected uint8 (N, 28, 28); {HOW_TO_GET}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise IDXError(f"load_mnist: {_find(root, _FILES[split][1])!r} holds labels of shape {labels.shape} "
                       f"for {images.shape[0]} images; {HOW_TO_GET}")
    return images, labels.astype(np.int64)
