"""Optimizer kernels (imported only with Numba): one pass over a flat parameter slice.

NumPy's Adam is about eleven passes over memory per step (scale m, add the scaled
gradient, scale v, square, scale, add, square root, add eps, divide, scale, add); for
millions of parameters the step is memory-bound, and these passes were a quarter of an
MLP 784-2048-2048-10 training step. The kernel reads p, g, m, v once and writes p, m, v
once. The constants arrive in the arrays' dtype, so float32 stays float32 throughout.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from ._numba_kernels import _OPTS


@njit(**_OPTS)
def adam_step(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, s: Any, wd: Any,
              b1: Any, c1: Any, b2: Any, c2: Any, alpha: Any, eps: Any, scale: Any) -> None:
    """Adam on flat slices, in place: with ``ge = s g + wd p`` (s = -1 maximizes; wd: L2
    decay, 0 without), ``m = b1 m + c1 ge``, ``v = b2 v + c2 ge^2`` and
    ``p = scale p - alpha m / (sqrt(v) + eps)`` (c1 = 1 - b1, c2 = 1 - b2; the bias
    corrections are folded into ``alpha`` and ``eps`` by the caller; ``scale``: AdamW's
    decoupled decay, 1 without)."""
    for j in range(p.shape[0]):
        pj = p[j]
        ge = s * g[j] + wd * pj
        mj = b1 * m[j] + c1 * ge
        vj = b2 * v[j] + c2 * (ge * ge)
        m[j] = mj
        v[j] = vj
        p[j] = scale * pj - alpha * (mj / (math.sqrt(vj) + eps))
