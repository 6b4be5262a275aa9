"""Loss functions, each one fused, numerically stable Function.

Every loss takes ``reduction`` = "mean" (default) | "sum" | "none" (per-element or
per-sample values). Targets may be NumPy arrays or Tensors (class indices, one-hot,
probabilities, real values or +-1 labels); shapes are checked and a mismatch raises a
``ValueError`` naming the loss.

No silent wrong results: a class index outside ``0..C-1`` (other than ``ignore_index``)
raises :class:`ClassIndexError` (an ``IndexError`` as in PyTorch, and an
:class:`~glassnet.errors.ArgumentError`); binary cross-entropy refuses inputs and targets
outside [0, 1] (NaN included), also on logits, where PyTorch computes on silently;
``label_smoothing`` must be in [0, 1). Each check is one vectorised min/max per call.
A mean over no targets (every target equal to ``ignore_index``, or an empty batch) is
NaN with zero gradients, PyTorch's value; glassnet also warns once (RuntimeWarning) and
:func:`nonfinite_reason` names the cause on the loss tensor, so a training loop that stops
on a NaN loss can say why.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .. import backend
from ..autograd.function import Edge as _Edge, Function, unbroadcast
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError
from ..validation import check_choice, check_real, lookup
from . import math as M
from .activations import LogSoftmax, _softplus

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = [
    "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "nll_loss", "hinge_embedding_loss",
    "margin_ranking_loss", "multi_margin_loss", "get_loss", "LOSSES", "ClassIndexError",
    "nonfinite_reason",
]

REDUCTIONS = ("mean", "sum", "none")


class ClassIndexError(ArgumentError, IndexError):
    """A class-index target outside ``0..C-1`` that is not ``ignore_index``: an
    ``IndexError`` (as PyTorch raises) and an :class:`~glassnet.errors.ArgumentError`.
    The message names the loss, the bad value and the number of classes C."""


def _class_range_error(who: str, lo: float, hi: float, c: int,
                       ignore_index: int | None = None) -> ClassIndexError:
    bad = int(hi) if hi >= c else int(lo)
    also = f", or ignore_index={ignore_index}" if ignore_index is not None else ""
    return ClassIndexError(f"{who}: target class out of range [0, {c}): got {bad} (C={c} "
                           f"classes, so 0..{c - 1}{also}; the targets span [{int(lo)}, "
                           f"{int(hi)}])")


def _empty_mean(fn: Function, who: str, ignore_index: int) -> None:
    """Mark ``fn`` (a loss Function whose mean has a zero denominator) and warn once."""
    why = (f"{who}: the mean is over no targets (every target equals ignore_index="
           f"{ignore_index}, the batch is empty, or their weights sum to 0), so the loss is "
           f"nan, as in PyTorch; gradients are 0")
    setattr(fn, "nan_reason", why)   # read by nonfinite_reason
    warnings.warn(why, RuntimeWarning, stacklevel=2)   # one place: shown once per process


def nonfinite_reason(loss: Tensor) -> str | None:
    """Why the loss tensor ``loss`` is NaN when glassnet knows (a mean over no targets in
    cross_entropy / nll_loss, as PyTorch computes it), else None; read from the node that
    made it, so only for a loss computed with gradients recorded.

    >>> z = gn.zeros(2, 3, requires_grad=True)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     loss = cross_entropy(z, np.array([-100, -100]))
    >>> nonfinite_reason(loss)[:46]
    'cross_entropy: the mean is over no targets (ev'
    """
    return getattr(getattr(loss, "_ctx", None), "nan_reason", None)


def _check_unit(a: np.ndarray, what: str, who: str, hint: str = "") -> None:
    """Refuse values of ``a`` outside [0, 1] (NaN included): one min and one max."""
    if a.size:
        lo, hi = a.min(), a.max()
        if not (lo >= 0 and hi <= 1):
            raise ArgumentError(f"{who}: {what} must hold probabilities in [0, 1], got values in "
                                f"[{float(lo):.4g}, {float(hi):.4g}]{hint}")


def _float_target(input: Tensor, target: TensorLike, who: str,  # noqa: A002
                  name: str = "target") -> Tensor | np.ndarray:
    """``target`` as a Tensor (kept, so its gradient can flow) or an array of the input's
    dtype, with the input's exact shape."""
    t: Tensor | np.ndarray
    if isinstance(target, Tensor):
        t = target
    else:
        t = np.asarray(target)
        if t.dtype != input.dtype:
            t = t.astype(input.dtype)
    if tuple(t.shape) != tuple(input.shape):
        hint = ""
        if np.prod(t.shape) == np.prod(input.shape):
            hint = f"; reshape the {name} to {tuple(input.shape)}"
        raise ValueError(f"{who}: {name} shape {tuple(t.shape)} does not match input shape "
                         f"{tuple(input.shape)}{hint}")
    return t


