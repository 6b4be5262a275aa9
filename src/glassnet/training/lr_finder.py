"""``LRFinder``: the learning-rate range test (Smith 2015, "Cyclical Learning Rates for
Training Neural Networks", section 3.3; as fastai's ``lr_find`` and pytorch-lr-finder).

Train for up to ``num_iter`` batches while the learning rate grows from ``start_lr`` to
``end_lr``, exponentially (``lr_i = start * (end / start) ** (i / (num_iter - 1))``) or
linearly; record the loss of every batch and its exponential moving average
``s_i = smooth_f * loss_i + (1 - smooth_f) * s_(i-1)`` (pytorch-lr-finder's smoothing,
``s_0 = loss_0``); stop early once ``s_i > diverge_th * min(s)`` (the loss diverged) or
the loss is not finite. Then put the model, the optimizer, the trainer and glassnet's
random generator back exactly as they were, so the test leaves no trace on the run that
follows. :meth:`LRFinder.suggestion` is the learning rate where the smoothed loss falls
fastest (the most negative ``np.gradient`` of it, skipping the first and last batches),
:meth:`LRFinder.plot` draws loss against learning rate.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..data import DataLoader
from ..errors import ArgumentError, ArgumentTypeError, NonFiniteError
from ..validation import check_choice, check_int, check_real
from . import _fitargs, _state
from .callbacks import CallbackList
from .trainer import Trainer, _dataset, _is_batches, _unpack, _weighted

__all__ = ["LRFinder"]


class LRFinder:
    """The learning-rate range test on a :class:`~glassnet.training.Trainer`.

    Parameters
    ----------
    trainer : Trainer
        Its model, loss, optimizer, regularizers and clipping are used as ``fit`` uses
        them (through ``trainer.train_step``); all of them are restored afterwards.

    Attributes
    ----------
    history : dict
        ``{"lr": [...], "loss": [...] (smoothed), "raw_loss": [...]}``, one entry per
        batch run; empty before :meth:`range_test`.
    stopped_early : bool
        Whether the loss diverged before ``num_iter`` batches.

    Examples
    --------
    >>> import numpy as np, glassnet as gn
    >>> from glassnet import nn, optim
    >>> from glassnet.training import LRFinder, Trainer
    >>> X, y = gn.data.load_digits()
    >>> _ = gn.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    >>> finder = LRFinder(trainer)
    >>> h = finder.range_test(X / 16.0, y, start_lr=1e-4, end_lr=10, num_iter=60, seed=0)
    >>> 1e-4 <= finder.suggestion() <= 10
    True
    """

    def __init__(self, trainer: Trainer) -> None:
        if not isinstance(trainer, Trainer):
            raise ArgumentTypeError(f"LRFinder: trainer must be a glassnet.training.Trainer, "
                                    f"got {type(trainer).__name__}")
        self.trainer = trainer
        self.history: dict[str, list[float]] = {"lr": [], "loss": [], "raw_loss": []}
        self.stopped_early = False
        self.best_loss: float | None = None

    # ------------------------------------------------------------------ the test
    def _batches(self, x: Any, y: Any, batch_size: int, seed: int | None) -> Any:
        who = "LRFinder.range_test"
        if y is not None:
            return DataLoader(_fitargs.keras_xy(x, y, who), batch_size=batch_size,
                              shuffle=True, seed=seed)
        if _is_batches(x) or isinstance(x, DataLoader):
            return x
        return DataLoader(_dataset(x, who, "x"), batch_size=batch_size, shuffle=True,
                          seed=seed)

    def range_test(self, x: Any, y: Any = None, *, start_lr: float | None = None,
                   end_lr: float = 10.0, num_iter: int = 100, step_mode: str = "exp",
                   smooth_f: float = 0.05, diverge_th: float = 5.0, batch_size: int = 32,
                   seed: int | None = None) -> dict[str, list[float]]:
        """Run the range test; returns :attr:`history`.

        Parameters
        ----------
        x, y : the training data, as :meth:`Trainer.fit` takes it
            ``(X, y)`` arrays, ``X, y``, a Dataset, a DataLoader or batches; cycled
            through when it holds fewer than ``num_iter`` batches.
        start_lr : float, optional
            The first learning rate (default: the optimizer's current one).
        end_lr : float
            The last learning rate (reached at batch ``num_iter - 1``).
        num_iter : int
            At most this many batches (>= 2).
        step_mode : {"exp", "linear"}
            Exponential (Smith, fastai) or linear growth of the learning rate.
        smooth_f : float in [0, 1)
            The weight of the newest loss in the moving average (0: no smoothing).
        diverge_th : float > 1
            Stop once the smoothed loss exceeds ``diverge_th`` times its minimum.
        batch_size, seed :
            The batches of array data (shuffled, seeded).
        """
        who = "LRFinder.range_test"
        t = self.trainer
        num_iter = check_int(num_iter, "num_iter", who, min=2)
        step_mode = check_choice(step_mode, "step_mode", who, ("exp", "linear"))
        smooth_f = check_real(smooth_f, "smooth_f", who, 0, 1, high_open=True)
        diverge_th = check_real(diverge_th, "diverge_th", who, 1, low_open=True)
        groups = t.optimizer.param_groups
        if start_lr is None:
            start_lr = float(groups[0]["lr"])
        start_lr = check_real(start_lr, "start_lr", who, 0, low_open=True)
        end_lr = check_real(end_lr, "end_lr", who, 0, low_open=True)
        if end_lr <= start_lr:
            raise ArgumentError(f"{who}: end_lr ({end_lr:g}) must be larger than start_lr "
                                f"({start_lr:g})")
        batch_size = check_int(batch_size, "batch_size", who)
        # before the loader draws its seed from glassnet's generator: restored too
        snap = _state.snapshot(t)
        kept = {"_cbl": t._cbl, "last_batch": t.last_batch, "_class_weight":
                t._class_weight, "training": t.model.training}
        lrs: list[float] = []
        raw: list[float] = []
        smooth: list[float] = []
        self.stopped_early = False
        try:
            batches = self._batches(x, y, batch_size, seed)
            weighted = _weighted(batches)
            t._cbl = CallbackList()
            t._class_weight = None
            t.model.train()
            step = 0
            while step < num_iter:
                n_before = step
                t._reset_hook(True)      # a stateful forward (TruncatedBPTT) starts over
                for batch in batches:
                    frac = step / (num_iter - 1)
                    lr = start_lr * (end_lr / start_lr) ** frac if step_mode == "exp" \
                        else start_lr + frac * (end_lr - start_lr)
                    for g in groups:
                        g["lr"] = lr
                    xb, yb, wb = _unpack(batch, weighted)
                    try:
                        _, _, value = t.train_step(xb, yb, step, wb)
                    except NonFiniteError:
                        self.stopped_early = True
                        break
                    s = value if not smooth else smooth_f * value + (1 - smooth_f) * smooth[-1]
                    lrs.append(lr)
                    raw.append(value)
                    smooth.append(s)
                    step += 1
                    if not math.isfinite(s) or s > diverge_th * min(smooth):
                        self.stopped_early = True
                        break
                    if step >= num_iter:
                        break
                if self.stopped_early:
                    break
                if step == n_before:
                    raise ArgumentError(f"{who}: x yielded no batch")
        finally:
            _state.restore(t, snap)
            t._cbl, t.last_batch, t._class_weight = kept["_cbl"], kept["last_batch"], \
                kept["_class_weight"]
            t.model.train(kept["training"])
        self.history = {"lr": lrs, "loss": smooth, "raw_loss": raw}
        self.best_loss = min(smooth) if smooth else None
        return self.history

    # ------------------------------------------------------------------ reading it
    def _trimmed(self, skip_start: int, skip_end: int) -> tuple[np.ndarray, np.ndarray]:
        who = "LRFinder"
        if not self.history["lr"]:
            raise ArgumentError(f"{who}: run range_test first")
        skip_start = check_int(skip_start, "skip_start", who, min=0)
        skip_end = check_int(skip_end, "skip_end", who, min=0)
        lrs = np.asarray(self.history["lr"])
        losses = np.asarray(self.history["loss"])
        end = len(lrs) - skip_end
        if end - skip_start < 2:
            raise ArgumentError(f"{who}: the range test ran {len(lrs)} batches; skipping "
                                f"{skip_start} at the start and {skip_end} at the end leaves "
                                f"fewer than 2 (lower skip_start / skip_end, or raise num_iter "
                                f"or diverge_th)")
        return lrs[skip_start:end], losses[skip_start:end]

    def suggestion(self, skip_start: int = 10, skip_end: int = 5) -> float:
        """The learning rate of the steepest descent of the smoothed loss: where
        ``np.gradient(loss)`` (per batch) is most negative, the first ``skip_start``
        and the last ``skip_end`` batches left out (pytorch-lr-finder's suggestion)."""
        lrs, losses = self._trimmed(skip_start, skip_end)
        return float(lrs[int(np.argmin(np.gradient(losses)))])

    def plot(self, ax: Any = None, skip_start: int = 10, skip_end: int = 5,
             log_lr: bool = True, show_suggestion: bool = True) -> Any:
        """Draw the smoothed loss against the learning rate (log scale unless
        ``log_lr=False``) on ``ax`` (a new Figure's axes by default), with the
        suggested learning rate marked; returns the matplotlib Axes. Needs matplotlib
        (``pip install glassnet[plot]``)."""
        lrs, losses = self._trimmed(skip_start, skip_end)
        if ax is None:
            try:
                from matplotlib.figure import Figure
            except ImportError as e:
                raise ImportError("LRFinder.plot needs matplotlib: pip install "
                                  "'glassnet[plot]' (or pip install matplotlib)") from e
            ax = Figure(figsize=(6, 4)).add_subplot()
        ax.plot(lrs, losses, label="smoothed loss")
        if log_lr:
            ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        if show_suggestion:
            lr = self.suggestion(skip_start, skip_end)
            i = int(np.argmin(np.abs(lrs - lr)))
            ax.scatter([lr], [losses[i]], color="red", zorder=3,
                       label=f"steepest descent, lr {lr:.2g}")
        ax.legend()
        ax.set_title("learning-rate range test")
        return ax
