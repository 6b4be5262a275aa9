"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""
from __future__ import annotations

import math

from ..errors import ArgumentError
from ..validation import check_real
from . import _flat
from ._checks import Bound
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    import numpy as np

    from ..autograd.tensor import Tensor
    from .optimizer import ParamsT

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's update).

    .. math::
        g_t &= \pm\nabla_\theta + \lambda\,\theta_{t-1}
            \quad (- \text{ with } \texttt{maximize}) \\
        b_t &= g_t \ (t = 1), \qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \ (t > 1) \\
        d_t &= g_t + \mu\, b_t \ \text{(Nesterov)}, \qquad d_t = b_t \ \text{(otherwise)} \\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    with learning rate :math:`\eta` (``lr``, default 1e-3 as in PyTorch 2.13;
    ``optim.get("sgd")`` keeps 0.01), ``momentum`` :math:`\mu`, ``dampening`` :math:`\tau`
    and ``weight_decay`` :math:`\lambda`; without momentum :math:`d_t = g_t`.
    State per parameter: ``step`` and, with momentum, ``momentum_buffer`` (:math:`b`).
    ``foreach=False`` runs :meth:`_update` per parameter; the default runs the same rule
    on all parameters at once (the flat engine, ``optim/_flat.py``).

    Example
    -------
    >>> model = nn.Linear(4, 1)
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    >>> loss = model(gn.ones(8, 4)).pow(2).mean()
    >>> loss.backward(); opt.step(); opt.zero_grad()
    >>> model.weight.grad is None          # zero_grad sets the gradients to None, as in PyTorch
    True
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        # momentum >= 1 never converges (PyTorch accepts it; the issue asks for an error)
        check_real(momentum, "momentum", "SGD", 0, 1, high_open=True)
        check_real(dampening, "dampening", "SGD", -math.inf, math.inf, True, True)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                                f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=bool(nesterov),
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    _bounds = (Bound("momentum", 0.0, 1.0, required=True),
               Bound("dampening", -math.inf, math.inf, low_open=True))

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    _flat_kernel = _flat.sgd

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout; as in PyTorch, SGD's state holds only ``momentum_buffer``
        (no ``step``), so without momentum ``"state"`` is empty."""
        sd = super().state_dict()
        state: dict[int, dict[str, Any]] = {}
        for i, st in sd["state"].items():
            st = {k: v for k, v in st.items() if k != "step"}
            if st:
                state[i] = st
        sd["state"] = state
        return sd

    def _restore_state(self, idx: int, p: Tensor, st: dict[str, Any],
                       where: str) -> dict[str, Any]:
        d = super()._restore_state(idx, p, st, where)
        if "step" not in st and "momentum_buffer" in d:
            d["step"] = 1        # torch's SGD keeps no step: a loaded buffer is not the first
        return d

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p                  # the gradient of the L2 penalty wd/2 |p|^2
        if mu != 0:
            b = state["momentum_buffer"]
            if state["step"] == 1:
                b[...] = g
            else:
                b[...] = mu * b + (1 - group["dampening"]) * g
            g = g + mu * b if group["nesterov"] else b
        p -= lr * g
