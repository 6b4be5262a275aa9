"""Hinge losses of a linear support vector machine head, one Function each.

Scores s (N, C), class indices y (N,), margin Delta (1 by default), p = 1 (hinge) or 2
(squared hinge):

    crammer_singer_loss:  l_n = max(0, Delta + max_{j != y_n} s_nj - s_ny)^p
                          (Crammer and Singer, 2001: only the strongest wrong class counts)
                          dl/ds_nj* = p h^(p-1) [h > 0] for the arg-max wrong class j*,
                          dl/ds_ny = -that, 0 elsewhere
    ovr_hinge_loss:       l_n = sum_k max(0, Delta - t_nk s_nk)^p with t_nk = +1 for k = y_n
                          and -1 otherwise (one-vs-rest: C binary SVMs at once)
                          dl/ds_nk = -p t_nk h_nk^(p-1) [h_nk > 0]

(PyTorch's ``multi_margin_loss``, in glassnet.functional.losses, is the third common form,
Weston and Watkins': the sum over every wrong class.) The L2 penalty of the SVM objective
is added separately (``elastic_penalty`` or weight decay).

>>> s = gn.tensor([[2.0, 1.5, -1.0], [0.0, 1.0, 0.2]], requires_grad=True)
>>> round(float(crammer_singer_loss(s, np.array([0, 2]), reduction="sum")), 4)  # 0.5 + 1.8
2.3
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_array
from ..validation import check_choice, check_real
from .losses import _class_targets, _Reduced

__all__ = ["crammer_singer_loss", "ovr_hinge_loss", "CrammerSinger", "OvRHinge"]

REDUCTIONS = ("mean", "sum", "none")


class CrammerSinger(_Reduced):
    """l_n = max(0, margin + max_{j != y} s_j - s_y)^p (see the module's formulas)."""

    def forward(self, s: np.ndarray, ts: np.ndarray, p: int = 1, margin: float = 1.0,
                reduction: str = "mean") -> np.ndarray:
        n, c = s.shape
        rows = np.arange(n)
        other = s.copy()
        other[rows, ts] = -np.inf
        jstar = other.argmax(axis=1)
        h = margin + other[rows, jstar] - s[rows, ts]
        pos = h > 0
        h = np.where(pos, h, 0).astype(s.dtype, copy=False)
        per = h if p == 1 else h * h
        self.coef = (pos.astype(s.dtype) if p == 1 else 2 * h)
        self.rows, self.ts, self.jstar, self.shape = rows, ts, jstar, s.shape
        return self._out(per.astype(s.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, None]:
        d = self.coef * self._dper(g)
        gs = np.zeros(self.shape, dtype=self.coef.dtype)
        gs[self.rows, self.jstar] += d
        gs[self.rows, self.ts] -= d
        return gs, None


class OvRHinge(_Reduced):
    """l_n = sum_k max(0, margin - t_nk s_nk)^p, t = +1 for the true class, -1 otherwise."""

    def forward(self, s: np.ndarray, ts: np.ndarray, p: int = 1, margin: float = 1.0,
                reduction: str = "mean") -> np.ndarray:
        n, _ = s.shape
        t = -np.ones_like(s)
        t[np.arange(n), ts] = 1
        h = margin - t * s
        pos = h > 0
        h = np.where(pos, h, 0).astype(s.dtype, copy=False)
        per = (h if p == 1 else h * h).sum(axis=1)
        self.d = -t * (pos if p == 1 else 2 * h)
        return self._out(per.astype(s.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, None]:
        dper = self._dper(g)
        if np.ndim(dper):
            dper = dper[:, None]
        return (self.d * dper).astype(self.d.dtype, copy=False), None


def _prepare(input: Tensor, target: object, p: int, margin: float, reduction: str,
             who: str) -> tuple[np.ndarray, int, float]:
    check_choice(reduction, "reduction", who, REDUCTIONS)
    check_choice(p, "p", who, (1, 2))
    margin = check_real(margin, "margin", who, 0)
    if not isinstance(input, Tensor) or input.ndim != 2 or input.shape[1] < 2:
        raise ValueError(f"{who}: input must be a Tensor of scores (N, C) with C >= 2, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    ts, _ = _class_targets(input, as_array(target), who)
    return ts, int(p), margin


def crammer_singer_loss(input: Tensor, target: object, p: int = 1, margin: float = 1.0,
                        reduction: str = "mean") -> Tensor:  # noqa: A002 - loss convention
    """Crammer-Singer multiclass hinge: max(0, margin + max_{j != y} s_j - s_y)^p per sample.

    input: scores (N, C); target: class indices (N,); p = 1 (hinge) or 2 (squared hinge)."""
    ts, p, margin = _prepare(input, target, p, margin, reduction, "crammer_singer_loss")
    return CrammerSinger.apply(input, ts, p=p, margin=margin, reduction=reduction)


def ovr_hinge_loss(input: Tensor, target: object, p: int = 1, margin: float = 1.0,
                   reduction: str = "mean") -> Tensor:  # noqa: A002 - loss convention
    """One-vs-rest hinge: sum over classes k of max(0, margin - t_k s_k)^p, t_k = +1 for the
    true class and -1 for the others (C binary SVMs trained together); p = 2 is
    scikit-learn's LinearSVC default (squared hinge)."""
    ts, p, margin = _prepare(input, target, p, margin, reduction, "ovr_hinge_loss")
    return OvRHinge.apply(input, ts, p=p, margin=margin, reduction=reduction)
