"""Layers that only change the shape of their input (``nn.Flatten`` is in linear.py)."""
from __future__ import annotations

import numpy as np

from ..errors import ArgumentTypeError
from ..functional import math as F
from ..validation import is_int
from .module import Module

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor


__all__ = ["Unflatten"]


class Unflatten(Module):
    """Expand axis ``dim`` into ``unflattened_size``, as PyTorch's ``nn.Unflatten``:
    (N, C*H*W) -> (N, C, H, W) for ``Unflatten(1, (C, H, W))``; one entry may be -1
    (inferred).

    >>> nn.Unflatten(1, (2, 4, 4))(gn.randn(3, 32)).shape
    (3, 2, 4, 4)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not is_int(dim):
            raise ArgumentTypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        sizes = tuple(int(s) for s in unflattened_size)
        if not sizes or sizes.count(-1) > 1 or any(s < 1 and s != -1 for s in sizes):
            raise ValueError(f"Unflatten: unflattened_size must be positive ints (at most one "
                             f"-1), got {unflattened_size!r}")
        self.dim, self.unflattened_size = int(dim), sizes

    def forward(self, x: Tensor) -> Tensor:
        shape = tuple(x.shape)
        d = self.dim + len(shape) if self.dim < 0 else self.dim
        if not 0 <= d < len(shape):
            raise ValueError(f"{self!r}: dim {self.dim} is out of range for input of shape "
                             f"{shape}")
        known = int(np.prod([s for s in self.unflattened_size if s != -1]))
        if (shape[d] != known) if -1 not in self.unflattened_size else shape[d] % known:
            raise ValueError(f"{self!r}: input of shape {shape} has {shape[d]} values along "
                             f"dim {self.dim}, which do not unflatten to "
                             f"{self.unflattened_size}")
        return F.reshape(x, shape[:d] + self.unflattened_size + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
