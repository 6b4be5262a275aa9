"""A linear support vector machine as a glassnet head: one nn.Linear trained on a hinge loss
with an L2 penalty on its weight.

The objective is scikit-learn's LinearSVC's, written per sample:

    J(W, b) = 1/(2 C N) ||W||_F^2 + (1/N) sum_n l_n(W x_n + b)

with l the Crammer-Singer multiclass hinge (``multi_class="crammer_singer"``) or the sum of
C one-vs-rest binary hinges (``"ovr"``), squared when ``loss="squared_hinge"`` (LinearSVC's
default). J is minimised by minibatch gradient descent, so the head can also sit on top of
any glassnet feature extractor.

>>> X, y = gn.data.load_digits()
>>> svm = LinearSVM(64, 10, seed=0).fit(X / 16, y, epochs=30)
>>> svm.score(X / 16, y) > 0.95
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ...autograd import Tensor, no_grad
from ...functional.math import square
from ...functional.svm_losses import crammer_singer_loss, ovr_hinge_loss
from ...nn.module import Module
from ...validation import check_choice, check_int, check_real
from ._common import labels, matrix, train_minibatch

__all__ = ["LinearSVM"]


class LinearSVM(Module):
    """Scores s = W x + b (nn.Linear(in_features, num_classes)) trained as a linear SVM.

    Parameters
    ----------
    in_features, num_classes : int
    C : float
        Inverse regularisation strength, as in LinearSVC (the penalty is
        ||W||^2 / (2 C N); the bias is not penalised).
    loss : {"hinge", "squared_hinge"}
    multi_class : {"ovr", "crammer_singer"}
    seed : int, optional
        Seed of the weight initialisation and of the batch order.
    """

    def __init__(self, in_features: int, num_classes: int, C: float = 1.0,
                 loss: str = "squared_hinge", multi_class: str = "ovr",
                 seed: int | None = None) -> None:
        super().__init__()
        who = "LinearSVM"
        self.in_features = check_int(in_features, "in_features", who)
        self.num_classes = check_int(num_classes, "num_classes", who, min=2)
        self.C = check_real(C, "C", who, 0, low_open=True)
        self.loss_name = check_choice(loss, "loss", who, ("hinge", "squared_hinge"))
        self.multi_class = check_choice(multi_class, "multi_class", who,
                                        ("ovr", "crammer_singer"))
        self.seed = seed
        self.linear = nn.Linear(self.in_features, self.num_classes)
        nn.init.zeros_(self.linear.weight)
        assert self.linear.bias is not None
        nn.init.zeros_(self.linear.bias)
        self.losses_: list[float] = []

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)

    def hinge(self, scores: Tensor, y: np.ndarray) -> Tensor:
        """The mean hinge part of the objective on a batch of scores."""
        p = 2 if self.loss_name == "squared_hinge" else 1
        fn = ovr_hinge_loss if self.multi_class == "ovr" else crammer_singer_loss
        return fn(scores, y, p=p)

    def objective(self, scores: Tensor, y: np.ndarray, n_total: int) -> Tensor:
        """Hinge mean + ||W||^2 / (2 C n_total), the per-sample SVM objective."""
        reg = square(self.linear.weight).sum() * (0.5 / (self.C * n_total))
        return self.hinge(scores, y) + reg

    def fit(self, X: Any, y: Any, epochs: int = 30, batch_size: int = 32, lr: float = 0.1,
            optimizer: str = "adam") -> LinearSVM:
        """Minimise the SVM objective by minibatch gradient descent with a learning rate
        annealed linearly towards 0; ``losses_`` holds the objective per epoch. Returns
        self."""
        who = "LinearSVM.fit"
        X = matrix(X, who, features=self.in_features)
        t = labels(y, len(X), who)
        if t.max() >= self.num_classes:
            raise ValueError(f"{who}: y holds class {int(t.max())}, the head has "
                             f"{self.num_classes} classes")
        n = len(X)
        self.losses_ = train_minibatch(self, lambda s, yb: self.objective(s, yb, n), X, t,
                                       check_int(epochs, "epochs", who), check_int(
                                           batch_size, "batch_size", who), lr, optimizer,
                                       self.seed, anneal=True)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores (N, num_classes)."""
        X = matrix(X, "LinearSVM.decision_function", features=self.in_features)
        with no_grad():
            out = self.linear(Tensor(X.astype(self.linear.weight.dtype)))._data
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The class of highest score."""
        return self.decision_function(X).argmax(axis=1)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on (X, y)."""
        pred = self.predict(X)
        return float((pred == labels(y, len(pred), "LinearSVM.score")).mean())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, num_classes={self.num_classes}, C={self.C}, "
                f"loss={self.loss_name!r}, multi_class={self.multi_class!r}")
