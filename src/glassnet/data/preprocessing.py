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

__all__ = ["one_hot", "binary_encode", "binary_decode", "StandardScaler", "MinMaxScaler",
           "OneHotEncoder", "BinaryEncoder"]


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


_UNUSED = ("nearest", "flag", "error")


def binary_decode(codes: ArrayLike, categories: Sequence, unused: str = "nearest",
                  flag: object = -1) -> np.ndarray:
    """Invert :func:`binary_encode`: rows of bits (or of predicted probabilities, rounded
    at 0.5) -> category values, each row on its own.

    With k categories that are not a power of two, some of the ``2^bits`` codes stand for
    no category (5 categories use 3 bits: codes 5, 6 and 7 are unused), and a network's
    predicted bits can land on one. ``unused`` says what such a row becomes:

    - ``"nearest"`` (default): the category whose code is nearest in Hamming distance to
      the rounded bits (ties: the one nearest to the raw values in L1 distance, then the
      lower category number);
    - ``"flag"``: the value ``flag`` (default -1; the result has a dtype holding both,
      object when the categories are strings and ``flag`` is not);
    - ``"error"``: raise, naming the rows.

    >>> codes = [[0, 1, 0], [1, 1, 1], [0.9, 0.2, 0.6]]   # 5 categories: 5, 6, 7 unused
    >>> binary_decode(codes, list("abcde")).tolist()
    ['c', 'd', 'e']
    >>> binary_decode(codes, list("abcde"), unused="flag", flag="?").tolist()
    ['c', '?', '?']
    """
    if unused not in _UNUSED:
        raise ArgumentError(f"binary_decode: unused must be one of {list(_UNUSED)}, got "
                            f"{unused!r}")
    codes = as_array(codes)
    cats = np.asarray(categories)
    k = len(cats)
    bits = codes.shape[-1] if codes.ndim == 2 else 0
    need = math.ceil(math.log2(k)) if k > 1 else 0
    if codes.ndim != 2 or bits != need:
        raise ArgumentError(f"binary_decode: codes must have shape (n, {need}) for {k} "
                            f"categories, got {codes.shape}")
    if codes.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"binary_decode: codes must be numbers (bits or "
                                f"probabilities), got dtype {codes.dtype}")
    rounded = (codes >= 0.5).astype(np.int64)
    index = rounded @ (1 << np.arange(bits - 1, -1, -1, dtype=np.int64))
    bad = index >= k
    if not bad.any():
        return cats[index]
    if unused == "error":
        rows = np.flatnonzero(bad)
        raise ArgumentError(f"binary_decode: rows {rows[:10].tolist()}"
                            f"{' ...' if rows.size > 10 else ''} decode to unused codes "
                            f"{np.unique(index[bad])[:10].tolist()} (there are {k} categories); "
                            f"pass unused='nearest' or unused='flag'")
    if unused == "nearest":
        table = (np.arange(k)[:, None] >> np.arange(bits - 1, -1, -1)) & 1   # (k, bits)
        r, c = rounded[bad], codes[bad].astype(np.float64)
        hamming = r @ (1 - table).T + (1 - r) @ table.T                      # (m, k)
        l1 = np.abs(c[:, None, :] - table[None]).sum(-1)                     # in [0, bits]
        index = index.copy()
        index[bad] = np.argmin(hamming + l1 / (bits + 1), axis=1)           # Hamming first
        return cats[index]
    f = np.asarray(flag)
    dtype = object if (cats.dtype.kind in "US") != (f.dtype.kind in "US") \
        else np.result_type(cats, f)
    out = cats[np.where(bad, 0, index)].astype(dtype)
    out[bad] = flag
    return out


def _table(X: ArrayLike, who: str) -> np.ndarray:
    """``X`` checked as a dense, non-empty 2-D array of real (not complex) values; the
    messages are the ones scikit-learn's estimator checks look for."""
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
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] == 0:
            raise ArgumentError(f"{who}: X has 0 {what}(s) (shape={X.shape}) while a minimum "
                                f"of 1 is required.")
    return X


