"""Datasets: a sequence of samples that can be indexed with arrays of indices."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.tensor import as_array
from ..validation import check_samples

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike

__all__ = ["Dataset", "TensorDataset"]


class Dataset:
    """Map-style dataset: ``len(ds)`` samples, ``ds[i]`` a tuple of arrays.

    Subclasses that can answer ``ds[index_array]`` with whole batches at once
    (as :class:`TensorDataset` does) set ``supports_batch_indexing = True`` so
    :class:`DataLoader` never loops over samples.
    """

    supports_batch_indexing = False

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: Any) -> tuple[Any, ...]:  # pragma: no cover - abstract
        raise NotImplementedError


class TensorDataset(Dataset):
    """Arrays that share their first (sample) dimension, indexed together.

    ``ds[idx]`` (an int, slice or index array) returns a tuple with one entry
    per array: ``(X[idx], y[idx], ...)``.

    Example
    -------
    >>> ds = TensorDataset(np.zeros((100, 4)), np.arange(100))
    >>> len(ds), ds[[0, 5]][1]
    (100, array([0, 5]))
    """

    supports_batch_indexing = True

    def __init__(self, *arrays: TensorLike) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = tuple(check_samples(as_array(a), f"array {i}", "TensorDataset")
                            for i, a in enumerate(arrays))
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if len(a) != n:
                raise ValueError(f"TensorDataset: all arrays need the same number of samples; "
                                 f"array 0 has {n}, array {i} has {len(a)} (shape {a.shape})")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        return "TensorDataset(" + ", ".join(str(a.shape) for a in self.arrays) + ")"
