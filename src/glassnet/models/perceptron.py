"""The perceptron (Rosenblatt 1958) trained with the perceptron learning rule."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import backend
from ..autograd import Tensor, as_array
from ..nn.module import Module, Parameter
from ..validation import check_choice

if TYPE_CHECKING:  # annotations only
    import numpy.typing as npt

    from glassnet._typing import TensorLike


__all__ = ["Perceptron"]


class Perceptron(Module):
    """Threshold units y = f(w . x + b) with f = step (outputs 0/1) or sign (outputs -1/+1).

    Trained by the perceptron rule ``w <- w + lr (t - y) x``, ``b <- b + lr (t - y)``, which
    changes the weights only on misclassified samples and converges in finitely many
    updates when the data are linearly separable (Novikoff 1962). On XOR it never
    converges: ``fit`` then stops after ``epochs`` and reports ``converged_ = False``.

    Parameters
    ----------
    in_features : int
    out_features : int
        Independent units (one-vs-rest for several classes); targets then have one column
        per unit.
    activation : {"step", "sign"}
    threshold : float
        The unit fires when ``w . x + b >= threshold`` (the course's θ; the bias plays the
        role of -θ when threshold is 0).
    init : {"zeros", "random"}
        Initial weights: zeros (hand-worked exercises) or small uniform values.

    Notes
    -----
    Weights follow Linear's layout: ``weight`` (out, in), ``bias`` (out,).
    """

    def __init__(self, in_features: int, out_features: int = 1, activation: str = "step",
                 threshold: float = 0.0, init: str = "zeros") -> None:
        super().__init__()
        check_choice(activation, "activation", "Perceptron", ("step", "sign"))
        check_choice(init, "init", "Perceptron", ("zeros", "random"))
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.activation, self.threshold = activation, float(threshold)
        dt = backend.get_default_dtype()
        w = backend.allocate((self.out_features, self.in_features), dt, "Perceptron.weight",
                             fill=0)
        if init == "random" and not backend.init_skipped():
            w[...] = backend.rng().uniform(-0.05, 0.05, w.shape)
        self.weight = Parameter(w, requires_grad=False)
        self.bias = Parameter(backend.allocate(self.out_features, dt, "Perceptron.bias", fill=0),
                              requires_grad=False)
        self.converged_: bool | None = None
        self.errors_: list[int] = []

    def net_input(self, X: TensorLike) -> np.ndarray:
        """S = X W^T + b, shape (N, out)."""
        X = self._check(X, "net_input")
        return X @ self.weight._data.T + self.bias._data

    def _fire(self, s: np.ndarray) -> np.ndarray:
        on = s >= self.threshold
        if self.activation == "step":
            return on.astype(s.dtype)
        return np.where(on, 1.0, -1.0).astype(s.dtype)

    def forward(self, x: TensorLike) -> Tensor:
        data = as_array(x)
        return Tensor(self._fire(self.net_input(data)))

    def predict(self, X: TensorLike) -> np.ndarray:
        """Unit outputs (0/1 or -1/+1); shape (N,) for a single unit, else (N, out)."""
        y = self._fire(self.net_input(X))
        return y[:, 0] if self.out_features == 1 else y

    def _check(self, X: TensorLike, who: str) -> np.ndarray:
        X = as_array(X, self.weight._data.dtype)
        if X.ndim != 2 or X.shape[1] != self.in_features:
            raise ValueError(f"Perceptron.{who}: expected X of shape (N, {self.in_features}), "
                             f"got {X.shape}")
        return X

    def fit(self, X: TensorLike, y: npt.ArrayLike, epochs: int = 100, lr: float = 1.0,
            mode: str = "online", shuffle: bool = False, seed: int | None = None,
            verbose: int = 0) -> Perceptron:
        """Train with the perceptron rule until an epoch makes no mistake or ``epochs`` pass.

        mode="online" updates after every sample in turn (the classic rule; the loop over
        samples is the algorithm itself), mode="batch" sums the corrections of a whole
        epoch into one vectorised update. Returns self; ``errors_`` holds the number of
        misclassified samples per epoch, ``converged_`` whether the last epoch had none,
        ``n_updates_`` the number of weight updates.
        """
        X = self._check(X, "fit")
        T = np.asarray(y, dtype=X.dtype).reshape(len(X), -1)
        if T.shape[1] != self.out_features:
            raise ValueError(f"Perceptron.fit: y has {T.shape[1]} columns, the perceptron has "
                             f"{self.out_features} units")
        allowed = (0.0, 1.0) if self.activation == "step" else (-1.0, 1.0)
        if not np.isin(T, allowed).all():
            raise ValueError(f"Perceptron.fit: targets of a {self.activation} unit must be in "
                             f"{allowed}, got values {np.unique(T)[:5]}")
        check_choice(mode, "mode", "Perceptron.fit", ("online", "batch"))
        W, b = self.weight._data, self.bias._data
        rng = np.random.default_rng(seed)
        scale = 1.0 if self.activation == "step" else 0.5  # sign: (t - y) is +-2
        self.errors_, self.n_updates_ = [], 0
        for epoch in range(int(epochs)):
            if mode == "batch":
                err = T - self._fire(X @ W.T + b)
                W += lr * scale * err.T @ X
                b += lr * scale * err.sum(axis=0)
                wrong = int(np.any(err != 0, axis=1).sum())
                self.n_updates_ += int(wrong > 0)
            else:
                order = rng.permutation(len(X)) if shuffle else range(len(X))
                wrong = 0
                for i in order:
                    err = T[i] - self._fire(W @ X[i] + b)
                    if np.any(err):
                        W += lr * scale * np.outer(err, X[i])
                        b += lr * scale * err
                        wrong += 1
                        self.n_updates_ += 1
            self.errors_.append(wrong)
            if verbose:
                print(f"epoch {epoch + 1}: {wrong} misclassified")
            if wrong == 0:
                break
        self.converged_ = bool(self.errors_) and self.errors_[-1] == 0
        return self

    def score(self, X: TensorLike, y: npt.ArrayLike) -> float:
        """Accuracy of the thresholded outputs."""
        pred = self.predict(X)
        return float(np.mean(np.all(pred.reshape(len(pred), -1)
                                    == np.asarray(y).reshape(len(pred), -1), axis=1)))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"activation={self.activation}, threshold={self.threshold}")
