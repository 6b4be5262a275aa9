"""NAdam: Adam with Nesterov momentum (and Dozat's momentum schedule)."""
from __future__ import annotations

import numpy as np

from ..validation import check_real
from . import _checks
from ._checks import Bound
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), PyTorch's update.

    .. math::
        \mu_t &= \beta_1 \bigl(1 - \tfrac12\, 0.96^{t\,\psi}\bigr), \qquad
        \Pi_t = \textstyle\prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta\,\Bigl(\frac{1-\mu_t}{1-\Pi_t}\, g_t
            + \frac{\mu_{t+1}}{1-\Pi_t\,\mu_{t+1}}\, m_t\Bigr)
            \Big/ \bigl(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\bigr)

    with ``momentum_decay`` :math:`\psi`; ``weight_decay`` adds :math:`\lambda\theta` to the
    gradient, or with ``decoupled_weight_decay=True`` shrinks
    :math:`\theta \leftarrow (1-\eta\lambda)\theta` first (NAdamW). State per parameter:
    ``step``, ``mu_product`` (:math:`\Pi_t`, a float kept in float32 as PyTorch does),
    ``exp_avg``, ``exp_avg_sq``.

    Example
    -------
    >>> opt = NAdam(model.parameters(), lr=2e-3)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        betas = _checks.betas(betas, "NAdam")
        check_real(eps, "eps", "NAdam", 0)
        check_real(momentum_decay, "momentum_decay", "NAdam", 0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=bool(decoupled_weight_decay),
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    _bounds = _checks.BETAS + (_checks.EPS, Bound("momentum_decay", required=True))

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("exp_avg", "exp_avg_sq")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, wd, psi = (group["lr"], group["eps"], group["weight_decay"],
                            group["momentum_decay"])
        b1, b2 = group["betas"]
        t = state["step"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # PyTorch multiplies in float32: the running product is a float32 scalar tensor
        prod = _checks.f32(state.get("mu_product", 1.0) * _checks.f32(mu))
        state["mu_product"] = prod
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)
        v[...] = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2 ** t)) + eps
        p -= lr * (1 - mu) / (1 - prod) * g / denom
        p -= lr * mu_next / (1 - prod * mu_next) * m / denom
