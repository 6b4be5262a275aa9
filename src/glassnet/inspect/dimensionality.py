"""The curse of dimensionality, measured: distances concentrate as the dimension grows.

For a query point q and n data points, let D_min, D_mean and D_max be the smallest, the
mean and the largest distance from q to the data. Two contrasts tell how much "nearest"
still means:

* relative contrast (D_max - D_min) / D_min (Beyer et al. 1999; Aggarwal, Hinneburg &
  Keim 2001): for independent coordinates it tends to 0 as the dimension d grows; for the
  L2 distance it shrinks like 1/sqrt(d), for the L_p distance like d^(1/p - 1/2) / d^(1/p),
  i.e. like 1/sqrt(d) for every finite p (D_max - D_min grows like d^(1/p - 1/2) while D_min
  grows like d^(1/p));
* nearest-neighbour contrast D_mean / D_min (He, Kumar & Chang 2012): tends to 1, the
  nearest neighbour is hardly nearer than an average point.

:func:`distance_concentration` measures both for a data set, :func:`concentration_curve`
for random data of growing dimension, and :func:`plot_concentration` draws the curve.

>>> curve = concentration_curve([2, 1000], n_samples=200, seed=0)
>>> bool(curve["relative_contrast"][0] > 10 * curve["relative_contrast"][1])
True
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ArgumentError
from ._common import figure, save

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike

__all__ = ["pairwise_distances", "distance_concentration", "concentration_curve",
           "plot_concentration"]

_P = {"l1": 1.0, "l2": 2.0, "linf": np.inf}


def _order(p: Any) -> float:
    if isinstance(p, str):
        if p.lower() not in _P:
            raise ArgumentError(f"p must be a number >= 1 or one of {sorted(_P)}, got {p!r}")
        return _P[p.lower()]
    q = float(p)
    if not q >= 1:
        raise ArgumentError(f"p must be >= 1 (an L_p norm), got {p!r}")
    return q


def pairwise_distances(A: Any, B: Any, p: Any = 2, chunk: int = 64) -> np.ndarray:
    """L_p distances between the rows of A (m, d) and B (n, d), shape (m, n), float64.

    L2 uses |a|^2 - 2 a.b + |b|^2 (one matrix product); other p broadcast over chunks of
    ``chunk`` rows of A, so memory stays at chunk * n * d numbers.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ArgumentError(f"pairwise_distances: A and B must be (m, d) and (n, d), got "
                            f"{A.shape} and {B.shape}")
    q = _order(p)
    if q == 2.0:
        d2 = (A * A).sum(1)[:, None] - 2.0 * A @ B.T + (B * B).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0.0))
    out = np.empty((len(A), len(B)))
    for s in range(0, len(A), chunk):           # chunks of query rows, not single samples
        diff = np.abs(A[s:s + chunk, None, :] - B[None, :, :])
        if q == np.inf:
            out[s:s + chunk] = diff.max(-1)
        elif q == 1.0:
            out[s:s + chunk] = diff.sum(-1)
        else:
            out[s:s + chunk] = (diff ** q).sum(-1) ** (1.0 / q)
    return out