def _opt_array(w: TensorLike | None, dtype: np.dtype) -> np.ndarray | None:
    if w is None:
        return None
    return as_array(w, dtype)


class _Reduced(Function):
    """Helpers for a loss computed elementwise as ``per`` then reduced."""

    def _out(self, per: np.ndarray, reduction: str) -> np.ndarray:
        self.reduction, self.per_shape = reduction, per.shape
        if reduction == "mean":
            return np.asarray(per.mean(), dtype=per.dtype)
        if reduction == "sum":
            return np.asarray(per.sum(), dtype=per.dtype)
        return per

    def _dper(self, g: np.ndarray) -> np.ndarray:
        """dE/dper for each element (broadcastable to ``per``)."""
        if self.reduction == "mean":
            n = int(np.prod(self.per_shape))
            return g / max(n, 1)
        return g


# --------------------------------------------------------------- cross-entropy
class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood on logits (N, C) or (N, C, d...).

    Targets: class indices (N,) / (N, d...), or probabilities / one-hot of the
    logits' shape.  dE/dz = softmax(z) - y (per sample, times the weight).
    """

    def forward(self, z: np.ndarray, target: np.ndarray, reduction: str = "mean",
                label_smoothing: float = 0.0, ignore_index: int = -100,
                weight: np.ndarray | None = None) -> np.ndarray:
        # move the class axis last so the code below handles (M, C)
        if z.ndim > 2:
            perm = (0,) + tuple(range(2, z.ndim)) + (1,)
            self.perm: tuple[int, ...] | None = perm
            z2 = np.transpose(z, perm).reshape(-1, z.shape[1])
        else:
            self.perm = None
            z2 = z
        self.zshape = z.shape
        c = z2.shape[1]
        # (softmax, rows, targets, valid mask) of the class-index path
        self.fast: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None = None
        if (target.dtype.kind in "iu" and not label_smoothing and weight is None
                and reduction in ("mean", "sum")):
            return self._forward_indices(z2, target, reduction, ignore_index, z.shape)
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
            if ts.size:
                lo, hi = ts.min(), ts.max()
                if lo < 0 or hi >= c:
                    raise _class_range_error("cross_entropy", lo, hi, c, ignore_index)
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
            if self.denom == 0:
                _empty_mean(self, "cross_entropy", ignore_index)
                return np.asarray(np.nan, dtype=z2.dtype)
            return np.asarray(per.sum() / self.denom, dtype=z2.dtype)
        if reduction == "sum":
            return np.asarray(per.sum(), dtype=z2.dtype)
        out_shape = (z.shape[0],) + z.shape[2:]
        self.valid_rows = valid
        per += 0.0                             # an ignored row is 0, not -0 (as PyTorch prints)
        return per.reshape(out_shape)

    def _forward_indices(self, z2: np.ndarray, target: np.ndarray, reduction: str,
                         ignore_index: int, zshape: tuple[int, ...]) -> np.ndarray:
        """Class-index targets, no weights or smoothing, reduced: no one-hot matrix.

        E_i = log sum_c e^{z_ic} - z_{i,t_i};  dE/dz_i = softmax(z_i) - onehot(t_i).
        """
        n, c = z2.shape
        t = target.reshape(-1)
        if t.shape[0] != n:
            raise ValueError(f"cross_entropy: {t.shape[0]} targets for {n} "
                             f"predictions (input shape {zshape}, target shape {target.shape})")
        rows = backend.const_vector("arange", n)
        valid = None
        if n and (ignore_index >= 0 or t.min() < 0):   # rows to ignore, or a bad class
            valid = t != ignore_index
            ts = np.where(valid, t, 0)
            lo, hi = ts.min(), ts.max()
            if lo < 0 or hi >= c:
                raise _class_range_error("cross_entropy", lo, hi, c, ignore_index)
            t = ts
        try:
            e, per = _log_softmax_rows(z2, t)  # a class >= c fails in it (no separate pass)
        except IndexError:
            raise _class_range_error("cross_entropy", t.min(), t.max(), c,
                                     ignore_index) from None
        if valid is not None:
            per *= valid
            count = int(valid.sum())
        else:
            count = n
        self.fast = (e, rows, t, valid)
        self.reduction = reduction
        self.denom = float(count) if reduction == "mean" else 1.0
        total = per.sum()
        if reduction == "mean":
            if count == 0:
                _empty_mean(self, "cross_entropy", ignore_index)
                return np.asarray(np.nan, dtype=z2.dtype)
            total = total / self.denom
        return np.asarray(total, dtype=z2.dtype)

    def _backward_indices(self, g: np.ndarray) -> tuple[np.ndarray, None]:
        assert self.fast is not None   # backward comes here on the class-index path only
        p, rows, t, valid = self.fast
        scale = (g / max(self.denom, 1e-12)) if self.reduction == "mean" else g
        grad = np.multiply(p, scale, dtype=p.dtype)   # p stays intact for a retained graph
        grad[rows, t] -= scale
        if valid is not None:
            grad *= valid[:, None]
        if self.perm is not None:
            shp = [self.zshape[i] for i in self.perm]
            grad = np.transpose(grad.reshape(shp), np.argsort(self.perm))
        return grad, None

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, None]:
        if self.fast is not None:
            return self._backward_indices(g)
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


def cross_entropy(input: Tensor, target: TensorLike, reduction: str = "mean",  # noqa: A002
                  label_smoothing: float = 0.0, ignore_index: int = -100,
                  weight: TensorLike | None = None) -> Tensor:
    """Cross-entropy of logits against class indices or probability / one-hot targets.

    E = -sum_c y_c log softmax(z)_c, averaged over samples by default (over the weights of
    the targets that count, with ``weight``; NaN when none counts, as in PyTorch).
    ``label_smoothing`` must be in [0, 1) (PyTorch also takes 1, a target that ignores the
    labels, and ignores a negative value; glassnet refuses both). A class index outside
    ``0..C-1`` other than ``ignore_index`` raises :class:`ClassIndexError`.
    """
    check_choice(reduction, "reduction", "cross_entropy", REDUCTIONS)
    if label_smoothing:                    # 0 is the common case: no per-call check
        label_smoothing = check_real(label_smoothing, "label_smoothing", "cross_entropy", 0, 1,
                                     high_open=True)
    return CrossEntropy.apply(input, as_array(target), reduction=reduction,
                              label_smoothing=label_smoothing, ignore_index=ignore_index,
                              weight=weight)


# ---------------------------------------------------------------- regression
class MSE(_Reduced):
    """E = (y - t)^2 (times 1/2 when ``half``);  dE/dy = 2 (y - t) (or y - t), dE/dt = -dE/dy."""

    def forward(self, y: np.ndarray, t: np.ndarray, reduction: str = "mean",
                half: bool = False) -> np.ndarray:
        self.d = y - t
        self.k = 1.0 if half else 2.0
        per = self.d * self.d
        if half:
            per *= 0.5
        return self._out(per, reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        gy = (self.k * self._dper(g)) * self.d
        gt = -gy if self.needs_input_grad[1] else None
        return gy if self.needs_input_grad[0] else None, gt


def mse_loss(input: Tensor, target: TensorLike, reduction: str = "mean",  # noqa: A002
             half: bool = False) -> Tensor:
    """Mean squared error: E = (y - t)^2, or 1/2 (y - t)^2 with ``half=True`` (as in many
    course derivations, so that dE/dy = y - t)."""
    check_choice(reduction, "reduction", "mse_loss", REDUCTIONS)
    t = _float_target(input, target, "mse_loss")
    return MSE.apply(input, t, reduction=reduction, half=bool(half))


class L1(_Reduced):
    """E = |y - t|;  dE/dy = sign(y - t) (0 at y = t), dE/dt = -dE/dy."""

    def forward(self, y: np.ndarray, t: np.ndarray, reduction: str = "mean") -> np.ndarray:
        d = y - t
        self.s = np.sign(d)
        return self._out(np.abs(d), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        gy = self._dper(g) * self.s
        return gy if self.needs_input_grad[0] else None, (-gy if self.needs_input_grad[1]
                                                          else None)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error E = |y - t|."""
    check_choice(reduction, "reduction", "l1_loss", REDUCTIONS)
    return L1.apply(input, _float_target(input, target, "l1_loss"), reduction=reduction)


