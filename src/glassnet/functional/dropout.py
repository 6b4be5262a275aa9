"""Inverted dropout: zero each element with probability p, scale the rest by 1/(1 - p).

The scaling happens at training time, so the expected activation is unchanged and
evaluation needs no rescaling (Srivastava et al. 2014, "inverted" form). Masks are
drawn from ``glassnet.backend.rng()`` (seeded by ``gn.manual_seed``).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..validation import check_probability

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from glassnet._typing import DTypeLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["dropout", "dropout2d", "dropout_mask"]


def dropout_mask(shape: int | Sequence[int], p: float, dtype: DTypeLike = np.float32) -> np.ndarray:
    """A mask of ``shape`` with entries 0 (probability p) or 1/(1 - p), in ``dtype``.

    Drawn as uniform numbers of ``dtype``, compared with p in the same buffer (the 0/1
    result written over the draws) and scaled in place: three passes over one buffer, no
    boolean or float64 temporaries for a float32 mask.
    """
    dt = np.dtype(dtype)
    u = backend.rng().random(shape, dtype=dt if dt in (np.float32, np.float64) else np.float64)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    np.greater_equal(u, p, out=u, casting="unsafe")
    if scale != 1.0:
        u *= scale
    return u.astype(dt, copy=False)


class Dropout(Function):
    """y = x * m, m = [u >= p] / (1 - p) with u ~ U(0, 1);  dy/dx = m (the mask is kept).

    ``mask_shape`` (broadcastable to x) drops whole channels when it has ones on the
    spatial axes (Dropout2d).
    """

    def forward(self, x: np.ndarray, p: float = 0.5,
                mask_shape: tuple[int, ...] | None = None) -> np.ndarray:
        self.mask = dropout_mask(mask_shape or x.shape, p, x.dtype)
        return np.multiply(x, self.mask, dtype=x.dtype)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.multiply(g, self.mask, dtype=g.dtype)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout of ``x`` when ``training``; ``x`` itself otherwise (or when p = 0).

    >>> y = dropout(gn.ones(1000), p=0.2)   # ~20% zeros, the rest 1.25
    """
    check_probability(p, "p", "dropout")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=float(p))


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Channel dropout: zero whole feature maps x[n, c] of (N, C, ...) with probability p,
    scaling the kept ones by 1/(1 - p) (Tompson et al. 2015)."""
    check_probability(p, "p", "dropout2d")
    if x.ndim < 2:
        raise ValueError(f"dropout2d: expected input (N, C, ...), got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    return Dropout.apply(x, p=float(p), mask_shape=shape)
