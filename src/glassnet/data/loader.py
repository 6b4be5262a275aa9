"""``DataLoader``: mini-batches of NumPy arrays, shuffled reproducibly."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..validation import check_int
from .dataset import Dataset, TensorDataset

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a dataset in batches of ``batch_size`` samples.

    Parameters
    ----------
    dataset : TensorDataset, Dataset, tuple/list of arrays, or one array
        Arrays share their first (sample) dimension.
    batch_size : int or None
        Samples per batch; ``None`` gives one full batch (full-batch gradient
        descent) and ``1`` online learning.
    shuffle : bool
        A new permutation each epoch (each ``iter()``), drawn from the loader's
        own generator: seeded with ``seed``, or, when ``seed`` is None, with a
        number drawn from ``glassnet.backend.rng()`` at construction (so
        ``gn.manual_seed`` makes it reproducible too).
    drop_last : bool
        Leave out the last batch when it is smaller than ``batch_size``.

    Notes
    -----
    Each batch is a tuple with one NumPy array per dataset array, gathered by
    fancy indexing (copies, safe to modify). ``len(loader)`` is the number of
    batches per epoch.

    Example
    -------
    >>> X, y = np.zeros((100, 4), np.float32), np.arange(100)
    >>> loader = DataLoader((X, y), batch_size=32, shuffle=True, seed=0)
    >>> [xb.shape for xb, yb in loader], len(loader)
    ([(32, 4), (32, 4), (32, 4), (4, 4)], 4)
    """

    def __init__(self, dataset: Dataset | np.ndarray | tuple[TensorLike, ...] | list[TensorLike],
                 batch_size: int | None = 32, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None) -> None:
        if isinstance(dataset, (tuple, list)):
            dataset = TensorDataset(*dataset)
        elif isinstance(dataset, np.ndarray):
            dataset = TensorDataset(dataset)
        elif not isinstance(dataset, Dataset) and not (hasattr(dataset, "__len__")
                                                       and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must be a Dataset, an array or a tuple of "
                            f"arrays, got {type(dataset).__name__}")
        self.batch_size = check_int(batch_size, "batch_size", "DataLoader",
                                    allow_none="full batch")
        check_int(seed, "seed", "DataLoader", min=0, allow_none=True)
        self.dataset: Any = dataset     # a Dataset, or any object with __len__ and __getitem__
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        if seed is None:
            seed = int(backend.rng().integers(2 ** 63))
        self._rng = np.random.default_rng(seed)

    @property
    def n_samples(self) -> int:
        return len(self.dataset)

    def __len__(self) -> int:
        n = len(self.dataset)
        if n == 0:
            return 0
        b = self.batch_size or n
        return n // b if self.drop_last else -(-n // b)

    def _gather(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        ds = self.dataset
        if getattr(ds, "supports_batch_indexing", False):
            return tuple(ds[idx])
        # a generic map-style dataset answers one sample at a time
        items = [ds[int(i)] for i in idx]
        if not isinstance(items[0], tuple):
            return (np.stack([np.asarray(x) for x in items]),)
        return tuple(np.stack([np.asarray(it[k]) for it in items]) for k in range(len(items[0])))

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        n = len(self.dataset)
        if n == 0:
            return
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        b = self.batch_size or n
        stop = (n // b) * b if self.drop_last else n
        for start in range(0, stop, b):
            yield self._gather(order[start:start + b])

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")