def _features(X: ArrayLike, who: str, allow_nan: bool = False) -> np.ndarray:
    """``X`` checked as a finite table of numbers (floats kept, other numbers in the default
    dtype); with ``allow_nan`` NaN passes (infinity never does)."""
    X = _table(X, who)
    if X.dtype.kind != "f":
        try:
            X = X.astype(backend.get_default_dtype())
        except TypeError as e:   # numpy's message says which value: keep it
            raise ArgumentTypeError(f"{who}: X must hold numbers, got dtype {X.dtype} ({e})") \
                from None
        except ValueError as e:
            raise ArgumentError(f"{who}: X must hold numbers, got dtype {X.dtype} ({e})") \
                from None
    if allow_nan:
        if np.isinf(X).any():
            raise ArgumentError(f"{who}: X contains infinity (NaN is allowed with "
                                f"allow_nan=True, infinity is not); remove or clip those values")
    elif not np.isfinite(X).all():
        bad = ~np.isfinite(X)
        cols = np.flatnonzero(bad.any(axis=0))
        raise ArgumentError(f"{who}: X contains NaN or infinity ({int(bad.sum())} value(s), in "
                            f"column(s) {cols[:10].tolist()}{' ...' if cols.size > 10 else ''}); "
                            f"remove or impute those values, or pass allow_nan=True to ignore NaN "
                            f"in fit and keep it in transform")
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

    def _input(self, X: ArrayLike, who: str) -> np.ndarray:
        return _features(X, who, bool(getattr(self, "allow_nan", False)))

    def _check_fitted(self, X: ArrayLike, who: str) -> np.ndarray:
        name = type(self).__name__
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{name}.{who}: this {name} is not fitted yet; call fit() first")
        X = self._input(X, f"{name}.{who}")
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
        return self._input_names(input_features)

    def _input_names(self, input_features: Sequence[str] | None) -> np.ndarray:
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
        X = self._input(X, who)
        self.n_features_in_ = X.shape[1]
        if names is not None and all(isinstance(c, str) for c in names):
            self.feature_names_in_ = np.asarray(list(names), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return X

    def __sklearn_tags__(self) -> Any:
        # asked only by scikit-learn (so it is importable here); glassnet never imports it
        from sklearn.utils import Tags, TargetTags, TransformerTags
        tags = Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]))
        tags.input_tags.allow_nan = bool(getattr(self, "allow_nan", False))
        return tags


