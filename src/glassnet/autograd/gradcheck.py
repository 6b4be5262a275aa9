"""Gradient checking: backprop against central finite differences in float64."""
from __future__ import annotations

import numpy as np

from ..errors import GradcheckError
from .function import no_grad
from .tensor import Tensor, as_array

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import TensorLike


__all__ = ["gradcheck", "numerical_grad", "GradcheckError"]


def numerical_grad(f: Callable[..., float], arrays: Sequence[np.ndarray], index: int,
                   eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f(*arrays)`` w.r.t. ``arrays[index]``."""
    x = arrays[index]
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):  # a loop over coordinates is the definition of the method
        old = flat[i]
        flat[i] = old + eps
        fp = f(*arrays)
        flat[i] = old - eps
        fm = f(*arrays)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return g


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[TensorLike], eps: float = 1e-6,
              rtol: float = 1e-6, atol: float = 1e-8, seed: int = 0,
              raise_exception: bool = True) -> dict[int, float]:
    """Check ``fn``'s backward against central differences, in float64.

    ``fn`` maps Tensors to a Tensor (any shape). It is reduced to a scalar by a
    fixed random projection, so every output element is checked.
    ``inputs`` are arrays or Tensors; floating ones are converted to float64 and
    checked, others (indices, masks) are passed through unchanged.

    Returns a dict ``{input_index: worst_relative_error}``; raises
    :class:`GradcheckError` naming the input and the error when one exceeds ``rtol``
    (elements whose absolute error is below ``atol`` pass).

    Example
    -------
    >>> gradcheck(lambda a, b: a * b, [np.random.rand(3), np.random.rand(3)])
    {0: ..., 1: ...}
    """
    arrays: list[np.ndarray] = []
    check: list[bool] = []
    for x in inputs:
        a = as_array(x)
        if a.dtype.kind == "f":
            arrays.append(a.astype(np.float64).copy())
            check.append(True)
        else:
            arrays.append(a)
            check.append(False)
    # a projection vector makes the check see every output element
    with no_grad():
        out0 = fn(*[Tensor(a) for a in arrays])
    out_shape = out0.shape
    if out0.dtype != np.float64:
        raise GradcheckError(f"gradcheck: fn returned dtype {out0.dtype} for float64 inputs; "
                             "it must keep float64 so the check is meaningful")
    w = np.random.default_rng(seed).standard_normal(out_shape)

    def scalar(*arrs: np.ndarray) -> float:
        with no_grad():
            return float((fn(*[Tensor(a) for a in arrs])._data * w).sum())

    ts = [Tensor(a, requires_grad=c) for a, c in zip(arrays, check)]
    out = fn(*ts)
    out.backward(w)
    report: dict[int, float] = {}
    for i, (t, c) in enumerate(zip(ts, check)):
        if not c:
            continue
        analytic = t.grad._data if t.grad is not None else np.zeros_like(arrays[i])
        numeric = numerical_grad(scalar, arrays, i, eps)
        abs_err = np.abs(analytic - numeric)
        denom = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)
        rel = np.where(abs_err <= atol, 0.0, 2 * abs_err / denom)
        worst = float(rel.max()) if rel.size else 0.0
        report[i] = worst
        if worst > rtol and raise_exception:
            j = int(np.argmax(rel))
            raise GradcheckError(
                f"gradcheck: input {i} (shape {arrays[i].shape}): relative error {worst:.3e} > "
                f"{rtol:.1e} at flat index {j}: backprop {analytic.reshape(-1)[j]:.10g}, "
                f"numerical {numeric.reshape(-1)[j]:.10g}")
    return report
