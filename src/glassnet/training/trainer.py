"""``Trainer``: the fit / evaluate / predict loop (Keras-style) around any Module."""
from __future__ import annotations

import math
import time

import numpy as np

from .. import backend, nn, optim
from ..autograd import Tensor, no_grad
from ..data import DataLoader, Dataset, TensorDataset
from . import _metrics
from .callbacks import Callback, CallbackList, LRSchedulerCallback, ProgressBar
from .history import History

__all__ = ["Trainer"]


def _dataset(data, who, arg):
    """A Dataset from (X, y), (X,), X, a Dataset or a DataLoader's dataset."""
    if isinstance(data, DataLoader):
        return data.dataset
    if isinstance(data, Dataset):
        return data
    if isinstance(data, np.ndarray):
        return TensorDataset(data)
    if isinstance(data, (tuple, list)) and 1 <= len(data) <= 2:
        arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in data]
        if len(arrays) == 2 and len(arrays[0]) != len(arrays[1]):
            raise ValueError(f"{who}: {arg} has {len(arrays[0])} inputs but {len(arrays[1])} "
                             "targets")
        return TensorDataset(*arrays)
    raise TypeError(f"{who}: {arg} must be (X, y) arrays, a Dataset or a DataLoader, got "
                    f"{type(data).__name__}")


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

    Example
    -------
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
    ...                   metrics=["accuracy"])
    >>> history = trainer.fit((X, y), validation=(Xv, yv), epochs=20, batch_size=32)
    >>> trainer.evaluate(Xt, yt)
    {'loss': 0.08, 'accuracy': 0.97}
    """

    def __init__(self, model, loss, optimizer=None, metrics=None, regularizers=None, l1=0.0,
                 l2=0.0, clip_grad_norm=None, clip_grad_value=None, scheduler=None, lr=None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"Trainer: model must be a glassnet.nn.Module, got "
                            f"{type(model).__name__}")
        self.model = model
        if isinstance(loss, str):
            getter = getattr(nn, "get_loss", None)
            if getter is None:
                raise ValueError("Trainer: loss names need nn.get_loss; pass a loss module")
            loss = getter(loss)
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
            penalty = getattr(nn, "WeightPenalty", None)
            if penalty is None:  # pragma: no cover - nn.regularization present in releases
                raise ValueError("Trainer: l1/l2 need nn.WeightPenalty")
            self.regularizers.append(penalty(l1=l1, l2=l2))
        self.clip_grad_norm = clip_grad_norm
        self.clip_grad_value = clip_grad_value
        self.scheduler = scheduler
        self.kind = _metrics.loss_kind(loss)
        self.history = History()
        self.stop_training = False
        self.stop_reason = None
        self.last_batch = None
        self.epoch = -1

    # ------------------------------------------------------------------ helpers
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

    def _forward_loss(self, xb, yb):
        out = self.model(self._input(xb))
        loss = self.loss_fn(out, self._target(yb, out))
        for r in self.regularizers:
            loss = loss + r(self.model)
        return out, loss

    def _nonfinite(self, value, epoch, step):
        bad = [n for n, p in self.model.named_parameters()
               if p.grad is not None and not np.all(np.isfinite(p.grad.data))]
        badw = [n for n, p in self.model.named_parameters() if not np.all(np.isfinite(p.data))]
        raise FloatingPointError(
            f"Trainer: the loss became {value} at epoch {epoch + 1}, step {step + 1}"
            + (f"; non-finite gradients in {bad}" if bad else "")
            + (f"; non-finite weights in {badw}" if badw else "")
            + ". Lower the learning rate, clip gradients (clip_grad_norm=...) or check the "
              "inputs for NaN/Inf.")

    # ------------------------------------------------------------------ fit
    def fit(self, train, validation=None, epochs=10, batch_size=32, shuffle=True,
            callbacks=None, verbose=1, seed=None, validation_split=None, resume=None):
        """Train for ``epochs`` epochs.

        Parameters
        ----------
        train : (X, y) arrays, Dataset or DataLoader
            A DataLoader is used as given (its batch size and shuffling).
        validation : (X, y), Dataset or DataLoader, optional
            Evaluated at the end of every epoch; its values appear as ``val_*``.
        epochs : int
        batch_size : int or None
            1 is online (stochastic) learning, ``None`` full-batch gradient descent.
        shuffle : bool
            Reshuffle the training set every epoch.
        callbacks : list of Callback
        verbose : int
            0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        seed : int, optional
            Seeds the shuffling order (otherwise drawn from ``gn.manual_seed``'s RNG).
        validation_split : float, optional
            Hold out this fraction of ``train`` (seeded random) as validation data.
        resume : str or Path, optional
            A checkpoint written by ``ModelCheckpoint(checkpoint=True)`` or
            ``glassnet.io.save_checkpoint``: restores the weights, the optimizer state, the
            history and the RNG, and continues from the next epoch up to ``epochs``.

        Returns
        -------
        History
        """
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be a non-negative int, got {epochs!r}")
        ds = _dataset(train, "Trainer.fit", "train")
        if len(ds) == 0:
            raise ValueError("Trainer.fit: the training set is empty")
        if validation_split is not None:
            if validation is not None:
                raise ValueError("Trainer.fit: give validation or validation_split, not both")
            if not 0 < validation_split < 1:
                raise ValueError(f"Trainer.fit: validation_split must be in (0, 1), got "
                                 f"{validation_split!r}")
            arrays = ds[np.arange(len(ds))]
            perm = np.random.default_rng(seed if seed is not None else 0).permutation(len(ds))
            nv = max(1, int(round(validation_split * len(ds))))
            validation = tuple(a[perm[:nv]] for a in arrays)
            ds = TensorDataset(*(a[perm[nv:]] for a in arrays))
        loader = train if isinstance(train, DataLoader) else DataLoader(
            ds, batch_size=batch_size, shuffle=shuffle, seed=seed)
        val = None if validation is None else _dataset(validation, "Trainer.fit", "validation")

        start_epoch = 0
        if resume is not None:
            from .. import io
            start_epoch = io.load_checkpoint(resume, self) + 1
            state = getattr(self, "_resume_loader_state", None)
            if state is not None and hasattr(loader, "_rng"):
                loader._rng.bit_generator.state = state
        else:
            self.history = History()
        self.history.params.update({"epochs": int(epochs), "steps": len(loader),
                                    "batch_size": loader.batch_size, "samples": len(ds)})
        self._loader_rng = getattr(loader, "_rng", None)
        cbs = list(callbacks or ())
        if self.scheduler is not None:
            cbs.append(LRSchedulerCallback(self.scheduler))
        if verbose:
            cbs.append(ProgressBar(verbose))
        cbl = CallbackList(cbs)
        self.stop_training, self.stop_reason = False, None
        self.history.stop_reason = None
        after_backward = cbl.wants_after_backward
        opt, model, loss_fn = self.optimizer, self.model, self.loss_fn
        want_outputs = bool(self.metrics)
        cbl.on_train_begin(self)
        for epoch in range(start_epoch, epochs):
            self.epoch = epoch
            t0 = time.perf_counter()
            model.train()
            cbl.on_epoch_begin(self, epoch)
            total, count = 0.0, 0
            outs, tgts = [], []
            for step, batch in enumerate(loader):
                xb, yb = (batch[0], batch[1]) if len(batch) > 1 else (batch[0], batch[0])
                cbl.on_batch_begin(self, step)
                out = model(self._input(xb))
                yt = self._target(yb, out)
                loss = loss_fn(out, yt)
                for r in self.regularizers:
                    loss = loss + r(model)
                self.last_batch = (xb, yb)
                opt.zero_grad()
                loss.backward()
                value = float(loss.data)
                if not math.isfinite(value):
                    self._nonfinite(value, epoch, step)
                if after_backward:
                    cbl.on_after_backward(self, step)
                if self.clip_grad_norm is not None:
                    optim.clip_grad_norm_(model.parameters(), self.clip_grad_norm)
                if self.clip_grad_value is not None:
                    optim.clip_grad_value_(model.parameters(), self.clip_grad_value)
                opt.step()
                n = len(xb)
                total += value * n
                count += n
                if want_outputs:
                    outs.append(out.data)
                    tgts.append(yt)
                cbl.on_batch_end(self, step, {"loss": value, "batch_size": n})
            logs = {"loss": total / max(count, 1)}
            if want_outputs and outs:
                logs.update(_metrics.compute(self.metrics, np.concatenate(outs),
                                             np.concatenate(tgts), self.kind))
            if val is not None:
                vres = self._evaluate_ds(val, 1024)
                logs.update({f"val_{k}": v for k, v in vres.items()})
            logs["lr"] = float(opt.param_groups[0]["lr"])
            logs["time"] = time.perf_counter() - t0
            self.history.append(epoch, logs)
            cbl.on_epoch_end(self, epoch, logs)
            self.history.update_last(logs)  # values callbacks added (e.g. grad_norm)
            if self.stop_training:
                break
        self.history.stop_reason = self.stop_reason
        cbl.on_train_end(self)
        model.eval()
        return self.history

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_ds(self, ds, batch_size):
        model = self.model
        was = model.training
        model.eval()
        total, count = 0.0, 0
        outs, tgts = [], []
        try:
            with no_grad():
                for batch in DataLoader(ds, batch_size=batch_size, shuffle=False):
                    xb, yb = (batch[0], batch[1]) if len(batch) > 1 else (batch[0], batch[0])
                    out, loss = self._forward_loss(xb, yb)
                    total += float(loss.data) * len(xb)
                    count += len(xb)
                    if self.metrics:
                        outs.append(out.data)
                        tgts.append(self._target(yb, out))
        finally:
            model.train(was)
        res = {"loss": total / max(count, 1)}
        if self.metrics and outs:
            res.update(_metrics.compute(self.metrics, np.concatenate(outs), np.concatenate(tgts),
                                        self.kind))
        return res

    def evaluate(self, X, y=None, batch_size=1024) -> dict:
        """Loss (with the regularizers) and metrics on data, in eval mode without gradients.

        ``X`` may be an array with targets ``y``, an (X, y) tuple, a Dataset or a DataLoader.
        """
        data = X if y is None else (X, y)
        return self._evaluate_ds(_dataset(data, "Trainer.evaluate", "X"), batch_size)

    def predict(self, X, batch_size=1024, mc_samples=None, ci=0.95, _transform=None):
        """Raw model outputs for ``X`` (eval mode, no gradients), batched.

        With ``mc_samples=N`` (Monte-Carlo dropout, Gal & Ghahramani 2016), dropout stays
        on and the model is run N times: returns ``(mean, lower, upper)`` where lower and
        upper bound the central ``ci`` interval of the N predictions.
        """
        X = np.asarray(X.data if isinstance(X, Tensor) else X)
        f = _transform or (lambda a: a)
        if mc_samples is None:
            return f(self._predict(X, batch_size))
        if not isinstance(mc_samples, (int, np.integer)) or mc_samples < 2:
            raise ValueError(f"Trainer.predict: mc_samples must be an int >= 2, got "
                             f"{mc_samples!r}")
        if not 0 < ci < 1:
            raise ValueError(f"Trainer.predict: ci must be in (0, 1), got {ci!r}")
        mc = _mc_modules(self.model)
        if not mc:
            raise ValueError("Trainer.predict: mc_samples needs dropout layers in the model "
                             "(nn.Dropout / DropConnect); this model has none")
        self.model.eval()
        for m in mc:
            m.train(True)
        try:
            draws = np.stack([f(self._predict(X, batch_size, keep_mode=True))
                              for _ in range(int(mc_samples))])
        finally:
            self.model.eval()
        lo, hi = np.percentile(draws, [50 * (1 - ci), 50 * (1 + ci)], axis=0)
        return draws.mean(axis=0), lo, hi

    def _predict(self, X, batch_size, keep_mode=False):
        model = self.model
        was = model.training
        if not keep_mode:
            model.eval()
        outs = []
        try:
            with no_grad():
                for start in range(0, len(X), batch_size or len(X)):
                    outs.append(model(self._input(X[start:start + (batch_size or len(X))])).data)
        finally:
            if not keep_mode:
                model.train(was)
        return np.concatenate(outs) if outs else np.empty((0,))

    def predict_proba(self, X, batch_size=1024, mc_samples=None, ci=0.95):
        """Class probabilities: softmax of the outputs for a cross-entropy loss, sigmoid for
        BCE-with-logits, the outputs unchanged otherwise. With ``mc_samples`` the
        probabilities of each Monte-Carlo draw are averaged: ``(mean, lower, upper)``."""
        return self.predict(X, batch_size, mc_samples=mc_samples, ci=ci,
                            _transform=self._proba)

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

    def predict_classes(self, X, batch_size=1024):
        """Predicted labels (argmax, or a threshold for a single output)."""
        return _metrics.to_labels(self.predict(X, batch_size), self.kind)


def _mc_modules(model):
    """Modules that MC dropout keeps in training mode: dropout and DropConnect layers."""
    return [m for m in model.modules()
            if "Dropout" in type(m).__name__ or "DropConnect" in type(m).__name__]


Callback = Callback  # re-exported for convenience
