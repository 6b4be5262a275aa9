"""Callbacks: code that runs at fixed points of ``Trainer.fit``.

Every hook is optional and receives the trainer, so a callback can read
``trainer.model``, ``trainer.optimizer``, ``trainer.history``, ``trainer.last_batch``
and stop training by setting ``trainer.stop_training = True`` (at the end of the current
step when set in a batch hook, of the epoch when set in ``on_epoch_end``). Per fit the
hooks run in the order

    on_train_begin
      on_epoch_begin
        on_batch_begin, on_after_backward, on_batch_end     (each step)
      on_epoch_end                                         (after validation)
    on_train_end

A callback with state that a resumed run needs (EarlyStopping's patience counter, ...)
returns it from ``state_dict()`` as JSON-able values and NumPy arrays; it is saved in
``Trainer.state_dict()`` and checkpoints and handed back to ``load_state_dict``.
"""
from __future__ import annotations

import math
import sys

from ..io import save, save_checkpoint
from ..validation import check_choice, check_int, check_real, lookup

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint",
           "ConvergenceCriterion", "ProgressBar", "LambdaCallback", "LRSchedulerCallback"]


class Callback:
    """Base class; override the hooks you need."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_begin(self, trainer, step):
        pass

    def on_after_backward(self, trainer, step):
        """Gradients are in ``p.grad``; the optimizer has not stepped yet."""

    def on_batch_end(self, trainer, step, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass

    def state_dict(self) -> dict:
        """What a resumed run needs of this callback (JSON-able values and arrays)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (called after ``on_train_begin`` of a resumed fit)."""


class CallbackList(Callback):
    """Calls each callback's hook in order."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be glassnet.training.Callback instances, got "
                                f"{type(cb).__name__}")
        self.wants_after_backward = any(
            type(cb).on_after_backward is not Callback.on_after_backward
            or "on_after_backward" in vars(cb) for cb in self.callbacks)

    def _call(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(*args)

    def on_train_begin(self, t):
        self._call("on_train_begin", t)

    def on_epoch_begin(self, t, e):
        self._call("on_epoch_begin", t, e)

    def on_batch_begin(self, t, s):
        self._call("on_batch_begin", t, s)

    def on_after_backward(self, t, s):
        self._call("on_after_backward", t, s)

    def on_batch_end(self, t, s, logs):
        self._call("on_batch_end", t, s, logs)

    def on_epoch_end(self, t, e, logs):
        self._call("on_epoch_end", t, e, logs)

    def on_train_end(self, t):
        self._call("on_train_end", t)


def _resolve_mode(mode, monitor, who):
    check_choice(mode, "mode", who, ("auto", "min", "max"))
    if mode == "auto":
        m = monitor.removeprefix("val_")
        mode = "max" if m in ("accuracy", "acc", "precision", "recall", "f1", "auc",
                              "roc_auc", "top5") else "min"
    return mode


def _monitored(logs, monitor, who):
    if monitor not in logs or logs[monitor] is None:
        raise KeyError(f"{who}: monitor={monitor!r} is not in the epoch logs {sorted(logs)}"
                       + ("; pass validation data to fit()" if monitor.startswith("val_") else ""))
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs ("val_loss", "val_accuracy", "loss", ...).
    patience : int
        Epochs without improvement before stopping.
    min_delta : float
        Smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}
        "auto" maximises accuracy-like metrics and minimises the rest.
    restore_best_weights : bool
        At the end, load the weights of the best epoch back into the model.
    baseline : float, optional
        Stop unless the monitored value beats this within ``patience`` epochs.

    After training: ``best_epoch``, ``best`` and ``stopped_epoch`` (None if not stopped).
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best_weights=False, baseline=None, verbose=0):
        self.monitor = monitor
        self.patience = check_int(patience, "patience", "EarlyStopping", min=0)
        self.min_delta = check_real(min_delta, "min_delta", "EarlyStopping", 0)
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline
        self.verbose = verbose
        self.on_train_begin(None)

    _STATE = ("wait", "stopped_epoch", "best_epoch", "best", "best_state")

    def on_train_begin(self, trainer):
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best = self.baseline if self.baseline is not None else (
            math.inf if self.mode == "min" else -math.inf)
        self.best_state = None

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._STATE}

    def load_state_dict(self, state: dict) -> None:
        for k in self._STATE:
            setattr(self, k, state[k])

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = {k: v.numpy().copy()
                                   for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.stop_reason = (f"early stopping: {self.monitor} did not improve for "
                                   f"{self.patience} epochs (best {self.best:.6g} at epoch "
                                   f"{self.best_epoch})")

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)
        if self.verbose and self.stopped_epoch is not None:
            print(trainer.stop_reason, file=sys.stderr)


