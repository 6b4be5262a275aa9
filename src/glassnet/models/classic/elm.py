"""The extreme learning machine (Huang, Zhu and Siew, 2006): a random, fixed hidden layer and
an output layer solved in closed form.

    H = g(X A^T + a)                      A (hidden, in), a (hidden,) drawn once, never trained
    B = (H^T H + lambda I)^-1 H^T T       ridge regression of the targets T on H
    prediction = H B

For classification T is the one-hot matrix of the labels and the class is argmax. With as
many hidden units as samples and lambda = 0 the training set is interpolated exactly.

>>> X, y = gn.data.load_digits()
>>> elm = ExtremeLearningMachine(64, 400, seed=0).fit(X / 16, y)
>>> elm.score(X / 16, y) > 0.97
True
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...validation import check_choice, check_int, check_real
from ._common import labels, matrix, ridge_solve

__all__ = ["ExtremeLearningMachine"]

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 0.5 * (1 + np.tanh(0.5 * a)),
    "relu": lambda a: np.maximum(a, 0),
}


class ExtremeLearningMachine:
    """Random hidden layer + ridge-regression output.

    Parameters
    ----------
    in_features, hidden : int
    activation : {"tanh", "sigmoid", "relu"}
    ridge : float
        lambda of the output's ridge regression (0: least squares).
    weight_scale : float
        Hidden weights are N(0, weight_scale^2 / in_features), biases N(0, 1).
    task : {"classification", "regression"}
    seed : int, optional
    """

    def __init__(self, in_features: int, hidden: int, activation: str = "tanh",
                 ridge: float = 1e-2, weight_scale: float = 1.0,
                 task: str = "classification", seed: int | None = None) -> None:
        who = "ExtremeLearningMachine"
        self.in_features = check_int(in_features, "in_features", who)
        self.hidden = check_int(hidden, "hidden", who)
        self.activation = check_choice(activation, "activation", who, tuple(ACTIVATIONS))
        self.ridge = check_real(ridge, "ridge", who, 0)
        self.task = check_choice(task, "task", who, ("classification", "regression"))
        scale = check_real(weight_scale, "weight_scale", who, 0, low_open=True)
        rng = np.random.default_rng(seed)
        self.input_weight = rng.normal(0, scale / np.sqrt(self.in_features),
                                       (self.hidden, self.in_features))
        self.input_bias = rng.normal(0, 1, self.hidden)
        self.output_weight: np.ndarray | None = None
        self.classes_: int | None = None

    def hidden_features(self, X: Any) -> np.ndarray:
        """H = g(X A^T + a), shape (N, hidden)."""
        X = matrix(X, "ExtremeLearningMachine.hidden_features", features=self.in_features)
        return ACTIVATIONS[self.activation](X @ self.input_weight.T + self.input_bias)

    def fit(self, X: Any, y: Any) -> ExtremeLearningMachine:
        """Solve the output weights in closed form; y class indices (classification) or
        targets (N,) / (N, K) (regression). Returns self."""
        who = "ExtremeLearningMachine.fit"
        H = self.hidden_features(X)
        if self.task == "classification":
            t = labels(y, len(H), who)
            self.classes_ = int(t.max()) + 1
            T = np.eye(self.classes_)[t]
        else:
            T = np.asarray(y, dtype=np.float64)
            if T.shape[0] != len(H):
                raise ValueError(f"{who}: y has {T.shape[0]} rows, X has {len(H)}")
        self.output_weight = ridge_solve(H, T, self.ridge)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """H B: class scores (classification) or predictions (regression)."""
        if self.output_weight is None:
            raise RuntimeError("ExtremeLearningMachine: call fit before predicting")
        return self.hidden_features(X) @ self.output_weight

    def predict(self, X: Any) -> np.ndarray:
        out = self.decision_function(X)
        return out.argmax(axis=1) if self.task == "classification" else out

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R^2 (regression)."""
        pred = self.predict(X)
        if self.task == "classification":
            return float((pred == labels(y, len(pred), "ExtremeLearningMachine.score")).mean())
        t = np.asarray(y, dtype=np.float64).reshape(pred.shape)
        return float(1 - ((pred - t) ** 2).sum() / ((t - t.mean(axis=0)) ** 2).sum())
