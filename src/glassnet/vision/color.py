"""Colour images as arrays: the two memory layouts and per-channel statistics.

Image files and plotting libraries hold a colour image as (H, W, C) ("channels last", e.g.
what ``sklearn.datasets.load_sample_image`` or Pillow give: uint8 in [0, 255]); glassnet's
convolutions, like PyTorch's, take (N, C, H, W) ("channels first"). The pieces:

* layout: :func:`hwc_to_chw` and :func:`chw_to_hwc` (any leading batch axes);
* dtype: ``transforms.ToTensor`` (uint8 (H, W, C) -> float (C, H, W) in [0, 1]) and
  ``transforms.functional.convert_image_dtype`` (uint8 <-> float either way);
* grayscale: ``transforms.Grayscale`` / ``functional.rgb_to_grayscale`` (ITU-R 601-2 luma);
* per-channel normalisation: :func:`channel_stats` computes each channel's mean and
  standard deviation over a set of images, ``transforms.Normalize(mean, std)`` applies them.

>>> img = np.zeros((4, 5, 3), np.uint8)          # an (H, W, C) picture
>>> hwc_to_chw(img).shape, chw_to_hwc(hwc_to_chw(img)).shape
((3, 4, 5), (4, 5, 3))
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import ArgumentError

if TYPE_CHECKING:  # annotations only
    from numpy.typing import ArrayLike

__all__ = ["hwc_to_chw", "chw_to_hwc", "channel_stats"]


def _moved(img: ArrayLike | Tensor, src: int, dst: int, who: str) -> np.ndarray | Tensor:
    """``img`` with axis ``src`` moved to ``dst`` (a Tensor through ``permute``, so the
    gradient follows; an array as a view)."""
    ndim = img.ndim if isinstance(img, Tensor) else np.ndim(img)
    if ndim < 3:
        raise ArgumentError(f"{who}: img must have at least 3 axes (..., H, W, C) or "
                            f"(..., C, H, W), got {ndim}")
    if isinstance(img, Tensor):
        order = list(range(ndim))
        order.insert(dst % ndim, order.pop(src % ndim))
        return img.permute(*order)
    return np.moveaxis(np.asarray(img), src, dst)


def hwc_to_chw(img: ArrayLike | Tensor) -> np.ndarray | Tensor:
    """(..., H, W, C) -> (..., C, H, W): channels last to channels first (a view for an
    array; ``permute`` for a Tensor). Values and dtype are unchanged."""
    return _moved(img, -1, -3, "hwc_to_chw")


def chw_to_hwc(img: ArrayLike | Tensor) -> np.ndarray | Tensor:
    """(..., C, H, W) -> (..., H, W, C): channels first to channels last, e.g. to show a
    (C, H, W) tensor with matplotlib's ``imshow``."""
    return _moved(img, -3, -1, "chw_to_hwc")


def channel_stats(images: ArrayLike | Tensor, channel_axis: int = 1) -> tuple[list[float],
                                                                             list[float]]:
    """Per-channel mean and (population) standard deviation over every other axis, as
    lists ready for ``transforms.Normalize(mean, std)``; ``channel_axis`` 1 for
    (N, C, H, W), -1 for (N, H, W, C). uint8 images count in [0, 255]: convert them
    first (``ToTensor``, ``convert_image_dtype``) to get the statistics of [0, 1] values.

    >>> x = np.stack([np.zeros((2, 2)), np.ones((2, 2))])[None]      # (1, 2, 2, 2)
    >>> channel_stats(x)
    ([0.0, 1.0], [0.0, 0.0])
    """
    a = images._data if isinstance(images, Tensor) else np.asarray(images)
    if a.ndim < 2:
        raise ArgumentError(f"channel_stats: images must have a channel axis and at least one "
                            f"other, got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise ArgumentError(f"channel_stats: images must hold numbers, got dtype {a.dtype}")
    ax = channel_axis % a.ndim
    others = tuple(i for i in range(a.ndim) if i != ax)
    mean = a.mean(axis=others, dtype=np.float64)
    std = a.std(axis=others, dtype=np.float64)
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise ArgumentError("channel_stats: images contain NaN or infinity")
    return mean.tolist(), std.tolist()
