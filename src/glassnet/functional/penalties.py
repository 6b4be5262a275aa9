"""Penalties added to a loss, one Function each (the nn-level regularizers that choose what
they apply to are in glassnet.nn.regularization).

    elastic_penalty(p_1, ..., p_K):  P = l1 sum_k sum |p_k| + l2 sum_k sum p_k^2
                                     dP/dp_k = l1 sign(p_k) + 2 l2 p_k
    activation_penalty(x):           P = (l1 sum |x| + l2 sum x^2) / N      (x of batch N)
                                     dP/dx = (l1 sign(x) + 2 l2 x) / N

>>> P = elastic_penalty(layer.weight, l2=1e-4)          # a scalar Tensor  # doctest: +SKIP
>>> (loss + P).backward()  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor


__all__ = ["elastic_penalty", "activation_penalty", "ElasticPenalty", "ActivityPenalty"]


class ElasticPenalty(Function):
    """P = l1 * sum_k sum |p_k| + l2 * sum_k sum p_k^2 over all inputs, one node.

    dP/dp_k = l1 sign(p_k) + 2 l2 p_k.
    """

    def forward(self, *ps: np.ndarray, l1: float = 0.0, l2: float = 0.0) -> np.ndarray:
        self.ps, self.l1, self.l2 = ps, l1, l2
        total = 0.0
        for p in ps:  # a loop over parameter tensors, each reduced in one vectorised pass
            if l1:
                total += l1 * float(np.abs(p).sum())
            if l2:
                flat = p.reshape(-1)
                total += l2 * float(np.dot(flat, flat))
        return np.asarray(total, dtype=ps[0].dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        out: list[np.ndarray | None] = []
        for p, need in zip(self.ps, self.needs_input_grad):
            if not need:
                out.append(None)
                continue
            d: np.ndarray | None = None
            if self.l1:
                d = (self.l1 * g) * np.sign(p)
            if self.l2:
                t = (2 * self.l2 * g) * p
                d = t if d is None else d + t
            out.append(np.zeros_like(p) if d is None else d.astype(p.dtype, copy=False))
        return tuple(out)


class ActivityPenalty(Function):
    """P = (l1 sum |x| + l2 sum x^2) / N for activations x of batch size N
    (per-sample sums, averaged over the batch);  dP/dx = (l1 sign(x) + 2 l2 x) / N."""

    def forward(self, x: np.ndarray, l1: float = 0.0, l2: float = 0.0) -> np.ndarray:
        n = x.shape[0] if x.ndim else 1
        self.x, self.l1, self.l2, self.n = x, l1, l2, max(n, 1)
        total = 0.0
        if l1:
            total += l1 * float(np.abs(x).sum())
        if l2:
            flat = x.reshape(-1)
            total += l2 * float(np.dot(flat, flat))
        return np.asarray(total / self.n, dtype=x.dtype)

    def backward(self, g: np.ndarray) -> np.ndarray:
        x = self.x
        d = np.zeros_like(x)
        if self.l1:
            d += (self.l1 * g / self.n) * np.sign(x)
        if self.l2:
            d += (2 * self.l2 * g / self.n) * x
        return d


def elastic_penalty(*tensors: Tensor, l1: float = 0.0, l2: float = 0.0) -> Tensor:
    """l1 * sum |p| + l2 * sum p^2 summed over all ``tensors``, a scalar Tensor (one node)."""
    if not tensors:
        raise ValueError("elastic_penalty: give at least one tensor")
    return ElasticPenalty.apply(*tensors, l1=float(l1), l2=float(l2))


def activation_penalty(x: Tensor, l1: float = 0.0, l2: float = 0.0) -> Tensor:
    """(l1 * sum |x| + l2 * sum x^2) / N for a batch x of N samples (sums per sample,
    averaged over the batch), a scalar Tensor."""
    return ActivityPenalty.apply(x, l1=float(l1), l2=float(l2))