def distance_concentration(X: Any, queries: Any = None, p: Any = 2,
                           n_queries: int = 50, seed: int | None = 0) -> dict[str, float]:
    """How concentrated the distances from query points to the rows of X are.

    ``queries`` (m, d) default to ``n_queries`` rows of X taken out of the data (each
    query's distances go to the remaining rows). Returns the means over the queries of
    ``relative_contrast`` (D_max - D_min) / D_min, ``nn_contrast`` D_mean / D_min and
    ``cv`` (std / mean of the distances), and ``d_min``, ``d_mean``, ``d_max``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ArgumentError(f"distance_concentration: X must be (n_samples >= 2, d), got "
                            f"shape {X.shape}")
    if queries is None:
        m = int(n_queries)
        if not 1 <= m < len(X):
            raise ArgumentError(f"distance_concentration: n_queries must be in 1..{len(X) - 1}"
                                f" (fewer than the {len(X)} samples), got {n_queries}")
        order = np.random.default_rng(seed).permutation(len(X))
        Q, data = X[order[:m]], X[order[m:]]
    else:
        Q, data = np.asarray(queries, dtype=np.float64), X
    D = pairwise_distances(Q, data, p)
    d_min, d_mean, d_max = D.min(1), D.mean(1), D.max(1)
    if (d_min <= 0).any():
        raise ArgumentError("distance_concentration: a query coincides with a data point "
                            "(D_min = 0), the contrasts are infinite")
    return {"relative_contrast": float(np.mean((d_max - d_min) / d_min)),
            "nn_contrast": float(np.mean(d_mean / d_min)),
            "cv": float(np.mean(D.std(1) / d_mean)),
            "d_min": float(d_min.mean()), "d_mean": float(d_mean.mean()),
            "d_max": float(d_max.mean())}


def concentration_curve(dims: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
                        n_samples: int = 1000, distribution: str = "uniform", p: Any = 2,
                        n_queries: int = 50, seed: int | None = 0) -> dict[str, np.ndarray]:
    """:func:`distance_concentration` of ``n_samples`` random points for each dimension.

    ``distribution`` is "uniform" (the unit cube [0, 1]^d) or "gaussian" (standard
    normal). Returns arrays over ``dims``: ``dims`` and every key of
    :func:`distance_concentration`.
    """
    if distribution not in ("uniform", "gaussian"):
        raise ArgumentError(f"concentration_curve: distribution must be 'uniform' or "
                            f"'gaussian', got {distribution!r}")
    dims_arr = np.asarray(dims, dtype=int)
    if dims_arr.ndim != 1 or dims_arr.size == 0 or (dims_arr < 1).any():
        raise ArgumentError(f"concentration_curve: dims must be a list of positive integers, "
                            f"got {dims!r}")
    rng = np.random.default_rng(seed)
    rows = []
    for d in dims_arr:               # one data set per dimension
        size = (int(n_samples) + int(n_queries), int(d))
        X = rng.random(size) if distribution == "uniform" else rng.standard_normal(size)
        rows.append(distance_concentration(X[n_queries:], X[:n_queries], p))
    out = {"dims": dims_arr}
    for key in rows[0]:
        out[key] = np.array([r[key] for r in rows])
    return out


def plot_concentration(curves: dict[str, dict[str, np.ndarray]],
                       path: PathLike | None = None, title: str | None = None) -> Any:
    """Two panels against the dimension (log-log): the relative contrast
    (D_max - D_min) / D_min with a 1/sqrt(d) guide, and the nearest-neighbour contrast
    D_mean / D_min - 1. ``curves`` maps a label ("uniform, L2") to a
    :func:`concentration_curve` result."""
    if not curves:
        raise ArgumentError("plot_concentration: curves is empty")
    fig = figure(figsize=(10, 4))
    ax0, ax1 = fig.subplots(1, 2)
    for label, c in curves.items():
        ax0.loglog(c["dims"], c["relative_contrast"], "o-", label=label, ms=4)
        ax1.loglog(c["dims"], c["nn_contrast"] - 1.0, "o-", label=label, ms=4)
    first = next(iter(curves.values()))
    d = first["dims"].astype(float)
    big = d >= max(16.0, d.max() / 16)
    if big.any():   # a 1/sqrt(d) line through the first curve's largest dimensions
        k = np.exp(np.mean(np.log(first["relative_contrast"][big]) + 0.5 * np.log(d[big])))
        ax0.loglog(d, k / np.sqrt(d), "k--", lw=1, label=r"$\propto 1/\sqrt{d}$")
    ax0.set_xlabel("dimension d")
    ax0.set_ylabel(r"$(D_{max} - D_{min}) / D_{min}$")
    ax0.set_title("relative contrast of distances")
    ax1.set_xlabel("dimension d")
    ax1.set_ylabel(r"$D_{mean} / D_{min} - 1$")
    ax1.set_title("how much nearer the nearest neighbour is")
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig if path is None else save(fig, path)
