"""Encoders and scalers: one-hot, binary codes for categories, standardisation, min-max."""
from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from typing_extensions import Self

from .. import backend
from ..autograd.tensor import as_array
from ..errors import ArgumentError, ArgumentTypeError, NotFittedError

__all__ = ["one_hot", "binary_encode", "binary_decode", "StandardScaler", "MinMaxScaler"]


def one_hot(y: ArrayLike, num_classes: int | None = None,
            dtype: DTypeLike | None = None) -> np.ndarray:
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


def binary_encode(values: ArrayLike, categories: Sequence | None = None,
                  dtype: DTypeLike | None = None) -> tuple[np.ndarray, list]:
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


def binary_decode(codes: ArrayLike, categories: Sequence) -> np.ndarray:
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


def _features(X: ArrayLike, who: str) -> np.ndarray:
    """``X`` checked as a dense, finite, non-empty 2-D array of real numbers (floats kept,
    other numbers in the default dtype); the messages are the ones scikit-learn's checks
    look for."""
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        raise ArgumentTypeError(f"{who}: X is a sparse matrix, but dense data is required; "
                                f"pass X.toarray()")
    X = as_array(X)
    if X.ndim != 2:
        raise ArgumentError(f"{who}: X must be 2-D (samples, features), got shape {X.shape}; "
                            f"Reshape your data with X.reshape(-1, 1) for a single feature or "
                            f"X.reshape(1, -1) for a single sample")
    if X.dtype.kind == "c":
        raise ArgumentError(f"{who}: X holds complex numbers; Complex data not supported")
    if X.dtype.kind not in "fiub":
        try:
            X = X.astype(backend.get_default_dtype())
        except TypeError as e:   # numpy's message says which value: keep it
            raise ArgumentTypeError(f"{who}: X must hold numbers, got dtype {X.dtype} ({e})") \
                from None
        except ValueError as e:
            raise ArgumentError(f"{who}: X must hold numbers, got dtype {X.dtype} ({e})") \
                from None
    if X.shape[0] == 0:
        raise ArgumentError(f"{who}: X has 0 sample(s) (shape={X.shape}) while a minimum of 1 "
                            f"is required.")
    if X.shape[1] == 0:
        raise ArgumentError(f"{who}: X has 0 feature(s) (shape={X.shape}) while a minimum of 1 "
                            f"is required.")
    if X.dtype.kind != "f":
        X = X.astype(backend.get_default_dtype())
    elif not np.isfinite(X).all():
        raise ArgumentError(f"{who}: X contains NaN or infinity; remove or impute those values")
    return X


class _Params:
    """scikit-learn's parameter protocol without scikit-learn: ``get_params(deep)``,
    ``set_params(**params)`` (nested ``step__name`` keys too) and a repr of the changed
    parameters. The constructor stores each parameter as given (``fit`` checks it), so
    ``sklearn.base.clone`` rebuilds an equal, unfitted object."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters as a dict; with ``deep``, also ``name__sub`` for
        parameters that have parameters of their own."""
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            out[name] = value
        return out

    def set_params(self, **params: object) -> Self:
        """Set constructor parameters (checked at the next ``fit``); returns self."""
        valid = self._param_names()
        nested: dict = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ArgumentError(f"{type(self).__name__}.set_params: invalid parameter "
                                    f"{name!r}; valid parameters are {valid}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in
                    inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                   if not (k in defaults and _same(v, defaults[k]))]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - arrays and such: treat as changed
        return False


