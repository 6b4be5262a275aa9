"""Rprop: per-coordinate step sizes adapted from the signs of successive gradients."""
from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError
from ..validation import check_real
from ._checks import Bound
from .optimizer import Optimizer

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .optimizer import ParamsT

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993), PyTorch's update.

    Each coordinate's step size :math:`s` grows by ``etas[1]`` while its gradient keeps
    its sign and shrinks by ``etas[0]`` when it flips (clamped to ``step_sizes``); after a
    flip that coordinate's gradient counts as zero for this step and the next comparison.

    .. math::
        \theta_t = \theta_{t-1} - s_t \operatorname{sign}(g_t)

    State per parameter: ``step``, ``prev`` (the previous gradient), ``step_size``
    (:math:`s`, starting at ``lr``).

    Example
    -------
    >>> opt = Rprop(model.parameters(), lr=0.01)  # doctest: +SKIP
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        if not isinstance(etas, (tuple, list)) or len(etas) != 2 or not 0 < etas[0] < 1 < etas[1]:
            raise ArgumentError(f"Rprop: etas must be (etaminus, etaplus) with 0 < etaminus < 1 < "
                                f"etaplus, got {etas!r}")
        if not isinstance(step_sizes, (tuple, list)) or len(step_sizes) != 2:
            raise ArgumentError(f"Rprop: step_sizes must be (min, max), got {step_sizes!r}")
        for i, s in enumerate(step_sizes):
            check_real(s, f"step_sizes[{i}]", "Rprop")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    _bounds = (Bound("etas", 0.0, 1.0, low_open=True, index=0, required=True),
               Bound("etas", 1.0, math.inf, low_open=True, index=1, required=True),
               Bound("step_sizes", None, None, index=0, required=True),
               Bound("step_sizes", None, None, index=1, required=True))

    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ("prev", "step_size")

    def _state_fill(self, group: dict[str, Any]) -> dict[str, float]:
        return {"prev": 0.0, "step_size": group["lr"]}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lo_eta, hi_eta = group["etas"]
        lo, hi = group["step_sizes"]
        if group["maximize"]:
            g = -g
        prev, size = state["prev"], state["step_size"]
        s = np.sign(g * prev)
        factor = np.where(s > 0, hi_eta, np.where(s < 0, lo_eta, 1.0))
        np.clip(size * factor, lo, hi, out=size)
        g = np.where(factor == lo_eta, 0.0, g)
        p -= np.sign(g) * size
        prev[...] = g
