"""Upsampling layers: ``Upsample`` (PyTorch's ``nn.Upsample``) and ``PixelShuffle``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .module import Module

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import IntTuple
    from glassnet.autograd.tensor import Tensor

__all__ = ["Upsample", "PixelShuffle", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resize (N, C, ...) input by ``size`` or ``scale_factor`` with ``mode`` 'nearest'
    (default), 'nearest-exact', 'linear', 'bilinear', 'trilinear' or 'area', exactly as
    ``glassnet.nn.functional.interpolate`` (PyTorch's source-pixel rules, any factor).

    >>> up = nn.Upsample(scale_factor=2)
    >>> up(gn.randn(1, 3, 4, 4)).shape
    (1, 3, 8, 8)
    """

    scale_factor: float | tuple[float, ...] | None

    def __init__(self, size: IntTuple | None = None,
                 scale_factor: float | tuple[float, ...] | None = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample: give exactly one of size and scale_factor, got "
                             f"size={size!r}, scale_factor={scale_factor!r}")
        if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area"):
            raise ValueError(f"Upsample: mode must be 'nearest', 'nearest-exact', 'linear', "
                             f"'bilinear', 'trilinear' or 'area' in glassnet, got {mode!r}")
        self.size = tuple(size) if isinstance(size, list) else size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        from .functional import interpolate
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` (deprecated in PyTorch, kept for old scripts)."""

    def __init__(self, size: IntTuple | None = None,
                 scale_factor: float | tuple[float, ...] | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)``."""

    def __init__(self, size: IntTuple | None = None,
                 scale_factor: float | tuple[float, ...] | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, x: Tensor) -> Tensor:
        from .functional import pixel_shuffle
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"
