"""Penalties on an autoencoder's code, one Function each with a hand-written backward.

    kl_sparsity_penalty(h, rho):  rho_hat_j = (1/N) sum_n h_nj                 (h in (0, 1))
                                  P = sum_j rho log(rho / rho_hat_j)
                                            + (1 - rho) log((1 - rho) / (1 - rho_hat_j))
                                  dP/dh_nj = (1/N) (-rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j))
    contractive_penalty(h, W):    for a sigmoid encoder h = sigmoid(x W^T + b), the squared
                                  Frobenius norm of the Jacobian dh/dx averaged over the batch:
                                  P = (1/N) sum_n sum_j (h_nj (1 - h_nj))^2 sum_i W_ji^2
                                  dP/dh_nj = (2/N) h_nj (1 - h_nj) (1 - 2 h_nj) sum_i W_ji^2
                                  dP/dW_ji = (2/N) W_ji sum_n (h_nj (1 - h_nj))^2

The first is the sparse autoencoder's target on the mean activation of each hidden unit
(Ng's lecture notes on sparse autoencoders), the second the contractive autoencoder's
(Rifai et al., 2011). Both take the code h as a Tensor of the graph, so the gradient also
flows on into the encoder through h.

>>> h = gn.tensor([[0.1, 0.5], [0.3, 0.5]], requires_grad=True)
>>> round(float(kl_sparsity_penalty(h, rho=0.2)), 4)   # rho_hat = (0.2, 0.5)
0.1927
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..validation import check_real

__all__ = ["kl_sparsity_penalty", "contractive_penalty", "KLSparsity", "ContractivePenalty"]

_EPS = 1e-7


def _check_code(h: Tensor, who: str) -> None:
    if not isinstance(h, Tensor):
        raise TypeError(f"{who}: h must be a Tensor (the code of a batch), got "
                        f"{type(h).__name__}")
    if h.ndim != 2 or h.shape[0] < 1:
        raise ValueError(f"{who}: h must have shape (N, hidden) with N >= 1, got "
                         f"{tuple(h.shape)}")


class KLSparsity(Function):
    """P = sum_j KL(rho || rho_hat_j) with rho_hat the batch mean of each column of h.

    rho_hat is clipped to [1e-7, 1 - 1e-7] so that a dead or saturated unit gives a large
    finite penalty instead of inf."""

    def forward(self, h: np.ndarray, rho: float = 0.05) -> np.ndarray:
        n = h.shape[0]
        r = np.clip(h.mean(axis=0), _EPS, 1 - _EPS)
        self.r, self.rho, self.n = r, rho, n
        kl = rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))
        return np.asarray(kl.sum(), dtype=h.dtype)

    def backward(self, g: np.ndarray) -> np.ndarray:
        r, rho = self.r, self.rho
        row = (g / self.n) * (-rho / r + (1 - rho) / (1 - r))
        return np.broadcast_to(row, (self.n, r.shape[0])).astype(r.dtype, copy=True)


class ContractivePenalty(Function):
    """P = (1/N) sum_n ||d sigmoid(W x_n + b) / d x_n||_F^2 from the code h and W (hidden, in)."""

    def forward(self, h: np.ndarray, w: np.ndarray) -> np.ndarray:
        n = h.shape[0]
        d = h * (1 - h)                       # sigmoid'(a) written with h = sigmoid(a)
        s = np.einsum("ji,ji->j", w, w)       # squared norm of each hidden unit's weights
        self.h, self.w, self.d, self.s, self.n = h, w, d, s, n
        return np.asarray(float(np.einsum("nj,nj,j->", d, d, s)) / n, dtype=h.dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        h, w, d, s, n = self.h, self.w, self.d, self.s, self.n
        gh = gw = None
        needs = getattr(self, "needs_input_grad", (True, True))
        if needs[0]:
            gh = ((2 * g / n) * d * (1 - 2 * h) * s).astype(h.dtype, copy=False)
        if needs[1]:
            gw = ((2 * g / n) * w * np.einsum("nj,nj->j", d, d)[:, None]).astype(w.dtype,
                                                                                  copy=False)
        return gh, gw


def kl_sparsity_penalty(h: Tensor, rho: float = 0.05) -> Tensor:
    """Sum over hidden units of KL(rho || rho_hat_j), rho_hat_j the mean activation of unit j
    over the batch; h (N, hidden) must hold activations in (0, 1) (a sigmoid code).

    A scalar Tensor; multiply by the weight beta of the penalty and add it to the loss."""
    who = "kl_sparsity_penalty"
    _check_code(h, who)
    rho = check_real(rho, "rho", who, 0, 1, low_open=True, high_open=True)
    lo, hi = float(h._data.min()), float(h._data.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"{who}: h must hold activations in [0, 1] (a sigmoid code), got "
                         f"values in [{lo:.4g}, {hi:.4g}]")
    return KLSparsity.apply(h, rho=rho)


def contractive_penalty(h: Tensor, weight: Tensor) -> Tensor:
    """The contractive autoencoder's penalty: the squared Frobenius norm of the Jacobian of a
    sigmoid encoder h = sigmoid(x W^T + b), averaged over the batch, in closed form from
    the code h (N, hidden) and the encoder's weight W (hidden, in) (nn.Linear's layout)."""
    who = "contractive_penalty"
    _check_code(h, who)
    if not isinstance(weight, Tensor) or weight.ndim != 2 or weight.shape[0] != h.shape[1]:
        raise ValueError(f"{who}: weight must be a Tensor of shape (hidden={h.shape[1]}, in), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    return ContractivePenalty.apply(h, weight)
