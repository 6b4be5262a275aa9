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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import DeviceLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["Linear", "Identity", "Flatten", "Bilinear"]


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    Initialised like PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> layer = nn.Linear(3, 2)
    >>> layer(gn.randn(5, 3)).shape
    (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear")
        self.out_features = check_int(out_features, "out_features", "Linear")
        if device is not None:
            backend.devices.check(device, "device", "Linear")
        dt = backend.dtypes.resolve(dtype) if dtype is not None else backend.get_default_dtype()
        xp = backend.xp()
        self.weight = Parameter(backend.allocate((out_features, in_features), dt, "Linear.weight",
                                                  xp=xp))
        self.bias = Parameter(backend.allocate((out_features,), dt, "Linear.bias", xp=xp)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input "
                             f"with last dimension {self.in_features}, got shape {tuple(x.shape)}")
        return _LinearFn.apply(x, self.weight, self.bias)   # F.linear, one call less

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(input_shape[:-1]) + (self.out_features,)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x. Any constructor arguments are accepted and ignored, as in PyTorch (so a layer
    can be swapped for an Identity without changing its call)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Flatten the axes ``start_dim`` .. ``end_dim`` into one (default 1 .. -1: keep the
    batch axis).

    >>> nn.Flatten()(gn.zeros(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        n = max(x.ndim, 1)
        s, e = self.start_dim, self.end_dim
        for d in (s, e):
            if not -n <= d < n:
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[{-n}, {n - 1}], but got {d})")
        s, e = s % n, e % n
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after "
                               "end_dim")
        if x.ndim == 0:
            return F.reshape(x, (1,))
        shape = tuple(x.shape)
        return F.reshape(x, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Bilinear(Module):
    """y = x1^T A x2 + b, weight (out_features, in1_features, in2_features) as in PyTorch,
    initialised U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self.in1_features = check_int(in1_features, "in1_features", "Bilinear")
        self.in2_features = check_int(in2_features, "in2_features", "Bilinear")
        self.out_features = check_int(out_features, "out_features", "Bilinear")
        dt = backend.dtypes.resolve(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight = Parameter(backend.allocate((out_features, in1_features, in2_features),
                                                  dt, "Bilinear.weight"))
        self.bias = Parameter(backend.allocate((out_features,), dt, "Bilinear.bias")) \
            if bias else None
        bound = 1.0 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from .functional import bilinear
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