class ModelCheckpoint(Callback):
    """Save the model (and, with ``checkpoint=True``, the optimizer and the run state, so
    ``fit(..., resume=path)`` continues the same run) at the end of epochs.

    Files are written to a temporary name and renamed, so a crash never leaves a
    half-written file. ``path`` may contain ``{epoch}`` and log keys, e.g.
    ``"runs/model-{epoch:03d}-{val_loss:.3f}"``.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto",
                 checkpoint=False):
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self.checkpoint = bool(checkpoint)
        self.saved: list[str] = []
        self.on_train_begin(None)

    def on_train_begin(self, trainer):
        self.best = math.inf if self.mode == "min" else -math.inf

    def state_dict(self) -> dict:
        return {"best": self.best, "saved": list(self.saved)}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.saved = state["best"], list(state["saved"])

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        path = self.path.format(epoch=epoch, **{k: v for k, v in logs.items() if v is not None})
        if self.checkpoint:
            save_checkpoint(path, trainer, epoch=epoch)
        else:
            save(trainer.model, path)
        self.saved.append(path)


class ConvergenceCriterion(Callback):
    """Stop when training has converged.

    Parameters
    ----------
    grad_norm_tol : float, optional
        Stop when the mean (over the epoch's steps) L2 norm of the full gradient falls
        below this.
    loss_change_tol : float, optional
        Stop when ``|loss(epoch) - loss(epoch - 1)|`` falls below this.
    relative : bool
        Compare the loss change relative to the previous loss.
    monitor : str
        The loss used by ``loss_change_tol`` ("loss" or "val_loss").
    patience : int
        Consecutive epochs the criterion must hold.

    ``converged`` tells whether it fired; ``reason`` says which test and the values.
    """

    def __init__(self, grad_norm_tol=None, loss_change_tol=None, relative=False,
                 monitor="loss", patience=1):
        if grad_norm_tol is None and loss_change_tol is None:
            raise ValueError("ConvergenceCriterion: give grad_norm_tol and/or loss_change_tol")
        self.grad_norm_tol = grad_norm_tol
        self.loss_change_tol = loss_change_tol
        self.relative = bool(relative)
        self.monitor = monitor
        self.patience = int(patience)
        self.on_train_begin(None)

    _STATE = ("converged", "reason", "prev", "hits", "grad_norms")

    def on_train_begin(self, trainer):
        self.converged, self.reason, self.prev, self.hits = False, None, None, 0
        self.grad_norms: list[float] = []

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._STATE}

    def load_state_dict(self, state: dict) -> None:
        for k in self._STATE:
            setattr(self, k, state[k])
        self.grad_norms = list(self.grad_norms)

    def on_epoch_begin(self, trainer, epoch):
        self._sq, self._n = 0.0, 0

    def on_after_backward(self, trainer, step):
        if self.grad_norm_tol is None:
            return
        s = 0.0
        for p in trainer.model.parameters():
            if p.grad is not None:
                g = p.grad._data.ravel()
                s += float(g @ g)
        self._sq += math.sqrt(s)
        self._n += 1

    def on_epoch_end(self, trainer, epoch, logs):
        reasons = []
        if self.grad_norm_tol is not None and self._n:
            gn = self._sq / self._n
            self.grad_norms.append(gn)
            logs["grad_norm"] = gn
            if gn < self.grad_norm_tol:
                reasons.append(f"gradient norm {gn:.3g} < {self.grad_norm_tol:g}")
        if self.loss_change_tol is not None:
            value = _monitored(logs, self.monitor, "ConvergenceCriterion")
            if self.prev is not None:
                change = abs(value - self.prev)
                if self.relative:
                    change /= max(abs(self.prev), 1e-300)
                if change < self.loss_change_tol:
                    reasons.append(f"{self.monitor} change {change:.3g} < {self.loss_change_tol:g}")
            self.prev = value
        self.hits = self.hits + 1 if reasons else 0
        if reasons and self.hits >= self.patience:
            self.converged = True
            self.reason = f"converged at epoch {epoch}: " + "; ".join(reasons)
            trainer.stop_training = True
            trainer.stop_reason = self.reason


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler at the end of each epoch (``ReduceLROnPlateau`` gets
    the monitored value)."""

    def __init__(self, scheduler, monitor="val_loss"):
        self.scheduler = scheduler
        self.monitor = monitor

    def on_epoch_end(self, trainer, epoch, logs):
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            key = self.monitor if self.monitor in logs else "loss"
            self.scheduler.step(float(logs[key]))
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state["scheduler"])


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``."""

    _HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_after_backward",
              "on_batch_end", "on_epoch_end", "on_train_end")

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            setattr(self, lookup(name, dict(zip(self._HOOKS, self._HOOKS)), "hook",
                                 "LambdaCallback"), fn)


def _fmt(logs):
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items()
                     if v is not None and k not in ("batch_size",))


class ProgressBar(Callback):
    """A tqdm bar per epoch showing the running loss and, at the end, the epoch's metrics.

    ``verbose=1``: bars; ``verbose=2``: one line per epoch; the Trainer adds it unless
    ``verbose=0``.
    """

    def __init__(self, verbose=1, file=None):
        self.verbose = int(verbose)
        self.file = file

    def on_train_begin(self, trainer):
        self.epochs = trainer.history.params.get("epochs")
        self.steps = trainer.history.params.get("steps")
        self.bar = None

    def on_epoch_begin(self, trainer, epoch):
        if self.verbose == 1:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}",
                            unit="batch", leave=True, file=self.file or sys.stderr,
                            dynamic_ncols=True)
            self._loss, self._n = 0.0, 0

    def on_batch_end(self, trainer, step, logs):
        if self.bar is not None:
            self._loss += logs["loss"]
            self._n += 1
            self.bar.update(1)
            if self._n % 10 == 1 or self._n == self.steps:
                self.bar.set_postfix_str(f"loss {self._loss / self._n:.4f}", refresh=False)

    def on_epoch_end(self, trainer, epoch, logs):
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt(logs), refresh=True)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"epoch {epoch + 1}/{self.epochs}  {_fmt(logs)}", file=self.file or sys.stderr)

    def on_train_end(self, trainer):
        if self.bar is not None:
            self.bar.close()
        if trainer.stop_reason and self.verbose:
            print(trainer.stop_reason, file=self.file or sys.stderr)