# ------------------------------------------------------------ binary targets
class BCE(_Reduced):
    """E = -w [t log p + (1 - t) log(1 - p)] on probabilities p, each log clamped at -100
    (as PyTorch, so p = 0 or 1 gives a finite loss).

    dE/dp = w (p - t) / max(p (1 - p), 1e-12);  dE/dt = w [log(1 - p) - log p].
    """

    def forward(self, p: np.ndarray, t: np.ndarray, weight: np.ndarray | None = None,
                reduction: str = "mean") -> np.ndarray:
        with np.errstate(divide="ignore"):
            logp = np.maximum(np.log(p), -100)
            log1mp = np.maximum(np.log1p(-p), -100)
        per = -(t * logp + (1 - t) * log1mp)
        if weight is not None:
            per = per * weight
        self.p, self.t, self.w = p, t, weight
        self.logp, self.log1mp = logp, log1mp
        self.pshape = p.shape
        return self._out(per.astype(p.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        dper = self._dper(g)
        if self.w is not None:
            dper = dper * self.w
        p, t = self.p, self.t
        gp = gt = None
        if self.needs_input_grad[0]:
            gp = unbroadcast(dper * (p - t) / np.maximum(p * (1 - p), 1e-12), self.pshape)
            gp = gp.astype(p.dtype, copy=False)
        if self.needs_input_grad[1]:
            gt = unbroadcast(dper * (self.log1mp - self.logp), self.pshape).astype(p.dtype,
                                                                                 copy=False)
        return gp, gt


def binary_cross_entropy(input: Tensor, target: TensorLike,  # noqa: A002
                         weight: TensorLike | None = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against targets in [0, 1].

    E = -w [t log p + (1 - t) log(1 - p)], logs clamped at -100. ``weight`` broadcasts to
    the input. For raw scores use :func:`binary_cross_entropy_with_logits` (more stable).
    """
    who = "binary_cross_entropy"
    check_choice(reduction, "reduction", who, REDUCTIONS)
    t = _float_target(input, target, who)
    _check_unit(as_array(input), "input", who,
                " (use binary_cross_entropy_with_logits for raw scores)")
    _check_unit(as_array(t), "target", who)
    return BCE.apply(input, t, weight=_opt_array(weight, input.dtype), reduction=reduction)


class BCEWithLogits(_Reduced):
    """Sigmoid + binary cross-entropy on logits x, fused and stable.

    E = w [(1 - t) x + l softplus(-x)] with l = 1 + (pos_weight - 1) t and
    softplus(-x) = -log sigmoid(x) = log(1 + e^{-|x|}) + max(-x, 0).
    dE/dx = w [(1 - t) - l sigmoid(-x)];  dE/dt = w [-x + (pos_weight - 1) softplus(-x)].
    """

    def forward(self, x: np.ndarray, t: np.ndarray, weight: np.ndarray | None = None,
                pos_weight: np.ndarray | None = None, reduction: str = "mean") -> np.ndarray:
        sp = _softplus(-x)
        if pos_weight is not None:
            lw = 1 + (pos_weight - 1) * t
            per = (1 - t) * x + lw * sp
        else:
            lw = None
            per = (1 - t) * x
            per += sp
        if weight is not None:
            per = per * weight
        self.x, self.t, self.w, self.pw, self.lw, self.sp = x, t, weight, pos_weight, lw, sp
        return self._out(per.astype(x.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        dper = self._dper(g)
        if self.w is not None:
            dper = dper * self.w
        gx = gt = None
        shape = self.x.shape
        if self.needs_input_grad[0]:
            lw = 1 if self.lw is None else self.lw
            # sigmoid(-x) = exp(-softplus(x)) = exp(-(x + softplus(-x))): exponent <= 0
            sig_neg = self.x + self.sp
            np.negative(sig_neg, out=sig_neg)
            np.exp(sig_neg, out=sig_neg)
            gx = unbroadcast(dper * ((1 - self.t) - lw * sig_neg), shape)
            gx = gx.astype(self.x.dtype, copy=False)
        if self.needs_input_grad[1]:
            d = -self.x if self.pw is None else -self.x + (self.pw - 1) * self.sp
            gt = unbroadcast(dper * d, shape).astype(self.x.dtype, copy=False)
        return gx, gt


def binary_cross_entropy_with_logits(input: Tensor, target: TensorLike,  # noqa: A002
                                     weight: TensorLike | None = None,
                                     pos_weight: TensorLike | None = None,
                                     reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits (sigmoid folded in, stable for any |x|).

    Works for one output (N, 1) / (N,) and multi-label outputs (N, C) with 0/1 targets of
    the same shape. ``pos_weight`` (C,) weighs the positive term per class; ``weight``
    broadcasts to the input. Targets must be in [0, 1] (NaN refused): PyTorch computes a
    number for any target, glassnet raises :class:`~glassnet.errors.ArgumentError`.
    """
    who = "binary_cross_entropy_with_logits"
    check_choice(reduction, "reduction", who, REDUCTIONS)
    t = _float_target(input, target, who)
    _check_unit(as_array(t), "target", who)
    return BCEWithLogits.apply(input, t, weight=_opt_array(weight, input.dtype),
                               pos_weight=_opt_array(pos_weight, input.dtype),
                               reduction=reduction)


# ------------------------------------------------------------ class indices
def _class_targets(input: Tensor, target: TensorLike, who: str,  # noqa: A002
                   ignore_index: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer class targets of shape input.shape without axis 1, checked."""
    t = as_array(target)
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and t.size and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise TypeError(f"{who}: target must hold integer class indices, got dtype "
                            f"{t.dtype}")
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise ValueError(f"{who}: input must be (N, C) or (N, C, d...), got shape {shape}")
    want = (shape[0],) + shape[2:]
    if tuple(t.shape) != want:
        raise ValueError(f"{who}: target shape {tuple(t.shape)} does not match {want} "
                         f"(input shape {shape} without the class axis 1)")
    c = shape[1]
    valid = t != ignore_index if ignore_index is not None else np.ones(t.shape, dtype=bool)
    ts = np.where(valid, t, 0)
    if ts.size:
        lo, hi = ts.min(), ts.max()
        if lo < 0 or hi >= c:
            raise _class_range_error(who, lo, hi, c, ignore_index)
    return ts, valid


class NLL(Function):
    """E = -w_t x[t] on log-probabilities x (N, C[, d...]) and class indices t.

    Mean: sum_i w_{t_i} (-x_i[t_i]) / sum_i w_{t_i} over non-ignored targets (as PyTorch).
    dE/dx[i, t_i] = -w_{t_i} (/ the weight sum for the mean), 0 elsewhere.
    """

    def forward(self, x: np.ndarray, ts: np.ndarray, valid: np.ndarray,
                weight: np.ndarray | None = None, reduction: str = "mean",
                ignore_index: int = -100) -> np.ndarray:
        idx = np.expand_dims(ts, 1)
        picked = np.take_along_axis(x, idx, axis=1)[:, 0]
        w = valid.astype(x.dtype)
        if weight is not None:
            w = w * weight[ts]
        per = -w * picked
        self.idx, self.w, self.xshape, self.reduction = idx, w, x.shape, reduction
        self.dtype = x.dtype
        if reduction == "mean":
            total = float(w.sum())
            self.denom = max(total, 1e-12)
            if total == 0:
                _empty_mean(self, "nll_loss", ignore_index)
                return np.asarray(np.nan, dtype=x.dtype)
            return np.asarray(per.sum() / self.denom, dtype=x.dtype)
        if reduction == "sum":
            return np.asarray(per.sum(), dtype=x.dtype)
        per += 0.0                             # an ignored target is 0, not -0 (as PyTorch)
        return per

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, None, None]:
        coef = -self.w * (g / self.denom if self.reduction == "mean" else g)
        gx = np.zeros(self.xshape, dtype=self.dtype)
        np.put_along_axis(gx, self.idx, np.expand_dims(coef.astype(self.dtype), 1), axis=1)
        return gx, None, None


def nll_loss(input: Tensor, target: TensorLike, weight: TensorLike | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d...) (for instance
    the output of ``log_softmax``) against class indices. ``weight`` (C,) per class;
    targets equal to ``ignore_index`` count for nothing."""
    who = "nll_loss"
    check_choice(reduction, "reduction", who, REDUCTIONS)
    ts, valid = _class_targets(input, target, who, ignore_index)
    fused = _log_softmax_source(input)
    if fused is not None:
        return NLLOfLogSoftmax.apply(fused[0], ts, valid, logp=fused[1],
                                     weight=_opt_array(weight, input.dtype), reduction=reduction,
                                     ignore_index=ignore_index)
    return NLL.apply(input, ts, valid, weight=_opt_array(weight, input.dtype),
                     reduction=reduction, ignore_index=ignore_index)


def _log_softmax_source(x: Tensor) -> tuple[Tensor, np.ndarray] | None:
    """(logits tensor, log-probabilities array) when ``x`` is the output of log_softmax
    over the class axis of a 2-D input that nothing else watches (no hooks, no retained
    gradient), so nll_loss can differentiate straight to the logits; else None."""
    ctx = getattr(x, "_ctx", None) if isinstance(x, Tensor) else None
    if (not isinstance(ctx, LogSoftmax) or x._data.ndim != 2 or ctx.axis not in (1, -1)
            or getattr(ctx, "_retained", None) or getattr(x, "_grad_hooks", None)
            or ctx.out is not x._data):
        return None
    z = ctx.inputs[0]
    if isinstance(z, _Edge):
        z = z.tensor()
    return (z, ctx.out) if isinstance(z, Tensor) else None


class NLLOfLogSoftmax(NLL):
    """nll_loss(log_softmax(z, 1)) as one node from the logits z (N, C): the value is
    NLL's on the kept log-probabilities, and dE/dz_i = c_i (onehot(t_i) - softmax(z_i))
    with c_i = dE/dx[i, t_i], one pass instead of a dense NLL gradient followed by
    log_softmax's backward."""

    def forward(self, z: np.ndarray, ts: np.ndarray, valid: np.ndarray,
                weight: np.ndarray | None = None, reduction: str = "mean",
                ignore_index: int = -100, logp: np.ndarray | None = None) -> np.ndarray:
        assert logp is not None   # nll_loss passes the kept log-probabilities
        self.logp = logp
        return super().forward(logp, ts, valid, weight=weight, reduction=reduction,
                               ignore_index=ignore_index)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, None, None]:
        coef = -self.w * (g / self.denom if self.reduction == "mean" else g)
        coef = np.asarray(coef, dtype=self.dtype)
        gz = np.exp(self.logp)
        gz *= -coef.reshape(-1, 1) if coef.ndim else -coef
        rows = backend.const_vector("arange", gz.shape[0])
        gz[rows, self.idx[:, 0]] += coef
        return gz, None, None


# ------------------------------------------------------------- margin losses
class HingeEmbedding(_Reduced):
    """E = x where t = 1, max(0, margin - x) where t = -1 (PyTorch's HingeEmbeddingLoss).

    dE/dx = 1 where t = 1; -[margin - x > 0] where t = -1.
    """

    def forward(self, x: np.ndarray, t: np.ndarray, margin: float = 1.0,
                reduction: str = "mean") -> np.ndarray:
        h = margin - x
        self.hinge = (h > 0) & (t != 1)
        self.lin = t != -1
        per = np.where(self.hinge, h, 0) + np.where(self.lin, x, 0)
        return self._out(per.astype(x.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, None]:
        d = self.lin.astype(g.dtype) - self.hinge
        return (self._dper(g) * d).astype(g.dtype, copy=False), None


def hinge_embedding_loss(input: Tensor, target: TensorLike, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Hinge embedding loss: x for targets +1, max(0, margin - x) for targets -1.

    ``input`` is typically a distance; targets are +-1 of the input's shape.
    """
    who = "hinge_embedding_loss"
    check_choice(reduction, "reduction", who, REDUCTIONS)
    t = _float_target(input, as_array(target), who)
    return HingeEmbedding.apply(input, t, margin=float(margin), reduction=reduction)


class MarginRanking(_Reduced):
    """E = max(0, -t (x1 - x2) + margin);  dE/dx1 = -t [E > 0], dE/dx2 = t [E > 0]."""

    def forward(self, x1: np.ndarray, x2: np.ndarray, t: np.ndarray, margin: float = 0.0,
                reduction: str = "mean") -> np.ndarray:
        h = -t * (x1 - x2) + margin
        self.act = np.where(h > 0, t, 0).astype(x1.dtype, copy=False)
        return self._out(np.maximum(h, 0).astype(x1.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, None]:
        d = self._dper(g) * self.act
        return (-d if self.needs_input_grad[0] else None,
                d if self.needs_input_grad[1] else None, None)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: TensorLike, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """Ranking loss max(0, -t (x1 - x2) + margin): t = 1 asks x1 to rank above x2 by
    ``margin``, t = -1 the reverse. With x1 = s_c (a wrong class's score), x2 = s (the
    right one) and t = -1 it is the course's max(0, Delta + s_c - s)."""
    who = "margin_ranking_loss"
    check_choice(reduction, "reduction", who, REDUCTIONS)
    if tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(f"{who}: input1 shape {tuple(input1.shape)} does not match input2 "
                         f"shape {tuple(input2.shape)}")
    t = _float_target(input1, as_array(target), who)
    return MarginRanking.apply(input1, input2, t, margin=float(margin), reduction=reduction)


class MultiMargin(_Reduced):
    """Multiclass hinge (SVM) loss on scores x (N, C) and class indices y.

    E_i = sum_{j != y_i} w_{y_i} max(0, margin - x_{i,y_i} + x_{i,j})^p  (/ C when
    ``class_average``, as PyTorch). dE/dx_j = p h_j^{p-1} [h_j > 0] w (/C) for j != y,
    and dE/dx_y = -sum_j of those.
    """

    def forward(self, x: np.ndarray, ts: np.ndarray, p: int = 1, margin: float = 1.0,
                weight: np.ndarray | None = None, class_average: bool = True,
                reduction: str = "mean") -> np.ndarray:
        n, c = x.shape
        rows = np.arange(n)
        xy = x[rows, ts][:, None]
        h = margin - xy + x
        h[rows, ts] = 0
        pos = h > 0
        h = np.where(pos, h, 0)
        scale = np.ones((n, 1), dtype=x.dtype) if weight is None else weight[ts][:, None]
        if class_average:
            scale = scale / c
        per = ((h if p == 1 else h * h) * scale).sum(axis=1)
        self.d = (pos * scale if p == 1 else 2 * h * scale).astype(x.dtype, copy=False)
        self.rows, self.ts = rows, ts
        return self._out(per.astype(x.dtype, copy=False), reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        dper = self._dper(g)
        if np.ndim(dper):
            dper = dper[:, None]
        gx = self.d * dper
        gx[self.rows, self.ts] = -gx.sum(axis=1)
        return gx, None


def multi_margin_loss(input: Tensor, target: TensorLike, p: int = 1,  # noqa: A002
                      margin: float = 1.0, weight: TensorLike | None = None,
                      reduction: str = "mean", class_average: bool = True) -> Tensor:
    """Multiclass hinge (SVM) loss: sum_{j != y} max(0, margin + s_j - s_y)^p per sample.

    This is the course's ranking objective max(0, Delta + s_c - s) summed over the wrong
    classes c. Like PyTorch's ``multi_margin_loss`` the sum is divided by the number of
    classes C; ``class_average=False`` gives the plain sum of the multiclass SVM.
    input (N, C) or (C,); target class indices (N,) or a scalar.
    """
    who = "multi_margin_loss"
    check_choice(reduction, "reduction", who, REDUCTIONS)
    check_choice(p, "p", who, (1, 2))
    x = input
    squeeze = x.ndim == 1
    if squeeze:
        x = M.reshape(x, 1, -1)
        target = np.reshape(as_array(target), (1,))
    if x.ndim != 2:
        raise ValueError(f"{who}: input must be (N, C) or (C,), got shape {tuple(input.shape)}")
    ts, _ = _class_targets(x, target, who)
    out = MultiMargin.apply(x, ts, p=int(p), margin=float(margin),
                            weight=_opt_array(weight, x.dtype),
                            class_average=bool(class_average), reduction=reduction)
    if squeeze and reduction == "none":
        out = M.reshape(out, ())
    return out


LOSSES: dict[str, Callable[..., Tensor]] = {
    "mse": mse_loss, "l1": l1_loss, "bce": binary_cross_entropy,
    "bce_logits": binary_cross_entropy_with_logits, "cross_entropy": cross_entropy,
    "nll": nll_loss, "hinge": hinge_embedding_loss, "margin_ranking": margin_ranking_loss,
    "multi_margin": multi_margin_loss,
}
LOSS_ALIASES = {"mean_squared_error": "mse", "mae": "l1", "binary_cross_entropy": "bce",
                "bce_with_logits": "bce_logits", "ce": "cross_entropy",
                "hinge_embedding": "hinge", "svm": "multi_margin"}


def get_loss(name: str | Callable[..., Tensor], **kwargs: Any) -> Callable[..., Tensor]:
    """The loss *function* called ``name`` with keyword arguments bound
    (``glassnet.nn.get_loss`` gives Module instances).

    Names: mse, l1 (mae), bce, bce_logits, cross_entropy, nll, hinge, margin_ranking,
    multi_margin (svm).
    """
    if callable(name):
        return name
    fn = lookup(name, LOSSES, "loss", "get_loss", LOSS_ALIASES)
    return functools.partial(fn, **kwargs) if kwargs else fn


_ROW_BLOCK_ELEMENTS = 1 << 16   # logits per block of rows: its passes stay in cache


def _log_softmax_rows(z2: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softmax(z2) row by row, log sum_c e^{z_ic} - z_{i,t_i}) of (n, c) logits, over
    blocks of rows on glassnet's threads: each block's max, shift, exp, sum and divide
    run while it is in cache, instead of five passes over the whole matrix. Every row is
    computed alone, so the numbers are those of the whole-matrix passes, for any thread
    count. A target >= c raises IndexError."""
    n, c = z2.shape
    e = np.empty((n, c), dtype=z2.dtype)
    per = np.empty(n, dtype=z2.dtype)
    rb = max(1, _ROW_BLOCK_ELEMENTS // max(c, 1))
    nb = -(-n // rb)

    def chunk(lo: int, hi: int) -> None:
        for b in range(lo, hi):
            r0, r1 = b * rb, min(n, (b + 1) * rb)
            eb = np.subtract(z2[r0:r1], z2[r0:r1].max(axis=1, keepdims=True), out=e[r0:r1])
            picked = eb[backend.const_vector("arange", r1 - r0), t[r0:r1]]
            np.exp(eb, out=eb)
            se = eb.sum(axis=1)
            pb = np.log(se, out=per[r0:r1])
            pb -= picked
            eb /= se[:, None]

    backend.parallel_chunks(nb, chunk, 4 * n * c)
    return e, per
