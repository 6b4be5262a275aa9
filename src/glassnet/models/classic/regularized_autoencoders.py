"""Autoencoders whose code is shaped by a penalty: sparse (a KL target on the mean activation
of each hidden unit) and contractive (the Frobenius norm of the encoder's Jacobian).

    sparse:       E = reconstruction + beta sum_j KL(rho || rho_hat_j)
    contractive:  E = reconstruction + lambda (1/N) sum_n ||d h(x_n) / d x_n||_F^2

Both have one sigmoid hidden layer h = sigmoid(W x + b) (the contractive penalty is then in
closed form, see glassnet.functional.code_penalties) and train with
:meth:`Autoencoder.fit` like every other autoencoder: the penalty of the latest forward
pass is added to the reconstruction loss by the loss module :meth:`loss` returns.

>>> X, _ = gn.data.load_digits()
>>> sae = SparseAutoencoder(64, 32, rho=0.05, beta=1.0)
>>> hist = sae.fit(X / 16, epochs=2, seed=0)
>>> sae.encode(X / 16).shape
(1797, 32)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from ...autograd import Tensor
from ...functional.code_penalties import contractive_penalty, kl_sparsity_penalty
from ...nn.module import Module
from ...validation import check_int, check_real
from ..autoencoder import Autoencoder

__all__ = ["SparseAutoencoder", "ContractiveAutoencoder", "PenalizedLoss",
           "encoder_jacobian", "encoder_jacobian_norm"]


class PenalizedLoss(Module):
    """``base(output, target) + model.penalty_``: the reconstruction loss plus the penalty the
    model recorded in its latest forward pass (0 when it recorded none)."""

    def __init__(self, base: Module, model: Module) -> None:
        super().__init__()
        self.base = base
        object.__setattr__(self, "model", model)   # not a submodule: no double parameters

    def forward(self, output: Tensor, target: Any) -> Tensor:
        loss = self.base(output, target)
        pen = getattr(self.model, "penalty_", None)
        return loss if pen is None else loss + pen


class _OneLayerPenalized(Autoencoder):
    """One sigmoid hidden layer; subclasses set ``penalty_`` in forward."""

    def __init__(self, in_features: int, hidden: int, output_activation: str = "sigmoid",
                 loss: str = "mse") -> None:
        name = type(self).__name__
        check_int(in_features, "in_features", name)
        check_int(hidden, "hidden", name)
        super().__init__(in_features, hidden, activation="sigmoid",
                         output_activation=output_activation, loss=loss)
        self.penalty_: Tensor | None = None

    @property
    def encoder_linear(self) -> nn.Linear:
        """The encoder's nn.Linear (W of h = sigmoid(W x + b))."""
        first = self.encoder[0]  # type: ignore[index]  # built as a Sequential
        assert isinstance(first, nn.Linear)
        return first

    def _penalty(self, h: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        h = self.encoder(x)
        self.penalty_ = self._penalty(h)
        return self.decoder(h)

    def loss(self) -> Module:
        """The reconstruction loss plus this model's penalty."""
        return PenalizedLoss(super().loss(), self)


class SparseAutoencoder(_OneLayerPenalized):
    """Sigmoid autoencoder with the KL sparsity penalty beta sum_j KL(rho || rho_hat_j).

    Parameters
    ----------
    in_features, hidden : int
    rho : float in (0, 1)
        Target mean activation of every hidden unit.
    beta : float
        Weight of the penalty.
    output_activation, loss : as in :class:`Autoencoder`.
    """

    def __init__(self, in_features: int, hidden: int, rho: float = 0.05, beta: float = 1.0,
                 output_activation: str = "sigmoid", loss: str = "mse") -> None:
        super().__init__(in_features, hidden, output_activation, loss)
        self.rho = check_real(rho, "rho", "SparseAutoencoder", 0, 1, low_open=True,
                              high_open=True)
        self.beta = check_real(beta, "beta", "SparseAutoencoder", 0)

    def _penalty(self, h: Tensor) -> Tensor:
        return kl_sparsity_penalty(h, self.rho) * self.beta

    def mean_activation(self, X: Any) -> np.ndarray:
        """rho_hat: the mean activation of each hidden unit over X, (hidden,)."""
        return self.encode(X).mean(axis=0)

    def extra_repr(self) -> str:
        return f"rho={self.rho}, beta={self.beta}"


class ContractiveAutoencoder(_OneLayerPenalized):
    """Sigmoid autoencoder with the contractive penalty lambda ||J_h(x)||_F^2 (batch mean).

    Parameters
    ----------
    in_features, hidden : int
    lam : float
        Weight lambda of the penalty.
    output_activation, loss : as in :class:`Autoencoder`.
    """

    def __init__(self, in_features: int, hidden: int, lam: float = 0.1,
                 output_activation: str = "sigmoid", loss: str = "mse") -> None:
        super().__init__(in_features, hidden, output_activation, loss)
        self.lam = check_real(lam, "lam", "ContractiveAutoencoder", 0)

    def _penalty(self, h: Tensor) -> Tensor:
        return contractive_penalty(h, self.encoder_linear.weight) * self.lam

    def extra_repr(self) -> str:
        return f"lam={self.lam}"


def encoder_jacobian_norm(model: Autoencoder, X: Any) -> np.ndarray:
    """||d h / d x||_F^2 of a one-sigmoid-layer encoder at each row of X, (N,), in closed
    form (sum_j (h_j (1 - h_j))^2 ||W_j||^2)."""
    H = model.encode(X).astype(np.float64)
    W = np.asarray(model.encoder[0].weight._data, np.float64)  # type: ignore[index]  # a Sequential
    return ((H * (1 - H)) ** 2) @ (W * W).sum(1)


def encoder_jacobian(model: Autoencoder, X: Any, eps: float = 1e-4) -> np.ndarray:
    """The Jacobian d encode(x) / d x at each row of X by central differences, (N, code, in):
    the check of the closed form that does not depend on it."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    E = np.eye(d) * eps                                          # (d, d) perturbations
    plus = model.encode((X[:, None, :] + E[None]).reshape(n * d, d)).astype(np.float64)
    minus = model.encode((X[:, None, :] - E[None]).reshape(n * d, d)).astype(np.float64)
    J = (plus - minus).reshape(n, d, -1) / (2 * eps)
    return J.transpose(0, 2, 1)
