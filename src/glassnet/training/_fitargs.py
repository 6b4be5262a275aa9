"""How ``Trainer.fit`` / ``evaluate`` / ``predict`` read their data arguments.

Two spellings are accepted and never mixed:

* glassnet's: one data argument -- ``(X, y)``, ``(X,)``, ``X`` alone (its own target), a
  ``Dataset``, a ``DataLoader`` or an iterable of ready ``(x, y)`` batches;
* Keras's: ``x`` an array and ``y`` its targets as a second argument.

An argument that could be read two ways (a tuple ``x`` together with ``y``, a Dataset
together with ``y``, ``validation`` together with ``validation_data``, ...) is an
:class:`~glassnet.errors.ArgumentError` naming both, never a guess.

Sample weights travel with the data: a :class:`WeightedDataset` is a TensorDataset whose
last array holds one weight per sample, and its batches are ``(x, y, w)``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Tensor, as_array
from ..data import DataLoader, Dataset, TensorDataset
from ..errors import ArgumentError, ArgumentTypeError
from ..validation import check_real

__all__ = ["WeightedDataset", "is_batches", "is_array", "keras_xy", "check_sample_weight",
           "check_class_weight", "class_sample_weights", "keras_split"]


class WeightedDataset(TensorDataset):
    """A TensorDataset ``(X, y, w)`` whose last array is a per-sample loss weight.

    ``ds[idx]`` returns ``(X[idx], y[idx], w[idx])``; the Trainer multiplies each
    sample's loss by its weight (see :func:`weighted_mean`)."""


def is_batches(data: Any) -> bool:
    """Whether ``data`` is a source of ready (x, y) batches, re-iterable once per epoch
    (e.g. ``SequenceStreams``), rather than arrays or a Dataset to batch."""
    return hasattr(data, "__iter__") and not isinstance(
        data, (np.ndarray, Tensor, tuple, list, dict, str, bytes, Dataset, DataLoader))


def is_array(x: Any) -> bool:
    """An array of samples as Keras takes ``x``: a NumPy array or a glassnet Tensor."""
    return isinstance(x, (np.ndarray, Tensor))


def _form(x: Any) -> str:
    if isinstance(x, tuple):
        return "a tuple"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, DataLoader):
        return "a DataLoader"
    if isinstance(x, Dataset):
        return "a Dataset"
    return f"a {type(x).__name__}"


def keras_xy(x: Any, y: Any, who: str, xname: str = "x") -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` arrays for the Keras spelling ``f(x, y)``; refuses every form of ``x``
    and ``y`` that could be read another way."""
    if isinstance(x, (tuple, list)):
        raise ArgumentError(
            f"{who}: {xname} is {_form(x)} and y is given too, which reads two ways "
            f"({xname}=(X, y) with more targets, or a list of samples); pass "
            f"{who.split('.')[-1]}(X, y) with X an array, or {who.split('.')[-1]}((X, y)) "
            f"without y (np.asarray(x) for a nested list of samples)")
    if isinstance(x, (Dataset, DataLoader)) or is_batches(x):
        raise ArgumentError(
            f"{who}: y must not be given when {xname} is {_form(x)}: its targets come from "
            f"{xname} itself (for validation data use validation_data=...)")
    if not is_array(x):
        raise ArgumentTypeError(f"{who}: {xname} must be an array (NumPy array or Tensor) "
                                f"when y is given, got {type(x).__name__}")
    if isinstance(y, tuple):
        raise ArgumentError(
            f"{who}: y is a tuple; y holds the targets of x as one array. Validation data "
            "goes in validation_data=(X_val, y_val)")
    if isinstance(y, (Dataset, DataLoader)) or is_batches(y):
        raise ArgumentTypeError(f"{who}: y must be an array of targets, got {_form(y)}")
    X, Y = as_array(x), as_array(y)
    if Y.dtype == object:
        raise ArgumentTypeError(f"{who}: y must be a numeric array of targets, got an array "
                                f"of objects (ragged lists?)")
    if X.ndim == 0 or Y.ndim == 0:
        raise ArgumentError(f"{who}: {xname} and y must be arrays of samples (first "
                            f"dimension), got shapes {X.shape} and {Y.shape}")
    if len(X) != len(Y):
        raise ArgumentError(f"{who}: {xname} has {len(X)} samples but y has {len(Y)}")
    return X, Y


def check_sample_weight(sample_weight: Any, n: int, who: str,
                        name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as a float64 (n,) array of finite values."""
    w = np.asarray(getattr(sample_weight, "_data", sample_weight))
    if w.dtype.kind not in "biuf" or w.dtype == bool:
        raise ArgumentTypeError(f"{who}: {name} must be an array of numbers, got dtype "
                                f"{w.dtype}")
    w = w.astype(np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ArgumentError(f"{who}: {name} must hold one weight per sample, shape ({n},), "
                            f"got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ArgumentError(f"{who}: {name} must be finite, got NaN or infinite values")
    return w


def check_class_weight(class_weight: Any, who: str) -> dict[int, float]:
    """``class_weight`` as ``{class index: weight}`` (Keras: a dict class -> weight)."""
    if not isinstance(class_weight, dict):
        raise ArgumentTypeError(f"{who}: class_weight must be a dict class index -> weight, "
                                f"got {type(class_weight).__name__}")
    out: dict[int, float] = {}
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ArgumentError(f"{who}: class_weight keys must be class indices (integers "
                                f">= 0), got {k!r}")
        out[int(k)] = check_real(v, f"class_weight[{int(k)}]", who, 0)
    return out


def class_sample_weights(class_weight: dict[int, float], target: Any, who: str) -> np.ndarray:
    """Per-sample weights ``class_weight[label]`` (1.0 for a class not in the dict) of a
    batch of targets, read as Keras does: class indices (N,), one-hot or probability rows
    (N, C) by their argmax, a single column (N, 1) of 0/1 labels rounded."""
    t = np.asarray(getattr(target, "_data", target))
    if t.ndim >= 2 and t.shape[-1] > 1:
        labels = t.argmax(axis=-1)
    else:
        if t.ndim >= 2:
            t = t[..., 0]
        labels = np.round(t) if t.dtype.kind == "f" else t
        if t.dtype.kind == "f" and not np.array_equal(labels, t):
            raise ArgumentError(f"{who}: class_weight needs class labels as targets, got "
                                f"non-integral values such as {t.flat[0]!r}")
    labels = labels.astype(np.int64).reshape(len(t), -1)
    if labels.shape[1] != 1:
        raise ArgumentError(f"{who}: class_weight needs one class label per sample, got "
                            f"targets of shape {t.shape}")
    labels = labels[:, 0]
    size = max(max(class_weight, default=0), int(labels.max(initial=0))) + 1
    table = np.ones(size, np.float64)
    for k, v in class_weight.items():
        table[k] = v
    if labels.min(initial=0) < 0:
        raise ArgumentError(f"{who}: class_weight needs class indices >= 0 as targets, got "
                            f"{int(labels.min())}")
    return table[labels]


def keras_split(arrays: tuple[np.ndarray, ...], validation_split: float,
                who: str) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Keras's ``validation_split``: the LAST ``validation_split`` fraction of the samples,
    taken before any shuffling, is the validation data: the first
    ``floor(n * (1 - validation_split))`` samples train (keras.src.trainers.data_adapters
    ``train_validation_split``)."""
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ArgumentError(f"{who}: validation_split={validation_split:g} of {n} samples "
                            f"leaves no {'training' if split_at == 0 else 'validation'} "
                            "sample")
    return tuple(a[:split_at] for a in arrays), tuple(a[split_at:] for a in arrays)
