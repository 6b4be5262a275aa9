"""Train/validation/test splits and k-fold cross-validation indices, seeded."""
from __future__ import annotations

import numbers
from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from ..autograd.tensor import as_array
from ..validation import check_int, check_real, check_samples

__all__ = ["train_val_test_split", "KFold", "StratifiedKFold"]


def _count(size: float, n: int, name: str) -> int:
    """A size given as a fraction (0 <= f < 1) or a number of samples, as a count."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"train_val_test_split: {name} must be a fraction or an int, got {size!r}")
    if isinstance(size, numbers.Integral):
        if not 0 <= size <= n:
            raise ValueError(f"train_val_test_split: {name}={size} samples, but there are {n}")
        return int(size)
    f = check_real(size, f"{name} as a fraction", "train_val_test_split", 0, 1, high_open=True)
    return int(round(f * n))


def _apportion(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``counts`` (largest remainders), exactly."""
    exact = counts * (total / counts.sum())
    base = np.floor(exact).astype(int)
    rest = total - base.sum()
    if rest > 0:
        base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return base


def train_val_test_split(X: ArrayLike, y: ArrayLike | None = None, val_size: float = 0.1,
                         test_size: float = 0.2, stratify: bool = False,
                         seed: int | None = 0) -> tuple[np.ndarray, ...]:
    """Shuffle and split into training, validation and test parts.

    Sizes are fractions of the samples (rounded) or sample counts. With
    ``stratify=True`` every part keeps the class proportions of ``y`` (each
    class is split on its own, the counts apportioned by largest remainder).

    Returns ``(X_train, X_val, X_test, y_train, y_val, y_test)`` (only the three
    X parts when ``y`` is None).

    Example
    -------
    >>> Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(  # doctest: +SKIP
    ...     X, y, 0.1, 0.2, stratify=True)
    """
    X = check_samples(as_array(X), "X", "train_val_test_split")
    n = len(X)
    if y is not None:
        y = check_samples(as_array(y), "y", "train_val_test_split")
        if len(y) != n:
            raise ValueError(f"train_val_test_split: X has {n} samples but y has {len(y)}")
    n_val, n_test = _count(val_size, n, "val_size"), _count(test_size, n, "test_size")
    if n_val + n_test > n:
        raise ValueError(f"train_val_test_split: val ({n_val}) + test ({n_test}) samples exceed "
                         f"the {n} available")
    rng = np.random.default_rng(seed)
    if stratify:
        if y is None:
            raise ValueError("train_val_test_split: stratify=True needs y")
        classes, inv = np.unique(y, return_inverse=True)
        inv = inv.reshape(-1)
        counts = np.bincount(inv, minlength=len(classes))
        per_test = _apportion(counts, n_test)
        per_val = _apportion(counts - per_test, n_val) if n_val else np.zeros_like(counts)
        # shuffle, then a stable sort by class groups each class in random order
        perm = rng.permutation(n)
        by_class = perm[np.argsort(inv[perm], kind="stable")]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.empty(n, int)
        rank[by_class] = np.arange(n) - np.repeat(starts, counts)
        cls = inv
        test_mask = rank < per_test[cls]
        val_mask = (rank >= per_test[cls]) & (rank < (per_test + per_val)[cls])
        part = np.where(test_mask, 2, np.where(val_mask, 1, 0))
        order = rng.permutation(n)
        idx_train, idx_val, idx_test = (order[part[order] == k] for k in (0, 1, 2))
    else:
        order = rng.permutation(n)
        idx_test, idx_val, idx_train = (order[:n_test], order[n_test:n_test + n_val],
                                        order[n_test + n_val:])
    xs = (X[idx_train], X[idx_val], X[idx_test])
    if y is None:
        return xs
    return xs + (y[idx_train], y[idx_val], y[idx_test])


class KFold:
    """k-fold cross-validation indices: each sample is in the validation fold exactly once.

    The first ``n % n_splits`` folds get one extra sample (like scikit-learn). Follows
    scikit-learn's splitter protocol (``split(X, y=None, groups=None)``,
    ``get_n_splits(X, y, groups)``), so it can be a ``cv=`` of ``GridSearchCV`` or
    ``cross_val_score``; ``seed`` plays the part of scikit-learn's ``random_state``.

    Example
    -------
    >>> for train_idx, val_idx in KFold(5, shuffle=True, seed=0).split(X): ...  # doctest: +SKIP
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed: int | None = None) -> None:
        self.n_splits = check_int(n_splits, "n_splits", type(self).__name__, min=2)
        self.shuffle = bool(shuffle)
        self.seed = seed

    def get_n_splits(self, X: object = None, y: object = None, groups: object = None) -> int:
        """The number of folds (the arguments are accepted for scikit-learn and ignored)."""
        return self.n_splits

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"seed={self.seed!r})")

    def _folds(self, X: ArrayLike, y: ArrayLike | None) -> np.ndarray:
        n = len(check_samples(as_array(X), "X", f"{type(self).__name__}.split"))
        if n < self.n_splits:
            raise ValueError(f"KFold: n_splits={self.n_splits} is more than the {n} samples")
        order = np.random.default_rng(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        fold = np.empty(n, int)
        fold[order] = np.repeat(np.arange(self.n_splits), sizes)
        return fold

    def split(self, X: ArrayLike, y: ArrayLike | None = None,
              groups: object = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_indices, val_indices)`` for each fold (``groups`` is ignored, as
        by scikit-learn's KFold and StratifiedKFold)."""
        fold = self._folds(X, y)
        for k in range(self.n_splits):
            yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)


class StratifiedKFold(KFold):
    """k-fold indices that keep the class proportions of ``y`` in every fold.

    Each class's samples (shuffled when ``shuffle``) are dealt to the folds in
    turn, so fold class counts differ by at most one.

    Example
    -------
    >>> for tr, va in StratifiedKFold(5, shuffle=True, seed=0).split(X, y): ...  # doctest: +SKIP
    """

    def _folds(self, X: ArrayLike, y: ArrayLike | None) -> np.ndarray:
        if y is None:
            raise ValueError("StratifiedKFold.split: needs y (the class labels)")
        y = check_samples(as_array(y), "y", "StratifiedKFold.split")
        n = len(check_samples(as_array(X), "X", "StratifiedKFold.split"))
        if len(y) != n:
            raise ValueError(f"StratifiedKFold.split: X has {n} samples but y has {len(y)}")
        classes, inv = np.unique(y, return_inverse=True)
        inv = inv.reshape(-1)
        counts = np.bincount(inv)
        if counts.max() < self.n_splits:
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} exceeds the size of every "
                             f"class (largest has {counts.max()})")
        perm = (np.random.default_rng(self.seed).permutation(n) if self.shuffle
                else np.arange(n))
        by_class = perm[np.argsort(inv[perm], kind="stable")]
        # deal the class-grouped order to the folds in turn: each class is spread evenly, and
        # continuing across class boundaries keeps the fold sizes balanced too
        fold = np.empty(n, int)
        fold[by_class] = np.arange(n) % self.n_splits
        return fold
