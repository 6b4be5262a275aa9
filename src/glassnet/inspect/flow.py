"""Gradient flow and activation health, recorded during training by callbacks.

``GradientFlow`` records, per layer, the norm and mean absolute value of the weight
gradient ∂E/∂W and of δ = ∂E/∂z (the gradient arriving at the layer's output);
``ActivationStats`` records each activation's mean, standard deviation, the fraction of
saturated sigmoid/tanh units and of dead ReLUs. Both work per epoch (averaging the
batches of every ``every``-th epoch) or every ``every`` steps (one batch each).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import is_grad_enabled
from ..autograd.tensor import Tensor
from ..training.callbacks import Callback
from ..validation import check_choice, check_int
from ._common import (BOUNDS, figure, is_activation, is_layer, is_relu_like, kind, layer_weight,
                      log_panel, save)

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    import numpy.typing as npt
    from collections.abc import Callable, Iterable

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from glassnet._typing import PathLike
    from glassnet.nn.module import Module, RemovableHandle
    from glassnet.training.trainer import Trainer


__all__ = ["GradientFlow", "ActivationStats", "plot_gradient_flow", "plot_activation_stats"]


class _Recorder(Callback):
    """Shared bookkeeping: when to record, epoch averaging, the record list."""

    metrics: tuple[str, ...] = ()
    # layer -> [extra fields, sums of the metrics, number of batches] of the epoch
    _acc: dict[str, list[Any]]

    def __init__(self, every: int = 1, unit: str = "epoch") -> None:
        who = type(self).__name__
        self.every = check_int(every, "every", who)
        self.unit = check_choice(unit, "unit", who, ("epoch", "step"))
        self.records: list[dict[str, Any]] = []
        self.global_step = 0
        self._handles: list[RemovableHandle] = []
        self._active = False
        self._epoch = 0

    # -- hooks management
    def _remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def on_train_end(self, trainer: Trainer) -> None:
        self._remove()
        self._active = False

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self._epoch = epoch
        self._acc = {}

    def on_batch_begin(self, trainer: Trainer, step: int) -> None:
        if self.unit == "epoch":
            self._active = self._epoch % self.every == 0
        else:
            self._active = self.global_step % self.every == 0

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        self._active = False
        self.global_step += 1

    def _add(self, layer: str, extra: dict[str, Any], values: dict[str, float | None]) -> None:
        """Record ``values`` (dict metric -> float or None) now, or add them to the epoch mean."""
        if self.unit == "step":
            self.records.append(dict({"epoch": self._epoch, "step": self.global_step,
                                      "layer": layer}, **extra, **values))
            return
        acc = self._acc.setdefault(layer, [extra, {}, 0])
        for k, v in values.items():
            if v is not None:
                acc[1][k] = acc[1].get(k, 0.0) + v
        acc[2] += 1

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.unit != "epoch":
            return
        for layer, (extra, sums, n) in self._acc.items():
            vals = {k: (sums[k] / n if k in sums else None) for k in self.metrics}
            self.records.append(dict({"epoch": epoch, "step": self.global_step, "layer": layer},
                                     **extra, **vals))
        self._acc = {}

    # -- reading
    @property
    def layers(self) -> list[str]:
        """Layer names in the order they were first recorded (input side first)."""
        seen: list[str] = []
        for r in self.records:
            if r["layer"] not in seen:
                seen.append(r["layer"])
        return seen

    def series(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, values)``: x the epochs (or global steps), values shape (T, n_layers)."""
        check_choice(metric, "metric", f"{type(self).__name__}.series", self.metrics)
        key = "epoch" if self.unit == "epoch" else "step"
        xs = sorted({r[key] for r in self.records})
        layers = self.layers
        pos = {x: i for i, x in enumerate(xs)}
        col = {n: j for j, n in enumerate(layers)}
        out = np.full((len(xs), len(layers)), np.nan)
        for r in self.records:
            v = r.get(metric)
            if v is not None:
                out[pos[r[key]], col[r["layer"]]] = v
        return np.asarray(xs), out

    def last(self) -> dict[str, dict[str, Any]]:
        """{layer: the latest record}."""
        return {r["layer"]: r for r in self.records}

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "every": self.every, "records": list(self.records)}

    def table(self) -> str:
        """The latest record of every layer as plain text."""
        last = self.last()
        if not last:
            return f"{type(self).__name__}: nothing recorded yet"
        cols = list(self.metrics)
        w = max(12, max(len(n) for n in last) + 2)
        lines = [f"{'layer':<{w}}" + "".join(f"{c:>22}" for c in cols)]
        for name, r in last.items():
            cells = []
            for c in cols:
                v = r.get(c)
                cells.append(f"{'-':>22}" if v is None else f"{v:>22.6g}")
            lines.append(f"{name:<{w}}" + "".join(cells))
        return "\n".join(lines)

    __str__ = table


