"""Upsampling layers."""
from __future__ import annotations

from ..functional.upsample import _pair, upsample_nearest
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """Nearest-neighbour upsampling (N, C, H, W) -> (N, C, H*sh, W*sw), as PyTorch's
    ``nn.Upsample(size=None, scale_factor=None, mode="nearest")``:
    out[n, c, i, j] = x[n, c, i // sh, j // sw].

    Give either ``size`` (output (H', W'), whole multiples of the input's) or
    ``scale_factor`` (an int or (sh, sw)). Only ``mode="nearest"`` is implemented.

    >>> up = nn.Upsample(scale_factor=2)
    >>> up(gn.randn(1, 3, 4, 4)).shape
    (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest"):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: mode must be 'nearest' (the only mode implemented), "
                             f"got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample: give exactly one of size and scale_factor, got "
                             f"size={size!r}, scale_factor={scale_factor!r}")
        _pair(size if scale_factor is None else scale_factor,
              "size" if scale_factor is None else "scale_factor")   # fail here, not later
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x):
        return upsample_nearest(x, size=self.size, scale_factor=self.scale_factor)

    def extra_repr(self):
        which = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return f"{which}, mode={self.mode!r}"
