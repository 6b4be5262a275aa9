"""Loss modules: ``loss_fn(prediction, target)`` returns a scalar Tensor (by default).

Each wraps one fused Function of ``glassnet.functional.losses``; ``reduction`` is
"mean" | "sum" | "none". ``get_loss(name)`` builds one from its name.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_array
from ..functional import losses as L
from ..validation import check_choice, check_int, check_real, lookup
from . import functional as F
from .module import Module

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["CrossEntropyLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
           "HingeEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "SmoothL1Loss",
           "HuberLoss", "KLDivLoss", "CosineEmbeddingLoss", "TripletMarginLoss", "get_loss"]


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce, reduction)
        self.reduction = check_choice(reduction, "reduction", type(self).__name__,
                                      L.REDUCTIONS + getattr(self, "_extra_reductions", ()))

    def __call__(self, input: Tensor, target: Tensor, *args: Any, **kwargs: Any) -> Any:
        # a float NumPy target keeps the prediction's dtype (a float64 target of a float64
        # model must not pass through float32); other arrays are wrapped as usual
        if isinstance(target, np.ndarray):
            if target.dtype.kind == "f":
                dt = input.dtype if isinstance(input, (Tensor, np.ndarray)) else target.dtype
                target = Tensor(target.astype(dt, copy=False))
            elif isinstance(input, Tensor) and not (args or kwargs or self._forward_hooks
                                                    or self._forward_pre_hooks):
                # class indices go to the loss Function as they are (no Tensor round trip)
                return self.forward(input, target)
        return super().__call__(input, target, *args, **kwargs)


class _WeightedLoss(_Loss):
    """A loss with a per-class ``weight``, kept as a buffer (in ``state_dict``, as PyTorch)."""

    def __init__(self, weight: TensorLike | None = None, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))


def _buffer(w: TensorLike | None) -> Tensor | None:
    if w is None or isinstance(w, Tensor):
        return w
    return Tensor(np.asarray(w, dtype=np.result_type(np.asarray(w).dtype, np.float32)))


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + cross-entropy on logits, fused and stable (``F.cross_entropy``).

    Targets are class indices (N,) / (N, d...) or class probabilities of the logits' shape.
    ``label_smoothing`` must be in [0, 1) and ``ignore_index`` an integer (checked here,
    an :class:`~glassnet.errors.ArgumentError`); a class index outside 0..C-1 other than
    ``ignore_index`` raises :class:`~glassnet.functional.losses.ClassIndexError`. When
    every target is ignored the mean is NaN, as in PyTorch (see
    :func:`glassnet.functional.losses.nonfinite_reason`).

    >>> nn.CrossEntropyLoss(label_smoothing=0.1)
    CrossEntropyLoss()
    """

    def __init__(self, weight: TensorLike | None = None, size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        who = type(self).__name__
        self.ignore_index = check_int(ignore_index, "ignore_index", who, min=None)
        self.label_smoothing = check_real(label_smoothing, "label_smoothing", who, 0, 1,
                                          high_open=True)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (e.g. after ``LogSoftmax``) against
    class indices; ``weight`` per class, ``ignore_index`` targets skipped."""

    def __init__(self, weight: TensorLike | None = None, size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = check_int(ignore_index, "ignore_index", type(self).__name__,
                                      min=None)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error; glassnet's ``half=True`` (keyword only) gives
    E = 1/2 (y - t)^2 (the course's form)."""

    # glassnet's public flag (tests and inspect.trace read it); it hides Module.half()
    half: bool  # type: ignore[assignment]

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean", *,
                 half: bool = False) -> None:
        if isinstance(size_average, str):      # glassnet's old positional MSELoss("sum")
            size_average, reduction = None, size_average
        super().__init__(size_average, reduce, reduction)
        self.half = bool(half)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        if self.half:
            return L.mse_loss(input, target, self.reduction, True)
        return F.mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "half=True" if self.half else ""


class L1Loss(_Loss):
    """Mean absolute error E = |y - t|."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = float(beta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = float(delta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence; ``input`` holds log-probabilities ('batchmean' is the
    mathematical KL per sample)."""
    _extra_reductions = ("batchmean",)

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities (after a sigmoid), logs clamped at -100.

    E = -w [t log p + (1 - t) log(1 - p)]. Prefer :class:`BCEWithLogitsLoss` on raw
    outputs: it folds the sigmoid in and never saturates. Inputs and targets outside
    [0, 1] (or NaN) raise :class:`~glassnet.errors.ArgumentError` (PyTorch: RuntimeError).
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on logits, fused and stable; binary (N, 1) or
    multi-label (N, C) outputs with 0/1 targets of the same shape.

    ``pos_weight`` (C,) multiplies the positive term per class (> 1 favours recall).
    ``weight`` and ``pos_weight`` are buffers, as in PyTorch. Targets outside [0, 1] (or
    NaN) raise :class:`~glassnet.errors.ArgumentError`, where PyTorch computes a number.
    """

    def __init__(self, weight: TensorLike | None = None, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: TensorLike | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class HingeEmbeddingLoss(_Loss):
    """x for targets +1, max(0, margin - x) for targets -1 (x usually a distance)."""

    def __init__(self, margin: float = 1.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = float(margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -t (x1 - x2) + margin); called as ``loss(x1, x2, t)`` with t = +-1.

    With x1 = s_c, x2 = s and t = -1 it is the course's max(0, Delta + s_c - s).
    """

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = float(margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multiclass hinge (SVM) loss on scores (N, C) and class indices:
    sum_{j != y} max(0, margin + s_j - s_y)^p, divided by C as PyTorch does (glassnet's
    keyword-only ``class_average=False`` keeps the plain sum of the course's SVM objective).
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: TensorLike | None = None,
                 size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean", *, class_average: bool = True) -> None:
        check_choice(p, "p", "MultiMarginLoss", (1, 2))
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = int(p), float(margin)
        self.class_average = bool(class_average)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        w = None if self.weight is None else self.weight._data
        return L.multi_margin_loss(input, as_array(target), self.p, self.margin, w,
                                   self.reduction, self.class_average)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) where t = 1, max(0, cos(x1, x2) - margin) where t = -1."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = float(margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with the pairwise p-distance."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = float(margin), float(p), float(eps), swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                     self.eps, self.swap, reduction=self.reduction)


# one Module per name of glassnet.functional.LOSSES (aliases shared with it)
_MODULES = {
    "mse": MSELoss, "l1": L1Loss, "bce": BCELoss, "bce_logits": BCEWithLogitsLoss,
    "cross_entropy": CrossEntropyLoss, "nll": NLLLoss, "hinge": HingeEmbeddingLoss,
    "margin_ranking": MarginRankingLoss, "multi_margin": MultiMarginLoss,
}


def get_loss(name: str | Module, **kwargs: Any) -> Module:
    """A new loss Module from its name; keyword arguments go to its constructor.

    Names: mse, l1 (mae), bce, bce_logits, cross_entropy, nll, hinge, margin_ranking,
    multi_margin (svm). A Module passes through unchanged.

    >>> nn.get_loss("bce_logits", pos_weight=[2.0])
    BCEWithLogitsLoss()
    """
    if isinstance(name, Module):
        return name
    return lookup(name, _MODULES, "loss", "get_loss", L.LOSS_ALIASES)(**kwargs)
