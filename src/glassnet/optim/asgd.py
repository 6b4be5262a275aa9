"""ASGD: stochastic gradient descent with a running (Polyak) average of the iterates."""
from __future__ import annotations

from ..validation import check_real
from . import _checks
from ._checks import Bound
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    import numpy as np

    from .optimizer import ParamsT

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992), PyTorch's update.

    .. math::
        \theta_t &= (1 - \lambda_d\, \eta_{t-1})\, \theta_{t-1} - \eta_{t-1}\, g_t \\
        \bar\theta_t &= \bar\theta_{t-1} + \mu_{t-1} (\theta_t - \bar\theta_{t-1})
            \quad (\bar\theta_t = \theta_t \text{ while } \mu_{t-1} = 1) \\
        \eta_t &= \eta / (1 + \lambda_d\, \eta\, t)^{\alpha}, \qquad
        \mu_t = 1 / \max(1, t - t_0)

    with ``lambd`` :math:`\lambda_d`, ``alpha``, ``t0`` and L2 ``weight_decay`` in
    :math:`g_t`. The average is ``state[p]["ax"]``; ``eta`` and ``mu`` are floats kept in
    float32, as PyTorch does.

    Example
    -------
    >>> opt = ASGD(model.parameters(), lr=0.01, t0=100)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        check_real(lambd, "lambd", "ASGD")
        check_real(alpha, "alpha", "ASGD")
        check_real(t0, "t0", "ASGD")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    _bounds = (Bound("lambd", None, None), Bound("alpha", None, None), Bound("t0", None, None))

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("ax",)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, lambd, wd = group["lr"], group["lambd"], group["weight_decay"]
        t = state["step"]
        eta = state.setdefault("eta", _checks.f32(lr))
        mu = state.setdefault("mu", 1.0)
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p
        p *= 1 - lambd * eta
        p -= eta * g
        ax = state["ax"]
        if mu != 1:
            ax += (p - ax) * mu
        else:
            ax[...] = p
        state["eta"] = _checks.f32(lr / (1 + lambd * lr * t) ** group["alpha"])
        state["mu"] = _checks.f32(1 / max(1, t - group["t0"]))
