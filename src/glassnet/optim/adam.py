"""Adam and AdamW: bias-corrected first and second moment estimates."""
from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from ..validation import check_real
from . import _flat
from ._checks import BETAS, EPS
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's update, with L2 or decoupled weight decay.

    .. math::
        g_t &= \pm\nabla_\theta + \lambda\,\theta_{t-1}
            \quad (- \text{ with } \texttt{maximize}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t) \\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    ``amsgrad=True`` uses the running maximum of :math:`v_t` in :math:`\hat v_t`.
    ``decoupled_weight_decay=True`` (AdamW) leaves :math:`\lambda\theta` out of
    :math:`g_t` and shrinks the weights instead, :math:`\theta \leftarrow (1-\eta\lambda)\theta`,
    before the step. State per parameter: ``step``, ``exp_avg`` (:math:`m`), ``exp_avg_sq``
    (:math:`v`) and, with amsgrad, ``max_exp_avg_sq``. ``foreach=False`` runs
    :meth:`_update` per parameter; the default runs the same rule on all parameters at once
    (the flat engine, ``optim/_flat.py``).

    Example
    -------
    >>> model = nn.Linear(4, 1)
    >>> opt = Adam(model.parameters(), lr=1e-3)
    >>> loss = model(gn.ones(8, 4)).pow(2).mean()
    >>> loss.backward(); opt.step(); opt.zero_grad()
    >>> int(opt.state[model.weight]["step"])
    1
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        name = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ArgumentError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
        b1, b2 = (check_real(b, f"betas[{i}]", name, 0, 1, high_open=True)
                  for i, b in enumerate(betas))
        betas = (b1, b2)
        check_real(eps, "eps", name, 0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=bool(amsgrad), foreach=foreach, maximize=maximize,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=bool(decoupled_weight_decay)))

    _bounds = BETAS + (EPS,)

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        if group["amsgrad"]:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")

    _flat_kernel = _flat.adam

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        b1, b2 = group["betas"]
        t = state["step"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * wd            # AdamW: decay the weights, outside m and v
            else:
                g = g + wd * p              # Adam: the gradient of the L2 penalty
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g**2
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            vmax[...] = np.maximum(vmax, v)
            v = vmax
        mhat = m / (1 - b1**t)              # undo the bias towards the zero start
        vhat = v / (1 - b2**t)
        p -= lr * mhat / (np.sqrt(vhat) + eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's update.

    .. math::
        \theta \leftarrow (1 - \eta\lambda)\,\theta, \ \text{then the Adam step on } \nabla_\theta
        \text{ alone (the decay never enters } m, v).

    The same as ``Adam(..., decoupled_weight_decay=True)``, with ``weight_decay=0.01``.

    Example
    -------
    >>> opt = AdamW(nn.Linear(4, 2).parameters(), lr=1e-3, weight_decay=0.01)
    >>> opt.param_groups[0]["weight_decay"]
    0.01
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
