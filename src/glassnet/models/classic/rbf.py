"""The radial basis function network (Broomhead and Lowe, 1988) and k-means.

    phi_k(x) = exp(-gamma_k ||x - c_k||^2)          K Gaussian units, centres c_k
    y(x)     = W phi(x) + b                         a linear output layer

Classic two-stage training: the centres are the k-means centroids of the inputs, each
width comes from the spread of its cluster (gamma_k = 1 / (2 sigma_k^2)), and the output layer is a least-squares (ridge) fit on phi. Every part is also a
Parameter of the graph (centres, log gamma, the output's weight and bias), so the whole
network can then be fine-tuned by gradient descent on any loss.

>>> X, y = gn.data.load_digits()
>>> rbf = RBFNetwork(64, 60, 10).fit(X / 16, y, seed=0)
>>> rbf.score(X / 16, y) > 0.95
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ...autograd import Tensor, no_grad
from ...functional.losses import cross_entropy, mse_loss
from ...nn.module import Module, Parameter
from ...validation import check_choice, check_int, check_real
from ._common import labels, matrix, ridge_solve, train_minibatch

__all__ = ["RBFNetwork", "kmeans"]


def _sq_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """||x_n - c_k||^2 for all pairs, (N, K), without an (N, K, D) temporary."""
    d = (X * X).sum(1)[:, None] - 2 * X @ C.T + (C * C).sum(1)[None, :]
    return np.maximum(d, 0)


def kmeans(X: Any, k: int, iters: int = 100, seed: int | None = None, tol: float = 1e-8
           ) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means with k-means++ seeding. Returns ``(centres (k, D), labels (N,),
    inertia)``, the inertia being the sum of squared distances to the nearest centre.
    An emptied cluster keeps its previous centre.

    >>> c, lab, inertia = kmeans(np.array([[0.], [1.], [10.], [11.]]), 2, seed=0)
    >>> sorted(c.ravel().tolist()), inertia
    ([0.5, 10.5], 1.0)
    """
    who = "kmeans"
    X = matrix(X, who)
    k = check_int(k, "k", who, max=len(X))
    rng = np.random.default_rng(seed)
    C = np.empty((k, X.shape[1]))
    C[0] = X[rng.integers(len(X))]
    d = _sq_dist(X, C[:1])[:, 0]
    for j in range(1, k):                       # k-means++: far points more likely
        p = d / d.sum() if d.sum() > 0 else np.full(len(X), 1 / len(X))
        C[j] = X[rng.choice(len(X), p=p)]
        d = np.minimum(d, _sq_dist(X, C[j:j + 1])[:, 0])
    prev = np.inf
    for _ in range(int(iters)):
        D = _sq_dist(X, C)
        lab = D.argmin(1)
        inertia = float(D[np.arange(len(X)), lab].sum())
        counts = np.bincount(lab, minlength=k)
        sums = np.zeros_like(C)
        np.add.at(sums, lab, X)
        full = counts > 0
        C[full] = sums[full] / counts[full, None]
        if prev - inertia <= tol * max(prev, 1e-300):
            break
        prev = inertia
    D = _sq_dist(X, C)
    lab = D.argmin(1)
    return C, lab, float(D[np.arange(len(X)), lab].sum())


