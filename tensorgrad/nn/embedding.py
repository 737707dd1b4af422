"""``Embedding``: a learnable lookup table."""
import numpy as np

from .. import backend
from . import functional as F
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) looked up by integer indices.
    ``weight`` starts N(0, 1); the ``padding_idx`` row starts at zero and gets no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, _weight=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({self.num_embeddings})")
            padding_idx = padding_idx % self.num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=np.float32))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        """Re-draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a 2D tensor/array ``embeddings`` (frozen unless ``freeze=False``)."""
        data = embeddings._data if hasattr(embeddings, 'data') and isinstance(
            embeddings._data, backend.array_types()) else np.asarray(embeddings, dtype=np.float32)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2D, got shape {tuple(data.shape)}")
        m = cls(data.shape[0], data.shape[1], padding_idx=padding_idx, _weight=data.copy())
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f'{self.num_embeddings}, {self.embedding_dim}'
        return s + (f', padding_idx={self.padding_idx}' if self.padding_idx is not None else '')
