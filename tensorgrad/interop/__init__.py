"""Interop with the PyTorch ecosystem, with NumPy as the only dependency:

- ``torch_pt``: read files written by ``torch.save`` (zip and legacy formats)
  without torch, through a restricted unpickler that only rebuilds tensors,
  storages, OrderedDicts and plain containers;
- ``safetensors``: read and write the safetensors format (bit-compatible with
  the ``safetensors`` package), memory-mapped loading.

``tensorgrad.load`` picks the reader from the file's content (and the
``.safetensors`` suffix); ``tensorgrad.save_safetensors`` /
``tensorgrad.load_safetensors`` are the explicit calls. ONNX export lives in
``tensorgrad.onnx``.
"""
from .safetensors import load_safetensors, save_safetensors
from .torch_pt import is_torch_checkpoint, load_torch_checkpoint

__all__ = ['load_safetensors', 'save_safetensors', 'load_torch_checkpoint', 'is_torch_checkpoint']
