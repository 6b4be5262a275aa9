"""Nearest-neighbour upsampling of images by whole factors.

    out[n, c, i, j] = x[n, c, i // sh, j // sw]          (N, C, H, W) -> (N, C, H*sh, W*sw)
    dx[n, c, a, b]  = sum over the sh x sw block of g whose rows a*sh.. and columns b*sw..

>>> y = upsample_nearest(gn.randn(2, 3, 4, 4), scale_factor=2)
>>> y.shape
(2, 3, 8, 8)
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from glassnet.autograd.tensor import Tensor


__all__ = ["upsample_nearest", "UpsampleNearest"]


class UpsampleNearest(Function):
    """out[n, c, i, j] = x[n, c, i // sh, j // sw] for whole factors ``scale = (sh, sw)``.

    Backward sums each sh x sw block of the output gradient onto the one input pixel it
    copies.
    """

    def forward(self, x: np.ndarray, scale: tuple[int, int] = (2, 2)) -> np.ndarray:
        sh, sw = scale
        n, c, h, w = x.shape
        self.scale, self.shape = scale, x.shape
        out = np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, sh, w, sw))
        return out.reshape(n, c, h * sh, w * sw)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None]:
        if not self.needs_input_grad[0]:
            return (None,)
        n, c, h, w = self.shape
        sh, sw = self.scale
        return (g.reshape(n, c, h, sh, w, sw).sum(axis=(3, 5)),)


def _pair(value: Any, name: str) -> tuple[int, int]:
    """(a, b) from an int or a pair of ints; whole-valued floats such as 2.0 count."""
    v = (value, value) if np.isscalar(value) else tuple(value)
    if len(v) != 2 or any(isinstance(s, (bool, np.bool_)) or not isinstance(
            s, (int, float, np.integer, np.floating)) or int(s) != s or s < 1 for s in v):
        raise ValueError(f"upsample_nearest: {name} must be a positive whole number or a pair "
                         f"of them, got {value!r}")
    return int(v[0]), int(v[1])


def upsample_nearest(input: Tensor, size: int | Sequence[int] | None = None,
                     scale_factor: float | Sequence[float] | None = None) -> Tensor:  # noqa: A002 - PyTorch's name
    """Nearest-neighbour upsampling of an (N, C, H, W) tensor, as PyTorch's
    ``F.upsample_nearest`` / ``F.interpolate(mode="nearest")``.

    Give either ``size`` (the output (H', W'), or one int for both) or ``scale_factor``
    (an int or (sh, sw)). Only whole factors are implemented: H' must be a multiple of H
    and W' of W.

    >>> upsample_nearest(x, scale_factor=(1, 3))     # (N, C, H, W) -> (N, C, H, 3W)  # doctest: +SKIP
    >>> upsample_nearest(x, size=(8, 8))             # x of shape (N, C, 4, 4) or (N, C, 2, 8)  # doctest: +SKIP
    """
    if input.ndim != 4:
        raise ValueError(f"upsample_nearest: expected input (N, C, H, W), got shape "
                         f"{tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"upsample_nearest: give exactly one of size and scale_factor, got "
                         f"size={size!r}, scale_factor={scale_factor!r}")
    if scale_factor is not None:
        scale = _pair(scale_factor, "scale_factor")
    else:
        out = _pair(size, "size")
        h, w = input.shape[2:]
        if out[0] % h or out[1] % w:
            raise ValueError(f"upsample_nearest: size {out} is not a whole multiple of the "
                             f"input's (H, W) = {(h, w)}; only whole scale factors are "
                             "implemented")
        scale = (out[0] // h, out[1] // w)
    return UpsampleNearest.apply(input, scale=scale)
