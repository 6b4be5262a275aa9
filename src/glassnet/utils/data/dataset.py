"""Datasets in PyTorch's shape: ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``ChainDataset`` and ``random_split``.

A map-style dataset answers ``len(ds)`` and ``ds[i]`` (one sample); an iterable one is
iterated. :class:`TensorDataset` and :class:`Subset` of one also answer whole batches by
one fancy index of their arrays (``batch_fetcher``), which the DataLoader uses with the
default collate instead of a Python loop over samples.

Example
-------
>>> ds = TensorDataset(np.random.rand(100, 4).astype(np.float32), np.arange(100))
>>> train, val = random_split(ds, [0.8, 0.2], generator=Generator().manual_seed(42))
>>> len(train), len(val)
(80, 20)
"""
from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from ...autograd.tensor import Tensor
from ..generator import Generator, resolve_generator  # noqa: F401  (Generator: examples)

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.generator import Generator
    from glassnet.autograd.tensor import Tensor


__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "batch_fetcher"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """Map-style dataset: subclasses define ``__getitem__(index)`` (one sample) and
    usually ``__len__``. ``ds1 + ds2`` is their :class:`ConcatDataset`.

    Example
    -------
    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return np.float32(i), i * i
    """

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset[Any]) -> Dataset[Any]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define ``__iter__``. With worker processes every
    worker iterates its own copy; use :func:`get_worker_info` to give each a share.
    ``ds1 + ds2`` is their :class:`ChainDataset`.

    Example
    -------
    >>> class Count(IterableDataset):
    ...     def __iter__(self): return iter(range(5))
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset[Any]) -> ChainDataset:
        return ChainDataset([self, other])


def _array_of(t: TensorLike, i: int) -> Tensor:
    if isinstance(t, Tensor):
        return t
    a = np.asarray(t)      # NumPy arrays (and torch tensors) keep their dtype
    if a.dtype.kind in "OSU":
        raise TypeError(f"TensorDataset: argument {i} must be a Tensor or a numeric array, "
                        f"got {type(t).__name__} of dtype {a.dtype}")
    return Tensor(a)