def _column_stats(X: np.ndarray, allow_nan: bool, first: Any, nan_first: Any, second: Any,
                  nan_second: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two per-column statistics of ``X`` (float64 for float inputs' means), with the
    NaN-ignoring versions when ``allow_nan`` and some value is NaN (an all-NaN column gives
    NaN, without numpy's warnings)."""
    kw: dict[str, Any] = {"dtype": np.float64} if first is np.mean else {}
    if not (allow_nan and np.isnan(X).any()):
        return first(X, axis=0, **kw), second(X, axis=0, **kw)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # "Mean of empty slice" etc.
        return nan_first(X, axis=0, **kw), nan_second(X, axis=0, **kw)


class StandardScaler(_Scaler):
    r"""Standardise features: :math:`z = (x - \mu) / \sigma` per column.

    :math:`\sigma` is the population standard deviation; constant columns get
    :math:`\sigma = 1` (they become 0). Fitted attributes: ``mean_``, ``scale_``,
    ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame with string column names).

    Non-finite values are refused with an error naming the columns, unless
    ``allow_nan=True``: then NaN is ignored by ``fit`` (the statistics of each column come
    from its other values) and kept by ``transform``, as scikit-learn's scalers do (a column
    of NaN only gets NaN statistics). Infinity is always refused.

    Follows scikit-learn's estimator protocol (``get_params``, ``set_params``,
    ``fit(X, y=None)``, ``fit_transform``), so it works in ``sklearn.pipeline.Pipeline``,
    ``sklearn.base.clone`` and ``GridSearchCV``.

    Example
    -------
    >>> sc = StandardScaler().fit(X_train); Z = sc.transform(X_test)  # doctest: +SKIP
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True, allow_nan: bool = False) -> None:
        self.with_mean = with_mean
        self.with_std = with_std
        self.allow_nan = allow_nan

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Learn the per-column mean and standard deviation of X (``y`` is ignored)."""
        X = self._start_fit(X, "StandardScaler.fit")
        mean, std = _column_stats(X, self.allow_nan, np.mean, np.nanmean, np.std, np.nanstd)
        self.mean_ = (mean if self.with_mean else np.zeros_like(mean)).astype(X.dtype)
        self.scale_ = np.where((std > 0) | np.isnan(std), std, 1.0).astype(X.dtype) \
            if self.with_std \
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
    scikit-learn's estimator protocol, as :class:`StandardScaler` does; ``allow_nan`` as
    there (NaN ignored by ``fit``, kept by ``transform``).

    Example
    -------
    >>> X01 = MinMaxScaler().fit_transform(X)  # doctest: +SKIP
    """

    def __init__(self, feature_range: tuple = (0.0, 1.0), allow_nan: bool = False) -> None:
        self.feature_range = feature_range
        self.allow_nan = allow_nan

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
        self.data_min_, self.data_max_ = _column_stats(X, self.allow_nan, np.min, np.nanmin,
                                                       np.max, np.nanmax)
        rng = self.data_max_ - self.data_min_
        self.scale_ = ((hi - lo) / np.where((rng > 0) | np.isnan(rng), rng, 1.0)).astype(X.dtype)
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


def _categorical(X: ArrayLike, who: str) -> np.ndarray:
    """``X`` checked as a table of category values (numbers, strings, any comparable
    objects); float columns may not hold NaN or infinity."""
    X = _table(np.asarray(X) if not hasattr(X, "nnz") else X, who)
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ArgumentError(f"{who}: X contains NaN or infinity; a category must be a value")
    return X


class _Encoder(_Scaler):
    """Categories learned per column by ``fit``; each column encoded on its own and the
    codes placed side by side."""

    def __init__(self, categories: str | Sequence = "auto", dtype: DTypeLike | None = None
                 ) -> None:
        self.categories = categories
        self.dtype = dtype

    _input = staticmethod(_categorical)

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Learn each column's categories (sorted unique values, or check the given ones)."""
        name = type(self).__name__
        X = self._start_fit(X, f"{name}.fit")
        if isinstance(self.categories, str) and self.categories == "auto":
            cats = [np.unique(col) for col in X.T]
        else:
            given = self.categories
            if isinstance(given, str) or len(given) != X.shape[1]:
                raise ArgumentError(f"{name}.fit: categories must be 'auto' or one list of "
                                    f"categories per column ({X.shape[1]}), got {given!r}")
            cats = []
            for j, c in enumerate(given):
                c = np.asarray(c)
                if len(np.unique(c)) != len(c) or len(c) == 0:
                    raise ArgumentError(f"{name}.fit: categories[{j}] must be distinct values, "
                                        f"at least one, got {c.tolist()}")
                cats.append(np.sort(c))
        self.categories_ = cats
        self._encode_columns(X, f"{name}.fit")   # every value is a known category
        return self

    def _indices(self, X: np.ndarray, who: str, unknown_ok: bool = False) -> np.ndarray:
        """Category number of every value (-1 for an unknown one where allowed)."""
        out = np.empty(X.shape, dtype=np.int64)
        for j, cats in enumerate(self.categories_):
            col = X[:, j]
            try:
                pos = np.clip(np.searchsorted(cats, col), 0, len(cats) - 1)
                found = cats[pos] == col
            except TypeError:   # values that cannot be compared with the categories
                raise ArgumentTypeError(f"{who}: column {j} holds values of a type that cannot "
                                        f"be compared with its categories {cats[:5].tolist()}"
                                        ) from None
            if not np.all(found) and not unknown_ok:
                bad = np.unique(col[~found])[:5].tolist()
                raise ArgumentError(f"{who}: column {j} holds unknown categories {bad} (fitted "
                                    f"on {cats[:10].tolist()}{' ...' if len(cats) > 10 else ''})")
            out[:, j] = np.where(found, pos, -1)
        return out

    def _encode_columns(self, X: np.ndarray, who: str) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The codes of X's columns side by side, shape (n_samples, n_features_out)."""
        X = self._check_fitted(X, "transform")
        return self._encode_columns(X, f"{type(self).__name__}.transform")

    def _dtype(self) -> np.dtype:
        return np.dtype(self.dtype) if self.dtype is not None else \
            np.dtype(backend.get_default_dtype())

    def _values(self, index: np.ndarray) -> np.ndarray:
        """Category values from category numbers (-1: None), one column per feature."""
        kinds = {c.dtype for c in self.categories_}
        out = np.empty(index.shape, dtype=kinds.pop() if len(kinds) == 1 else object)
        if (index < 0).any():
            out = out.astype(object)
        for j, cats in enumerate(self.categories_):
            col = index[:, j]
            out[:, j] = np.where(col >= 0, cats[np.maximum(col, 0)], None) \
                if (col < 0).any() else cats[col]
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags


class OneHotEncoder(_Encoder):
    """One indicator column per category of each column (dense, the default float dtype).

    ``handle_unknown="ignore"`` encodes a category unseen by ``fit`` as all zeros (and
    ``inverse_transform`` gives None for it); "error" (default) refuses it. Fitted
    attribute: ``categories_`` (sorted unique values per column). Follows scikit-learn's
    estimator protocol, so it works in ``Pipeline`` / ``ColumnTransformer``.

    Example
    -------
    >>> enc = OneHotEncoder().fit([["red", 1], ["green", 2], ["red", 2]])
    >>> enc.transform([["green", 1]])
    array([[1., 0., 1., 0.]], dtype=float32)
    >>> enc.get_feature_names_out().tolist()
    ['x0_green', 'x0_red', 'x1_1', 'x1_2']
    """

    def __init__(self, categories: str | Sequence = "auto", handle_unknown: str = "error",
                 dtype: DTypeLike | None = None) -> None:
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    def _encode_columns(self, X: np.ndarray, who: str) -> np.ndarray:
        if self.handle_unknown not in ("error", "ignore"):
            raise ArgumentError(f"{who}: handle_unknown must be 'error' or 'ignore', got "
                                f"{self.handle_unknown!r}")
        index = self._indices(X, who, unknown_ok=self.handle_unknown == "ignore"
                              and not who.endswith(".fit"))
        sizes = [len(c) for c in self.categories_]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        out = np.zeros((len(X), sum(sizes)), dtype=self._dtype())
        rows, cols = np.nonzero(index >= 0)
        out[rows, offsets[cols] + index[rows, cols]] = 1
        return out

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """Category values from indicator rows (the largest indicator of each block wins;
        an all-zero block, an ignored unknown category, gives None)."""
        if not hasattr(self, "categories_"):
            raise NotFittedError(f"OneHotEncoder.inverse_transform: this OneHotEncoder is not "
                                 f"fitted yet; call fit() first")
        Z = _features(X, "OneHotEncoder.inverse_transform")
        sizes = [len(c) for c in self.categories_]
        if Z.shape[1] != sum(sizes):
            raise ArgumentError(f"OneHotEncoder.inverse_transform: X has {Z.shape[1]} columns, "
                                f"the encoding has {sum(sizes)}")
        index = np.empty((len(Z), len(sizes)), dtype=np.int64)
        start = 0
        for j, k in enumerate(sizes):
            block = Z[:, start:start + k]
            index[:, j] = np.where(block.max(axis=1) > 0, block.argmax(axis=1), -1)
            start += k
        return self._values(index)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """``{feature}_{category}`` for every output column."""
        names = self._input_names(input_features)
        return np.array([f"{n}_{c}" for n, cats in zip(names, self.categories_) for c in cats],
                        dtype=object)


class BinaryEncoder(_Encoder):
    """Each column's category number in binary: ``ceil(log2 k)`` columns for ``k``
    categories instead of ``k`` one-hot columns (see :func:`binary_encode`).

    Fitted attribute: ``categories_``. ``inverse_transform`` rounds the bits at 0.5 and
    maps them back to the categories. Follows scikit-learn's estimator protocol.

    Example
    -------
    >>> enc = BinaryEncoder().fit([["red"], ["green"], ["blue"], ["violet"]])
    >>> enc.transform([["red"], ["blue"]])
    array([[1., 0.],
           [0., 0.]], dtype=float32)
    >>> enc.inverse_transform([[0.9, 0.1]]).tolist()
    [['red']]
    """

    def _bits(self) -> list[int]:
        return [math.ceil(math.log2(len(c))) if len(c) > 1 else 0 for c in self.categories_]

    def _encode_columns(self, X: np.ndarray, who: str) -> np.ndarray:
        index = self._indices(X, who)
        bits = self._bits()
        blocks = [((index[:, j:j + 1] >> np.arange(b - 1, -1, -1)) & 1)
                  for j, b in enumerate(bits)]
        return np.concatenate(blocks, axis=1).astype(self._dtype()) if sum(bits) else \
            np.zeros((len(X), 0), dtype=self._dtype())

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """Category values from rows of bits (each rounded at 0.5)."""
        if not hasattr(self, "categories_"):
            raise NotFittedError(f"BinaryEncoder.inverse_transform: this BinaryEncoder is not "
                                 f"fitted yet; call fit() first")
        Z = np.asarray(X, dtype=np.float64)
        bits = self._bits()
        if Z.ndim != 2 or Z.shape[1] != sum(bits):
            raise ArgumentError(f"BinaryEncoder.inverse_transform: X must have shape (n, "
                                f"{sum(bits)}), got {Z.shape}")
        index = np.empty((len(Z), len(bits)), dtype=np.int64)
        start = 0
        for j, b in enumerate(bits):
            index[:, j] = (Z[:, start:start + b] >= 0.5).astype(np.int64) @ \
                (1 << np.arange(b - 1, -1, -1)) if b else 0
            start += b
            if index[:, j].max() >= len(self.categories_[j]):
                raise ArgumentError(f"BinaryEncoder.inverse_transform: column {j}'s code "
                                    f"{int(index[:, j].max())} is not a category number "
                                    f"(there are {len(self.categories_[j])})")
        return self._values(index)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """``{feature}_bit{i}`` (most significant first) for every output column."""
        names = self._input_names(input_features)
        return np.array([f"{n}_bit{i}" for n, b in zip(names, self._bits()) for i in range(b)],
                        dtype=object)
