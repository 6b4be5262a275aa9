"""Loss modules: ``loss_fn(prediction, target)`` returns a scalar Tensor (by default).

Each wraps one fused Function of ``glassnet.functional.losses``; ``reduction`` is
"mean" | "sum" | "none". ``get_loss(name)`` builds one from its name.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_array
from ..functional import losses as L
from ..validation import check_choice, lookup
from .module import Module

__all__ = ["CrossEntropyLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
           "HingeEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "get_loss"]


def _plain(w):
    """Class weights as a plain list (keeps constructor arguments JSON-friendly)."""
    if w is None:
        return None
    return as_array(w, float).tolist()


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = check_choice(reduction, "reduction", type(self).__name__, L.REDUCTIONS)

    def __call__(self, input, target, *args, **kwargs):
        # a float NumPy target keeps the prediction's dtype (a float64 target of a float64
        # model must not pass through float32); other arrays are wrapped as usual
        if isinstance(target, np.ndarray):
            if target.dtype.kind == "f":
                dt = input.dtype if isinstance(input, (Tensor, np.ndarray)) else target.dtype
                target = Tensor(target.astype(dt, copy=False))
            elif isinstance(input, Tensor) and not (args or kwargs or self._forward_hooks):
                # class indices go to the loss Function as they are (no Tensor round trip)
                return self.forward(input, target)
        return super().__call__(input, target, *args, **kwargs)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy on logits, fused and stable.

    Targets are class indices (N,) or probabilities / one-hot (N, C).
    """

    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        super().__init__(reduction)
        self.weight = weight
        self.label_smoothing = label_smoothing
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return L.cross_entropy(input, target, self.reduction, self.label_smoothing,
                               self.ignore_index, self.weight)


class MSELoss(_Loss):
    """Mean squared error; ``half=True`` gives E = 1/2 (y - t)^2 (the course's form)."""

    def __init__(self, reduction="mean", half: bool = False):
        super().__init__(reduction)
        self.half = half

    def forward(self, input, target):
        return L.mse_loss(input, target, self.reduction, self.half)

    def extra_repr(self):
        return super().extra_repr() + (", half=True" if self.half else "")


class L1Loss(_Loss):
    """Mean absolute error E = |y - t|."""

    def forward(self, input, target):
        return L.l1_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (after a sigmoid), logs clamped at -100.

    E = -w [t log p + (1 - t) log(1 - p)]. Prefer :class:`BCEWithLogitsLoss` on raw
    outputs: it folds the sigmoid in and never saturates.
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.weight = _plain(weight)

    def forward(self, input, target):
        return L.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on logits, fused and stable; binary (N, 1) or
    multi-label (N, C) outputs with 0/1 targets of the same shape.

    ``pos_weight`` (C,) multiplies the positive term per class (> 1 favours recall).
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.weight = _plain(weight)
        self.pos_weight = _plain(pos_weight)

    def forward(self, input, target):
        return L.binary_cross_entropy_with_logits(input, target, self.weight, self.pos_weight,
                                                  self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (e.g. after ``LogSoftmax``) against
    class indices; ``weight`` per class, ``ignore_index`` targets skipped."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction="mean"):
        super().__init__(reduction)
        self.weight = _plain(weight)
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):
        return L.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x for targets +1, max(0, margin - x) for targets -1 (x usually a distance)."""

    def __init__(self, margin: float = 1.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, input, target):
        return L.hinge_embedding_loss(input, target, self.margin, self.reduction)

    def extra_repr(self):
        return f"margin={self.margin}, reduction={self.reduction!r}"


class MarginRankingLoss(_Loss):
    """max(0, -t (x1 - x2) + margin); called as ``loss(x1, x2, t)`` with t = +-1.

    With x1 = s_c, x2 = s and t = -1 it is the course's max(0, Delta + s_c - s).
    """

    def __init__(self, margin: float = 0.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, input1, input2, target):
        return L.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)

    def extra_repr(self):
        return f"margin={self.margin}, reduction={self.reduction!r}"


class MultiMarginLoss(_Loss):
    """Multiclass hinge (SVM) loss on scores (N, C) and class indices:
    sum_{j != y} max(0, margin + s_j - s_y)^p, divided by C as PyTorch does
    (``class_average=False`` keeps the plain sum of the course's SVM objective).
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, reduction="mean",
                 class_average: bool = True):
        super().__init__(reduction)
        self.p = int(check_choice(p, "p", "MultiMarginLoss", (1, 2)))
        self.margin = float(margin)
        self.weight = _plain(weight)
        self.class_average = bool(class_average)

    def forward(self, input, target):
        return L.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   self.reduction, self.class_average)

    def extra_repr(self):
        return f"p={self.p}, margin={self.margin}, reduction={self.reduction!r}"


# one Module per name of glassnet.functional.LOSSES (aliases shared with it)
_MODULES = {
    "mse": MSELoss, "l1": L1Loss, "bce": BCELoss, "bce_logits": BCEWithLogitsLoss,
    "cross_entropy": CrossEntropyLoss, "nll": NLLLoss, "hinge": HingeEmbeddingLoss,
    "margin_ranking": MarginRankingLoss, "multi_margin": MultiMarginLoss,
}


def get_loss(name, **kwargs) -> Module:
    """A new loss Module from its name; keyword arguments go to its constructor.

    Names: mse, l1 (mae), bce, bce_logits, cross_entropy, nll, hinge, margin_ranking,
    multi_margin (svm). A Module passes through unchanged.

    >>> nn.get_loss("bce_logits", pos_weight=[2.0])
    BCEWithLogitsLoss(reduction='mean')
    """
    if isinstance(name, Module):
        return name
    return lookup(name, _MODULES, "loss", "get_loss", L.LOSS_ALIASES)(**kwargs)
