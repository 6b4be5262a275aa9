"""Samplers: the order in which a DataLoader visits a map-style dataset.

``SequentialSampler`` (0, 1, 2, ...), ``RandomSampler`` (a permutation per epoch, or draws
with replacement), ``SubsetRandomSampler`` (a permutation of given indices),
``WeightedRandomSampler`` (draws by weight) and ``BatchSampler`` (groups of indices).

Given a seeded :class:`glassnet.utils.Generator`, ``RandomSampler`` and
``SubsetRandomSampler`` yield exactly PyTorch's indices (same ``randperm`` / ``randint``
words); with ``generator=None`` each epoch seeds a fresh generator from glassnet's global
one, as PyTorch seeds one from its global generator (so the order is reproducible under
``glassnet.manual_seed`` but is not the order ``torch.manual_seed`` gives).
``WeightedRandomSampler`` draws the right distribution but not PyTorch's numbers.

Besides ``__iter__`` (Python ints, as PyTorch yields), the built-in samplers give a whole
epoch as one int64 array (``_epoch_indices``), which the DataLoader slices into batches.

Example
-------
>>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
[[0, 1, 2], [3, 4, 5], [6]]
"""
from __future__ import annotations

import numpy as np

from ..generator import Generator, resolve_generator  # noqa: F401  (Generator: examples)
from .dataset import index_array

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike


__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "epoch_indices", "index_batches"]


class Sampler:
    """Base class: subclasses define ``__iter__`` over dataset indices (and ``__len__``)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


def epoch_indices(sampler: Any) -> np.ndarray | None:
    """One epoch of ``sampler`` as an int64 array when it is a built-in sampler whose
    ``__iter__`` is not overridden, else None (then the sampler is iterated)."""
    cls: Any = type(sampler)
    owner = next((c for c in cls.__mro__ if "_epoch_indices" in c.__dict__), None)
    if owner is None or cls.__iter__ is not owner.__iter__:
        return None
    return sampler._epoch_indices()


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of ``data_source``'s indices each epoch.

    Without ``replacement``: ``randperm(n)`` (repeated, then cut, when ``num_samples`` > n);
    with it: ``num_samples`` draws uniform in [0, n). ``generator`` as in the module docstring.

    Example
    -------
    >>> list(RandomSampler(range(5), generator=Generator().manual_seed(42)))
    [2, 4, 3, 0, 1]
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if (isinstance(self.num_samples, bool) or not isinstance(self.num_samples, int)
                or self.num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self) -> np.ndarray:
        n = len(self.data_source)
        g = resolve_generator(self.generator, "RandomSampler")
        m = self.num_samples
        if self.replacement:
            return g.randint(n, m)
        # PyTorch draws the last permutation even when nothing of it is kept
        perms = [g.randperm(n) for _ in range(m // n + 1)]
        return np.concatenate(perms)[:m]

    def __iter__(self) -> Iterator[int]:
        yield from self._epoch_indices().tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch (``indices[randperm(len)]``).

    Example
    -------
    >>> sorted(SubsetRandomSampler([10, 20, 30]))
    [10, 20, 30]
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        order = resolve_generator(self.generator, "SubsetRandomSampler").randperm(len(self.indices))
        return index_array(self.indices)[order]

    def __iter__(self) -> Iterator[int]:
        g = resolve_generator(self.generator, "SubsetRandomSampler")
        for i in g.randperm(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability weights[i] / sum(weights).

    The draws come from a NumPy generator seeded by ``generator``: same distribution as
    PyTorch's ``multinomial``, not the same numbers.

    Example
    -------
    >>> s = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=8, replacement=True)
    >>> 0 in list(s)
    False
    """

    def __init__(self, weights: Sequence[float] | TensorLike, num_samples: int,
                 replacement: bool = True, generator: Generator | None = None) -> None:
        if (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative "
                               "and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {num_samples} samples "
                               f"without replacement from {np.count_nonzero(w)} non-zero "
                               f"weights")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        g = resolve_generator(self.generator, "WeightedRandomSampler")
        rng = np.random.default_rng(g.random_int64())
        return rng.choice(len(self.weights), self.num_samples, replace=self.replacement,
                          p=self.weights / self.weights.sum()).astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        yield from self._epoch_indices().tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups of ``batch_size`` indices from ``sampler`` (lists of ints); the last, shorter
    group is dropped when ``drop_last``. ``len`` = n // b with drop_last, else ceil(n / b).

    Example
    -------
    >>> list(BatchSampler(range(5), 2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Sampler | Iterable[Any], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _batches(self) -> Iterator[Any]:
        """The batches of one epoch: int64 array slices when the sampler gives a whole
        epoch at once, else lists of what the sampler yields."""
        b = self.batch_size
        order = epoch_indices(self.sampler)
        if order is not None:
            stop = len(order) - len(order) % b if self.drop_last else len(order)
            for start in range(0, stop, b):
                yield order[start:start + b]
            return
        batch: list[Any] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == b:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # samplers of a known length
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def index_batches(batch_sampler: Any) -> Iterator[Any]:
    """An iterator over ``batch_sampler``'s batches: int64 arrays (no per-index Python work)
    when it is a :class:`BatchSampler` whose ``__iter__`` is not overridden, else what its
    ``__iter__`` yields."""
    cls = type(batch_sampler)
    if isinstance(batch_sampler, BatchSampler) and cls.__iter__ is BatchSampler.__iter__ \
            and cls._batches is BatchSampler._batches:
        return batch_sampler._batches()
    return iter(batch_sampler)
