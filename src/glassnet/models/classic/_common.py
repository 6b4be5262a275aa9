"""Small helpers shared by the models of the chart (argument checks, minibatch training)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ...autograd import Tensor, as_array

if TYPE_CHECKING:  # annotations only
    from glassnet.nn.module import Module


def matrix(X: Any, who: str, name: str = "X", features: int | None = None,
           dtype: Any = None) -> np.ndarray:
    """X as a finite 2-D float array (N, D), with D = ``features`` when given."""
    a = np.asarray(as_array(X))
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{who}: {name} must be numeric, got dtype {a.dtype}")
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{who}: {name} must have shape (N, D) with N >= 1, got {a.shape}")
    if features is not None and a.shape[1] != features:
        raise ValueError(f"{who}: {name} must have {features} features (shape (N, "
                         f"{features})), got shape {a.shape}")
    a = a.astype(np.float64 if dtype is None else dtype, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{who}: {name} holds NaN or inf")
    return a


def labels(y: Any, n: int, who: str) -> np.ndarray:
    """Class indices (n,) as int64, checked."""
    t = np.asarray(as_array(y))
    if t.shape != (n,):
        raise ValueError(f"{who}: y must be class indices of shape ({n},), got {t.shape}")
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise TypeError(f"{who}: y must hold integer class indices, got dtype {t.dtype}")
    if t.size and t.min() < 0:
        raise ValueError(f"{who}: y must hold class indices >= 0, got {int(t.min())}")
    return t.astype(np.int64)


def ridge_solve(H: np.ndarray, T: np.ndarray, ridge: float) -> np.ndarray:
    """argmin_B ||H B - T||^2 + ridge ||B||^2 = (H^T H + ridge I)^-1 H^T T, solved in the
    smaller of the primal (features) and dual (samples) forms."""
    n, m = H.shape
    if m <= n:
        A = H.T @ H
        A[np.diag_indices(m)] += ridge
        return np.linalg.solve(A, H.T @ T) if ridge > 0 else np.linalg.lstsq(H, T, rcond=None)[0]
    if ridge == 0:
        return np.linalg.lstsq(H, T, rcond=None)[0]
    K = H @ H.T
    K[np.diag_indices(n)] += ridge
    return H.T @ np.linalg.solve(K, T)


def train_minibatch(model: Module, loss_of: Callable[[Tensor, np.ndarray], Tensor],
                    X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, lr: float,
                    optimizer: str, seed: int | None, weight_decay: float = 0.0,
                    anneal: bool = False) -> list[float]:
    """Minibatch gradient training of ``model`` on ``loss_of(model(xb), yb)``; returns the
    mean training loss of each epoch. Each batch is one vectorised forward and backward.
    With ``anneal`` the learning rate falls linearly from ``lr`` to ``lr / epochs`` (the
    minibatch noise then dies out and the iterate settles on the optimum of a convex
    objective)."""
    from ... import optim
    kw: dict[str, float] = {"lr": lr}
    if weight_decay:
        kw["weight_decay"] = weight_decay
    opt = optim.get(optimizer, model.parameters(), **kw)
    rng = np.random.default_rng(seed)
    dt = np.dtype(model.dtype)
    X = X.astype(dt, copy=False)
    losses = []
    model.train()
    for epoch in range(int(epochs)):
        if anneal:
            for group in opt.param_groups:
                group["lr"] = lr * (1 - epoch / int(epochs))
        order = rng.permutation(len(X))
        total = 0.0
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            loss = loss_of(model(Tensor(X[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        losses.append(total / len(X))
    model.eval()
    return losses
