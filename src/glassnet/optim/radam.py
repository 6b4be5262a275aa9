"""RAdam: Adam whose adaptive step is switched on once its variance is tractable."""
from __future__ import annotations

import math

import numpy as np

from ..validation import check_real
from . import _checks, _flat
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020), PyTorch's update.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad
        \hat m_t = m_t / (1-\beta_1^t) \\
        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t\, \beta_2^t}{1-\beta_2^t} \\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t\, r_t\,
            \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} \quad (\rho_t > 5), \qquad
        \theta_t = \theta_{t-1} - \eta\, \hat m_t \quad \text{(otherwise)}

    with :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)
    \rho_t}}`. ``weight_decay`` is L2 (added to the gradient) or, with
    ``decoupled_weight_decay=True``, :math:`\theta \leftarrow (1-\eta\lambda)\theta` first.
    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.

    Example
    -------
    >>> opt = RAdam(model.parameters(), lr=1e-3)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        betas = _checks.betas(betas, "RAdam")
        check_real(eps, "eps", "RAdam", 0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=bool(decoupled_weight_decay),
                                      differentiable=differentiable))

    _bounds = _checks.BETAS + (_checks.EPS,)

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("exp_avg", "exp_avg_sq")

    _flat_kernel = _flat.radam

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        b1, b2 = group["betas"]
        t = state["step"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)
        v[...] = b2 * v + (1 - b2) * g * g
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        mhat = m / bc1
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p -= mhat * lr * (math.sqrt(bc2) / (np.sqrt(v) + eps)) * rect
        else:
            p -= mhat * lr
