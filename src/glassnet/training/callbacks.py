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

Epoch numbers, as in Keras: the hooks, ``History.epoch`` and attributes such as
``EarlyStopping.best_epoch`` hold the epoch *index* (0 for the first epoch), while every
message meant for people counts from 1 (the progress bar's "epoch 1/10", "best ... at
epoch 3" for the third epoch) and so does ``{epoch}`` in ``ModelCheckpoint`` paths
(Keras's ``model-01`` is the first epoch's file).
"""
from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError
from ..io import save, save_checkpoint, save_state_dict
from ..io.serialize import _path as _written_path
from ..validation import check_choice, check_int, check_real, is_int, lookup

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Iterable
    from typing import IO

    from tqdm.auto import tqdm

    from .trainer import Trainer

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint",
           "ConvergenceCriterion", "ProgressBar", "LambdaCallback", "LRSchedulerCallback"]


class Callback:
    """Base class; override the hooks you need."""

    def on_train_begin(self, trainer: Trainer) -> None:
        pass

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        pass

    def on_batch_begin(self, trainer: Trainer, step: int) -> None:
        pass

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        """Gradients are in ``p.grad``; the optimizer has not stepped yet."""

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_train_end(self, trainer: Trainer) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs of this callback (JSON-able values and arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (called after ``on_train_begin`` of a resumed fit).

        A callback checks ``state`` before it changes anything (glassnet's own do it in
        ``_check_state_dict``, which a resumed fit also runs before it restores any part of
        the trainer) and raises :class:`~glassnet.errors.ArgumentError` for a bad field."""

    def _check_state_dict(self, state: Any, trainer: Trainer | None = None) -> None:
        """Raise :class:`~glassnet.errors.ArgumentError` unless ``state`` is one this
        callback can load (``trainer``, when given, is the one it will run in)."""
        if not isinstance(state, dict):
            raise ArgumentTypeError(f"{type(self).__name__}.load_state_dict: expected a dict, "
                                    f"got {type(state).__name__}")


def _field(state: dict[str, Any], key: str, who: str, ok: Callable[[Any], bool],
           what: str) -> Any:
    """``state[key]`` when ``ok(value)``; else ArgumentError naming the field."""
    if key not in state:
        raise ArgumentError(f"{who}: the state has no {key!r}")
    v = state[key]
    if not ok(v):
        raise ArgumentError(f"{who}: {key} must be {what}, got {v!r:.100}")
    return v


def _count(v: Any) -> bool:
    return is_int(v) and v >= 0


def _shown(epoch: int | None) -> str:
    """An epoch index as people count it (index 0 is epoch 1)."""
    return "?" if epoch is None else str(int(epoch) + 1)


def _epoch_or_none(v: object) -> bool:
    return v is None or _count(v)


def _number(v: Any) -> bool:
    """A real number, not NaN (an infinity is a legitimate initial best)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _check_weights(weights: object, trainer: Trainer | None, who: str, key: str) -> None:
    """``weights`` a dict name -> array; with ``trainer``, the names, shapes and dtypes of
    its model's state."""
    if not isinstance(weights, dict) or not all(
            isinstance(k, str) and isinstance(a, np.ndarray) for k, a in weights.items()):
        raise ArgumentError(f"{who}: {key} must be a dict of name -> array, got "
                            f"{type(weights).__name__}")
    if trainer is None:
        return
    own = trainer.model.state_dict()
    if list(weights) != list(own):
        raise ArgumentError(f"{who}: {key} holds {sorted(weights)}, the model has "
                            f"{sorted(own)}")
    for k, t in own.items():
        a, b = weights[k], t.numpy()
        if a.shape != b.shape or a.dtype != b.dtype:
            raise ArgumentError(f"{who}: {key}[{k!r}] has shape {a.shape} and dtype "
                                f"{a.dtype}, the model's has {b.shape} and {b.dtype}")


class CallbackList(Callback):
    """Calls each callback's hook in order."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be glassnet.training.Callback instances, got "
                                f"{type(cb).__name__}")
        self.wants_after_backward = any(
            type(cb).on_after_backward is not Callback.on_after_backward
            or "on_after_backward" in vars(cb) for cb in self.callbacks)

    def _call(self, name: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, name)(*args)

    def on_train_begin(self, t: Trainer) -> None:
        self._call("on_train_begin", t)

    def on_epoch_begin(self, t: Trainer, e: int) -> None:
        self._call("on_epoch_begin", t, e)

    def on_batch_begin(self, t: Trainer, s: int) -> None:
        self._call("on_batch_begin", t, s)

    def on_after_backward(self, t: Trainer, s: int) -> None:
        self._call("on_after_backward", t, s)

    def on_batch_end(self, t: Trainer, s: int, logs: dict[str, Any]) -> None:
        self._call("on_batch_end", t, s, logs)

    def on_epoch_end(self, t: Trainer, e: int, logs: dict[str, Any]) -> None:
        self._call("on_epoch_end", t, e, logs)
        for cb in self.callbacks:   # once every callback (and the scheduler) has run
            after = getattr(cb, "_after_epoch_end", None)
            if after is not None:
                after(t, e, logs)

    def on_train_end(self, t: Trainer) -> None:
        self._call("on_train_end", t)


def _resolve_mode(mode: str, monitor: str, who: str) -> str:
    check_choice(mode, "mode", who, ("auto", "min", "max"))
    if mode == "auto":
        m = monitor.removeprefix("val_")
        mode = "max" if m in ("accuracy", "acc", "precision", "recall", "f1", "auc",
                              "roc_auc", "top5") else "min"
    return mode


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float:
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

    Notes
    -----
    After training: ``best_epoch``, ``best`` and ``stopped_epoch`` (None if not stopped),
    the epochs as indices (0 is the first, as ``History.epoch`` and Keras); the message
    (``trainer.stop_reason``, printed with ``verbose``) counts from 1 as the progress bar.
    """

    stopped_epoch: int | None
    best_epoch: int | None
    best_state: dict[str, np.ndarray] | None

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 baseline: float | None = None, verbose: int = 0) -> None:
        self.monitor = monitor
        self.patience = check_int(patience, "patience", "EarlyStopping", min=0)
        self.min_delta = check_real(min_delta, "min_delta", "EarlyStopping", 0)
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline
        self.verbose = verbose
        self.on_train_begin(None)

    _STATE = ("wait", "stopped_epoch", "best_epoch", "best", "best_state")

    def on_train_begin(self, trainer: Trainer | None) -> None:
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best = self.baseline if self.baseline is not None else (
            math.inf if self.mode == "min" else -math.inf)
        self.best_state = None

    def state_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._STATE}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_state_dict(state)
        for k in self._STATE:
            setattr(self, k, state[k])

    def _check_state_dict(self, state: Any, trainer: Trainer | None = None) -> None:
        who = "EarlyStopping.load_state_dict"
        super()._check_state_dict(state)
        _field(state, "wait", who, _count, "an integer >= 0")
        _field(state, "stopped_epoch", who, _epoch_or_none, "an epoch (integer >= 0) or None")
        _field(state, "best_epoch", who, _epoch_or_none, "an epoch (integer >= 0) or None")
        _field(state, "best", who, _number, "a number (not NaN)")
        best = _field(state, "best_state", who, lambda v: True, "")
        if best is not None:
            _check_weights(best, trainer, who, "best_state")
        elif self.restore_best_weights and state["best_epoch"] is not None:
            raise ArgumentError(f"{who}: restore_best_weights=True and a best epoch "
                                f"({state['best_epoch']}), but the state has no best_state")

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
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
            trainer.stop_reason = (f"early stopping after epoch {epoch + 1}: {self.monitor} "
                                   f"did not improve for {self.patience} epochs (best "
                                   f"{self.best:.6g} at epoch {_shown(self.best_epoch)})")

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)
        if self.verbose and self.stopped_epoch is not None:
            print(trainer.stop_reason, file=sys.stderr)


