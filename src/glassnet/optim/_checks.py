"""Argument checks shared by the update rules."""
from __future__ import annotations

from ..validation import check_real


def betas(value, who):
    """``(beta1, beta2)`` as floats, each in [0, 1)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{who}: betas must be two numbers in [0, 1), got {value!r}")
    return tuple(check_real(b, f"betas[{i}]", who, 0, 1, high_open=True)
                 for i, b in enumerate(value))


def f32(x):
    """``x`` rounded to float32 and back: PyTorch keeps some scalar state (``step``,
    NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``) in float32 tensors, whatever the
    parameters' dtype, and its updates use the rounded value."""
    import numpy as np
    return float(np.float32(x))
