"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""
from __future__ import annotations

import numpy as np

from ._ops import axpy
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's exact update).

    .. math::
        g_t &= \nabla_\theta + \lambda\,\theta_{t-1} \\
        b_t &= g_t \ (t = 1), \qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \ (t > 1) \\
        d_t &= g_t + \mu\, b_t \ \text{(Nesterov)}, \qquad d_t = b_t \ \text{(otherwise)} \\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    with learning rate :math:`\eta` (``lr``), momentum :math:`\mu`, dampening
    :math:`\tau` and weight decay :math:`\lambda`; without momentum :math:`d_t = g_t`.

    Example
    -------
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, foreach=True):
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=bool(nesterov), weight_decay=weight_decay,
                                      foreach=foreach))

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _kernel(self, group, param, grad, state, step, w1, w2):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        d = grad
        if wd != 0:
            np.copyto(w1, grad)
            axpy(wd, param, w1, w2)
            d = w1
        if mu != 0:
            buf = state["momentum_buffer"]
            if step == 1:
                np.copyto(buf, d)
            else:
                buf *= mu
                axpy(1.0 - group["dampening"], d, buf, w2)
            if group["nesterov"]:
                np.copyto(w2, d)
                axpy(mu, buf, w2)
                return 1.0, lr, w2
            d = buf
        return 1.0, lr, d
