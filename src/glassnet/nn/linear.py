"""Fully connected layers."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional import math as F
from ..functional.math import Linear as _LinearFn
from ..validation import check_int
from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten"]


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    Initialised like PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> layer = nn.Linear(3, 2)
    >>> layer(gn.randn(5, 3)).shape
    (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear")
        self.out_features = check_int(out_features, "out_features", "Linear")
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        xp = backend.xp()
        self.weight = Parameter(xp.empty((out_features, in_features), dtype=dt))
        self.bias = Parameter(xp.empty((out_features,), dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input "
                             f"with last dimension {self.in_features}, got shape {tuple(x.shape)}")
        return _LinearFn.apply(x, self.weight, self.bias)   # F.linear, one call less

    def output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out_features,)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x


class Flatten(Module):
    """Flatten every axis from ``start_dim`` (default 1, keeping the batch axis)."""

    def __init__(self, start_dim: int = 1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}"