class ModelCheckpoint(Callback):
    """Save the model (and, with ``checkpoint=True``, the optimizer and the run state, so
    ``fit(..., resume=path)`` continues the same run) at the end of epochs.

    Files are written to a temporary name and renamed, so a crash never leaves a
    half-written file. ``path`` may contain ``{epoch}`` and log keys, e.g.
    ``"runs/model-{epoch:03d}-{val_loss:.3f}"`` (".safetensors" is added to a path
    without a suffix); ``{epoch}`` counts from 1, as Keras's (the first epoch writes
    ``model-001``), while ``fit``'s epoch indices and ``initial_epoch`` start at 0. The file of an epoch is written once every callback and the
    scheduler have finished that epoch (``on_epoch_end`` decides, the fit's
    ``CallbackList`` then writes), so a checkpoint holds the state the next epoch starts
    from.

    Which epochs are written (Keras / PyTorch Lightning semantics):

    * default: every epoch;
    * ``save_best_only=True`` (Keras): only an epoch whose ``monitor`` beats every
      earlier one (by ``mode``); earlier best files stay (a ``path`` without
      ``{epoch}`` is overwritten by each new best);
    * ``save_top_k=k`` (Lightning): keep the files of the ``k`` best epochs by
      ``monitor``: an epoch that beats the worst kept one (or any, while fewer than
      ``k`` are kept) is written and the file that falls out of the ``k`` best is
      deleted; ``k=-1`` keeps every epoch's file, ``k=0`` none (with ``save_last``
      only the last); ties keep the earlier file;
    * ``save_last=True`` (Lightning): also keep a file ``last`` (beside ``path``; a
      string names it, with the same formatting) overwritten every epoch, so the latest
      state is always there whatever the monitor did.

    Parameters
    ----------
    path : str or Path
    monitor : str
        The epoch log compared by ``save_best_only`` / ``save_top_k`` (e.g. "val_loss").
    save_best_only : bool
    mode : {"auto", "min", "max"}
    checkpoint : bool
        Write full checkpoints (``io.save_checkpoint``: model, optimizer, scheduler,
        history, RNGs, callbacks) that ``fit(resume=path)`` continues from.
    save_top_k : int, optional
        See above; ``None`` (default) leaves the choice to ``save_best_only``.
    save_last : bool or str
    save_weights_only : bool
        Write only the model's state dict (``io.save_state_dict``), loaded with
        ``io.load_weights(model, path)`` into a model you build, instead of a full model
        file (architecture + weights, ``io.load``). Not with ``checkpoint=True``.

    Notes
    -----
    After training: ``saved`` lists the paths written (as formatted, in order),
    ``best_k`` the ``[path, value]`` of the files that ``save_top_k`` keeps (best
    first), ``best`` the best monitored value, ``best_model_path`` the path of the best
    file (None before one), ``last_path`` the ``last`` file. The whole of it is in
    ``state_dict()``, so a resumed run keeps and deletes the same files.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto", checkpoint: bool = False,
                 *, save_top_k: int | None = None, save_last: bool | str = False,
                 save_weights_only: bool = False) -> None:
        who = "ModelCheckpoint"
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _resolve_mode(mode, monitor, who)
        self.checkpoint = bool(checkpoint)
        self.save_top_k = check_int(save_top_k, "save_top_k", who, min=-1,
                                    allow_none="save_best_only decides")
        if self.save_top_k is not None and self.save_best_only:
            raise ArgumentError(f"{who}: give save_best_only or save_top_k, not both "
                                f"(save_best_only keeps every new best, save_top_k deletes "
                                f"all but the k best)")
        if not isinstance(save_last, (bool, str, os.PathLike)):
            raise ArgumentTypeError(f"{who}: save_last must be True, False or a path, got "
                                    f"{type(save_last).__name__}")
        self.save_last = save_last if isinstance(save_last, bool) else str(save_last)
        self.save_weights_only = bool(save_weights_only)
        if self.save_weights_only and self.checkpoint:
            raise ArgumentError(f"{who}: save_weights_only=True writes a state dict, "
                                f"checkpoint=True a full run state; give one of them")
        self.saved: list[str] = []
        self.on_train_begin(None)

    def on_train_begin(self, trainer: Any) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_k: list[list] = []
        self.last_path: str | None = None
        self._pending: str | None = None
        self._pending_last: str | None = None
        self._evict: list[str] = []

    @property
    def best_model_path(self) -> str | None:
        """The path of the best file kept by ``save_top_k`` (or the latest best of
        ``save_best_only``); None before one is written."""
        if self.best_k:
            return self.best_k[0][0]
        if self.save_best_only and self.saved:
            return self.saved[-1]
        return None

    def state_dict(self) -> dict[str, Any]:
        """``best``, ``saved``, ``best_k`` and ``last_path``: what a resumed run needs to
        keep and delete the same files."""
        return {"best": self.best, "saved": list(self.saved),
                "best_k": [[p, v] for p, v in self.best_k], "last_path": self.last_path}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (checked first; a state from before ``best_k``
        loads with no kept files)."""
        self._check_state_dict(state)
        self.best, self.saved = state["best"], list(state["saved"])
        self.best_k = [[p, float(v)] for p, v in state.get("best_k", [])]
        self.last_path = state.get("last_path")

    def _check_state_dict(self, state: Any, trainer: Any = None) -> None:
        who = "ModelCheckpoint.load_state_dict"
        super()._check_state_dict(state)
        _field(state, "best", who, _number, "a number (not NaN)")
        _field(state, "saved", who, lambda v: isinstance(v, list) and all(
            isinstance(p, str) for p in v), "a list of paths (strings)")
        if "best_k" in state:
            _field(state, "best_k", who, lambda v: isinstance(v, list) and all(
                isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)
                and _number(e[1]) for e in v), "a list of [path, value] pairs")
        if "last_path" in state:
            _field(state, "last_path", who, lambda v: v is None or isinstance(v, str),
                   "a path (string) or None")

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.mode == "min" else a > b

    def _format(self, template: str, epoch: int, logs: dict) -> str:
        """``template`` with ``{epoch}`` the epoch's number from 1 (index ``epoch`` + 1)."""
        return template.format(epoch=epoch + 1,
                               **{k: v for k, v in logs.items() if v is not None})

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        """Decide which files this epoch writes and which fall out of the top k (the
        writing and deleting wait for ``_after_epoch_end``)."""
        self._pending, self._pending_last, self._evict = None, None, []
        path = self._format(self.path, epoch, logs)
        if self.save_last:
            last = self.save_last if isinstance(self.save_last, str) else \
                os.path.join(os.path.dirname(self.path), "last")
            self._pending_last = self.last_path = self._format(last, epoch, logs)
        if self.save_top_k is not None:
            k = self.save_top_k
            if k == 0:
                return
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            same = [e for e in self.best_k if e[0] == path]   # a path without {epoch}
            if same and not self._better(value, same[0][1]):
                return                      # never overwrite a better file with a worse
            kept = [e for e in self.best_k if e[0] != path]
            worst = None if not kept else (max if self.mode == "min" else min)(
                kept, key=lambda e: e[1])
            if k > 0 and worst is not None and len(kept) >= k \
                    and not self._better(value, worst[1]):
                return
            kept.append([path, value])
            # best first; a stable sort keeps the earlier of equal values first
            kept.sort(key=lambda e: e[1], reverse=self.mode == "max")
            if k > 0 and len(kept) > k:
                self._evict = [e[0] for e in kept[k:]]
                kept = kept[:k]
            self.best_k = kept
            self.best = kept[0][1]
        elif self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._better(value, self.best):
                return
            self.best = value
        self.saved.append(path)
        self._pending = path

    def _write(self, trainer: Any, path: str, epoch: int, logs: dict[str, Any]) -> None:
        if self.checkpoint:
            trainer.history.update_last(logs)   # values the callbacks added (grad_norm)
            save_checkpoint(path, trainer, epoch=epoch)
        elif self.save_weights_only:
            save_state_dict(trainer.model.state_dict(), path)
        else:
            save(trainer.model, path)

    def _after_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        """The write itself, once every callback and the scheduler have finished the epoch
        (``CallbackList`` calls it): so the checkpoint holds the state the next epoch
        starts from (the stepped scheduler, the later callbacks' states, this file in
        ``saved``) and a resumed run is the same run. Then the files that fell out of the
        top k are deleted."""
        path, self._pending = getattr(self, "_pending", None), None
        last, self._pending_last = getattr(self, "_pending_last", None), None
        evict, self._evict = getattr(self, "_evict", []), []
        if path is not None:
            self._write(trainer, path, epoch, logs)
        if last is not None:
            self._write(trainer, last, epoch, logs)
        keep = {_file_of(p) for p, _ in self.best_k} | ({_file_of(last)} if last else set())
        for p in evict:
            f = _file_of(p)
            if f not in keep:
                try:
                    os.remove(f)
                except FileNotFoundError:
                    pass


