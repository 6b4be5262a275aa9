"""The episode-return curve of a reinforcement-learning run (``glassnet.rl``).

Returns a matplotlib Figure (no pyplot state) and writes it to ``path`` when one is given.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import figure, save

if TYPE_CHECKING:  # annotations only
    from matplotlib.figure import Figure

    from glassnet._typing import PathLike
    from glassnet.training.history import History

__all__ = ["plot_episode_returns"]


def moving_average(values: Any, window: int) -> np.ndarray:
    """The mean of the last ``window`` values at each position (fewer at the start).

    >>> moving_average([1, 2, 3, 4], 2).tolist()
    [1.0, 1.5, 2.5, 3.5]
    """
    v = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"moving_average: window must be >= 1, got {window}")
    c = np.concatenate([[0.0], np.cumsum(v)])
    i = np.arange(1, len(v) + 1)
    lo = np.maximum(0, i - window)
    return (c[i] - c[lo]) / (i - lo)


def _parts(history: History | dict[str, Any]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    if isinstance(history, dict):
        cols = history.get("history", history)
        return cols, history.get("params", {}) or {}
    cols = getattr(history, "history", None)
    if not isinstance(cols, dict):
        raise TypeError(f"plot_episode_returns: expected a History or its to_dict() form, "
                        f"got {type(history).__name__}")
    return cols, getattr(history, "params", {}) or {}


def plot_episode_returns(history: History | dict[str, Any], path: PathLike | None = None,
                         window: int = 20, title: str | None = None,
                         solved: float | None = None) -> Figure:
    """Return of every training episode against the environment step at its end (faint),
    its moving average over ``window`` episodes, the greedy evaluations when the run made
    them (``history.params["evaluations"]``), and a dashed line at ``solved`` if given.

    ``history`` is what :meth:`glassnet.rl.DQNAgent.train` returns, or its ``to_dict()``.

    >>> hist = agent.train(env, 50_000, eval_every=5_000)             # doctest: +SKIP
    >>> plot_episode_returns(hist, "returns.png", solved=475)         # doctest: +SKIP
    """
    cols, params = _parts(history)
    if "return" not in cols:
        raise ValueError(f"plot_episode_returns: the history has no 'return' column "
                         f"(it has {sorted(cols)})")
    returns = np.array([np.nan if r is None else r for r in cols["return"]], dtype=float)
    steps = cols.get("env_steps")
    x = (np.array(steps, dtype=float) if steps is not None and len(steps) == len(returns)
         else np.arange(1, len(returns) + 1, dtype=float))
    xlabel = "environment step" if steps is not None else "episode"
    fig = figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    if len(returns):
        ax.plot(x, returns, "-", color="C0", alpha=0.3, lw=0.8, label="episode return")
        ax.plot(x, moving_average(returns, window), "-", color="C0", lw=2,
                label=f"mean of last {window} episodes")
    evals = params.get("evaluations") or []
    if evals:
        ex = np.array([e["env_steps"] for e in evals], dtype=float)
        ey = np.array([e["mean_return"] for e in evals], dtype=float)
        es = np.array([e.get("std_return", 0.0) for e in evals], dtype=float)
        ax.errorbar(ex, ey, yerr=es, fmt="o", color="C3", ms=4, capsize=2,
                    label="greedy evaluation (mean +- std)")
    if solved is not None:
        ax.axhline(solved, ls="--", color="gray", lw=1, label=f"solved ({solved:g})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("return")
    env_id = params.get("env_id")
    ax.set_title(title or (f"DQN on {env_id}" if env_id else "episode return"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return save(fig, path)
