"""``Residual``: a skip connection y = f(x) + x (He et al. 2016)."""
from __future__ import annotations

from .conv import Conv2d
from .module import Module

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import IntTuple
    from glassnet.autograd.tensor import Tensor


__all__ = ["Residual"]


class Residual(Module):
    """y = f(x) + shortcut(x), shortcut = x or a projection when the shapes differ.

    ``projection`` may be None (identity), a Module (used as given), or True, which
    builds a 1x1 ``Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)``.

    >>> block = nn.Residual(nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()))
    >>> block(gn.randn(2, 8, 6, 6)).shape
    (2, 8, 6, 6)
    """

    def __init__(self, fn: Module, projection: Module | bool | None = None,
                 in_channels: int | None = None, out_channels: int | None = None,
                 stride: IntTuple = 1) -> None:
        super().__init__()
        if not isinstance(fn, Module):
            raise TypeError(f"Residual: fn must be a Module, got {type(fn).__name__}")
        self.fn = fn
        if projection is True:
            if in_channels is None or out_channels is None:
                raise ValueError("Residual: projection=True needs in_channels and out_channels")
            projection = Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
        elif projection is not None and not isinstance(projection, Module):
            raise TypeError(f"Residual: projection must be None, True or a Module, "
                            f"got {projection!r}")
        self.projection = projection

    def forward(self, x: Tensor) -> Tensor:
        y = self.fn(x)
        s = x if self.projection is None else self.projection(x)
        if tuple(y.shape) != tuple(s.shape):
            raise ValueError(f"Residual: f(x) has shape {tuple(y.shape)} but the shortcut has "
                             f"shape {tuple(s.shape)}; pass projection=True (a 1x1 conv) or a "
                             f"projection Module")
        return y + s