def _file_of(path: str) -> str:
    """The file a save of ``path`` writes (".safetensors" added to a path without a
    suffix, as ``io.save`` does)."""
    return os.fspath(_written_path(path, "ModelCheckpoint"))


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

    Notes
    -----
    ``converged`` tells whether it fired; ``reason`` says which test and the values.
    """

    reason: str | None
    prev: float | None

    def __init__(self, grad_norm_tol: float | None = None, loss_change_tol: float | None = None,
                 relative: bool = False, monitor: str = "loss", patience: int = 1) -> None:
        if grad_norm_tol is None and loss_change_tol is None:
            raise ValueError("ConvergenceCriterion: give grad_norm_tol and/or loss_change_tol")
        self.grad_norm_tol = grad_norm_tol
        self.loss_change_tol = loss_change_tol
        self.relative = bool(relative)
        self.monitor = monitor
        self.patience = int(patience)
        self.on_train_begin(None)

    _STATE = ("converged", "reason", "prev", "hits", "grad_norms")

    def on_train_begin(self, trainer: Trainer | None) -> None:
        self.converged, self.reason, self.prev, self.hits = False, None, None, 0
        self.grad_norms: list[float] = []

    def state_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._STATE}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_state_dict(state)
        for k in self._STATE:
            setattr(self, k, state[k])
        self.grad_norms = list(self.grad_norms)

    def _check_state_dict(self, state: Any, trainer: Trainer | None = None) -> None:
        who = "ConvergenceCriterion.load_state_dict"
        super()._check_state_dict(state)
        _field(state, "converged", who, lambda v: isinstance(v, bool), "True or False")
        _field(state, "reason", who, lambda v: v is None or isinstance(v, str),
               "a string or None")
        _field(state, "prev", who, lambda v: v is None or _number(v), "a number or None")
        _field(state, "hits", who, _count, "an integer >= 0")
        _field(state, "grad_norms", who, lambda v: isinstance(v, list) and all(
            _number(x) for x in v), "a list of numbers")

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self._sq, self._n = 0.0, 0

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        if self.grad_norm_tol is None:
            return
        s = 0.0
        for p in trainer.model.parameters():
            if p.grad is not None:
                g = p.grad._data.ravel()
                s += float(g @ g)
        self._sq += math.sqrt(s)
        self._n += 1

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
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
            self.reason = f"converged at epoch {epoch + 1}: " + "; ".join(reasons)
            trainer.stop_training = True
            trainer.stop_reason = self.reason


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler at the end of each epoch (``ReduceLROnPlateau`` gets
    the monitored value)."""

    def __init__(self, scheduler: Any, monitor: str = "val_loss") -> None:
        self.scheduler = scheduler
        self.monitor = monitor

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            key = self.monitor if self.monitor in logs else "loss"
            self.scheduler.step(float(logs[key]))
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_state_dict(state)
        self.scheduler.load_state_dict(state["scheduler"])

    def _check_state_dict(self, state: Any, trainer: Trainer | None = None) -> None:
        super()._check_state_dict(state)
        if "scheduler" not in state:
            raise ArgumentError("LRSchedulerCallback.load_state_dict: the state has no "
                                "'scheduler'")
        check = getattr(self.scheduler, "_check_state_dict", None)
        if check is not None:
            check(state["scheduler"])


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``."""

    _HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_after_backward",
              "on_batch_end", "on_epoch_end", "on_train_end")

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            setattr(self, lookup(name, dict(zip(self._HOOKS, self._HOOKS)), "hook",
                                 "LambdaCallback"), fn)


def _fmt(logs: dict[str, Any]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items()
                     if v is not None and k not in ("batch_size",))


class ProgressBar(Callback):
    """A tqdm bar per epoch showing the running loss and, at the end, the epoch's metrics.

    ``verbose=1``: bars; ``verbose=2``: one line per epoch; the Trainer adds it unless
    ``verbose=0``.
    """

    bar: tqdm[Any] | None

    def __init__(self, verbose: int = 1, file: IO[str] | None = None) -> None:
        self.verbose = int(verbose)
        self.file = file

    def on_train_begin(self, trainer: Trainer) -> None:
        self.epochs = trainer.history.params.get("epochs")
        self.steps = trainer.history.params.get("steps")
        self.bar = None

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if self.verbose == 1:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}",
                            unit="batch", leave=True, file=self.file or sys.stderr,
                            dynamic_ncols=True)
            self._loss, self._n = 0.0, 0

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            self._loss += logs["loss"]
            self._n += 1
            self.bar.update(1)
            if self._n % 10 == 1 or self._n == self.steps:
                self.bar.set_postfix_str(f"loss {self._loss / self._n:.4f}", refresh=False)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt(logs), refresh=True)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"epoch {epoch + 1}/{self.epochs}  {_fmt(logs)}", file=self.file or sys.stderr)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()
        if trainer.stop_reason and self.verbose:
            print(trainer.stop_reason, file=self.file or sys.stderr)
