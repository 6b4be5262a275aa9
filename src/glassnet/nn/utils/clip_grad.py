"""Gradient clipping, as ``torch.nn.utils``: rescale by the joint norm, or clamp each value."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import ArgumentError
from ...validation import check_real

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

    # PyTorch's _tensor_or_tensors
    _TensorOrTensors: TypeAlias = Union[Tensor, Iterable[Tensor]]

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "grad_norm",
           "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters: _TensorOrTensors) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters: _TensorOrTensors) -> list[np.ndarray]:
    return [p.grad._data for p in _params(parameters) if p.grad is not None]


def _norm(grads: list[np.ndarray], norm_type: float) -> float:
    """The ``norm_type``-norm of all gradients taken together, accumulated in float64."""
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        vals = [float(np.max(np.abs(g))) if g.size else 0.0 for g in grads]
        return max(vals) if norm_type > 0 else min(vals)
    if norm_type == 2.0:
        # a dot product per gradient is one fused BLAS pass
        return math.sqrt(sum(float(np.dot(r, r)) for r in (g.reshape(-1).astype(np.float64)
                                                           for g in grads)))
    if norm_type <= 0:
        raise ArgumentError(f"grad_norm: norm_type must be > 0 or inf, got {norm_type}")
    total = sum(float(np.sum(np.abs(g, dtype=np.float64) ** norm_type)) for g in grads)
    return total ** (1.0 / norm_type)


def grad_norm(parameters: _TensorOrTensors, norm_type: float = 2.0) -> float:
    """The ``norm_type``-norm of all gradients taken together (as one long vector), as a
    Python float (glassnet's helper; :func:`get_total_norm` is PyTorch's Tensor form)."""
    return _norm(_grads(parameters), float(norm_type))


def _dtype_of(grads: list[np.ndarray]) -> np.dtype[Any]:
    return grads[0].dtype if grads else np.dtype(np.float32)


def get_total_norm(tensors: Tensor | Iterable[Tensor | None], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The joint ``norm_type``-norm of ``tensors`` (gradients), as a 0-d Tensor."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    arrays = [t._data for t in tensors if t is not None]
    total = _norm(arrays, float(norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(_nonfinite(norm_type))
    return Tensor(np.asarray(total, dtype=_dtype_of(arrays)))


def _nonfinite(norm_type: float) -> str:
    return (f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")


def clip_grads_with_norm_(parameters: _TensorOrTensors, max_norm: float,
                          total_norm: Tensor | float, foreach: bool | None = None) -> None:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)) in place."""
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if coef < 1.0:
        for g in _grads(parameters):
            g *= coef


def clip_grad_norm_(parameters: _TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    r"""Scale all gradients in place so that their joint norm is at most ``max_norm``;
    returns the total norm before clipping as a 0-d Tensor (PyTorch's return value).

    .. math::
        \|g\| = \Big(\sum_p \|g_p\|_q^q\Big)^{1/q}, \qquad
        g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Big)

    ``norm_type`` q may be ``float("inf")`` (largest absolute value). ``foreach`` is
    accepted and ignored (there is one implementation).

    >>> loss.backward(); total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # doctest: +SKIP
    """
    check_real(max_norm, "max_norm", "clip_grad_norm_", 0)
    parameters = _params(parameters)
    grads = _grads(parameters)
    total = _norm(grads, float(norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(_nonfinite(norm_type))
    clip_grads_with_norm_(parameters, max_norm, total)
    return Tensor(np.asarray(total, dtype=_dtype_of(grads)))


def clip_grad_norm(parameters: _TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated PyTorch spelling of :func:`clip_grad_norm_` (same behaviour, a warning)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _TensorOrTensors, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient value in place to ``[-clip_value, clip_value]``."""
    c = check_real(clip_value, "clip_value", "clip_grad_value_", 0)
    for g in _grads(parameters):
        np.clip(g, -c, c, out=g)
