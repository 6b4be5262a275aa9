"""Adam and AdamW: bias-corrected first and second moment estimates."""
from __future__ import annotations

import math

import numpy as np

from ._ops import axpy
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's exact update, with L2 weight decay.

    .. math::
        g_t &= \nabla_\theta + \lambda\,\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    (``amsgrad=True`` uses the running maximum of :math:`v_t`). All parameters
    of a group share contiguous ``m`` and ``v`` buffers, so a step is a handful
    of vectorised passes; ``self.state[p]["exp_avg"]`` is a view into them.

    Example
    -------
    >>> opt = Adam(model.parameters(), lr=1e-3)
    >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, foreach=True):
        name = type(self).__name__
        betas = tuple(float(b) for b in betas)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        if eps < 0:
            raise ValueError(f"{name}: eps must be >= 0, got {eps}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=bool(amsgrad), foreach=foreach))

    def _state_names(self, group):
        if group["amsgrad"]:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")

    def _needs_param(self, group):
        return group["weight_decay"] != 0 and not self._decoupled

    def _kernel(self, group, param, grad, state, step, w1, w2):
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        b1, b2 = group["betas"]
        scale = 1.0
        g = grad
        if wd != 0:
            if self._decoupled:
                scale = 1.0 - lr * wd
            else:
                np.copyto(w1, grad)
                axpy(wd, param, w1, w2)
                g = w1
        tmp = w1 if g is not w1 else None
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        axpy(1.0 - b1, g, m, w2)
        v *= b2
        np.multiply(g, g, out=w2)
        axpy(1.0 - b2, w2, v, tmp)
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
        #   == (lr*sqrt(bc2)/bc1) * m / (sqrt(v) + eps*sqrt(bc2)), which saves a pass; the factor in front is applied by the caller's axpy write-back.
        sqrt_bc2 = math.sqrt(1.0 - b2 ** step)
        step_size = lr * sqrt_bc2 / (1.0 - b1 ** step)
        np.sqrt(v, out=w2)
        w2 += eps * sqrt_bc2
        np.divide(m, w2, out=w2)
        return scale, step_size, w2


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's exact update.

    .. math::
        \theta \leftarrow (1 - \eta\lambda)\,\theta, \ \text{then the Adam step on } \nabla_\theta
        \text{ alone (the decay never enters } m, v).

    Example
    -------
    >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                 amsgrad=False, foreach=True):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach)
