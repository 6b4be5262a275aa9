"""``make_grid`` and ``save_image``, as in ``torchvision.utils``.

``make_grid`` tiles B images (B, C, H, W) into one (C, ymaps (H + p) + p, xmaps (W + p) + p)
image, ``xmaps = min(nrow, B)`` per row, ``p = padding`` pixels of ``pad_value`` around
each; one-channel images become three-channel (torchvision's rule), one image comes back
alone. ``normalize`` maps [low, high] (``value_range``, else the min and max of the whole
batch or, with ``scale_each``, of each image) to [0, 1]: clamp(x, low, high) - low, divided
by max(high - low, 1e-5).

``save_image`` writes ``make_grid``'s result as an 8-bit image, uint8 = trunc(clamp(255 x
+ 0.5, 0, 255)): PNG with glassnet's own writer (zlib from the standard library), other
formats through Pillow when it is installed.

Example
-------
>>> grid = make_grid(Tensor(np.zeros((16, 1, 28, 28), np.float32)), nrow=4)
>>> grid.shape
(3, 122, 122)
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..autograd.tensor import Tensor
from ._png import write_png

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike


__all__ = ["make_grid", "save_image"]


def _images(tensor: object) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid: got an empty list of tensors")
        arrays = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensor]
        return np.stack(arrays)
    if isinstance(tensor, Tensor):
        return tensor._data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")


def make_grid(tensor: Tensor | np.ndarray | Sequence[Tensor | np.ndarray], nrow: int = 8,
              padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one grid image (see the module docstring).

    ``tensor``: a Tensor (B, C, H, W), (C, H, W) or (H, W), or a list of (C, H, W) Tensors.
    Returns a Tensor of the input's dtype.
    """
    a = _images(tensor)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        if a.shape[0] == 1:
            a = np.concatenate([a, a, a], 0)
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or "
                         f"(H, W), got {a.shape}")
    if a.shape[1] == 1:
        a = np.concatenate([a, a, a], 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                            "are numbers")
        a = a.astype(a.dtype, copy=True)
        if value_range is not None:
            low = np.full((a.shape[0] if scale_each else 1, 1, 1, 1), value_range[0], np.float64)
            high = np.full_like(low, value_range[1])
        elif scale_each:
            flat = a.reshape(a.shape[0], -1)
            low = flat.min(1).astype(np.float64).reshape(-1, 1, 1, 1)
            high = flat.max(1).astype(np.float64).reshape(-1, 1, 1, 1)
        else:
            low = np.full((1, 1, 1, 1), float(a.min()))
            high = np.full((1, 1, 1, 1), float(a.max()))
        np.clip(a, low.astype(a.dtype), high.astype(a.dtype), out=a)
        a -= low.astype(a.dtype)
        a /= np.maximum(high - low, 1e-5).astype(a.dtype)
    if a.shape[0] == 1:
        return Tensor(a[0])
    n, c, h, w = a.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    ch, cw = h + padding, w + padding
    # every image in its own (ch, cw) cell, the padding on its top and left ...
    cells = np.full((ymaps * xmaps, c, ch, cw), pad_value, dtype=a.dtype)
    cells[:n, :, padding:, padding:] = a
    tiled = cells.reshape(ymaps, xmaps, c, ch, cw).transpose(2, 0, 3, 1, 4)
    # ... and one more band of padding on the bottom and the right of the grid
    grid = np.full((c, ymaps * ch + padding, xmaps * cw + padding), pad_value, dtype=a.dtype)
    grid[:, :ymaps * ch, :xmaps * cw] = tiled.reshape(c, ymaps * ch, xmaps * cw)
    return Tensor(grid)


def _format(fp: PathLike | BinaryIO, format: str | None) -> str:
    if format is not None:
        return str(format).upper()
    name = str(fp) if isinstance(fp, (str, Path)) else getattr(fp, "name", "")
    ext = Path(str(name)).suffix.lower()
    return {"": "PNG", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(ext, ext[1:].upper())


def save_image(tensor: Tensor | np.ndarray | Sequence[Tensor | np.ndarray],
               fp: PathLike | BinaryIO, format: str | None = None, **kwargs: Any) -> None:
    """Save ``tensor`` (anything :func:`make_grid` takes, values in [0, 1]) as an image file.

    ``fp``: a path or a binary file object; ``format``: "PNG" (the default, also chosen by a
    .png name) needs nothing; any other format needs Pillow. ``kwargs`` go to make_grid.

    Example
    -------
    >>> save_image(Tensor(np.random.rand(8, 1, 28, 28).astype(np.float32)), "digits.png")
    ... # doctest: +SKIP
    """
    grid = make_grid(tensor, **kwargs)._data
    img = grid.astype(np.float32) * np.float32(255) + np.float32(0.5)
    np.clip(img, 0, 255, out=img)
    img = img.astype(np.uint8)
    img = img.transpose(1, 2, 0)              # (C, H, W) -> (H, W, C)
    if img.shape[2] == 1:
        img = img[:, :, 0]
    fmt = _format(fp, format)
    if fmt == "PNG":
        write_png(fp, np.ascontiguousarray(img))
        return
    try:
        from PIL import Image  # noqa: PLC0415  (optional: only for formats other than PNG)
    except ImportError:
        raise ValueError(f"save_image: glassnet writes PNG itself; format {fmt!r} needs Pillow "
                         f"(pip install pillow), or save as .png") from None
    Image.fromarray(img).save(fp, format=fmt)
