"""``glassnet train`` (image classifiers), ``glassnet evaluate`` and ``glassnet predict``.

    glassnet train                                  # MLP on the embedded digits
    glassnet train --dataset fashion-mnist --model cnn --epochs 5 --report
    glassnet evaluate runs/<stamp>/model.safetensors
    glassnet predict runs/<stamp>/model.safetensors samples.npy --proba

``train`` writes into the run folder ``model.safetensors``, ``history.json``,
``metrics.json`` (test loss and accuracy, confusion matrix), ``config.json``,
``learning_curve.png``, for convolutional models ``filters.png`` and
``feature_maps.png``, with ``--report`` ``report.html``, and with ``--log csv,jsonl,
tensorboard`` the per-epoch logs ``log.csv``, ``log.jsonl`` and ``tensorboard/`` (written
every epoch, see :mod:`glassnet.training.loggers`).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .. import backend, io, metrics, models, nn, optim, training
from .. import inspect as ins
from ..errors import DataFileError, DataFileNotFoundError, GlassnetError, ModelFileError
from . import runs

__all__ = ["train", "evaluate", "predict", "read_samples", "prepare_input", "build_model",
           "DEFAULTS", "LOG_KINDS", "log_kinds", "build_loggers"]

DEFAULTS = {  # (epochs, batch size, lr) per model family
    "mlp": (60, 32, 1e-3), "cnn": (10, 64, 1e-3), "lenet": (10, 64, 1e-3), "vgg": (10, 64, 1e-3),
}
CONV = ("cnn", "lenet", "vgg")

# --log KIND -> (the logger, what it writes in the run folder)
LOG_KINDS = {"csv": (training.CSVLogger, "log.csv"),
             "jsonl": (training.JSONLinesLogger, "log.jsonl"),
             "tensorboard": (training.TensorBoardLogger, "tensorboard")}


def log_kinds(text: str) -> list[str]:
    """``--log``'s value: comma-separated kinds of :data:`LOG_KINDS`, each once.

    >>> log_kinds("csv,tensorboard")
    ['csv', 'tensorboard']
    """
    kinds = [t.strip() for t in text.split(",") if t.strip()]
    bad = [k for k in kinds if k not in LOG_KINDS]
    if not kinds or bad:
        what = f"unknown log kind {bad[0]!r}" if bad else "no log kind"
        raise argparse.ArgumentTypeError(f"{what} (expected comma-separated kinds of "
                                         f"{', '.join(LOG_KINDS)}, got {text!r})")
    return list(dict.fromkeys(kinds))


def build_loggers(kinds: list[str] | None, out: Path) -> list[training.Callback]:
    """The loggers ``--log kinds`` asks for, writing into the run folder ``out`` (a
    missing optional package is a one-line error saying what to install)."""
    try:
        return [LOG_KINDS[k][0](Path(out) / LOG_KINDS[k][1]) for k in kinds or ()]
    except ImportError as e:
        raise GlassnetError(f"--log: {e}") from e


def build_model(kind, in_shape, n_classes, hidden=None, activation="relu", dropout=0.2):
    """The classifier ``--model kind`` for images of shape (C, H, W).

    ``mlp``: ``models.MLP`` with ``hidden`` widths (default one layer of 256 units for
    8x8 images, 512 for larger); ``lenet`` / ``cnn`` and ``vgg`` on 28x28 images:
    ``models.LeNet`` and ``models.SmallVGG``; on smaller images a two-block CNN
    (conv3x3(32)-pool-conv3x3(64)-pool-fc128).

    >>> model = build_model("mlp", (1, 8, 8), 10)
    """
    c, h, w = in_shape
    if kind == "mlp":
        hidden = [256 if h * w <= 64 else 512] if hidden is None else list(hidden)
        return models.MLP([c * h * w, *hidden, n_classes], activation=activation,
                          dropout=dropout)
    if kind in CONV and (h, w) == (28, 28):
        return models.SmallVGG(c, n_classes) if kind == "vgg" else models.LeNet(c, n_classes)
    if kind in CONV:
        return nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 128), nn.ReLU(),
                             nn.Linear(128, n_classes))
    raise ValueError(f"--model {kind} does not classify images; use mlp, cnn, lenet or vgg")


def train(args) -> int:
    """Train the classifier described by ``args`` and fill its run folder; returns 0."""
    out = args.out = runs.run_dir(args.out)
    backend.manual_seed(args.seed)
    kind = runs.option(args, "model", "mlp")
    dataset = args.dataset = runs.option(args, "dataset", "digits")
    Xtr, ytr, Xte, yte, shape = runs.load_images(dataset, args.data_dir)
    Xtr, Xva, ytr, yva = runs.split(Xtr, ytr, 0.1, seed=args.seed)
    limit = runs.option(args, "limit")
    if limit is not None:
        Xtr, ytr = Xtr[:limit], ytr[:limit]
    n_classes = int(max(ytr.max(), yte.max())) + 1
    model = build_model(kind, shape, n_classes, runs.option(args, "hidden"),
                        runs.option(args, "activation", "relu"),
                        runs.option(args, "dropout", 0.2))
    conv = kind != "mlp"
    if conv:
        Xtr, Xva, Xte = (a.reshape((-1,) + shape) for a in (Xtr, Xva, Xte))
    epochs, bs, lr = DEFAULTS[kind]
    # a value the user gave is used as given (None is "not given"; 0 never means default)
    epochs, bs, lr = (runs.option(args, "epochs", epochs), runs.option(args, "batch_size", bs),
                      runs.option(args, "lr", lr))
    opt = optim.get(runs.option(args, "optimizer", "adam"), model.parameters(), lr=lr)
    trainer = training.Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"])
    patience = runs.option(args, "patience", 10)
    callbacks = [training.EarlyStopping("val_loss", patience=patience,
                                        restore_best_weights=True)] if patience > 0 else []
    loggers = build_loggers(runs.option(args, "log"), out)   # last: they log what others add
    report = bool(getattr(args, "report", False))
    flow, stats = (ins.GradientFlow(), ins.ActivationStats()) if report else (None, None)
    if args.verbose:
        runs.note(f"glassnet: {kind} on {dataset}: {len(Xtr)} train / {len(Xva)} "
                  f"validation / {len(Xte)} test samples, {model.num_parameters()} "
                  f"parameters -> {out}")
    t0 = time.perf_counter()
    history = trainer.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, batch_size=bs,
                          callbacks=callbacks + [c for c in (flow, stats) if c is not None]
                          + loggers,
                          verbose=args.verbose, seed=args.seed)
    seconds = time.perf_counter() - t0
    test = trainer.evaluate(Xte, yte)
    pred = trainer.predict_classes(Xte)
    cm = metrics.confusion_matrix(yte, pred, num_classes=n_classes)
    result = {"test_loss": test["loss"], "test_accuracy": test["accuracy"],
              "test_samples": int(len(yte)),
              "best_val_accuracy": max(v for v in history["val_accuracy"] if v is not None),
              "epochs": len(history), "train_seconds": round(seconds, 2),
              "stop_reason": history.stop_reason, "confusion_matrix": cm.tolist()}
    runs.write_run(out, args, model, history, result,
                   {"task": "classify", "dataset": dataset, "input_shape": list(shape),
                    "flatten": not conv, "seed": args.seed, "classes": n_classes,
                    "preprocessing": runs.preprocessing(dataset, shape, not conv, Xtr.dtype)})
    runs.draw(ins.plot_learning_curves, history, out / "learning_curve.png")
    if conv:
        runs.draw(ins.plot_filters, model, out / "filters.png")
        runs.draw(ins.plot_feature_maps, model, Xte[:1], out / "feature_maps.png")
    if report:
        ins.report(history, model, out / "report.html", confusion=cm, gradient_flow=flow,
                       activation_stats=stats, title=f"glassnet: {kind} on {dataset}",
                       test_metrics={"loss": test["loss"], "accuracy": test["accuracy"]})
    if args.verbose:
        print(metrics.classification_report(yte, pred, digits=3))
    print(f"test accuracy {test['accuracy']:.4f}  test loss {test['loss']:.4f}  "
          f"({len(history)} epochs, {seconds:.1f} s)  -> {out}")
    return 0


def _load_classifier(path):
    """(model, metadata) of a classifier file written by ``glassnet train``."""
    model = io.load(path)
    meta = getattr(model, "metadata", {}) or {}
    if meta.get("task") != "classify":
        raise ValueError(f"{path} is not a classifier written by `glassnet train` (its task "
                         f"is {meta.get('task')!r})")
    shape = meta.get("input_shape")
    if not (isinstance(shape, list) and len(shape) == 3
            and all(isinstance(d, int) and d > 0 for d in shape)):
        raise ModelFileError(f"{path}: its metadata has no valid input_shape (expected "
                             f"[channels, height, width], got {shape!r})")
    return model, meta


def evaluate(args) -> int:
    """Print a saved classifier's test accuracy and per-class report on its dataset
    (``--dataset``, else the one it was trained on)."""
    model, meta = _load_classifier(args.model)
    dataset = runs.option(args, "dataset", meta.get("dataset"))
    if dataset is None:
        raise ModelFileError(f"{args.model}: its metadata does not say which dataset it was "
                             "trained on; pass --dataset")
    if dataset == "digits" and runs.option(args, "data_dir") is not None:
        raise ValueError("--data-dir does not apply to --dataset digits (embedded in glassnet)")
    shape = runs.IMAGE_SHAPES.get(dataset)
    if shape is not None and list(shape) != meta["input_shape"]:
        raise ValueError(f"--dataset {dataset} has images of shape {list(shape)}, the model "
                         f"{args.model} takes {meta['input_shape']}")
    _, _, Xte, yte, shape = runs.load_images(dataset, runs.option(args, "data_dir"))
    if not meta.get("flatten", True):
        Xte = Xte.reshape((-1,) + shape)
    trainer = training.Trainer(model, nn.CrossEntropyLoss(), metrics=["accuracy"])
    res = trainer.evaluate(Xte, yte)
    pred = trainer.predict_classes(Xte)
    print(f"{dataset} test: accuracy {res['accuracy']:.4f}  loss {res['loss']:.4f}  "
          f"({len(yte)} samples)")
    print(metrics.classification_report(yte, pred))
    return 0


def read_samples(path, shape):
    """The samples of a ``.npy`` file (no pickles) or a CSV file (one sample a row), as a
    float array (N, prod(shape)); any failure is a DataFileError naming the file."""
    try:
        if path.suffix == ".npy":
            X = np.load(path, allow_pickle=False)
        else:
            X = np.loadtxt(path, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise DataFileNotFoundError(f"no input file at {path}") from None
    except (OSError, ValueError, EOFError) as e:
        raise DataFileError(f"cannot read the input {path} as "
                            f"{'a .npy array' if path.suffix == '.npy' else 'CSV numbers'}: "
                            f"{e}") from None
    if X.dtype.kind not in "biuf":
        raise DataFileError(f"the input {path} holds {X.dtype} values, expected numbers")
    size = int(np.prod(shape))
    if X.ndim == 0 or len(X) == 0:
        raise DataFileError(f"the input {path} holds no samples")
    if X[0].size != size:
        raise DataFileError(f"each sample of the input {path} has {X[0].size} values "
                            f"(shape {X.shape}), the model takes {size} "
                            f"({'x'.join(map(str, shape))} images)")
    if not np.isfinite(X).all():
        raise DataFileError(f"the input {path} holds NaN or infinite values")
    return X.reshape(len(X), size)


def _check_preprocessing(path, pre) -> dict:
    """The file's preprocessing record, checked (a ModelFileError naming the file when a
    field is missing or malformed)."""
    try:
        lo, hi = (float(v) for v in pre["range"])
        rlo, rhi = (float(v) for v in pre["raw_range"])
        mean, std = np.asarray(pre["mean"], float), np.asarray(pre["std"], float)
        np.dtype(pre["dtype"])
        ok = lo <= hi and rlo <= rhi and bool(np.all(std > 0)) and isinstance(pre["raw"], str)
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise ModelFileError(f"{path}: its metadata has a malformed preprocessing record "
                             f"(expected range, raw_range, mean, std > 0, dtype, raw; got "
                             f"{pre!r})")
    return pre


def _span(X) -> str:
    return f"[{float(X.min()):g}, {float(X.max()):g}]"


def prepare_input(X: np.ndarray, pre: dict | None, raw: bool, path: str | Path,
                  tol: float = 1e-6) -> np.ndarray:
    """The samples ``X`` (N, features) as the model takes them, per the preprocessing
    record ``pre`` of its file: with ``raw`` the values are raw (e.g. digits' pixel values
    0..16) and are scaled, ``(X - mean) / std``; without it they are in the model's scale
    already. Either way values outside the recorded range (``raw_range`` resp. ``range``,
    within ``tol``), or fractional values given as raw integers, are a DataFileError that
    names the expected shape and range, never a silent wrong prediction.

    A file that records no preprocessing (written by an older glassnet) takes the input as
    it is; ``raw`` is then an error (nothing to scale by)."""
    if not pre:
        if raw:
            raise ModelFileError(f"{path}: the model file records no preprocessing, so --raw "
                                 "cannot scale the input; give it in the model's scale")
        return X
    want = runs.describe_input(pre, hint=False)
    if raw:
        lo, hi = pre["raw_range"]
        if X.min() < lo - tol * max(1.0, abs(lo)) or X.max() > hi + tol * max(1.0, abs(hi)):
            raise DataFileError(f"the input {path} holds values in {_span(X)}, outside the "
                                f"raw range [{lo:g}, {hi:g}] of the model (expected: {want})")
        if pre.get("raw_integer") and not np.array_equal(X, np.round(X)):
            raise DataFileError(f"the input {path} holds fractional values (in {_span(X)}) but "
                                f"--raw takes integers in [{lo:g}, {hi:g}] ({pre['raw']}); "
                                f"it looks scaled already: drop --raw (expected: {want})")
        X = (X - np.asarray(pre["mean"], X.dtype)) / np.asarray(pre["std"], X.dtype)
    else:
        lo, hi = pre["range"]
        if X.min() < lo - tol * max(1.0, abs(lo)) or X.max() > hi + tol * max(1.0, abs(hi)):
            rlo, rhi = pre["raw_range"]
            hint = (" -- they look like raw values: pass --raw to have glassnet predict "
                    "scale them" if X.min() >= rlo and X.max() <= rhi else "")
            raise DataFileError(f"the input {path} holds values in {_span(X)}, outside "
                                f"[{lo:g}, {hi:g}], the range the model was trained on"
                                f"{hint} (expected: {want})")
    return X.astype(pre["dtype"], copy=False)


def predict(args) -> int:
    """Print the class (or with ``--proba`` the probabilities) of every sample in a
    ``.npy`` or ``.csv`` file, one line each.

    The samples are in the model's input scale (``[0, 1]`` for a ``glassnet train``
    classifier), or with ``--raw`` in the raw scale its file records (digits: pixel values
    0..16; MNIST: bytes 0..255), which predict scales as training did; input outside the
    expected range is refused (see :func:`prepare_input`)."""
    model, meta = _load_classifier(args.model)
    shape = tuple(meta["input_shape"])
    X = read_samples(args.input, shape)
    pre = meta.get("preprocessing")
    if pre is not None:
        pre = _check_preprocessing(args.model, pre)
    X = prepare_input(X, pre, bool(getattr(args, "raw", False)), args.input)
    if not meta.get("flatten", True):
        X = X.reshape((len(X),) + shape)
    trainer = training.Trainer(model, nn.CrossEntropyLoss())
    if getattr(args, "proba", False):
        np.savetxt(sys.stdout, trainer.predict_proba(X), fmt="%.6f", delimiter=",")
    else:
        print("\n".join(str(int(c)) for c in trainer.predict_classes(X)))
    return 0
