"""Weight and activity penalties, added to the loss by hand or by the Trainer.

Weight penalties (Keras convention, written out):

    L1: lambda * sum |w|          dP/dw = lambda sign(w)
    L2: lambda * sum w^2          dP/dw = 2 lambda w

so ``l2_penalty(model, lam)`` adds the same gradient as ``SGD(weight_decay=2 * lam)``.
Biases (parameters whose name ends with "bias", and every 1-D parameter such as
BatchNorm scales or PReLU slopes) are left out unless ``include_bias=True``.

The penalty Functions themselves (ElasticPenalty, ActivityPenalty) are in
glassnet.functional.penalties; this module decides what they apply to. Each penalty is a
callable ``model -> scalar Tensor``, so a Trainer can take
``regularizers=[WeightPenalty(l2=1e-4), activity_penalty]``; by hand::

    loss = loss_fn(model(x), y) + l2_penalty(model, 1e-4)
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..functional.penalties import activation_penalty, elastic_penalty
from ..validation import check_real
from .module import Module, Parameter

__all__ = ["l1_penalty", "l2_penalty", "WeightPenalty", "ActivityRegularization",
           "activity_penalty", "penalized_parameters"]


def _is_bias(name: str, p: Tensor) -> bool:
    return name.endswith("bias") or p.ndim <= 1


def penalized_parameters(model: Module, include_bias: bool = False) -> list[Parameter]:
    """The parameters a weight penalty applies to: all of them with ``include_bias``,
    else those that are not biases (name ending with "bias") and not 1-D."""
    if not isinstance(model, Module):
        raise TypeError(f"weight penalty: model must be a glassnet.nn.Module, got "
                        f"{type(model).__name__}")
    return [p for name, p in model.named_parameters() if include_bias or not _is_bias(name, p)]


def _zero(model: Module) -> Tensor:
    return Tensor(np.zeros((), dtype=model.dtype))


def _penalty(model: Module, l1: float, l2: float, include_bias: bool) -> Tensor:
    ps = penalized_parameters(model, include_bias)
    if not ps or (l1 == 0 and l2 == 0):
        return _zero(model)
    return elastic_penalty(*ps, l1=l1, l2=l2)


def l1_penalty(model: Module, weight_decay: float, include_bias: bool = False) -> Tensor:
    """weight_decay * sum |w| over the model's weights (biases excluded by default);
    a scalar Tensor that backpropagates weight_decay * sign(w)."""
    return _penalty(model, check_real(weight_decay, "weight_decay", "l1_penalty", 0), 0.0,
                    include_bias)


def l2_penalty(model: Module, weight_decay: float, include_bias: bool = False) -> Tensor:
    """weight_decay * sum w^2 over the model's weights (biases excluded by default);
    a scalar Tensor that backpropagates 2 * weight_decay * w."""
    return _penalty(model, 0.0, check_real(weight_decay, "weight_decay", "l2_penalty", 0),
                    include_bias)


class WeightPenalty:
    """A regularizer ``penalty(model) -> Tensor``: l1 * sum |w| + l2 * sum w^2 over the
    weights (elastic net when both are set), in one graph node.

    >>> trainer = Trainer(model, loss, opt, regularizers=[nn.WeightPenalty(l2=1e-4)])  # doctest: +SKIP
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, include_bias: bool = False) -> None:
        self.l1 = check_real(l1, "l1", "WeightPenalty", 0)
        self.l2 = check_real(l2, "l2", "WeightPenalty", 0)
        self.include_bias = bool(include_bias)

    def __call__(self, model: Module) -> Tensor:
        return _penalty(model, self.l1, self.l2, self.include_bias)

    def __repr__(self) -> str:
        return f"WeightPenalty(l1={self.l1}, l2={self.l2}, include_bias={self.include_bias})"


class ActivityRegularization(Module):
    """Identity layer that records a penalty on the activations passing through it.

    forward(x) returns x and sets ``self.penalty = (l1 sum |x| + l2 sum x^2) / N`` (sums
    per sample, averaged over the batch of N), a scalar Tensor in the graph of x.
    :func:`activity_penalty` adds up the penalties of the latest forward pass. Place it
    after a hidden activation to push towards sparse (L1) or small (L2) hidden codes.

    >>> model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.ActivityRegularization(l1=1e-3),
    ...                       nn.Linear(32, 10))
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        super().__init__()
        self.l1 = check_real(l1, "l1", "ActivityRegularization", 0)
        self.l2 = check_real(l2, "l2", "ActivityRegularization", 0)
        self.penalty: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        if self.l1 or self.l2:
            self.penalty = activation_penalty(x, l1=self.l1, l2=self.l2)
        else:
            self.penalty = None
        return x

    def extra_repr(self) -> str:
        return f"l1={self.l1}, l2={self.l2}"


def activity_penalty(model: Module) -> Tensor:
    """Sum of the penalties recorded by the model's ActivityRegularization layers in the
    latest forward pass (a zero scalar when there are none)."""
    total: Tensor | None = None
    for m in model.modules():
        if isinstance(m, ActivityRegularization) and m.penalty is not None:
            total = m.penalty if total is None else total + m.penalty
    return _zero(model) if total is None else total
