"""Attention between a source and a target sequence: the heat map, and how monotonic it is.

Like the other pictures, :func:`plot_attention` returns a matplotlib Figure (no pyplot
state) and writes it to ``path`` when one is given.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ArgumentError
from ._common import figure, save, to_numpy

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike

__all__ = ["plot_attention", "attention_monotonicity"]


def _weights(weights: Any, who: str) -> np.ndarray:
    w = np.asarray(to_numpy(weights), dtype=np.float64)
    if w.ndim != 2 or 0 in w.shape:
        raise ArgumentError(f"{who}: weights must be one (target length, source length) "
                            f"matrix, got shape {w.shape}")
    return w


def plot_attention(weights: Any, source: Sequence[str] | None = None,
                   target: Sequence[str] | None = None, path: PathLike | None = None,
                   title: str | None = None, ax: Any = None) -> Any:
    """Heat map of attention weights: row t is what target token t looked at, column s a
    source token; darker is more weight (each row sums to 1 for a softmax attention).

    ``weights`` is (T, S) (a Tensor or array); ``source`` and ``target`` label the columns
    and rows (S and T strings; by default their indices). Draws on ``ax`` when given.

    >>> w = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> fig = plot_attention(w, ["a", "b"], ["A", "B"])
    >>> len(fig.axes) >= 1
    True
    """
    who = "plot_attention"
    w = _weights(weights, who)
    T, S = w.shape
    src = [str(s) for s in (source if source is not None else range(S))]
    tgt = [str(t) for t in (target if target is not None else range(T))]
    if len(src) != S or len(tgt) != T:
        raise ArgumentError(f"{who}: {len(src)} source and {len(tgt)} target labels for "
                            f"weights of shape {w.shape} (target, source)")
    if ax is None:
        fig = figure(figsize=(max(3.0, 0.35 * S + 1.5), max(2.5, 0.35 * T + 1.0)))
        ax = fig.subplots()
    else:
        fig = ax.figure
    im = ax.imshow(w, cmap="Blues", vmin=0.0, vmax=max(1.0, float(w.max())),
                   interpolation="nearest", aspect="auto")
    ax.set_xticks(range(S), src, fontsize=8)
    ax.set_yticks(range(T), tgt, fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    ax.tick_params(length=0)
    ax.set_title(title or "attention weights", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return save(fig, path)


def attention_monotonicity(weights: Any, reverse: bool = False) -> float:
    """Fraction of consecutive target steps whose most-attended source position does not
    move backwards (forwards with ``reverse``): 1.0 for an alignment that reads the source
    in order, as in translating dates between formats that keep the order of the fields.

    >>> attention_monotonicity(np.eye(4))
    1.0
    >>> attention_monotonicity(np.eye(4)[::-1], reverse=True)
    1.0
    """
    w = _weights(weights, "attention_monotonicity")
    if w.shape[0] < 2:
        return 1.0
    step = np.diff(w.argmax(axis=1))
    return float(np.mean(step <= 0 if reverse else step >= 0))