class _Scaler(_Params):
    def fit(self, X: ArrayLike, y: object = None) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def transform(self, X: ArrayLike) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self, X: ArrayLike, who: str) -> np.ndarray:
        name = type(self).__name__
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{name}.{who}: this {name} is not fitted yet; call fit() first")
        X = _features(X, f"{name}.{who}")
        if X.shape[1] != self.n_features_in_:
            raise ArgumentError(f"{name}.{who}: X has {X.shape[1]} features, but {name} is "
                                f"expecting {self.n_features_in_} features as input (it was "
                                f"fitted on {self.n_features_in_})")
        return X

    def fit_transform(self, X: ArrayLike, y: object = None, **fit_params: object) -> np.ndarray:
        """``fit(X, y)`` then ``transform(X)``."""
        return self.fit(X, y, **fit_params).transform(X)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """Output feature names: those given (or ``feature_names_in_``), else x0, x1, ...
        (a scaler keeps its columns)."""
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__}.get_feature_names_out: call fit() "
                                 f"first")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            return np.array([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        names = np.asarray(input_features, dtype=object)
        if len(names) != self.n_features_in_:
            raise ArgumentError(f"{type(self).__name__}.get_feature_names_out: input_features "
                                f"has {len(names)} names, the scaler was fitted on "
                                f"{self.n_features_in_} features")
        return names

    def _start_fit(self, X: ArrayLike, who: str) -> np.ndarray:
        names = getattr(X, "columns", None)
        X = _features(X, who)
        self.n_features_in_ = X.shape[1]
        if names is not None and all(isinstance(c, str) for c in names):
            self.feature_names_in_ = np.asarray(list(names), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return X

    def __sklearn_tags__(self) -> Any:
        # asked only by scikit-learn (so it is importable here); glassnet never imports it
        from sklearn.utils import Tags, TargetTags, TransformerTags
        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]))


class StandardScaler(_Scaler):
    r"""Standardise features: :math:`z = (x - \mu) / \sigma` per column.

    :math:`\sigma` is the population standard deviation; constant columns get
    :math:`\sigma = 1` (they become 0). Fitted attributes: ``mean_``, ``scale_``,
    ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame with string column names).

    Follows scikit-learn's estimator protocol (``get_params``, ``set_params``,
    ``fit(X, y=None)``, ``fit_transform``), so it works in ``sklearn.pipeline.Pipeline``,
    ``sklearn.base.clone`` and ``GridSearchCV``.

    Example
    -------
    >>> sc = StandardScaler().fit(X_train); Z = sc.transform(X_test)  # doctest: +SKIP
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Learn the per-column mean and standard deviation of X (``y`` is ignored)."""
        X = self._start_fit(X, "StandardScaler.fit")
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        self.mean_ = (mean if self.with_mean else np.zeros_like(mean)).astype(X.dtype)
        self.scale_ = np.where(std > 0, std, 1.0).astype(X.dtype) if self.with_std \
            else np.ones_like(mean, dtype=X.dtype)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """``(X - mean_) / scale_``."""
        X = self._check_fitted(X, "transform")
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """``X * scale_ + mean_``."""
        Z = self._check_fitted(X, "inverse_transform")
        return Z * self.scale_ + self.mean_


class MinMaxScaler(_Scaler):
    r"""Rescale each feature to ``feature_range`` (default [0, 1]):
    :math:`x' = lo + (x - \min) (hi - lo) / (\max - \min)`; constant columns map to ``lo``.

    ``feature_range`` is checked by ``fit`` (lo < hi), like scikit-learn. Follows
    scikit-learn's estimator protocol, as :class:`StandardScaler` does.

    Example
    -------
    >>> X01 = MinMaxScaler().fit_transform(X)  # doctest: +SKIP
    """

    def __init__(self, feature_range: tuple = (0.0, 1.0)) -> None:
        self.feature_range = feature_range

    def _range(self) -> tuple[float, float]:
        fr = self.feature_range
        try:
            lo, hi = (float(v) for v in fr)
        except (TypeError, ValueError):
            raise ArgumentError(f"MinMaxScaler: feature_range must be (lo, hi) with lo < hi, "
                                f"got {fr!r}") from None
        if not lo < hi:
            raise ArgumentError(f"MinMaxScaler: feature_range must be (lo, hi) with lo < hi, got "
                                f"{fr}")
        return lo, hi

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Learn the per-column minimum and maximum of X (``y`` is ignored)."""
        lo, hi = self._range()
        X = self._start_fit(X, "MinMaxScaler.fit")
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        rng = self.data_max_ - self.data_min_
        self.scale_ = ((hi - lo) / np.where(rng > 0, rng, 1.0)).astype(X.dtype)
        self.min_ = (lo - self.data_min_ * self.scale_).astype(X.dtype)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """``X * scale_ + min_``."""
        X = self._check_fitted(X, "transform")
        return X * self.scale_ + self.min_

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """``(X - min_) / scale_``."""
        Z = self._check_fitted(X, "inverse_transform")
        return (Z - self.min_) / self.scale_
