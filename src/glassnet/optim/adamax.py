"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

import numpy as np

from ..validation import check_real
from . import _checks, _flat
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7), PyTorch's update.

    .. math::
        g_t &= \pm\nabla_\theta + \lambda\,\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        u_t = \max(\beta_2 u_{t-1},\ |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{u_t}

    State per parameter: ``step``, ``exp_avg`` (:math:`m`), ``exp_inf`` (:math:`u`).

    Example
    -------
    >>> opt = Adamax(model.parameters(), lr=2e-3)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        betas = _checks.betas(betas, "Adamax")
        check_real(eps, "eps", "Adamax", 0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    _bounds = _checks.BETAS + (_checks.EPS,)

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("exp_avg", "exp_inf")

    _flat_kernel = _flat.adamax

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        b1, b2 = group["betas"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - b1) * (g - m)                      # m <- b1 m + (1 - b1) g
        u[...] = np.maximum(b2 * u, np.abs(g) + eps)
        p -= lr / (1 - b1 ** state["step"]) * m / u
