"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""
from __future__ import annotations

import numpy as np

from ..validation import check_real
from . import _flat
from ._checks import Bound
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's update.

    .. math::
        g_t &= \pm\nabla_\theta + \lambda\,\theta_{t-1}
            \quad (- \text{ with } \texttt{maximize}), \qquad
        \tilde\eta_t = \eta / (1 + (t-1)\,\delta) \\
        s_t &= s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{s_t} + \epsilon)

    with ``lr_decay`` :math:`\delta` and :math:`s_0` = ``initial_accumulator_value``.
    State per parameter: ``step`` and ``sum`` (:math:`s`). ``foreach=False`` runs
    :meth:`_update` per parameter; the default runs the same rule on all parameters at once
    (the flat engine, ``optim/_flat.py``).

    Example
    -------
    >>> opt = Adagrad(model.parameters(), lr=0.05)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 0.01, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        for arg, v in (("lr_decay", lr_decay), ("eps", eps),
                       ("initial_accumulator_value", initial_accumulator_value)):
            check_real(v, arg, "Adagrad", 0)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))

    _bounds = (Bound("lr_decay", required=True), Bound("eps", required=True),
               Bound("initial_accumulator_value"))

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("sum",)

    def _state_fill(self, group: dict[str, Any]) -> dict[str, float]:
        return {"sum": group["initial_accumulator_value"]}

    _flat_kernel = _flat.adagrad

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p
        clr = lr / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g**2
        p -= clr * g / (np.sqrt(s) + eps)
