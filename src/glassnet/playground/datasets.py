"""The two-dimensional datasets and input features of the playground.

Every dataset is a pure function of ``(n, noise, seed)`` returning points ``X`` (n, 2) in
[-6, 6]² and targets ``y`` (n,): ±1 for the classification sets (circle, xor, gauss,
spiral, moons), a real value in [-1, 1] for the regression sets (plane, multigauss).
``noise`` is a percentage (0-50) of the domain's scale added as Gaussian jitter.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CLASSIFICATION", "REGRESSION", "DATASETS", "FEATURES", "make_dataset",
           "split", "features", "grid"]

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("plane", "multigauss")
DATASETS = CLASSIFICATION + REGRESSION
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
DOMAIN = 6.0


def _circle(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # half the points inside radius 2 (+1), half on a ring between 3.5 and 5 (-1)
    inner = np.arange(n) < n // 2
    r = np.where(inner, rng.uniform(0, 2, n), rng.uniform(3.5, 5, n))
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], 1), np.where(inner, 1.0, -1.0)


def _xor(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-5, 5, (n, 2))
    X += np.sign(X) * 0.3          # keep a small gap around the axes
    return X, np.where(X[:, 0] * X[:, 1] >= 0, 1.0, -1.0)


def _gauss(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pos = np.arange(n) < n // 2
    centre = np.where(pos[:, None], 2.0, -2.0)
    return centre + rng.normal(0, 1.0, (n, 2)), np.where(pos, 1.0, -1.0)


def _spiral(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pos = np.arange(n) < n // 2
    k = np.where(pos, np.arange(n), np.arange(n) - n // 2) / max(n // 2, 1)
    r, t = 5 * k, 1.75 * 2 * np.pi * k + np.where(pos, 0.0, np.pi)
    return np.stack([r * np.sin(t), r * np.cos(t)], 1), np.where(pos, 1.0, -1.0)


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pos = np.arange(n) < n // 2
    t = rng.uniform(0, np.pi, n)
    x = np.where(pos, np.cos(t), 1 - np.cos(t))
    y = np.where(pos, np.sin(t), 0.5 - np.sin(t))
    return np.stack([2.5 * x - 1.25, 2.5 * y - 0.6], 1), np.where(pos, 1.0, -1.0)


def _plane(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    return X, (X[:, 0] + X[:, 1]) / (2 * DOMAIN)


def _multigauss(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]])
    signs = np.array([1, -1, 1, -1, 1, -1.0])
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
    return X, np.clip((signs * np.exp(-d2 / 2)).sum(1), -1, 1)


_MAKERS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral,
           "moons": _moons, "plane": _plane, "multigauss": _multigauss}


def make_dataset(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of dataset ``name``: n points, ``noise`` percent of jitter, seeded.

    >>> X, y = make_dataset("xor", 10, 0, seed=1)
    >>> X.shape, sorted(set(y.tolist()))
    ((10, 2), [-1.0, 1.0])
    """
    if name not in _MAKERS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    rng = np.random.default_rng(seed)
    X, y = _MAKERS[name](n, rng)
    X = X + rng.normal(0, 1, X.shape) * (noise / 100.0) * 2.0
    if name in REGRESSION and noise:
        y = np.clip(y + rng.normal(0, noise / 100.0, y.shape), -1, 1)
    return X.astype(np.float64), y.astype(np.float64)


def split(n: int, test_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: a seeded permutation, the last ``test_ratio`` for test."""
    perm = np.random.default_rng(seed + 7919).permutation(n)
    n_test = int(round(n * test_ratio))
    n_test = min(max(n_test, 1), n - 1)
    return perm[: n - n_test], perm[n - n_test:]


def features(X: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """The input columns ``names`` (a subset of :data:`FEATURES`) of points ``X`` (n, 2)."""
    x1, x2 = X[:, 0], X[:, 1]
    cols = {"x1": x1, "x2": x2, "x1^2": x1 * x1, "x2^2": x2 * x2, "x1*x2": x1 * x2,
            "sin(x1)": np.sin(x1), "sin(x2)": np.sin(x2)}
    return np.stack([cols[f] for f in names], 1).astype(np.float32)


def grid(size: int) -> np.ndarray:
    """The (size*size, 2) points of a size x size grid over the domain, row 0 at the top."""
    ticks = np.linspace(-DOMAIN, DOMAIN, size)
    gx, gy = np.meshgrid(ticks, ticks[::-1])
    return np.stack([gx.ravel(), gy.ravel()], 1)