class TensorDataset(Dataset):
    """Tensors (or NumPy arrays) that share their first dimension, indexed together:
    ``ds[i] = (t0[i], t1[i], ...)``, each a Tensor; ``ds.tensors`` holds them.

    Batches: with the default collate the DataLoader gathers ``[t0[idx], t1[idx], ...]``
    (a list, as PyTorch's collate of tuples gives) by one fancy index per tensor; a
    subclass that overrides ``__getitem__`` is collated sample by sample instead.

    Example
    -------
    >>> ds = TensorDataset(Tensor(np.zeros((100, 4), np.float32)), np.arange(100))
    >>> x, y = ds[3]; x.shape, y.item()
    ((4,), 3)
    """

    def __init__(self, *tensors: TensorLike) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        ts = tuple(_array_of(t, i) for i, t in enumerate(tensors))
        for i, t in enumerate(ts):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-dimensional; each needs a "
                                 f"first (sample) dimension")
        if any(len(t) != len(ts[0]) for t in ts):
            raise AssertionError("Size mismatch between tensors: first dimensions are "
                                 + str([len(t) for t in ts]))
        self.tensors = ts

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        if isinstance(index, Tensor):
            index = index._data
        # [index, ...] keeps a 0-d array (not a NumPy scalar) so the dtype survives
        return tuple(Tensor(t._data[index, ...]) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def _batch_fetcher(self) -> Callable[[Any], list[Tensor]]:
        arrays = [t._data for t in self.tensors]
        return lambda idx: [Tensor(a[idx]) for a in arrays]

    def __repr__(self) -> str:
        return "TensorDataset(" + ", ".join(str(tuple(t.shape)) for t in self.tensors) + ")"


def index_array(indices: Sequence[int] | TensorLike) -> np.ndarray:
    """A list, range, array or Tensor of indices as a flat int64 array."""
    if isinstance(indices, Tensor):
        indices = indices._data
    return np.asarray(indices, dtype=np.int64).reshape(-1)


def batch_fetcher(dataset: Any) -> Callable[[Any], Any] | None:
    """A function ``indices -> batch`` that equals ``default_collate([dataset[i] for i in
    indices])`` computed on whole arrays, or None when ``dataset`` cannot give one.

    A dataset offers it through a ``_batch_fetcher()`` method; the offer is ignored when a
    subclass overrides ``__getitem__`` or ``__getitems__`` below the class that made it, so
    a user's own dataset never inherits a batch path that skips its code.
    """
    cls = type(dataset)
    owner = next((c for c in cls.__mro__ if "_batch_fetcher" in c.__dict__), None)
    if owner is None:
        return None
    for name in ("__getitem__", "__getitems__"):
        if getattr(cls, name, None) is not getattr(owner, name, None):
            return None
    return dataset._batch_fetcher()


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``sub[i] = dataset[indices[i]]``.

    Example
    -------
    >>> evens = Subset(range(10, 20), range(0, 10, 2))
    >>> len(evens), evens[1]
    (5, 12)
    """

    def __init__(self, dataset: Dataset[Any], indices: Sequence[int] | Tensor) -> None:
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__; the DataLoader "
                f"fetches batches through __getitems__, so override it too, e.g. "
                f"def __getitems__(self, indices): return [self[i] for i in indices]")

    def _at(self, i: int) -> Any:
        j = self.indices[i]
        return j.item() if isinstance(j, Tensor) else j     # Subset(ds, gn.arange(...))

    def __getitem__(self, idx: int | list[int]) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self._at(i) for i in idx]]
        return self.dataset[self._at(idx)]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        inner = getattr(self.dataset, "__getitems__", None)
        if callable(inner):
            return inner([self._at(i) for i in indices])
        return [self.dataset[self._at(i)] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _batch_fetcher(self) -> Callable[[Any], Any] | None:
        inner = batch_fetcher(self.dataset)
        if inner is None:
            return None
        where = index_array(self.indices)
        return lambda idx: inner(where[idx])


class ConcatDataset(Dataset):
    """Datasets one after the other; ``cumulative_sizes[k]`` is the length of the first
    k + 1. Negative indices count from the end.

    Example
    -------
    >>> both = ConcatDataset([range(3), range(10, 12)])
    >>> len(both), both[3], both.cumulative_sizes
    (5, 10, [3, 5])
    """

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other (``len`` is the sum of theirs)."""

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = datasets

    def _each(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield d

    def __iter__(self) -> Iterator[Any]:
        for d in self._each():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._each())


def random_split(dataset: Dataset[Any], lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping :class:`Subset`\\ s of the given ``lengths``.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (torch
    2.x): each split gets floor(n * fraction) samples and the remainder is dealt out one
    by one from the first split on. The samples are drawn by ``randperm(n)`` on
    ``generator`` (a :class:`glassnet.utils.Generator`); with the same seed the splits hold
    the same indices as PyTorch's. ``None`` draws a seed from glassnet's global generator.

    Example
    -------
    >>> a, b = random_split(range(10), [3, 7], generator=Generator().manual_seed(42))
    >>> a.indices
    [2, 6, 1]
    """
    sizes: list[Any] = list(lengths)      # fractions, then counts
    total = sum(sizes)
    # map-style datasets have __len__ (Dataset itself has not, as in PyTorch)
    n = len(dataset)  # type: ignore[arg-type]
    if math.isclose(total, 1) and total <= 1:
        counts: list[int] = []
        for i, frac in enumerate(sizes):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
        sizes = counts
    if sum(sizes) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input "
                         f"dataset! (lengths {sizes} sum to {sum(sizes)}, the dataset "
                         f"has {n} samples)")
    perm = resolve_generator(generator, "random_split").randperm(n).tolist()
    ends = list(itertools.accumulate(sizes))
    return [Subset(dataset, perm[end - length:end]) for end, length in zip(ends, sizes)]
