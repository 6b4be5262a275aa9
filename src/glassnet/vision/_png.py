"""A minimal PNG writer (8-bit gray, gray+alpha, RGB or RGBA) on the standard library's zlib.

PNG = an 8-byte signature, then chunks (length, type, data, CRC-32 of type + data): IHDR
(width, height, bit depth 8, colour type, compression 0, filter 0, interlace 0), one IDAT
(the zlib-compressed rows, each led by its filter byte, 0 = none) and IEND.
"""
from __future__ import annotations

import struct
import zlib

from typing import TYPE_CHECKING, BinaryIO

import numpy as np

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike

__all__ = ["write_png", "png_bytes"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}   # channels -> gray, gray+alpha, RGB, RGBA


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(img: np.ndarray, level: int = 6) -> bytes:
    """The PNG file of a uint8 (H, W) or (H, W, C) image, C in 1..4."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        raise TypeError(f"png_bytes: the image must be uint8, got {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in _COLOUR_TYPE or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"png_bytes: expected a (H, W) or (H, W, C) image with C in 1..4, got "
                         f"shape {img.shape}")
    h, w, c = a.shape
    rows = np.zeros((h, 1 + w * c), np.uint8)        # column 0: filter type 0 for every row
    rows[:, 1:] = a.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPE[c], 0, 0, 0)
    return (_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + _chunk(b"IEND", b""))


def write_png(fp: PathLike | BinaryIO, img: np.ndarray) -> None:
    """Write ``img`` as PNG to ``fp`` (a path or a binary file object)."""
    data = png_bytes(img)
    if hasattr(fp, "write"):
        fp.write(data)
    else:
        with open(fp, "wb") as f:
            f.write(data)
