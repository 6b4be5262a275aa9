"""Anomaly detection by reconstruction error: autoencoders trained on normal data only,
a sample is an anomaly when it is reconstructed worse than a threshold.

>>> det = AnomalyDetector(Autoencoder(784, 32), quantile=0.99).fit(X_normal, epochs=10)  # doctest: +SKIP
>>> det.predict(X)           # 0 normal, 1 anomaly  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import backend, nn
from ..nn.module import Module
from ..validation import check_choice, check_int, check_real
from .autoencoder import _as_array

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["AnomalyDetector", "ERRORS"]

ERRORS = ("loss", "mse", "standardized")


def _n_features(ae: Module) -> int | None:
    """Flattened input size of an autoencoder (``in_features`` or ``image_shape``), or None."""
    if getattr(ae, "in_features", None) is not None:
        return int(ae.in_features)
    shape = getattr(ae, "image_shape", None)
    return int(np.prod(shape)) if shape is not None else None


class AnomalyDetector(Module):
    """Flags samples that autoencoders trained on normal data reconstruct badly.

    score(x) = reconstruction error of x; predict(x) = 1 if score(x) > threshold else 0.
    Given several autoencoders (an ensemble), score(x) = mean over members k of
    (e_k(x) - m_k) / s_k, each member's error standardized by the mean m_k and standard
    deviation s_k of its errors on the held-out normal data.

    Parameters
    ----------
    autoencoder : Autoencoder (or any of its kinds), or a list of them (an ensemble; member
        k is trained with ``seed + k`` on the same normal data)
    threshold : float, optional
        Fixed threshold; by default :meth:`fit` sets it at the ``quantile`` of the
        scores of a held-out part (``holdout``) of the normal data.
    quantile : float in (0, 1)
    holdout : float in (0, 1)
        Fraction of X_normal kept out of training to set the threshold (and the ensemble's
        standardization).
    error : {"loss", "mse", "standardized"}
        Per-sample reconstruction error e(x) with residual r = g(f(x)) - x over the D
        features: "loss" the autoencoder's own ``reconstruction_error`` (MSE, or BCE for
        ``loss="bce"``); "mse" mean_j r_j^2; "standardized" mean_j r_j^2 / v_j, where
        v_j = mean squared residual of feature j on the normal training data + ``eps``^2
        (a diagonal Mahalanobis distance of the residual: a pixel the normal class always
        reconstructs well weighs more when it is wrong).
    eps : float
        Floor of the per-feature residual scale for ``error="standardized"``.
    pool : int
        With ``pool > 1`` the residual image is first averaged over non-overlapping
        ``pool x pool`` blocks (errors "mse" and "standardized"): the error of the
        reconstruction at a lower resolution, which ignores pixel-level misalignment and
        texture that normal samples reconstruct badly too, and keeps errors of shape.
    image_shape : list of int, optional
        (C, H, W) or (H, W) of the flattened inputs, needed for ``pool > 1`` unless the
        autoencoder has an ``image_shape`` (ConvAutoencoder).

    Example
    -------
    >>> det = AnomalyDetector(Autoencoder(784, 32), quantile=0.99).fit(X_normal, epochs=10)  # doctest: +SKIP
    >>> det.predict(X)           # 0 normal, 1 anomaly  # doctest: +SKIP
    >>> ens = AnomalyDetector([Autoencoder(784, 32) for _ in range(3)], error="standardized",
    ...                       pool=2, image_shape=[28, 28])  # doctest: +SKIP
    """

    threshold: Tensor  # a 0-d buffer (NaN until fit sets it, unless given)

    def __init__(self, autoencoder: Module | list[Module] | tuple[Module, ...],
                 threshold: float | None = None,
                 quantile: float = 0.99, holdout: float = 0.1, error: str = "loss",
                 eps: float = 0.01, pool: int = 1, image_shape: Sequence[int] | None = None
                 ) -> None:
        super().__init__()
        members: list[Module] = (list(autoencoder) if isinstance(autoencoder, (list, tuple))
                                 else [autoencoder])
        if not members:
            raise ValueError("AnomalyDetector: autoencoder is an empty list; give at least one")
        for k, ae in enumerate(members):
            if not isinstance(ae, Module) or not hasattr(ae, "reconstruction_error"):
                where = f"autoencoder[{k}]" if isinstance(autoencoder, (list, tuple)) \
                    else "autoencoder"
                raise TypeError(f"AnomalyDetector: {where} must be an autoencoder module "
                                f"(with reconstruction_error), got {type(ae).__name__}")
        who = "AnomalyDetector"
        for arg, v in (("quantile", quantile), ("holdout", holdout)):
            check_real(v, arg, who, 0, 1, low_open=True, high_open=True)
        check_choice(error, "error", who, ERRORS)
        check_real(eps, "eps", who, 0, low_open=True)
        self.pool = check_int(pool, "pool", who)
        self.image_shape: list[int] | None = None
        if self.pool > 1:
            if error == "loss":
                raise ValueError("AnomalyDetector: pool > 1 needs error='mse' or "
                                 "'standardized' (error='loss' is the autoencoder's own)")
            shape = image_shape if image_shape is not None else \
                getattr(members[0], "image_shape", None)
            if shape is None:
                raise ValueError("AnomalyDetector: pool > 1 needs image_shape=(C, H, W) or "
                                 "(H, W) for an autoencoder without an image_shape")
            shape = [int(v) for v in shape]
            shape = [1] + shape if len(shape) == 2 else shape
            if len(shape) != 3 or shape[1] % self.pool or shape[2] % self.pool:
                raise ValueError(f"AnomalyDetector: image_shape must be (C, H, W) or (H, W) "
                                 f"with H and W divisible by pool={self.pool}, got "
                                 f"{image_shape if image_shape is not None else shape}")
            for ae in members:
                d = _n_features(ae)
                if d is not None and d != int(np.prod(shape)):
                    raise ValueError(f"AnomalyDetector: image_shape {shape} holds "
                                     f"{int(np.prod(shape))} values, the autoencoder {d}")
            self.image_shape = shape
        self.ensemble = isinstance(autoencoder, (list, tuple))
        if self.ensemble:
            self.autoencoders = nn.ModuleList(members)
        else:
            self.autoencoder = members[0]
        self.quantile, self.holdout = float(quantile), float(holdout)
        self.error, self.eps = error, float(eps)
        self.register_buffer("threshold", np.asarray(
            np.nan if threshold is None else float(threshold), dtype=np.float64))
        if error == "standardized":
            dims = {_n_features(ae) for ae in members}
            if None in dims or len(dims) != 1:
                raise ValueError("AnomalyDetector: error='standardized' needs autoencoders "
                                 "with a known input size (in_features or image_shape), the "
                                 f"same for all members; got {sorted(map(str, dims))}")
            d = cast(int, dims.pop()) // self.pool ** 2  # None was refused just above
            self.register_buffer("feature_var", backend.allocate(
                (len(members), d), np.float64, "AnomalyDetector.feature_var", fill=np.nan))
        if self.ensemble:
            self.register_buffer("member_mean", np.full(len(members), np.nan))
            self.register_buffer("member_std", np.full(len(members), np.nan))

    @property
    def members(self) -> list[Module]:
        """The autoencoders, as a list (one unless an ensemble)."""
        return list(self.autoencoders) if self.ensemble else [self.autoencoder]

    def _residuals(self, ae: Module, X: np.ndarray,
                   batch_size: int) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield (rows, residual r = g(f(x)) - x flattened, block-averaged when pool > 1)
        batch by batch."""
        for i in range(0, len(X), batch_size):
            xb = X[i:i + batch_size]
            z = ae.reconstruct(xb, batch_size).reshape(len(xb), -1)
            r = z - xb.reshape(len(xb), -1).astype(z.dtype, copy=False)
            if self.pool > 1:
                assert self.image_shape is not None
                c, h, w = self.image_shape
                k = self.pool
                r = r.reshape(len(r), c, h // k, k, w // k, k).mean(axis=(3, 5))
                r = r.reshape(len(r), -1)
            yield slice(i, i + len(xb)), r

    def member_errors(self, X: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """Per-sample reconstruction errors of each member (``error`` measure, before the
        ensemble's standardization), shape (K, N)."""
        X = _as_array(X, "AnomalyDetector.score")
        out = np.empty((len(self.members), len(X)))
        for k, ae in enumerate(self.members):
            if self.error == "loss":
                out[k] = ae.reconstruction_error(X, batch_size=batch_size)
                continue
            if self.error == "standardized" and not np.isfinite(
                    self._buffers["feature_var"]._data[k]).all():
                raise RuntimeError("AnomalyDetector: error='standardized' has no per-feature "
                                   "residual scale yet; call fit(X_normal)")
            for rows, r in self._residuals(ae, X, batch_size):
                r = r.astype(np.float64) ** 2
                if self.error == "standardized":
                    r /= self._buffers["feature_var"]._data[k]
                out[k, rows] = r.mean(axis=1)
        return out

    def fit(self, X_normal: TensorLike, epochs: int = 10, batch_size: int = 64,
            lr: float = 1e-3, seed: int = 0, verbose: int = 0, **kw: Any) -> AnomalyDetector:
        """Train the autoencoder(s) on normal data (minus the held-out part, which is also
        their validation set), set the per-feature residual scale (``standardized``), the
        ensemble's standardization and the threshold when none was given. Returns self."""
        X = _as_array(X_normal, "AnomalyDetector.fit")
        if len(X) < 2:
            raise ValueError(f"AnomalyDetector.fit: need at least 2 normal samples, got {len(X)}")
        perm = np.random.default_rng(seed).permutation(len(X))
        nh = min(len(X) - 1, max(1, int(round(self.holdout * len(X)))))
        held, train = X[perm[:nh]], X[perm[nh:]]
        for k, ae in enumerate(self.members):
            ae.fit(train, epochs=epochs, batch_size=batch_size, validation=held, lr=lr,
                   seed=seed + k, verbose=verbose, **kw)
            if self.error == "standardized":
                ms = np.zeros(self._buffers["feature_var"]._data.shape[1])
                for _, r in self._residuals(ae, train, 1024):
                    ms += (r.astype(np.float64) ** 2).sum(axis=0)
                self._buffers["feature_var"]._data[k] = ms / len(train) + self.eps ** 2
        if self.ensemble:
            e = self.member_errors(held)
            self._buffers["member_mean"]._data[...] = e.mean(axis=1)
            self._buffers["member_std"]._data[...] = np.maximum(e.std(axis=1), 1e-12)
        self.holdout_errors_ = self.score(held)
        if not np.isfinite(float(self.threshold)):
            self.set_buffer("threshold", np.asarray(np.quantile(self.holdout_errors_,
                                                                self.quantile),
                                                    dtype=np.float64))
        return self

    def forward(self, x: Tensor) -> Tensor:
        return self.members[0](x)

    def score(self, X: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """Anomaly scores, shape (N,): the per-sample reconstruction error (an ensemble:
        the mean of the members' standardized errors)."""
        e = self.member_errors(X, batch_size)
        if not self.ensemble:
            return e[0]
        if not np.isfinite(self._buffers["member_std"]._data).all():
            raise RuntimeError("AnomalyDetector.score: the ensemble is not standardized yet; "
                               "call fit(X_normal)")
        mean, std = self._buffers["member_mean"]._data, self._buffers["member_std"]._data
        return ((e - mean[:, None]) / std[:, None]).mean(axis=0)

    def predict(self, X: TensorLike, batch_size: int = 1024) -> np.ndarray:
        """1 for anomalies (score above the threshold), 0 otherwise, int64 (N,)."""
        if not np.isfinite(float(self.threshold)):
            raise RuntimeError("AnomalyDetector.predict: no threshold yet; call fit(X_normal) "
                               "or give threshold=...")
        return (self.score(X, batch_size) > float(self.threshold)).astype(np.int64)

    def extra_repr(self) -> str:
        return (f"threshold={float(self.threshold):.6g}, quantile={self.quantile}, "
                f"error={self.error!r}" + (f", pool={self.pool}" if self.pool > 1 else "")
                + (f", members={len(self.members)}" if self.ensemble else ""))