class GradientFlow(_Recorder):
    """Per layer: ||∂E/∂W||, mean |∂E/∂W|, ||δ|| and mean |δ| over training.

    A layer is a module owning a weight matrix or kernel (Linear, Conv, recurrent
    layers); δ = ∂E/∂z is the gradient at the layer's output z (for the whole batch).

    Parameters
    ----------
    every : int
        Record every ``every``-th epoch (averaged over its batches) or step.
    unit : {"epoch", "step"}
    layers : list of str, optional
        Module names to watch (default: every layer).

    Example
    -------
    >>> flow = gn.inspect.GradientFlow()  # doctest: +SKIP
    >>> trainer.fit((X, y), epochs=5, callbacks=[flow]); print(flow)  # doctest: +SKIP
    >>> gn.inspect.plot_gradient_flow(flow, "flow.png")  # doctest: +SKIP
    """

    metrics = ("weight_grad_norm", "weight_grad_mean_abs", "delta_norm", "delta_mean_abs")

    def __init__(self, every: int = 1, unit: str = "epoch",
                 layers: Iterable[str] | None = None) -> None:
        super().__init__(every, unit)
        self.layer_names = None if layers is None else list(layers)
        self._outs: dict[str, list[Tensor]] = {}

    def on_train_begin(self, trainer: Trainer) -> None:
        self._remove()
        self._watch: list[tuple[str, Module]] = []
        for name, m in trainer.model.named_modules():
            if is_layer(m) and (self.layer_names is None or name in self.layer_names):
                name = name or type(m).__name__
                self._watch.append((name, m))
                self._handles.append(m.register_forward_hook(self._hook(name)))
        if self.layer_names is not None:
            missing = set(self.layer_names) - {n for n, _ in self._watch}
            if missing:
                layers = [n for n, m in trainer.model.named_modules() if is_layer(m)]
                raise ValueError(f"GradientFlow: no layer named {sorted(missing)} in the model; "
                                 f"layers are {layers}")

    def _hook(self, name: str) -> Callable[[Module, tuple[Any, ...], Any], None]:
        def hook(module: Module, args: tuple[Any, ...], out: Any) -> None:
            if not self._active or not is_grad_enabled():
                return
            t = out[0] if isinstance(out, tuple) else out
            if isinstance(t, Tensor) and t.requires_grad:
                t.retain_grad()
                self._outs.setdefault(name, []).append(t)
        return hook

    def on_batch_begin(self, trainer: Trainer, step: int) -> None:
        super().on_batch_begin(trainer, step)
        self._outs = {}

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        if not self._active:
            return
        for name, m in self._watch:
            w = layer_weight(m)
            g = None if w is None or w.grad is None else w.grad._data
            vals: dict[str, float | None] = {"weight_grad_norm": None,
                                             "weight_grad_mean_abs": None,
                                             "delta_norm": None, "delta_mean_abs": None}
            if g is not None:
                vals["weight_grad_norm"] = float(np.sqrt(np.vdot(g, g).real))
                vals["weight_grad_mean_abs"] = float(np.abs(g).mean())
            ds = [t.grad._data for t in self._outs.get(name, ())
                  if t.grad is not None]
            if ds:
                sq = sum(float(np.vdot(d, d).real) for d in ds)
                vals["delta_norm"] = float(np.sqrt(sq))
                vals["delta_mean_abs"] = float(sum(np.abs(d).sum() for d in ds)
                                               / sum(d.size for d in ds))
            self._add(name, {"module": type(m).__name__}, vals)
        self._outs = {}


class ActivationStats(_Recorder):
    """Per activation layer: mean, std, saturated fraction and dead-ReLU fraction.

    * saturated: fraction of outputs within ``tol`` of the bounds of a sigmoid (0, 1) or
      tanh / softsign (-1, 1), where the derivative has all but vanished;
    * dead: for ReLU-like units, the fraction of units whose output is <= 0 for every
      sample of the batch (they pass no gradient for that batch).

    Any other activation module (including user-defined ones: a leaf module that keeps
    its input's shape) gets mean and std only.
    """

    metrics = ("mean", "std", "saturated", "dead")

    def __init__(self, every: int = 1, unit: str = "epoch", tol: float = 0.01) -> None:
        super().__init__(every, unit)
        self.tol = float(tol)
        self._is_act: dict[int, bool] = {}

    def on_train_begin(self, trainer: Trainer) -> None:
        self._remove()
        for name, m in trainer.model.named_modules():
            if not m._modules:
                self._handles.append(m.register_forward_hook(self._hook(
                    name or type(m).__name__)))

    def _hook(self, name: str) -> Callable[[Module, tuple[Any, ...], Any], None]:
        def hook(module: Module, args: tuple[Any, ...], out: Any) -> None:
            if not self._active or not args:
                return
            x = args[0]
            if not isinstance(out, Tensor) or not isinstance(x, Tensor):
                return
            key = id(module)
            if key not in self._is_act:
                self._is_act[key] = is_activation(module, x.shape, out.shape)
            if not self._is_act[key]:
                return
            self._add(name, {"activation": type(module).__name__},
                      self.stats(module, out._data))
        return hook

    def stats(self, module: Module, a: npt.ArrayLike) -> dict[str, float | None]:
        """The statistics of one activation output ``a`` (batch first)."""
        a = np.asarray(a)
        vals: dict[str, float | None] = {"mean": float(a.mean()), "std": float(a.std()),
                                         "saturated": None, "dead": None}
        k = kind(module)
        if k in BOUNDS:
            lo, hi = BOUNDS[k]
            vals["saturated"] = float(np.mean((a <= lo + self.tol) | (a >= hi - self.tol)))
        if is_relu_like(module) and a.ndim >= 1 and len(a):
            vals["dead"] = float(np.mean(np.all(a.reshape(len(a), -1) <= 0, axis=0)))
        return vals


