"""``Embedding``: a learnable table of vectors indexed by integer ids."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..functional.embedding import embedding as _embedding
from ..validation import check_int
from . import init
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """y = W[ids], W of shape (num_embeddings, embedding_dim) ~ N(0, 1) as in PyTorch.

    ``padding_idx``: that row starts at zero and never receives a gradient.

    >>> emb = nn.Embedding(65, 16)
    >>> emb(np.array([[1, 2, 3]])).shape
    (1, 3, 16)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings = n = check_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", "Embedding")
        padding_idx = check_int(padding_idx, "padding_idx", "Embedding", min=-n, max=n - 1,
                                allow_none=True)
        self.padding_idx = None if padding_idx is None else padding_idx % n
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dt))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, 1.0)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, ids):
        return _embedding(ids, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a copy of ``embeddings`` (V, E); frozen unless ``freeze=False``."""
        w = np.asarray(getattr(embeddings, "data", embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (V, E), got "
                             f"shape {w.shape}")
        emb = cls(int(w.shape[0]), int(w.shape[1]), padding_idx=padding_idx, dtype=w.dtype)
        emb.weight._data[...] = w
        emb.weight.requires_grad = not freeze
        return emb

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
