"""``Trainer``: the fit / evaluate / predict loop (Keras-style) around any Module.

``fit`` runs epochs; an epoch (:meth:`Trainer.train_epoch`) runs steps
(:meth:`Trainer.train_step`: forward, loss, backward, optimizer step) and ends in
:meth:`Trainer.end_epoch` (validation, logs, history, callbacks).
:meth:`Trainer.state_dict` holds everything needed to continue a run.
"""
from __future__ import annotations

import copy
import math
import time

from typing import Any

import numpy as np

from .. import backend, nn, optim
from ..autograd import Tensor, as_array, no_grad
from ..data import DataLoader, Dataset, TensorDataset
from ..errors import ArgumentError, ArgumentTypeError, NonFiniteError
from ..functional.losses import nonfinite_reason
from ..io.checkpoint import read_checkpoint
from ..nn.dropout import mc_predict
from ..validation import check_int, check_real
from . import _fitargs, _metrics, _state
from ._fitargs import WeightedDataset
from .callbacks import Callback, CallbackList, LRSchedulerCallback, ProgressBar
from .history import History

__all__ = ["Trainer"]

def _finite(a) -> bool:
    return bool(np.isfinite(a).all())


def _batch_size(batch_size, who, allow_none=False):
    """``batch_size`` checked: a positive int (``None`` too where it means one batch)."""
    return check_int(batch_size, "batch_size", who,
                     allow_none="one full batch" if allow_none else False)


def _not_empty(n, who, arg):
    """Refuse an empty data set: a loss or prediction over no samples is not a result."""
    if n == 0:
        raise ArgumentError(f"{who}: {arg} must hold at least one sample, got 0 samples")


def _dataset(data, who, arg, weights=False):
    """A Dataset from (X, y), (X,), X, a Dataset or a DataLoader's dataset; with
    ``weights``, also from (X, y, sample_weight) (Keras's validation_data)."""
    if isinstance(data, DataLoader):
        return data.dataset
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (np.ndarray, Tensor)):
        return TensorDataset(data)
    if isinstance(data, (tuple, list)) and 1 <= len(data) <= (3 if weights else 2):
        arrays = [as_array(a) for a in data]
        if len(arrays) >= 2 and len(arrays[0]) != len(arrays[1]):
            raise ArgumentError(f"{who}: {arg} has {len(arrays[0])} inputs but "
                                f"{len(arrays[1])} targets")
        if len(arrays) == 3:
            w = _fitargs.check_sample_weight(arrays[2], len(arrays[0]), who,
                                             f"the sample weights of {arg}")
            return WeightedDataset(arrays[0], arrays[1], w)
        return TensorDataset(*arrays)
    raise TypeError(f"{who}: {arg} must be (X, y) arrays"
                    + (", (X, y, sample_weight)" if weights else "")
                    + f", a Dataset, a DataLoader or an iterable of (x, y) batches, got "
                    f"{type(data).__name__}" + (f" of {len(data)} items"
                                                if isinstance(data, (tuple, list)) else ""))


_is_batches = _fitargs.is_batches


def _weighted(batches) -> bool:
    """Whether ``batches`` (a DataLoader or a Dataset) yields (x, y, sample_weight)."""
    return isinstance(getattr(batches, "dataset", batches), WeightedDataset)


def _unpack(batch, weighted=False):
    """(inputs, targets, sample weights or None) of a batch; a batch of inputs alone is its
    own target."""
    if weighted:
        return batch[0], batch[1], batch[2]
    return (batch[0], batch[1], None) if len(batch) > 1 else (batch[0], batch[0], None)


class _Running:
    """An epoch's (or an evaluation's) mean loss over its targets and, with metrics, the
    outputs and targets they are computed from."""

    def __init__(self, metrics, kind):
        self.metrics, self.kind = metrics, kind
        self.total, self.count = 0.0, 0
        self.outs, self.tgts = [], []

    def add(self, value, out, target) -> int:
        n = len(target)
        self.total += value * n
        self.count += n
        if self.metrics:
            self.outs.append(out._data)
            self.tgts.append(target)
        return n

    def logs(self) -> dict:
        logs = {"loss": self.total / max(self.count, 1)}
        if self.metrics and self.outs:
            logs.update(_metrics.compute(self.metrics, np.concatenate(self.outs),
                                         np.concatenate(self.tgts), self.kind))
        return logs


