"""``Embedding``: a learnable table of vectors indexed by integer ids."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..functional.embedding import embedding as _embedding
from ..validation import check_int
from . import init
from .module import Module, Parameter

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import DeviceLike
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["Embedding"]


class Embedding(Module):
    """y = W[ids], W of shape (num_embeddings, embedding_dim) ~ N(0, 1) as in PyTorch.

    ``padding_idx``: that row starts at zero and never receives a gradient.

    >>> emb = nn.Embedding(65, 16)
    >>> emb(np.array([[1, 2, 3]])).shape
    (1, 3, 16)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: TensorLike | None = None, _freeze: bool = False,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        if device is not None:
            backend.devices.check(device, "device", "Embedding")
        if scale_grad_by_freq:
            raise ValueError("Embedding: scale_grad_by_freq=True is not implemented in glassnet")
        self.max_norm = None if max_norm is None else float(max_norm)
        self.norm_type, self.sparse = float(norm_type), bool(sparse)
        self.scale_grad_by_freq = False
        if dtype is not None:
            dtype = backend.dtypes.resolve(dtype, "dtype", "Embedding")
        self.num_embeddings = n = check_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", "Embedding")
        padding_idx = check_int(padding_idx, "padding_idx", "Embedding", min=-n, max=n - 1,
                                allow_none=True)
        self.padding_idx = None if padding_idx is None else padding_idx % n
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        if _weight is not None:
            w = np.asarray(getattr(_weight, "_data", _weight))
            if w.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError("Shape of weight does not match num_embeddings and "
                                 "embedding_dim")
            self.weight = Parameter(w.astype(dt, copy=True), requires_grad=not _freeze)
        else:
            self.weight = Parameter(backend.allocate((self.num_embeddings, self.embedding_dim),
                                                      dt, "Embedding.weight"),
                                     requires_grad=not _freeze)
            self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight, 0.0, 1.0)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, ids: Tensor) -> Tensor:
        if self.max_norm is not None:
            from .functional import embedding
            return embedding(ids, self.weight, self.padding_idx, self.max_norm, self.norm_type)
        return _embedding(ids, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings: TensorLike, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (V, E); frozen unless ``freeze=False``."""
        w = np.asarray(getattr(embeddings, "_data", embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (V, E), got "
                             f"shape {w.shape}")
        emb = cls(int(w.shape[0]), int(w.shape[1]), padding_idx=padding_idx, max_norm=max_norm,
                  norm_type=norm_type, dtype=w.dtype)
        emb.weight._data[...] = w
        emb.weight.requires_grad = not freeze
        return emb

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s