class RBFNetwork(Module):
    """K Gaussian units on the input and a linear output layer.

    Parameters
    ----------
    in_features, n_centres, out_features : int
    task : {"classification", "regression"}
        What :meth:`fit`, :meth:`predict` and :meth:`score` do with the outputs (class
        scores with argmax, or real values).

    Attributes
    ----------
    centres : Parameter (n_centres, in_features)
    log_gamma : Parameter (n_centres,)   gamma_k = exp(log_gamma_k) > 0
    output : nn.Linear(n_centres, out_features)
    """

    def __init__(self, in_features: int, n_centres: int, out_features: int,
                 task: str = "classification") -> None:
        super().__init__()
        who = "RBFNetwork"
        self.in_features = check_int(in_features, "in_features", who)
        self.n_centres = check_int(n_centres, "n_centres", who)
        self.out_features = check_int(out_features, "out_features", who)
        self.task = check_choice(task, "task", who, ("classification", "regression"))
        dt = np.dtype(nn.Linear(1, 1).weight.dtype)
        self.centres = Parameter(np.zeros((self.n_centres, self.in_features), dt))
        self.log_gamma = Parameter(np.zeros(self.n_centres, dt))
        self.output = nn.Linear(self.n_centres, self.out_features)

    def features(self, x: Tensor) -> Tensor:
        """phi(x) (N, n_centres), in the graph (differentiable in x, centres and gamma)."""
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"RBFNetwork: expected input of shape (N, {self.in_features}), "
                             f"got {tuple(x.shape)}")
        c = self.centres
        d2 = (x * x).sum(1, keepdim=True) - 2 * (x @ c.T) + (c * c).sum(1)
        return (-d2 * self.log_gamma.exp()).exp()

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.features(x))

    # -------------------------------------------------------------- two-stage fit
    def init_centres(self, X: Any, seed: int | None = None, width_scale: float = 1.0
                     ) -> RBFNetwork:
        """Centres = k-means centroids of X; each unit's width from its cluster:
        sigma_k^2 = mean squared distance of the cluster's members to c_k (the mean over
        the clusters for a cluster of one point), gamma_k = 1 / (2 sigma_k^2), sigma_k
        multiplied by ``width_scale`` (wider units overlap more: smoother fits)."""
        X = matrix(X, "RBFNetwork.init_centres", features=self.in_features)
        C, lab, _ = kmeans(X, self.n_centres, seed=seed)
        d = _sq_dist(X, C)[np.arange(len(X)), lab]
        counts = np.bincount(lab, minlength=self.n_centres)
        s2 = np.bincount(lab, weights=d, minlength=self.n_centres) / np.maximum(counts, 1)
        spread = s2 > 0
        fallback = float(s2[spread].mean()) if spread.any() else 1.0
        s2 = np.where(spread, s2, fallback) * check_real(width_scale, "width_scale",
                                                          "RBFNetwork.init_centres", 0,
                                                          low_open=True) ** 2
        self.centres._data[...] = C
        self.log_gamma._data[...] = np.log(1 / (2 * s2))
        return self

    def _targets(self, y: Any, n: int, who: str) -> np.ndarray:
        if self.task == "classification":
            t = labels(y, n, who)
            if t.max() >= self.out_features:
                raise ValueError(f"{who}: y holds class {int(t.max())}, the network has "
                                 f"{self.out_features} outputs")
            return t
        T = np.asarray(y, dtype=np.float64).reshape(n, -1)
        if T.shape[1] != self.out_features:
            raise ValueError(f"{who}: y must have {self.out_features} columns, got "
                             f"{T.shape[1]}")
        return T

    def fit_output(self, X: Any, y: Any, ridge: float = 1e-6) -> RBFNetwork:
        """The output layer by ridge least squares on phi(X) (one-hot targets for classes)."""
        who = "RBFNetwork.fit_output"
        X = matrix(X, who, features=self.in_features)
        t = self._targets(y, len(X), who)
        T = np.eye(self.out_features)[t] if self.task == "classification" else t
        with no_grad():
            Phi = self.features(Tensor(X.astype(self.centres.dtype)))._data.astype(np.float64)
        H = np.hstack([Phi, np.ones((len(X), 1))])
        B = ridge_solve(H, T, check_real(ridge, "ridge", who, 0))
        bias = self.output.bias
        assert bias is not None                      # nn.Linear(..., bias=True)
        self.output.weight._data[...] = B[:-1].T
        bias._data[...] = B[-1]
        return self

    def fit(self, X: Any, y: Any, ridge: float = 1e-6, seed: int | None = None,
            width_scale: float = 1.0) -> RBFNetwork:
        """Two-stage training: :meth:`init_centres` then :meth:`fit_output`."""
        return self.init_centres(X, seed, width_scale).fit_output(X, y, ridge)

    def fine_tune(self, X: Any, y: Any, epochs: int = 20, batch_size: int = 64,
                  lr: float = 1e-2, optimizer: str = "adam", seed: int | None = None
                  ) -> list[float]:
        """Gradient training of every parameter (centres, widths, output) on cross-entropy
        (classification) or mean squared error (regression); returns the loss per epoch."""
        who = "RBFNetwork.fine_tune"
        X = matrix(X, who, features=self.in_features)
        t = self._targets(y, len(X), who)
        if self.task == "classification":
            def loss_of(out: Tensor, tb: np.ndarray) -> Tensor:
                return cross_entropy(out, Tensor(tb))
        else:
            def loss_of(out: Tensor, tb: np.ndarray) -> Tensor:
                return mse_loss(out, Tensor(tb.astype(out.dtype)))
        return train_minibatch(self, loss_of, X, t, check_int(epochs, "epochs", who),
                               check_int(batch_size, "batch_size", who), lr, optimizer, seed)

    # -------------------------------------------------------------- use
    def decision_function(self, X: Any) -> np.ndarray:
        X = matrix(X, "RBFNetwork.decision_function", features=self.in_features)
        with no_grad():
            out = self(Tensor(X.astype(self.centres.dtype)))._data
        return out

    def predict(self, X: Any) -> np.ndarray:
        out = self.decision_function(X)
        return out.argmax(1) if self.task == "classification" else out

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R^2 (regression)."""
        pred = self.predict(X)
        if self.task == "classification":
            return float((pred == labels(y, len(pred), "RBFNetwork.score")).mean())
        t = np.asarray(y, dtype=np.float64).reshape(pred.shape)
        return float(1 - ((pred - t) ** 2).sum() / ((t - t.mean(0)) ** 2).sum())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_centres={self.n_centres}, "
                f"out_features={self.out_features}, task={self.task!r}")
