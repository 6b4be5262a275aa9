"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from __future__ import annotations

import numpy as np

from ._ops import axpy
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), PyTorch's exact update.

    .. math::
        g_t &= \nabla_\theta + \lambda\,\theta_{t-1} \\
        v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t^2 \\
        \bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t
            \quad\text{(centered only; then } v_t \leftarrow v_t - \bar g_t^2) \\
        b_t &= \mu\, b_{t-1} + g_t / (\sqrt{v_t} + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \eta\, b_t

    (without momentum, :math:`\theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{v_t} + \epsilon)`).

    Example
    -------
    >>> opt = RMSprop(model.parameters(), lr=0.01, alpha=0.99)
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0,
                 centered=False, foreach=True):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {alpha}")
        if eps < 0 or momentum < 0:
            raise ValueError(f"RMSprop: eps and momentum must be >= 0, got eps={eps}, "
                             f"momentum={momentum}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                                      weight_decay=weight_decay, centered=bool(centered),
                                      foreach=foreach))

    def _state_names(self, group):
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return tuple(names)

    def _kernel(self, group, param, grad, state, step, w1, w2):
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        g = grad
        if wd != 0:
            np.copyto(w1, grad)
            axpy(wd, param, w1, w2)
            g = w1
        tmp = w1 if g is not w1 else None
        sq = state["square_avg"]
        sq *= alpha
        np.multiply(g, g, out=w2)
        axpy(1.0 - alpha, w2, sq, tmp)
        if group["centered"]:
            ga = state["grad_avg"]
            ga *= alpha
            axpy(1.0 - alpha, g, ga, w2)
            np.multiply(ga, ga, out=w2)
            np.subtract(sq, w2, out=w2)
            np.sqrt(w2, out=w2)
        else:
            np.sqrt(sq, out=w2)
        w2 += eps
        np.divide(g, w2, out=w2)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += w2
            return 1.0, lr, buf
        return 1.0, lr, w2
