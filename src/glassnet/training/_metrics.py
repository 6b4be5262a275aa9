"""Turning model outputs into labels and computing the Trainer's named metrics."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import metrics as M
from ..validation import lookup

_PROB_LOSSES = ("BCELoss",)
_LOGIT_LOSSES = ("BCEWithLogitsLoss",)
CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "top5")
REGRESSION = ("mae", "mse", "rmse")


def loss_kind(loss_fn: object) -> str:
    """"logits-binary", "prob-binary", "multiclass" or "regression" from the loss's class."""
    name = type(loss_fn).__name__
    if name in _LOGIT_LOSSES:
        return "logits-binary"
    if name in _PROB_LOSSES:
        return "prob-binary"
    if name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"):
        return "multiclass"
    return "regression"


def to_labels(output: np.ndarray, kind: str, target: np.ndarray | None = None) -> np.ndarray:
    """Predicted labels from raw outputs: argmax for several columns, a threshold for one
    (0 for logits, 0.5 for probabilities, 0 when the targets are -1/+1 signs)."""
    out = np.asarray(output)
    if kind in ("logits-binary", "prob-binary"):
        thr = 0.0 if kind == "logits-binary" else 0.5
        lab = (out > thr).astype(np.int64)
        return lab.reshape(len(lab), -1)[:, 0] if lab.ndim == 2 and lab.shape[1] == 1 else lab
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    flat = out.reshape(len(out)) if out.ndim > 1 else out
    if target is not None and np.min(target) < 0:
        return np.where(flat >= 0, 1, -1)
    return (flat >= 0.5).astype(np.int64)


def target_labels(target: np.ndarray, kind: str) -> np.ndarray:
    t = np.asarray(target)
    if kind in ("logits-binary", "prob-binary"):
        t = t.astype(np.int64)
        return t.reshape(len(t), -1)[:, 0] if t.ndim == 2 and t.shape[1] == 1 else t
    if t.ndim == 2 and t.shape[1] > 1:
        return t.argmax(axis=1)
    t = t.reshape(len(t)) if t.ndim > 1 else t
    return t.astype(np.int64) if np.all(np.mod(t, 1) == 0) else t


def check_metrics(metrics: Iterable[str | Callable[..., float]] | None
                  ) -> list[tuple[str, str | Callable[..., float]]]:
    """``[(name, name or callable)]`` for the Trainer's ``metrics`` argument."""
    names = {k: k for k in CLASSIFICATION + REGRESSION}
    out: list[tuple[str, str | Callable[..., float]]] = []
    for m in metrics or ():
        if callable(m):
            out.append((getattr(m, "__name__", "metric"), m))
        else:
            key = lookup(m, names, "metric", "Trainer", aliases={"acc": "accuracy"},
                         also="a callable f(y_true, output) -> float")
            out.append((key, key))
    return out


def compute(metrics: Iterable[tuple[str, str | Callable[..., float]]], outputs: np.ndarray,
            targets: np.ndarray, kind: str) -> dict[str, float]:
    """Named metric values over one epoch's concatenated outputs and targets."""
    res: dict[str, float] = {}
    labels: np.ndarray | None = None
    truth: np.ndarray | None = None
    for name, m in metrics:
        if callable(m):
            res[name] = float(m(targets, outputs))
            continue
        if name in REGRESSION:
            d = outputs.reshape(len(outputs), -1) - np.asarray(targets).reshape(len(targets), -1)
            mse = float(np.mean(d * d))
            res[name] = {"mae": float(np.mean(np.abs(d))), "mse": mse,
                         "rmse": float(np.sqrt(mse))}[name]
            continue
        if labels is None:
            labels = to_labels(outputs, kind, targets)
            truth = target_labels(targets, kind)
        assert truth is not None  # set with labels
        if name == "accuracy":
            # multi-label (2-D 0/1 targets): fraction of correct labels
            res[name] = float(np.mean(labels == truth)) if labels.ndim > 1 else M.accuracy(truth, labels)
        elif name == "top5":
            res[name] = M.top_k_accuracy(truth, outputs, k=5)
        else:
            fn = {"precision": M.precision, "recall": M.recall, "f1": M.f1_score}[name]
            res[name] = float(fn(truth, labels, average="macro", zero_division=0))
    return res
