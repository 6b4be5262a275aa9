"""Loss modules: ``loss_fn(prediction, target)`` returns a scalar Tensor (by default)."""
from __future__ import annotations

from ..functional import losses as L
from .module import Module

__all__ = ["CrossEntropyLoss", "MSELoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        L._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

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
