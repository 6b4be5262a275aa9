"""The self-organising map (Kohonen, 1982): a grid of units whose weight vectors spread over
the data while neighbours on the grid stay neighbours in the input space.

    best-matching unit   c(x) = argmin_k ||x - w_k||
    neighbourhood        h_k(x) = exp(-||r_k - r_c(x)||^2 / (2 sigma_t^2))   r_k: grid position
    batch update         w_k = sum_n h_k(x_n) x_n / sum_n h_k(x_n)     (one epoch, all x_n)
    sigma_t              decays geometrically from sigma_start to sigma_end over the epochs

Two measures of a trained map: the quantisation error (mean distance of a sample to its
best-matching unit) and the topographic error (fraction of samples whose best and second
best units are not next to each other on the grid, 8-neighbourhood).

>>> som = SelfOrganizingMap(1, 5, seed=0).fit(np.linspace(0, 1, 50)[:, None], epochs=30)
>>> w = som.weight.ravel(); bool(np.all(np.diff(w) > 0) or np.all(np.diff(w) < 0))  # ordered
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...validation import check_int, check_real
from ._common import labels, matrix
from .rbf import _sq_dist

__all__ = ["SelfOrganizingMap"]


class SelfOrganizingMap:
    """A rows x cols rectangular Kohonen map trained by the batch algorithm.

    Parameters
    ----------
    rows, cols : int
    sigma_start : float, optional
        Initial neighbourhood width in grid units (default max(rows, cols) / 2).
    sigma_end : float
    seed : int, optional
        Seed of the initialisation (weights = randomly chosen samples).

    Attributes
    ----------
    weight : (rows * cols, D) after fit, unit k at grid position (k // cols, k % cols)
    grid : (rows * cols, 2) integer grid positions
    history_ : list of (sigma, quantisation error) per epoch
    """

    def __init__(self, rows: int, cols: int, sigma_start: float | None = None,
                 sigma_end: float = 0.5, seed: int | None = None) -> None:
        who = "SelfOrganizingMap"
        self.rows, self.cols = check_int(rows, "rows", who), check_int(cols, "cols", who)
        self.sigma_start = (max(self.rows, self.cols) / 2 if sigma_start is None
                            else check_real(sigma_start, "sigma_start", who, 0, low_open=True))
        self.sigma_end = check_real(sigma_end, "sigma_end", who, 0, low_open=True)
        self.seed = seed
        r, c = np.divmod(np.arange(self.rows * self.cols), self.cols)
        self.grid = np.stack([r, c], 1)
        self.grid_d2 = _sq_dist(self.grid.astype(np.float64), self.grid.astype(np.float64))
        self.weight: np.ndarray | None = None
        self.history_: list[tuple[float, float]] = []

    def _X(self, X: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
        """(X checked, the weights), after fit."""
        if self.weight is None:
            raise RuntimeError(f"{who}: call fit first")
        return matrix(X, who, features=self.weight.shape[1]), self.weight

    def fit(self, X: Any, epochs: int = 20) -> SelfOrganizingMap:
        """Batch SOM training for ``epochs`` epochs (sigma decays from sigma_start to
        sigma_end). Returns self."""
        who = "SelfOrganizingMap.fit"
        X = matrix(X, who)
        epochs = check_int(epochs, "epochs", who)
        rng = np.random.default_rng(self.seed)
        k = self.rows * self.cols
        weight = X[rng.choice(len(X), k, replace=len(X) < k)].copy()
        ratio = self.sigma_end / self.sigma_start
        self.history_ = []
        for t in range(epochs):
            sigma = self.sigma_start * ratio ** (t / max(epochs - 1, 1))
            bmu = _sq_dist(X, weight).argmin(1)
            H = np.exp(-self.grid_d2[bmu] / (2 * sigma ** 2))       # (N, K)
            mass = H.sum(0)
            # a unit no sample reaches keeps its weights
            weight = np.where(mass[:, None] > 1e-12,
                              (H.T @ X) / np.maximum(mass, 1e-300)[:, None], weight)
            self.weight = weight
            self.history_.append((sigma, self.quantization_error(X)))
        return self

    def bmu(self, X: Any) -> np.ndarray:
        """Index of the best-matching unit of each sample, (N,)."""
        X, W = self._X(X, "SelfOrganizingMap.bmu")
        return _sq_dist(X, W).argmin(1)

    def quantization_error(self, X: Any) -> float:
        """Mean Euclidean distance of the samples to their best-matching units."""
        X, W = self._X(X, "SelfOrganizingMap.quantization_error")
        return float(np.sqrt(_sq_dist(X, W).min(1)).mean())

    def topographic_error(self, X: Any) -> float:
        """Fraction of samples whose two best-matching units are not grid neighbours
        (Chebyshev distance 1 on the grid)."""
        X, W = self._X(X, "SelfOrganizingMap.topographic_error")
        two = np.argsort(_sq_dist(X, W), axis=1)[:, :2]
        gap = np.abs(self.grid[two[:, 0]] - self.grid[two[:, 1]]).max(1)
        return float((gap > 1).mean())

    def label_map(self, X: Any, y: Any) -> np.ndarray:
        """The majority class of the samples mapped to each unit, (rows, cols); -1 for a
        unit no sample maps to."""
        b = self.bmu(X)
        t = labels(y, len(b), "SelfOrganizingMap.label_map")
        k, c = self.rows * self.cols, int(t.max()) + 1
        counts = np.zeros((k, c), dtype=np.int64)
        np.add.at(counts, (b, t), 1)
        out = np.where(counts.sum(1) > 0, counts.argmax(1), -1)
        return out.reshape(self.rows, self.cols)