# ------------------------------------------------------------------ pictures
def _colors(n: int, cmap: str = "viridis") -> np.ndarray:
    """``n`` colours spread along the colour map ``cmap``."""
    from matplotlib import colormaps
    return colormaps[cmap](np.linspace(0.05, 0.9, max(n, 1)))


def _two_panels(recorder: _Recorder, who: str) -> tuple[Figure, Axes, Axes]:
    """``(fig, left, right)``: a wide figure of two panels for a recorder's picture
    (ValueError when it recorded nothing)."""
    if not recorder.records:
        raise ValueError(f"{who}: nothing recorded (was the callback passed to fit?)")
    fig = figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    return fig, ax1, ax2


def plot_gradient_flow(flow: GradientFlow, path: PathLike | None = None,
                       title: str = "Gradient flow") -> Figure:
    """Two panels: ||∂E/∂W|| of every layer over training (log scale), and the profile
    over depth (first and last record, weight gradients solid, δ dashed).

    Returns the matplotlib Figure (also written to ``path`` when given).
    """
    fig, ax1, ax2 = _two_panels(flow, "plot_gradient_flow")
    x, W = flow.series("weight_grad_norm")
    _, D = flow.series("delta_norm")
    layers = flow.layers
    cols = _colors(len(layers))
    for j, name in enumerate(layers):
        ax1.plot(x, W[:, j], color=cols[j], marker="o" if len(x) < 30 else None, ms=3,
                 label=name)
    log_panel(ax1, flow.unit, "||dE/dW||", f"{title}: weight-gradient norm per layer",
              dict(fontsize=7, ncol=2 if len(layers) > 6 else 1, title="layer",
                   title_fontsize=7))
    idx = np.arange(1, len(layers) + 1)
    ax2.plot(idx, W[0], "o-", color="tab:blue", label=f"dE/dW, {flow.unit} {x[0]}")
    ax2.plot(idx, W[-1], "s-", color="tab:red", label=f"dE/dW, {flow.unit} {x[-1]}")
    if np.isfinite(D).any():
        ax2.plot(idx, D[0], "o--", color="tab:blue", alpha=0.6, label="delta, first")
        ax2.plot(idx, D[-1], "s--", color="tab:red", alpha=0.6, label="delta, last")
    ax2.set_xticks(idx)
    ax2.set_xticklabels(layers, rotation=45, ha="right", fontsize=7)
    log_panel(ax2, "layer (input side left)", "norm", "profile over depth", dict(fontsize=7))
    fig.tight_layout()
    return save(fig, path)


def plot_activation_stats(stats: ActivationStats, path: PathLike | None = None,
                          title: str = "Activation statistics") -> Figure:
    """Per activation layer over training: mean ± std, and the saturated / dead fractions.

    Returns the matplotlib Figure (also written to ``path`` when given).
    """
    fig, ax1, ax2 = _two_panels(stats, "plot_activation_stats")
    x, M = stats.series("mean")
    _, S = stats.series("std")
    _, SAT = stats.series("saturated")
    _, DEAD = stats.series("dead")
    layers = stats.layers
    acts = {r["layer"]: r["activation"] for r in stats.records}
    cols = _colors(len(layers), "plasma")
    for j, name in enumerate(layers):
        lab = f"{name} ({acts[name]})"
        ax1.plot(x, M[:, j], color=cols[j], label=lab)
        ax1.fill_between(x, M[:, j] - S[:, j], M[:, j] + S[:, j], color=cols[j], alpha=0.12)
        if np.isfinite(SAT[:, j]).any():
            ax2.plot(x, SAT[:, j], color=cols[j], label=f"{lab} saturated")
        if np.isfinite(DEAD[:, j]).any():
            ax2.plot(x, DEAD[:, j], "--", color=cols[j], label=f"{lab} dead")
    ax1.set_xlabel(stats.unit)
    ax1.set_ylabel("activation mean (band: ± std)")
    ax1.set_title(title)
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    ax2.set_xlabel(stats.unit)
    ax2.set_ylabel("fraction of units")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_title(f"saturated (within {stats.tol} of a bound) / dead ReLU")
    if ax2.lines:
        ax2.legend(fontsize=7)
    else:
        ax2.text(0.5, 0.5, "no sigmoid, tanh or ReLU layers", ha="center",
                 transform=ax2.transAxes)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, path)
