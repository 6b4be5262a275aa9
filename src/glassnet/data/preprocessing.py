"""Encoders and scalers: one-hot, binary codes for categories, standardisation, min-max."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import as_array
from ..errors import ArgumentError, ArgumentTypeError

__all__ = ["one_hot", "binary_encode", "binary_decode", "StandardScaler", "MinMaxScaler"]


def one_hot(y, num_classes=None, dtype=None):
    """Indicator vectors: ``out[..., k] = 1`` where ``y == k``.

    ``y`` integer labels of any shape -> array of shape ``y.shape + (num_classes,)``
    (default dtype float32; ``num_classes`` defaults to ``y.max() + 1``).

    Example
    -------
    >>> one_hot(np.array([0, 2]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    y = as_array(y)
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise ArgumentTypeError(f"one_hot: y must hold integer class labels, got dtype "
                                    f"{y.dtype}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ArgumentError(f"one_hot: labels must be in [0, {num_classes}), got range "
                         f"[{int(y.min())}, {int(y.max())}]")
    dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    out = np.zeros(y.shape + (int(num_classes),), dtype=dt)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return out


def binary_encode(values, categories=None, dtype=None):
    """Encode a categorical attribute with ``ceil(log2 k)`` bits instead of ``k`` one-hot columns.

    Category number ``i`` (its position in ``categories``, sorted unique values
    by default) becomes the binary digits of ``i``, most significant first. A
    single category needs no bits (0 columns).

    Returns ``(codes, categories)``: codes of shape (n, ceil(log2 k)), float32 by default.

    Example
    -------
    >>> codes, cats = binary_encode(["red", "green", "blue", "green", "violet"])
    >>> cats, codes[0]            # 4 categories -> 2 bits; "red" is category 2
    (['blue', 'green', 'red', 'violet'], array([1., 0.], dtype=float32))
    """
    vals = as_array(values)
    if vals.ndim != 1:
        raise ArgumentError(f"binary_encode: values must be one-dimensional, got shape "
                            f"{vals.shape}")
    if categories is None:
        cats = np.unique(vals)
    else:
        cats = np.asarray(categories)
        if len(np.unique(cats)) != len(cats):
            raise ArgumentError("binary_encode: categories contains duplicates")
    k = len(cats)
    if k == 0:
        raise ArgumentError("binary_encode: no categories (values is empty)")
    order = np.argsort(cats, kind="stable")
    pos = np.searchsorted(cats[order], vals)
    pos = np.clip(pos, 0, k - 1)
    found = cats[order][pos] == vals
    if not np.all(found):
        bad = np.unique(vals[~found])[:5].tolist()
        raise ArgumentError(f"binary_encode: values {bad} are not among the categories")
    index = order[pos]
    bits = math.ceil(math.log2(k)) if k > 1 else 0
    shifts = np.arange(bits - 1, -1, -1)
    dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    codes = ((index[:, None] >> shifts) & 1).astype(dt)
    return codes, cats.tolist()


def binary_decode(codes, categories):
    """Invert :func:`binary_encode`: rows of bits (rounded at 0.5) -> category values."""
    codes = as_array(codes)
    cats = np.asarray(categories)
    bits = codes.shape[-1] if codes.ndim == 2 else 0
    need = math.ceil(math.log2(len(cats))) if len(cats) > 1 else 0
    if codes.ndim != 2 or bits != need:
        raise ArgumentError(f"binary_decode: codes must have shape (n, {need}) for {len(cats)} "
                         f"categories, got {codes.shape}")
    index = (codes >= 0.5).astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1))
    if index.size and index.max() >= len(cats):
        raise ArgumentError(f"binary_decode: code {int(index.max())} is not a category number "
                         f"(there are {len(cats)})")
    return cats[index]


def _features(X, who):
    X = as_array(X)
    if X.ndim != 2:
        raise ArgumentError(f"{who}: X must be 2-D (samples, features), got shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(backend.get_default_dtype())
    return X


class _Scaler:
    def _check_fitted(self, X, who):
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError(f"{type(self).__name__}.{who}: call fit() first")
        X = _features(X, f"{type(self).__name__}.{who}")
        if X.shape[1] != self.n_features_in_:
            raise ArgumentError(f"{type(self).__name__}.{who}: X has {X.shape[1]} features, the "
                             f"scaler was fitted on {self.n_features_in_}")
        return X

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def get_params(self):
        return {}


class StandardScaler(_Scaler):
    r"""Standardise features: :math:`z = (x - \mu) / \sigma` per column.

    :math:`\sigma` is the population standard deviation; constant columns get
    :math:`\sigma = 1` (they become 0). Fitted attributes: ``mean_``, ``scale_``.

    Example
    -------
    >>> sc = StandardScaler().fit(X_train); Z = sc.transform(X_test)  # doctest: +SKIP
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)

    def get_params(self):
        return {"with_mean": self.with_mean, "with_std": self.with_std}

    def fit(self, X):
        X = _features(X, "StandardScaler.fit")
        self.n_features_in_ = X.shape[1]
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        self.mean_ = (mean if self.with_mean else np.zeros_like(mean)).astype(X.dtype)
        self.scale_ = np.where(std > 0, std, 1.0).astype(X.dtype) if self.with_std \
            else np.ones_like(mean, dtype=X.dtype)
        return self

    def transform(self, X):
        X = self._check_fitted(X, "transform")
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, Z):
        Z = self._check_fitted(Z, "inverse_transform")
        return Z * self.scale_ + self.mean_


class MinMaxScaler(_Scaler):
    r"""Rescale each feature to ``feature_range`` (default [0, 1]):
    :math:`x' = lo + (x - \min) (hi - lo) / (\max - \min)`; constant columns map to ``lo``.

    Example
    -------
    >>> X01 = MinMaxScaler().fit_transform(X)  # doctest: +SKIP
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ArgumentError(f"MinMaxScaler: feature_range must be (lo, hi) with lo < hi, got "
                             f"{feature_range}")
        self.feature_range = (float(lo), float(hi))

    def get_params(self):
        return {"feature_range": self.feature_range}

    def fit(self, X):
        X = _features(X, "MinMaxScaler.fit")
        self.n_features_in_ = X.shape[1]
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        rng = self.data_max_ - self.data_min_
        lo, hi = self.feature_range
        self.scale_ = ((hi - lo) / np.where(rng > 0, rng, 1.0)).astype(X.dtype)
        self.min_ = (lo - self.data_min_ * self.scale_).astype(X.dtype)
        return self

    def transform(self, X):
        X = self._check_fitted(X, "transform")
        return X * self.scale_ + self.min_

    def inverse_transform(self, Z):
        Z = self._check_fitted(Z, "inverse_transform")
        return (Z - self.min_) / self.scale_
