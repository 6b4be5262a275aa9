"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""
from __future__ import annotations

import numpy as np

from ._ops import axpy
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's exact update.

    .. math::
        g_t &= \nabla_\theta + \lambda\,\theta_{t-1}, \qquad
        \tilde\eta_t = \eta / (1 + (t-1)\,\delta) \\
        s_t &= s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{s_t} + \epsilon)

    with ``lr_decay`` :math:`\delta` and :math:`s_0` = ``initial_accumulator_value``.

    Example
    -------
    >>> opt = Adagrad(model.parameters(), lr=0.05)
    """

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=True):
        if lr_decay < 0 or eps < 0 or initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: lr_decay, eps and initial_accumulator_value must be >= 0, "
                             f"got {lr_decay}, {eps}, {initial_accumulator_value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, foreach=foreach))

    def _state_names(self, group):
        return ("sum",)

    def _state_fill(self, group):
        return {"sum": group["initial_accumulator_value"]}

    def _kernel(self, group, param, grad, state, step, w1, w2):
        wd = group["weight_decay"]
        g = grad
        if wd != 0:
            np.copyto(w1, grad)
            axpy(wd, param, w1, w2)
            g = w1
        clr = group["lr"] / (1.0 + (step - 1) * group["lr_decay"])
        s = state["sum"]
        np.multiply(g, g, out=w2)
        s += w2
        np.sqrt(s, out=w2)
        w2 += group["eps"]
        np.divide(g, w2, out=w2)
        return 1.0, clr, w2