class Trainer:
    """Train, evaluate and use a model.

    Parameters
    ----------
    model : nn.Module
    loss : nn.Module, callable or str
        A loss module (``nn.CrossEntropyLoss()``), any ``f(output, target) -> Tensor``,
        or a name understood by ``nn.get_loss`` ("cross_entropy", "mse", "bce", ...).
    optimizer : optim.Optimizer or str, optional
        An optimizer over ``model.parameters()`` or a name for ``optim.get``
        (default "adam", lr 1e-3).
    metrics : list of str or callables
        "accuracy", "precision", "recall", "f1" (macro), "top5", "mae", "mse", "rmse", or
        ``f(y_true, output) -> float``; computed over each epoch for train and validation.
    regularizers : list of callables
        Each ``r(model) -> scalar Tensor`` is added to the loss at every step (e.g.
        ``nn.WeightPenalty(l2=1e-4)``, ``nn.activity_penalty``).
    l1, l2 : float
        Shortcuts for a weight penalty on weights (biases excluded).
    clip_grad_norm, clip_grad_value : float, optional
        Clip gradients before every optimizer step.
    scheduler : lr scheduler, optional
        Stepped once per epoch (``ReduceLROnPlateau`` with ``val_loss`` when present).
    lr : float, optional
        Learning rate when ``optimizer`` is a name.
    forward : callable or object, optional
        How a batch input goes through the model, ``forward(model, x) -> output`` (an
        object's ``forward`` method); default ``model(x)``. An object with
        ``reset(training)`` has it called when a training epoch (True) or an evaluation
        pass (False) starts. :class:`~glassnet.training.TruncatedBPTT` carries a
        recurrent state from batch to batch this way.

    Example
    -------
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
    ...                   metrics=["accuracy"])  # doctest: +SKIP
    >>> history = trainer.fit((X, y), validation=(Xv, yv), epochs=20, batch_size=32)  # doctest: +SKIP
    >>> trainer.evaluate(Xt, yt)  # doctest: +SKIP
    {'loss': 0.08, 'accuracy': 0.97}
    """

    def __init__(self, model: nn.Module, loss: Any, optimizer: optim.Optimizer | str | None = None,
                 metrics: list[Any] | None = None, regularizers: list[Any] | None = None,
                 l1: float = 0.0, l2: float = 0.0, clip_grad_norm: float | None = None,
                 clip_grad_value: float | None = None, scheduler: Any = None,
                 lr: float | None = None, forward: Any = None) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"Trainer: model must be a glassnet.nn.Module, got "
                            f"{type(model).__name__}")
        self.model = model
        if isinstance(loss, str):
            loss = nn.get_loss(loss)
        if not callable(loss):
            raise TypeError(f"Trainer: loss must be a loss module or callable, got "
                            f"{type(loss).__name__}")
        self.loss_fn = loss
        if optimizer is None or isinstance(optimizer, str):
            optimizer = optim.get(optimizer or "adam", model.parameters(),
                                  lr=lr if lr is not None else (1e-3 if optimizer in (None, "adam") else None))
        elif not isinstance(optimizer, optim.Optimizer):
            raise TypeError(f"Trainer: optimizer must be an optim.Optimizer or a name, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        self.metrics = _metrics.check_metrics(metrics)
        self.regularizers = list(regularizers or ())
        for r in self.regularizers:
            if not callable(r):
                raise TypeError(f"Trainer: regularizers must be callables model -> Tensor, got "
                                f"{type(r).__name__}")
        if l1 or l2:
            self.regularizers.append(nn.WeightPenalty(l1=l1, l2=l2))
        self.clip_grad_norm = clip_grad_norm
        self.clip_grad_value = clip_grad_value
        self.scheduler = scheduler
        if forward is not None and not callable(getattr(forward, "forward", forward)):
            raise TypeError(f"Trainer: forward must be a callable (model, x) -> output or an "
                            f"object with such a forward method, got {type(forward).__name__}")
        self.forward_hook = forward
        self.kind = _metrics.loss_kind(loss)
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.last_batch: tuple[Any, Any] | None = None
        self.epoch = -1
        self.callbacks: list[Callback] = []   # the latest fit's callbacks (their states are in state_dict)
        self._cbl = CallbackList()
        self._shuffle_rng = None   # the latest fit's loader's generator
        self._epoch_start = 0.0
        self._params = list(model.parameters())   # for clipping, without a walk per step
        self._class_weight: dict[int, float] | None = None   # the running fit's class_weight
        self._per_sample_loss: tuple[Any, Any] | None = None  # (loss_fn, its reduction="none" copy)

    # ------------------------------------------------------------------ one batch
    def _input(self, x):
        x = np.asarray(x)
        if x.dtype.kind == "f":
            dt = self._dtype
            if x.dtype != dt:
                x = x.astype(dt)
        return Tensor(x)

    def _target(self, y, out=None):
        """Targets as arrays the loss accepts: floats in the model's dtype, 0/1 labels as
        floats for the binary losses, and (N,) targets as (N, 1) for a one-output head."""
        y = np.asarray(y)
        binary = self.kind in ("logits-binary", "prob-binary")
        if (y.dtype.kind == "f" and y.dtype != self._dtype) or (binary and y.dtype.kind in "iub"):
            y = y.astype(self._dtype)
        if (out is not None and y.ndim == 1 and out.ndim == 2 and out.shape[1] == 1
                and self.kind != "multiclass"):
            y = y.reshape(-1, 1)
        return y

    @property
    def _dtype(self):
        try:
            return np.dtype(self.model.dtype)
        except Exception:  # a model without parameters
            return np.dtype(backend.get_default_dtype())

    def _forward(self, x):
        hook = self.forward_hook
        if hook is None:
            return self.model(x)
        return getattr(hook, "forward", hook)(self.model, x)

    def _reset_hook(self, training):
        reset = getattr(self.forward_hook, "reset", None)
        if reset is not None:
            reset(training)

    def compute_loss(self, xb: Any, yb: Any, wb: np.ndarray | None = None
                     ) -> tuple[Tensor, np.ndarray, Tensor]:
        """``(output, target, loss)`` of one batch: the model's output, the targets as the
        loss takes them, and the loss plus the regularizers (a scalar Tensor).

        With per-sample weights ``wb`` (N,) the loss is Keras's weighted mean over the
        batch, ``sum_i w_i * l_i / N`` ("sum_over_batch_size": divided by the batch size,
        not by the sum of the weights), where ``l_i`` is sample i's loss: the loss computed
        with ``reduction="none"``, averaged over any further axes. With all weights 1 it is
        the unweighted mean loss."""
        out = self._forward(self._input(xb))
        target = self._target(yb, out)
        loss = self.loss_fn(out, target) if wb is None else self._weighted_loss(out, target, wb)
        # why a NaN loss is NaN when the loss knows it (read now: backward frees the graph)
        self._nan_reason = nonfinite_reason(loss)
        for r in self.regularizers:
            loss = loss + r(self.model)
        return out, target, loss

    def _weighted_loss(self, out: Tensor, target: np.ndarray, wb: np.ndarray) -> Tensor:
        """``sum_i w_i * l_i / N`` over the batch (see :meth:`compute_loss`)."""
        per = self._per_sample_loss
        if per is None or per[0] is not self.loss_fn:
            if not isinstance(getattr(self.loss_fn, "reduction", None), str):
                raise ArgumentError(
                    "Trainer: class_weight and sample_weight need a loss that can give one "
                    "loss per sample (a glassnet loss module with a reduction= argument, "
                    f"such as nn.CrossEntropyLoss()), got {type(self.loss_fn).__name__}")
            unreduced = copy.copy(self.loss_fn)
            unreduced.reduction = "none"
            per = self._per_sample_loss = (self.loss_fn, unreduced)
        losses = per[1](out, target)
        n = len(wb)
        if losses.ndim != 1:
            if losses.ndim == 0 or losses.shape[0] != n:
                raise ArgumentError(f"Trainer: sample weights need one loss per sample; the "
                                    f"loss gave shape {tuple(losses.shape)} for {n} samples")
            losses = losses.reshape(n, -1).mean(axis=1)
        w = Tensor(np.asarray(wb, dtype=losses._data.dtype))
        return (losses * w).sum() / n

    def _nonfinite(self, value, step, bad=None):
        """Raise :class:`~glassnet.errors.NonFiniteError` for step ``step`` of the current
        epoch: the loss ``value`` and the parameters whose gradients (``bad``, else found
        here) and weights are not finite. Called before the optimizer step, so the model
        still holds the last finite weights."""
        named = list(self.model.named_parameters())
        if bad is None:
            bad = [n for n, p in named if p.grad is not None and not _finite(p.grad._data)]
        badw = [n for n, p in named if not _finite(p._data)]
        what = (f"the loss became {value}" if not math.isfinite(value) else
                f"a gradient became NaN or infinite (loss {value:.6g})")
        reason = getattr(self, "_nan_reason", None)
        if reason and not math.isfinite(value):
            what += f" ({reason})"
        raise NonFiniteError(
            f"Trainer: {what} at epoch {self.epoch + 1}, step {step + 1}"
            + (f"; non-finite gradients in {bad}" if bad else "")
            + (f"; non-finite weights in {badw}" if badw else "")
            + "; the optimizer step was not taken, the model keeps its last finite weights. "
              "Lower the learning rate, clip gradients (clip_grad_norm=...) or check the "
              "inputs for NaN/Inf.")

    def _check_gradients(self, value, step):
        """Stop before the optimizer step when a gradient holds a NaN or an infinity.

        Cheap: one reduction per gradient, its sum of squares ``g . g`` (BLAS, 2.5x faster
        than ``g.sum()``; NaN and +-Inf propagate, and a sum of finite squares is finite
        unless it overflows), added up in a Python float; only when the total is not
        finite does the exact elementwise test run, which also tells an overflow (no
        error) from a real NaN/Inf."""
        total = 0.0
        with np.errstate(over="ignore"):   # an overflow here is not the user's problem
            for p in self._params:
                g = p.grad
                if g is not None:
                    a = g._data.ravel()
                    if a.dtype.itemsize >= 4:
                        total += float(np.dot(a, a))
                    else:   # float16: no BLAS, and its squares overflow at 256
                        total += float(np.add.reduce(a, dtype=np.float32))
        if math.isfinite(total):
            return
        bad = [n for n, p in self.model.named_parameters()
               if p.grad is not None and not _finite(p.grad._data)]
        if bad:
            self._nonfinite(value, step, bad)

    def train_step(self, xb: Any, yb: Any, step: int, wb: np.ndarray | None = None
                   ) -> tuple[Tensor, np.ndarray, float]:
        """One optimisation step on a batch: forward, loss (with the regularizers; weighted
        by the per-sample weights ``wb`` or by the fit's ``class_weight``), backward,
        the NaN/Inf check of the loss, ``on_after_backward``, the NaN/Inf check of the
        gradients, gradient clipping, optimizer step.

        A NaN or infinite loss or gradient raises :class:`~glassnet.errors.NonFiniteError`
        (naming the epoch, the step and the parameters) before the optimizer step, so the
        model keeps the weights of the last finite step.

        Returns ``(output, target, loss value)``.
        """
        if self._class_weight is not None:
            wb = _fitargs.class_sample_weights(self._class_weight, yb, "Trainer.fit")
        out, target, loss = self.compute_loss(xb, yb, wb)
        self.last_batch = (xb, yb)
        opt = self.optimizer
        opt.zero_grad()
        loss.backward()
        value = float(loss._data)
        if not math.isfinite(value):
            self._nonfinite(value, step)
        if self._cbl.wants_after_backward:
            self._cbl.on_after_backward(self, step)
        # after on_after_backward (a callback may repair or inspect gradients), before
        # clipping (an infinite norm would turn every gradient into NaN) and the step
        self._check_gradients(value, step)
        if self.clip_grad_norm is not None:
            optim.clip_grad_norm_(self._params, self.clip_grad_norm)
        if self.clip_grad_value is not None:
            optim.clip_grad_value_(self._params, self.clip_grad_value)
        opt.step()
        return out, target, value

    # ------------------------------------------------------------------ one epoch
    def train_epoch(self, batches: Any, epoch: int) -> dict[str, float]:
        """One pass over ``batches`` in training mode; returns the epoch's training logs:
        ``loss`` (the mean over its targets) and the metrics.

        Callbacks: ``on_epoch_begin``, then per step ``on_batch_begin``,
        (``on_after_backward``), ``on_batch_end``; a callback that sets
        ``trainer.stop_training`` ends the epoch after the current step.
        """
        self.epoch = epoch
        self._epoch_start = time.perf_counter()
        self.model.train()
        cbl = self._cbl
        cbl.on_epoch_begin(self, epoch)
        self._reset_hook(True)
        run = _Running(self.metrics, self.kind)
        weighted = _weighted(batches)
        for step, batch in enumerate(batches):
            xb, yb, wb = _unpack(batch, weighted)
            cbl.on_batch_begin(self, step)
            # the weights only when there are some: a subclass's or a patch's
            # train_step(xb, yb, step) of the earlier signature keeps working
            out, target, value = (self.train_step(xb, yb, step) if wb is None
                                  else self.train_step(xb, yb, step, wb))
            n = run.add(value, out, target)
            cbl.on_batch_end(self, step, {"loss": value, "batch_size": n})
            if self.stop_training:
                break
        if run.count == 0:      # a mean over no batch is not a loss
            raise ArgumentError(
                f"Trainer.fit: train yielded no batch in epoch {epoch + 1}" +
                (" (an iterator such as a generator is used up after one epoch; pass a "
                 "DataLoader, SequenceStreams or another object whose __iter__ starts over)"
                 if epoch > 0 and iter(batches) is batches else ""))
        return run.logs()

    def end_epoch(self, epoch: int, logs: dict[str, float], validation: Any = None
                  ) -> dict[str, float]:
        """Complete the epoch's ``logs``: ``val_*`` from ``validation``, ``lr``, ``time``;
        append them to the history, call ``on_epoch_end`` and record what callbacks added."""
        if validation is not None:
            logs.update({f"val_{k}": v for k, v in self._evaluate(validation, 1024, "Trainer.fit", "validation").items()})
        logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
        logs["time"] = time.perf_counter() - self._epoch_start
        self.history.append(epoch, logs)
        self._cbl.on_epoch_end(self, epoch, logs)
        self.history.update_last(logs)  # values callbacks added (e.g. grad_norm)
        return logs

    # ------------------------------------------------------------------ fit
    @backend.blas_policy   # BLAS threads sized to the GEMMs and the idle CPUs (backend.threads)
    def fit(self, x: Any = None, y: Any = None, *, validation_data: Any = None,
            validation_split: float | None = 0.0, epochs: int = 10,
            batch_size: int | None = 32, callbacks: list[Callback] | None = None,
            shuffle: bool = True, class_weight: dict[int, float] | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, verbose: int | str = 1,
            seed: int | None = None, resume: Any = None, validation: Any = None) -> History:
        """Train until epoch ``epochs`` (Keras's ``fit``, beside glassnet's own forms).

        Two spellings of the training data, never mixed:

        * Keras: ``fit(X, y)``, ``X`` an array (NumPy or Tensor) and ``y`` its targets;
          ``fit(X)`` alone trains ``X`` as its own target (an autoencoder).
        * glassnet: ``fit((X, y))``, a ``Dataset``, a ``DataLoader`` or any other
          source of ready ``(x, y)`` batches iterated once per epoch (e.g.
          ``SequenceStreams``), used as given.

        An argument that reads two ways is an :class:`~glassnet.errors.ArgumentError`,
        never a guess: a tuple, list, Dataset or DataLoader ``x`` together with ``y``, a
        tuple ``y`` (validation data goes in ``validation_data``), ``validation`` together
        with ``validation_data``, ``validation_split`` together with validation data or
        with a DataLoader or batch source, ``class_weight`` together with
        ``sample_weight`` (as Keras), ``sample_weight`` with a Dataset or batch source.

        Parameters
        ----------
        x : array, (X, y) or (X,) arrays, Dataset, DataLoader or iterable of batches
            The training data (see above).
        y : array, optional
            The targets of an array ``x`` (Keras's spelling).
        validation_data : (X, y), (X, y, sample_weight), Dataset, DataLoader or batches
            Evaluated at the end of every epoch; its values appear as ``val_*`` (a third
            array weights the validation loss as ``sample_weight`` weights training).
        validation : same as ``validation_data``
            glassnet's older name of ``validation_data``; give one of them.
        validation_split : float in [0, 1)
            Hold out this fraction of the training arrays as validation data (0: none).
            Keras's spelling (``x`` an array) does what Keras documents: the LAST
            fraction of the samples, before any shuffling, is the validation data (the
            first ``floor(n * (1 - validation_split))`` samples train, sample weights
            split with them), so sort-ordered data wants shuffling first. glassnet's
            spelling (``(X, y)`` or a Dataset) keeps its seeded random hold-out of
            ``max(1, round(validation_split * n))`` samples (``seed``, else 0).
        epochs : int
            The epoch to stop before (with ``initial_epoch`` or ``resume``, the run goes
            on up to it). glassnet's default is 10 (Keras's 1).
        batch_size : int or None
            1 is online (stochastic) learning, ``None`` full-batch gradient descent (in
            Keras ``None`` means 32).
        callbacks : list of Callback
        shuffle : bool
            Reshuffle the training set every epoch.
        class_weight : dict class index -> weight, optional
            Weights each training sample's loss by the weight of its class (a class not
            in the dict weighs 1), as Keras: labels are the targets (N,), the argmax of
            (N, C) targets, the rounded 0/1 of an (N, 1) column. Training only; the
            validation loss and all metrics stay unweighted.
        sample_weight : array (N,), optional
            One loss weight per training sample (with array data only).
            Either weighting gives Keras's batch loss ``sum_i w_i * l_i / N``: the weighted
            sum of the per-sample losses divided by the batch size (not by the sum of the
            weights), so the weights also scale the step size. The epoch's ``loss`` is the
            mean of those batch losses weighted by batch size, as Keras reports it.
        initial_epoch : int
            The epoch to start at (0-based, Keras's): runs epochs ``initial_epoch`` to
            ``epochs - 1``, the history numbers them so. With ``resume`` it must be 0 or
            the epoch after the checkpoint's.
        verbose : int or "auto"
            0 silent, 1 ("auto") a progress bar per epoch, 2 one line per epoch.
        seed : int, optional
            Seeds the shuffling order (otherwise drawn from ``gn.manual_seed``'s RNG)
            and glassnet's random ``validation_split``.
        resume : str, Path or dict, optional
            A checkpoint written by ``ModelCheckpoint(checkpoint=True)`` or
            ``glassnet.io.save_checkpoint``, or a :meth:`state_dict`: restores the weights,
            the optimizer and scheduler, the history, the RNGs and the states of the
            callbacks (matched by position and class; a callback of another class at that
            position keeps its fresh state), and continues from the next epoch, so the
            run is the one an uninterrupted fit would have made, bit for bit (a run that a
            callback had stopped stays stopped; set ``state["stop_training"] = False`` in a
            state dict to train it further). Every part is checked against this
            trainer before any is applied (:class:`~glassnet.errors.CheckpointError`
            naming the field otherwise, and the trainer is left as it was).

        Returns
        -------
        History

        Examples
        --------
        >>> import numpy as np, glassnet as gn
        >>> from glassnet import nn
        >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> _ = gn.manual_seed(0)
        >>> t = gn.training.Trainer(nn.Linear(3, 2), nn.CrossEntropyLoss(), lr=0.05)
        >>> h = t.fit(X, y, validation_split=0.25, epochs=3, verbose=0)
        >>> h.params["samples"], sorted(k for k in h.history if k.startswith("val_"))
        (48, ['val_loss'])
        """
        who = "Trainer.fit"
        if x is None:
            raise ArgumentError(f"{who}: x, the training data, is required (fit(X, y), "
                                f"fit((X, y)), a Dataset or a DataLoader)")
        if validation is not None and validation_data is not None:
            raise ArgumentError(f"{who}: give validation_data or validation (its older "
                                f"name), not both")
        if validation_data is None:
            validation_data = validation
        if class_weight is not None and sample_weight is not None:
            raise ArgumentError(f"{who}: give class_weight or sample_weight, not both (as "
                                f"Keras: you cannot use them at the same time)")
        self._class_weight = None if class_weight is None else \
            _fitargs.check_class_weight(class_weight, who)
        initial_epoch = check_int(initial_epoch, "initial_epoch", who, min=0)
        if verbose == "auto":
            verbose = 1
        # before the loader draws its seed: a refused resume leaves glassnet's RNG as it was
        rng0: Any = None if resume is None else backend.rng().bit_generator.state
        epochs = check_int(epochs, "epochs", who, min=0)
        _batch_size(batch_size, who, allow_none=True)
        if validation_split is not None and not isinstance(validation_split, bool) \
                and validation_split == 0:
            validation_split = None
        batches, validation, samples = self._fit_data(
            x, y, validation_data, batch_size, shuffle, seed, validation_split, sample_weight)
        state = self._resume = None
        if resume is not None:
            where = "Trainer.fit(resume=" + ("a state dict" if isinstance(resume, dict)
                                             else repr(str(resume))) + ")"
            try:
                state = resume if isinstance(resume, dict) else read_checkpoint(resume)
                _state.check_state(self, state, where, list(callbacks or ()),
                                   getattr(batches, "_rng", None))
                if initial_epoch not in (0, int(state["epoch"]) + 1):
                    raise ArgumentError(
                        f"{where}: initial_epoch={initial_epoch}, but the checkpoint "
                        f"continues with epoch {int(state['epoch']) + 2} (initial_epoch="
                        f"{int(state['epoch']) + 1}, an index from 0); leave initial_epoch "
                        f"out or give that index")
            except BaseException:
                backend.rng().bit_generator.state = rng0
                raise
            snap = _state.snapshot(self)
            snap["rng"] = rng0
            self._apply_state(state, snap)
            self._resume = (snap, where)   # for _load_callback_states
        else:
            self.history = History()
        self.history.params.update({"epochs": int(epochs),
                                    "steps": len(batches) if hasattr(batches, "__len__") else None,
                                    "batch_size": getattr(batches, "batch_size", None),
                                    "samples": samples})
        if initial_epoch:
            self.history.params["initial_epoch"] = initial_epoch
        self._shuffle_rng = getattr(batches, "_rng", None)
        if state is not None and state.get("loader_rng") is not None \
                and self._shuffle_rng is not None:
            self._shuffle_rng.bit_generator.state = state["loader_rng"]
        self._params = list(self.model.parameters())
        self.callbacks = list(callbacks or ())
        own: list[Callback] = [LRSchedulerCallback(self.scheduler)] if self.scheduler is not None else []
        if verbose:
            own.append(ProgressBar(int(verbose)))
        self._cbl = CallbackList(self.callbacks + own)
        self.stop_training, self.stop_reason = False, None
        if state is not None and state.get("stop_training"):
            # a callback had ended the run: it stays ended (no epoch after the saved one)
            self.stop_training, self.stop_reason = True, state.get("stop_reason")
            epochs = self.epoch + 1
        self.history.stop_reason = None
        self._cbl.on_train_begin(self)
        if state is not None:   # after on_train_begin, which resets the callbacks
            self._load_callback_states(state.get("callbacks") or [])
        try:
            for epoch in range(self.epoch + 1 if state is not None else initial_epoch,
                               epochs):
                logs = self.train_epoch(batches, epoch)
                self.end_epoch(epoch, logs, validation)
                if self.stop_training:
                    break
        except BaseException as error:
            self._stopped_by(error)
            raise
        self.history.stop_reason = self.stop_reason
        self._class_weight = None
        self._cbl.on_train_end(self)
        self.model.eval()
        return self.history

    def _stopped_by(self, error):
        """Clean up after ``fit`` stopped on ``error`` (a NonFiniteError, a
        KeyboardInterrupt, any exception), which then propagates: every callback's
        ``on_train_end`` still runs (EarlyStopping restores its best weights when asked,
        the progress bar closes), each guarded so that one failing cannot hide ``error``
        (its failure is added to ``error`` as a note); the history records the stop and
        the model is left in eval mode."""
        for cb in self._cbl.callbacks:
            try:
                cb.on_train_end(self)
            except Exception as e:  # noqa: BLE001 - the original error goes on
                note = f"(then {type(cb).__name__}.on_train_end failed: {type(e).__name__}: {e})"
                # add_note is Python 3.11+; on 3.10 the note is kept, not printed
                error.__notes__ = [*getattr(error, "__notes__", []), note]
        self._class_weight = None
        self.history.stop_reason = f"stopped by {type(error).__name__}: {error}"
        self.model.eval()

    def _fit_data(self, x: Any, y: Any, validation: Any, batch_size: int | None, shuffle: bool,
                  seed: int | None, validation_split: float | None, sample_weight: Any
                  ) -> tuple[Any, Any, int | None]:
        """(training batches, validation data, number of training samples) for ``fit``."""
        who = "Trainer.fit"
        n: int | None
        if validation_split is not None:
            check_real(validation_split, "validation_split", who, 0, 1, high_open=True)
            if validation is not None:
                raise ArgumentError(f"{who}: give validation_data or validation_split, not "
                                    "both (validation_split would hold out a second "
                                    "validation set)")
        keras = y is not None or _fitargs.is_array(x)
        if keras:
            arrays: tuple[np.ndarray, ...] = _fitargs.keras_xy(x, y, who) if y is not None \
                else (as_array(x),)
            _not_empty(len(arrays[0]), who, "x")
            if sample_weight is not None:
                if len(arrays) == 1:        # X is its own target
                    arrays = (arrays[0], arrays[0])
                arrays = arrays + (_fitargs.check_sample_weight(sample_weight,
                                                                len(arrays[0]), who),)
            if validation_split is not None:
                arrays, held = _fitargs.keras_split(arrays, validation_split, who)
                validation = WeightedDataset(*held) if sample_weight is not None else \
                    (held if y is not None else held[:1])
            ds = WeightedDataset(*arrays) if sample_weight is not None else \
                TensorDataset(*arrays)
            batches = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=seed)
            n = len(ds)
        elif _is_batches(x) or isinstance(x, DataLoader):
            if validation_split is not None:
                raise ArgumentError(f"{who}: validation_split needs train as (X, y) arrays "
                                    f"or a Dataset, got a {type(x).__name__}; pass "
                                    f"validation_data")
            if sample_weight is not None:
                raise ArgumentError(f"{who}: sample_weight needs the training data as arrays "
                                    f"(fit(X, y, sample_weight=w)), got a "
                                    f"{type(x).__name__}; a DataLoader over "
                                    f"(X, y) cannot be aligned with it")
            n = len(x.dataset) if isinstance(x, DataLoader) else \
                getattr(x, "n_samples", None)
            _not_empty(0 if n == 0 else 1, who, "train")
            if hasattr(x, "__len__") and len(x) == 0:
                why = (f": drop_last=True leaves out the one batch of {n} samples smaller than "
                       f"batch_size {x.batch_size}"
                       if isinstance(x, DataLoader) and x.drop_last else "")
                raise ArgumentError(f"{who}: train yields no batch{why}")
            batches = x
        else:
            ds = _dataset(x, who, "train")
            _not_empty(len(ds), who, "train")
            if sample_weight is not None:
                if not isinstance(x, (tuple, list)):
                    raise ArgumentError(f"{who}: sample_weight needs the training data as "
                                        f"arrays (fit(X, y, sample_weight=w) or fit((X, y), "
                                        f"sample_weight=w)), got a {type(x).__name__}")
                # (X,) alone is its own target: (X, X, w)
                ds = WeightedDataset(*(ds.arrays * (3 - len(ds.arrays))),
                                     _fitargs.check_sample_weight(
                    sample_weight, len(ds), who))
            if validation_split is not None:
                arrays = ds[np.arange(len(ds))]
                perm = np.random.default_rng(seed if seed is not None else 0).permutation(len(ds))
                nv = max(1, int(round(validation_split * len(ds))))
                if nv >= len(ds):
                    raise ArgumentError(f"{who}: validation_split={validation_split:g} of "
                                        f"{len(ds)} samples leaves no training sample")
                kind = WeightedDataset if isinstance(ds, WeightedDataset) else TensorDataset
                validation = kind(*(a[perm[:nv]] for a in arrays))
                ds = kind(*(a[perm[nv:]] for a in arrays))
            batches = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=seed)
            n = len(ds)
        if validation is not None and not _is_batches(validation):
            validation = _dataset(validation, who, "validation", weights=True)
            _not_empty(len(validation), who, "validation")
        return batches, validation, n

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run, as JSON-able values and NumPy arrays.

        ``{"epoch": the last epoch run (-1 before any), "model": model.state_dict(),
        "optimizer": {"class", "state_dict"}, "scheduler": {"class", "state_dict"} or None,
        "history": History.to_dict(), "rng": glassnet's generator state, "loader_rng":
        the training loader's generator state or None, "callbacks": [{"class",
        "state_dict"}] of the latest fit's callbacks, "stop_training": whether a callback
        ended the run, "stop_reason"}``. ``io.save_checkpoint`` writes it to a
        safetensors file, ``fit(resume=...)`` continues from it.

        >>> state = trainer.state_dict()  # doctest: +SKIP
        >>> Trainer(model, loss, opt).fit((X, y), epochs=10, resume=state)  # doctest: +SKIP
        """
        return {
            "epoch": int(self.epoch),
            # a snapshot of NumPy arrays (Module.state_dict() holds Tensors sharing memory)
            "model": {k: v.numpy().copy() for k, v in self.model.state_dict().items()},
            "optimizer": {"class": type(self.optimizer).__name__,
                          "state_dict": self.optimizer.state_dict()},
            "scheduler": None if self.scheduler is None else {
                "class": type(self.scheduler).__name__,
                "state_dict": self.scheduler.state_dict()},
            "history": self.history.to_dict(),
            "rng": backend.rng().bit_generator.state,
            "loader_rng": None if self._shuffle_rng is None else
            self._shuffle_rng.bit_generator.state,
            "callbacks": [{"class": type(cb).__name__, "state_dict": cb.state_dict()}
                          for cb in self.callbacks],
            "stop_training": bool(self.stop_training),
            "stop_reason": self.stop_reason,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore the model, optimizer, scheduler, epoch counter, history and glassnet's
        generator from :meth:`state_dict`. (The loader's generator and the callbacks'
        states belong to a fit: ``fit(resume=state)`` restores them too.)

        Every part is checked against this trainer first (the epoch agrees with the
        history, the model's names, shapes and dtypes, the optimizer's class, groups,
        hyper-parameters and state arrays, the scheduler's class and fields, the RNG
        state); a part that does not fit is a :class:`~glassnet.errors.CheckpointError`
        naming the field, what was expected and what was found, and the trainer is left
        exactly as it was (also if applying fails for a reason no check foresaw).
        """
        _state.check_state(self, state, "Trainer.load_state_dict")
        self._apply_state(state, _state.snapshot(self))

    def _apply_state(self, state, snap):
        """Apply a checked state; on any failure put the trainer back as ``snap`` was."""
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"]["state_dict"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"]["state_dict"])
            self.epoch = int(state["epoch"])
            self.history = History.from_dict(state["history"])
            backend.rng().bit_generator.state = state["rng"]
        except BaseException:
            _state.restore(self, snap)
            raise

    def _load_callback_states(self, saved):
        """Each saved callback state into the callback at its position when the classes
        match (checked before the fit applied anything; a callback's own load_state_dict
        that fails anyway puts the trainer back and is a CheckpointError)."""
        snap, where = getattr(self, "_resume", None) or (None, "Trainer.fit")
        self._resume = None
        _state.load_callbacks(self, self.callbacks, saved, snap, where)

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate(self, data, batch_size, who="Trainer.evaluate", arg="X"):
        """Loss and metrics over a Dataset or a batch source, in eval mode without gradients.

        A batch source that yields no batch is refused (a mean over no targets is not a
        loss)."""
        model = self.model
        was = model.training
        model.eval()
        run = _Running(self.metrics, self.kind)
        try:
            self._reset_hook(False)
            batches = data if _is_batches(data) else DataLoader(data, batch_size=batch_size,
                                                                 shuffle=False)
            weighted = _weighted(data)
            with no_grad():
                for batch in batches:
                    out, target, loss = self.compute_loss(*_unpack(batch, weighted))
                    run.add(float(loss._data), out, target)
        finally:
            model.train(was)
        _not_empty(run.count, who, arg)
        return run.logs()

    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = 1024, *,
                 sample_weight: Any = None) -> dict[str, float]:
        """Loss (with the regularizers) and metrics on data, in eval mode without gradients.

        ``evaluate(X, y)`` (Keras's spelling, ``X`` an array) or ``evaluate(data)`` with
        ``data`` an (X, y) tuple, an (X, y, sample_weight) tuple, a Dataset, a DataLoader
        or an iterable of (x, y) batches; ``batch_size=None`` evaluates the data as one
        batch. With ``sample_weight`` (N,) the loss is Keras's weighted
        ``sum_i w_i * l_i / N`` per batch (see :meth:`fit`); metrics stay unweighted.
        Returns a dict (Keras's ``return_dict=True``).

        A tuple or Dataset ``x`` together with ``y`` is an
        :class:`~glassnet.errors.ArgumentError` (it reads two ways), so are empty data and
        a ``batch_size`` that is not a positive integer or None.

        >>> import numpy as np, glassnet as gn
        >>> from glassnet import nn
        >>> t = gn.training.Trainer(nn.Linear(2, 1), nn.MSELoss())
        >>> X, y = np.zeros((4, 2), "float32"), np.ones((4, 1), "float32")
        >>> t.evaluate(X, y) == t.evaluate((X, y))
        True
        """
        who = "Trainer.evaluate"
        batch_size = _batch_size(batch_size, who, allow_none=True)
        if y is not None:
            data = _fitargs.keras_xy(x, y, who, "X")
        else:
            data = x
        if _is_batches(data):
            if sample_weight is not None:
                raise ArgumentError(f"{who}: sample_weight needs the data as arrays, got a "
                                    f"{type(data).__name__}")
            return self._evaluate(data, batch_size)
        if sample_weight is not None:
            if not (isinstance(data, (tuple, list)) and len(data) <= 2) \
                    and not _fitargs.is_array(data):
                raise ArgumentError(f"{who}: sample_weight needs the data as arrays "
                                    f"(evaluate(X, y, sample_weight=w)), got "
                                    f"{type(data).__name__}")
            arrays = tuple(data) if isinstance(data, (tuple, list)) else (data,)
            arrays = arrays * (2 if len(arrays) == 1 else 1)   # X alone is its own target
            data = arrays + (sample_weight,)
        data = _dataset(data, who, "X", weights=True)
        _not_empty(len(data), who, "X")
        return self._evaluate(data, batch_size)

    def predict(self, x: Any, batch_size: int | None = 1024, mc_samples: int | None = None,
                ci: float = 0.95) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw model outputs for ``x`` (eval mode, no gradients), batched.

        ``x`` is an array of inputs (or a nested list of samples), a Dataset or an
        unshuffled DataLoader (their first array, as Keras predicts on a dataset's
        inputs); a tuple reads two ways and is an
        :class:`~glassnet.errors.ArgumentError`.

        With ``mc_samples=N`` (Monte-Carlo dropout, Gal & Ghahramani 2016), dropout stays
        on and the model is run N times: returns ``(mean, lower, upper)`` where lower and
        upper bound the central ``ci`` interval of the N predictions (see
        :func:`glassnet.nn.mc_predict`). ``batch_size=None`` runs x as one batch.

        An empty ``x`` (0 samples), or a ``batch_size`` that is not a positive integer or
        None, raises :class:`~glassnet.errors.ArgumentError`.

        >>> import numpy as np, glassnet as gn
        >>> from glassnet import nn
        >>> gn.training.Trainer(nn.Linear(2, 3), nn.MSELoss()).predict(np.zeros((5, 2))).shape
        (5, 3)
        """
        return self._predictions(x, batch_size, mc_samples, ci, None, "Trainer.predict")

    def predict_proba(self, x: Any, batch_size: int | None = 1024,
                      mc_samples: int | None = None, ci: float = 0.95
                      ) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Class probabilities: softmax of the outputs for a cross-entropy loss, sigmoid for
        BCE-with-logits, the outputs unchanged otherwise (``x`` as for :meth:`predict`).
        With ``mc_samples`` the probabilities of each Monte-Carlo draw are averaged:
        ``(mean, lower, upper)``."""
        return self._predictions(x, batch_size, mc_samples, ci, self._proba,
                                 "Trainer.predict_proba")

    def _predictions(self, X, batch_size, mc_samples, ci, transform, who):
        X = self._inputs_of(X, who)
        batch_size = _batch_size(batch_size, who, allow_none=True)
        if X.ndim == 0:
            raise ArgumentError(f"{who}: X must be an array of samples (first dimension), "
                                f"got a scalar")
        _not_empty(len(X), who, "X")
        f = transform or (lambda a: a)
        if mc_samples is None:
            return f(self._predict(X, batch_size))
        return mc_predict(self.model, X, mc_samples, ci,
                          predict=lambda a: f(self._predict(a, batch_size)))

    @staticmethod
    def _inputs_of(x: Any, who: str) -> np.ndarray:
        """The input array of ``predict``'s ``x``: an array (or nested list of samples), or
        the inputs of a Dataset or an unshuffled DataLoader (Keras predicts on a dataset's
        ``x``). A tuple reads two ways (a sample? (X, y)?) and is refused."""
        if isinstance(x, tuple):
            raise ArgumentError(f"{who}: X is a tuple; pass the input array alone "
                                f"({who.split('.')[-1]}(X), not {who.split('.')[-1]}((X, y)))")
        if isinstance(x, Dataset):
            x = DataLoader(x, batch_size=1024)
        if isinstance(x, DataLoader):
            if x.shuffle:
                raise ArgumentError(f"{who}: X is a DataLoader with shuffle=True; its "
                                    "predictions would come in a random order. Pass the "
                                    "array, the Dataset or a DataLoader with shuffle=False")
            parts = [as_array(b[0]) for b in x]
            _not_empty(len(parts), who, "X")
            return np.concatenate(parts)
        if _is_batches(x):
            raise ArgumentTypeError(f"{who}: X must be an array of inputs, a Dataset or a "
                                    f"DataLoader, got a {type(x).__name__}")
        return as_array(x)

    def _predict(self, X, batch_size):
        model = self.model
        was = model.training
        model.eval()
        step = batch_size or len(X)
        outs = []
        try:
            self._reset_hook(False)
            with no_grad():
                for start in range(0, len(X), step):
                    outs.append(self._forward(self._input(X[start:start + step]))._data)
        finally:
            model.train(was)
        return np.concatenate(outs)

    def _proba(self, out):
        if self.kind == "multiclass" and type(self.loss_fn).__name__ != "NLLLoss":
            z = out - out.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        if self.kind == "multiclass":
            return np.exp(out)
        if self.kind == "logits-binary":
            return 0.5 * (1.0 + np.tanh(0.5 * out))
        return out

    def predict_classes(self, x: Any, batch_size: int | None = 1024) -> np.ndarray:
        """Predicted labels (argmax, or a threshold for a single output) of ``x`` (as for
        :meth:`predict`)."""
        return _metrics.to_labels(
            self._predictions(x, batch_size, None, 0.95, None, "Trainer.predict_classes"),
            self.kind)
