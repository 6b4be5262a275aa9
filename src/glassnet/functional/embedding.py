"""Embedding lookup: rows of a weight table picked by integer ids."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike, TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["embedding", "one_hot", "EmbeddingFunction"]

# without the compiled scatter-add, below this many (ids x vocabulary) entries the scatter
# is a one-hot GEMM, above it a sort + np.add.reduceat (measured, two cores: 700 ids x 200
# features, V = 1,000: 1.19 ms one-hot, 0.59 ms reduceat; 20 ids x 16, V = 50: 4 us and
# 14 us; about equal from 30k to 35k entries)
_ONEHOT_LIMIT = 1 << 15


class EmbeddingFunction(Function):
    """y[...] = W[ids[...]];  dW[v] = sum of the output gradients of every position with id v.

    The scatter-add of backward is the compiled ``backend.kernels.add_rows_at`` (one pass
    over the gradient rows) when Numba is there; otherwise a one-hot GEMM
    (onehot(ids)^T @ g) for tiny sizes and a sort + ``np.add.reduceat`` above them (both
    far faster than ``np.add.at``). The row ``padding_idx`` gets no gradient.
    """

    def forward(self, weight: np.ndarray, ids: np.ndarray,
                padding_idx: int | None = None) -> np.ndarray:
        self.ids, self.V, self.padding_idx = ids, weight.shape[0], padding_idx
        return weight[ids]

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, None]:
        ids = self.ids.reshape(-1)
        E = g.shape[-1]
        g2 = g.reshape(-1, E)
        V = self.V
        scatter = backend.kernels.add_rows_at(g.dtype)
        if scatter is not None and ids.size and (ids.min() < 0 or ids.max() >= V):
            scatter = None          # the compiled loop writes rows 0 .. V-1 only
        if scatter is not None:
            dW = np.zeros((V, E), dtype=g.dtype)
            scatter(ids.astype(np.int64, copy=False), np.ascontiguousarray(g2).reshape(-1),
                    dW.reshape(-1), E)
        elif ids.size * V <= _ONEHOT_LIMIT:
            onehot = np.zeros((ids.size, V), dtype=g.dtype)
            onehot[np.arange(ids.size), ids] = 1
            dW = onehot.T @ g2
        else:
            order = np.argsort(ids, kind="stable")
            sid = ids[order]
            starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
            dW = np.zeros((V, E), dtype=g.dtype)
            dW[sid[starts]] = np.add.reduceat(g2[order], starts, axis=0)
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0
        return dW, None


def _ids(x: TensorLike, V: int, who: str) -> np.ndarray:
    a = as_array(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be integers, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= V):
        raise IndexError(f"{who}: index out of range [0, {V}): min {a.min()}, max {a.max()}")
    return a


def embedding(ids: TensorLike, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` (V, E) for integer ``ids`` of any shape -> ids.shape + (E,).

    >>> embedding(np.array([[0, 2]]), gn.randn(3, 4)).shape
    (1, 2, 4)
    """
    V = weight.shape[0]
    a = _ids(ids, V, "embedding")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += V
    return EmbeddingFunction.apply(weight, a, padding_idx=padding_idx)


def one_hot(ids: TensorLike, num_classes: int, dtype: DTypeLike = None) -> Tensor:
    """One-hot float array ids.shape + (num_classes,) (no gradient; a plain input)."""
    from .. import backend
    a = _ids(ids, num_classes, "one_hot")
    dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    out = np.zeros(a.shape + (num_classes,), dtype=dt)
    np.put_along_axis(out, a[..., None], 1, axis=-1)
    return Tensor(out)
