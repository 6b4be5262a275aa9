"""Curves of a training run: loss and metrics per epoch, per training stage, per step.

Every function returns a matplotlib Figure (no pyplot state to close) and writes it to
``path`` when one is given (PNG, SVG or PDF by suffix).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import figure, save

if TYPE_CHECKING:  # annotations only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from glassnet._typing import PathLike
    from glassnet.training.history import History


__all__ = ["plot_learning_curves", "plot_stage_losses", "plot_text_curves"]


def _history_dict(history: History | dict[str, Any],
                  who: str = "plot_learning_curves") -> dict[str, list[Any]]:
    """The name -> list dict of a History, of its ``to_dict()`` form, or of a plain dict."""
    if isinstance(history, dict):
        inner = history.get("history")
        return inner if isinstance(inner, dict) else history
    h = getattr(history, "history", None)
    if isinstance(h, dict):
        return h
    raise TypeError(f"{who}: expected a History or a dict name -> list, got "
                    f"{type(history).__name__}")


def _values(v: Iterable[float | None]) -> np.ndarray:
    """Floats, NaN where an epoch has no value (None: e.g. no validation that epoch)."""
    return np.array([np.nan if u is None else u for u in v], dtype=float)


def _line(ax: Axes, x: np.ndarray, y: Sequence[float] | np.ndarray, label: str,
          marker: str) -> None:
    # markers help to read a few points; on long runs they only hide the line
    ax.plot(x, y, "-", marker=marker if len(y) < 40 else None, ms=3, label=label)
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs and steps are whole


def plot_learning_curves(history: History | dict[str, Any], path: PathLike | None = None,
                         title: str | None = None) -> Figure:
    """Loss and every metric per epoch, training beside validation (one panel each).

    ``history`` is a ``History`` (``trainer.fit``'s result) or a dict name -> list. A
    dotted line marks the best validation epoch (lowest loss, highest other metric).

    >>> hist = trainer.fit((X, y), validation=(Xv, yv), epochs=20)  # doctest: +SKIP
    >>> plot_learning_curves(hist, "learning_curves.png")  # doctest: +SKIP
    """
    h = _history_dict(history)
    skip = {"lr", "time"}
    bases = [k for k in h if not k.startswith("val_") and k not in skip and
             any(v is not None for v in h[k])]
    bases += [k[4:] for k in h if k.startswith("val_") and k[4:] not in h]
    if not bases:
        raise ValueError(f"plot_learning_curves: nothing to plot in {sorted(h)}")
    fig = figure(figsize=(4.8 * len(bases), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(bases)))
    for ax, k in zip(axes, bases):
        if k in h:
            tr = _values(h[k])
            _line(ax, np.arange(1, len(tr) + 1), tr, "train", "o")
        if f"val_{k}" in h:
            va = _values(h[f"val_{k}"])
            _line(ax, np.arange(1, len(va) + 1), va, "validation", "s")
            if np.isfinite(va).any():
                best = int(np.nanargmin(va) if "loss" in k else np.nanargmax(va))
                ax.axvline(best + 1, color="gray", ls=":", lw=1)
        _epoch_panel(ax, k, k)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def _epoch_panel(ax: Axes, ylabel: str, title: str, **title_kw: Any) -> None:
    """Label, grid and legend of a per-epoch curve panel."""
    ax.set_title(title, **title_kw)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def plot_stage_losses(stages: Iterable[tuple[str, History | dict[str, Any]]],
                      path: PathLike | None = None, train_label: str = "train",
                      val_label: str = "validation", ylabel: str = "loss",
                      title: str | None = None) -> Figure:
    """The loss per epoch of each stage of a training, one panel per stage.

    ``stages`` is a sequence of ``(name, history)`` pairs, e.g. the greedy layer-wise
    pre-training levels of a stacked autoencoder followed by its fine-tuning; each
    history is a ``History`` or a dict with ``loss`` (and optionally ``val_loss``).

    >>> hists = stacked.pretrain(X, epochs=10)  # doctest: +SKIP
    >>> plot_stage_losses([(f"level {k + 1}", h) for k, h in enumerate(hists)],
    ...                   "stages.png")  # doctest: +SKIP
    """
    stages = list(stages)
    if not stages:
        raise ValueError("plot_stage_losses: no stages to plot")
    fig = figure(figsize=(4.5 * len(stages), 3.4))
    axes = np.atleast_1d(fig.subplots(1, len(stages)))
    for ax, (name, history) in zip(axes, stages):
        h = _history_dict(history, "plot_stage_losses")
        if "loss" not in h:
            raise ValueError(f"plot_stage_losses: stage {name!r} has no 'loss' (it has "
                             f"{sorted(h)})")
        tr = _values(h["loss"])
        _line(ax, np.arange(1, len(tr) + 1), tr, train_label, "o")
        va = _values(h.get("val_loss", []))
        if np.isfinite(va).any():
            _line(ax, np.arange(1, len(va) + 1), va, val_label, "s")
        _epoch_panel(ax, ylabel, name, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path, dpi=90)


def plot_text_curves(history: History | dict[str, Any], path: PathLike | None = None,
                     title: str | None = None) -> Figure:
    """A language model's loss in nats per character, training and validation.

    Drawn against the step when the run evaluated inside epochs (``CharLM.fit_text``
    with ``eval_every`` fills ``history.params["steps"]``), else against the epoch.
    exp(loss) is the perplexity.

    >>> hist = lm.fit_text(text, epochs=2, eval_every=100)  # doctest: +SKIP
    >>> plot_text_curves(hist, "learning_curve.png")  # doctest: +SKIP
    """
    h = _history_dict(history, "plot_text_curves")
    params = getattr(history, "params", None)
    if params is None and isinstance(history, dict):
        params = history.get("params")
    steps = (params or {}).get("steps") or []
    if steps:
        x = np.array([p["step"] for p in steps])
        train = _values([p.get("loss") for p in steps])
        val = _values([p.get("val_loss") for p in steps])
        xlabel = "step"
    else:
        if "loss" not in h:
            raise ValueError(f"plot_text_curves: nothing to plot in {sorted(h)}")
        train = _values(h["loss"])
        val = _values(h.get("val_loss", []))
        x = np.arange(1, len(train) + 1)
        xlabel = "epoch"
    fig = figure(figsize=(6, 3.5))
    ax = fig.subplots()
    _line(ax, x, train, "train", "o")
    if np.isfinite(val).any():
        _line(ax, x[:len(val)], val, "validation", "s")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss (nats / character)")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save(fig, path, dpi=90)
