"""Gradient clipping: rescale by the global norm, or clamp each value."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..validation import check_real

__all__ = ["clip_grad_norm_", "clip_grad_value_", "grad_norm"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._data for p in parameters if p.grad is not None]


def grad_norm(parameters, norm_type=2.0) -> float:
    """The ``norm_type``-norm of all gradients taken together (as one long vector)."""
    norm_type = float(norm_type)
    grads = _grads(parameters)
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        return float(max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads))
    if norm_type == 2.0:
        # a dot product per gradient is one fused BLAS pass; accumulate the total in float64
        return math.sqrt(sum(float(np.dot(r, r)) for r in (g.reshape(-1) for g in grads)))
    if norm_type <= 0:
        raise ValueError(f"grad_norm: norm_type must be > 0 or inf, got {norm_type}")
    total = sum(float(np.sum(np.abs(g, dtype=np.float64) ** norm_type)) for g in grads)
    return total ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False) -> float:
    r"""Scale all gradients in place so their joint norm is at most ``max_norm``.

    .. math::
        \|g\| = \Big(\sum_p \|g_p\|_q^q\Big)^{1/q}, \qquad
        g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Big)

    ``norm_type`` q may be ``float("inf")`` (largest absolute value). Returns
    the total norm before clipping, as a float (like ``torch.nn.utils.clip_grad_norm_``).

    Example
    -------
    >>> loss.backward(); total = clip_grad_norm_(model.parameters(), 1.0); opt.step()  # doctest: +SKIP
    """
    check_real(max_norm, "max_norm", "clip_grad_norm_", 0, low_open=True)
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = grad_norm(parameters, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}, so they cannot be clipped")
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for g in _grads(parameters):
            g *= coef
    return total


def clip_grad_value_(parameters, clip_value) -> None:
    """Clamp every gradient value in place to ``[-clip_value, clip_value]``."""
    c = check_real(clip_value, "clip_value", "clip_grad_value_", 0)
    for g in _grads(parameters):
        np.clip(g, -c, c, out=g)
