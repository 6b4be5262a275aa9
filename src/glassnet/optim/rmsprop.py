"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
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

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), PyTorch's update.

    .. math::
        g_t &= \pm\nabla_\theta + \lambda\,\theta_{t-1}
            \quad (- \text{ with } \texttt{maximize}) \\
        v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t^2 \\
        \bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t
            \quad\text{(centered only; then } v_t \text{ below is } v_t - \bar g_t^2) \\
        b_t &= \mu\, b_{t-1} + g_t / (\sqrt{v_t} + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \eta\, b_t

    (without momentum, :math:`\theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{v_t} + \epsilon)`).
    State per parameter: ``step``, ``square_avg`` (:math:`v`), with ``momentum > 0``
    ``momentum_buffer`` (:math:`b`), with ``centered=True`` ``grad_avg`` (:math:`\bar g`).
    ``foreach=False`` runs :meth:`_update` per parameter; the default runs the same rule
    on all parameters at once (the flat engine, ``optim/_flat.py``).

    Example
    -------
    >>> opt = RMSprop(model.parameters(), lr=0.01, alpha=0.99)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_real(alpha, "alpha", "RMSprop", 0, 1)
        check_real(eps, "eps", "RMSprop", 0)
        # momentum >= 1 never converges (PyTorch accepts it; the issue asks for an error)
        check_real(momentum, "momentum", "RMSprop", 0, 1, high_open=True)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=bool(centered),
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    _bounds = (Bound("alpha", 0.0, 1.0, high_open=False, required=True),
               Bound("eps", required=True),
               Bound("momentum", 0.0, 1.0, required=True))

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return tuple(names)

    _flat_kernel = _flat.rmsprop

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, alpha, eps, wd, mu = (group["lr"], group["alpha"], group["eps"],
                                  group["weight_decay"], group["momentum"])
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p
        v = state["square_avg"]
        v[...] = alpha * v + (1 - alpha) * g**2
        if group["centered"]:
            gbar = state["grad_avg"]
            gbar[...] = alpha * gbar + (1 - alpha) * g
            rms = np.sqrt(v - gbar**2) + eps     # the variance, not the raw second moment
        else:
            rms = np.sqrt(v) + eps
        if mu > 0:
            b = state["momentum_buffer"]
            b[...] = mu * b + g / rms
            p -= lr * b
        else:
            p -= lr * g / rms
