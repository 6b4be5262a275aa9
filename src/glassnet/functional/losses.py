"""Loss functions. Targets are arrays (class indices, one-hot or real values)."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import math as M

__all__ = ["cross_entropy", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, who):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _target_array(target):
    return target.data if isinstance(target, Tensor) else np.asarray(target)


def _reduce(loss, reduction):
    if reduction == "mean":
        return M.mean(loss)
    if reduction == "sum":
        return M.sum(loss)
    return loss


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood on logits (N, C) or (N, C, d...).

    Targets: class indices (N,) / (N, d...), or probabilities / one-hot of the
    logits' shape.  dE/dz = softmax(z) - y (per sample, times the weight).
    """

    def forward(self, z, target, reduction="mean", label_smoothing=0.0, ignore_index=-100,
                weight=None):
        # move the class axis last so the code below handles (M, C)
        if z.ndim > 2:
            perm = (0,) + tuple(range(2, z.ndim)) + (1,)
            self.perm = perm
            z2 = np.transpose(z, perm).reshape(-1, z.shape[1])
        else:
            self.perm = None
            z2 = z
        self.zshape = z.shape
        c = z2.shape[1]
        m = z2.max(axis=1, keepdims=True)
        s = z2 - m
        lse = np.log(np.exp(s).sum(axis=1, keepdims=True))
        logp = s - lse
        self.p = np.exp(logp)
        if target.dtype.kind in "iu":
            t = target.reshape(-1)
            if t.shape[0] != z2.shape[0]:
                raise ValueError(f"cross_entropy: {t.shape[0]} targets for {z2.shape[0]} "
                                 f"predictions (input shape {z.shape}, target shape {target.shape})")
            valid = t != ignore_index
            ts = np.where(valid, t, 0)
            if valid.any() and (ts.min() < 0 or ts.max() >= c):
                raise IndexError(f"cross_entropy: target class out of range [0, {c}): "
                                 f"min {ts.min()}, max {ts.max()}")
            y = np.zeros_like(z2)
            y[np.arange(len(ts)), ts] = 1
            y[~valid] = 0
        else:
            y = target.astype(z2.dtype, copy=False)
            if y.shape != z.shape:
                raise ValueError(f"cross_entropy: probability targets must have the input's shape "
                                 f"{z.shape}, got {y.shape}")
            if self.perm is not None:
                y = np.transpose(y, self.perm).reshape(-1, c)
            valid = np.ones(y.shape[0], dtype=bool)
        if label_smoothing:
            y = y * (1 - label_smoothing) + label_smoothing / c * valid[:, None]
        w_row = np.ones(y.shape[0], dtype=z2.dtype)
        if weight is not None:
            w = np.asarray(weight, dtype=z2.dtype)
            w_row = (y * w).sum(1) / np.maximum(y.sum(1), 1e-12) if target.dtype.kind not in "iu" \
                else w[np.where(valid, target.reshape(-1), 0)]
            y = y * w
        w_row = w_row * valid
        per = -(y * logp).sum(axis=1)
        self.y = y
        self.reduction = reduction
        self.denom = float(w_row.sum()) if reduction == "mean" else 1.0
        if reduction == "mean":
            return np.asarray(per.sum() / max(self.denom, 1e-12), dtype=z2.dtype)
        if reduction == "sum":
            return np.asarray(per.sum(), dtype=z2.dtype)
        out_shape = (z.shape[0],) + z.shape[2:]
        self.valid_rows = valid
        return per.reshape(out_shape)

    def backward(self, g):
        ysum = self.y.sum(axis=1, keepdims=True)
        grad = self.p * ysum - self.y
        if self.reduction == "mean":
            grad *= g / max(self.denom, 1e-12)
        elif self.reduction == "sum":
            grad *= g
        else:
            grad *= g.reshape(-1, 1)
        if self.perm is not None:
            shp = [self.zshape[i] for i in self.perm]
            grad = np.transpose(grad.reshape(shp), np.argsort(self.perm))
        return grad.astype(self.p.dtype, copy=False), None


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0, ignore_index=-100,
                  weight=None):
    """Cross-entropy of logits against class indices or probability / one-hot targets.

    E = -sum_c y_c log softmax(z)_c, averaged over samples by default.
    """
    _check_reduction(reduction, "cross_entropy")
    return CrossEntropy.apply(input, _target_array(target), reduction=reduction,
                              label_smoothing=label_smoothing, ignore_index=ignore_index,
                              weight=weight)


def mse_loss(input, target, reduction="mean", half=False):
    """Mean squared error (1/2 (y - t)^2 with ``half=True``, as in many course derivations)."""
    _check_reduction(reduction, "mse_loss")
    t = target if isinstance(target, Tensor) else _target_array(target).astype(input.dtype)
    if tuple(np.shape(t)) != tuple(input.shape):
        raise ValueError(f"mse_loss: target shape {tuple(np.shape(t))} does not match input shape "
                         f"{tuple(input.shape)}")
    d = input - t
    sq = d * d
    if half:
        sq = sq * 0.5
    return _reduce(sq, reduction)
