"""glassnet.vision.utils: make_grid's layout and save_image's PNG bytes."""
from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest

from glassnet.autograd.tensor import Tensor
from glassnet.vision import utils


# ------------------------------------------------------------------ make_grid / save_image
def _grid_by_the_book(a, nrow, padding, pad_value):
    """torchvision's make_grid loop: copy image k into cell (k // xmaps, k % xmaps)."""
    n, c, h, w = a.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    hh, ww = h + padding, w + padding
    grid = np.full((c, hh * ymaps + padding, ww * xmaps + padding), pad_value, a.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= n:
                break
            grid[:, y * hh + padding:y * hh + padding + h, x * ww + padding:x * ww + padding + w] = a[k]
            k += 1
    return grid


@pytest.mark.parametrize("n, nrow, padding", [(5, 2, 2), (16, 8, 0), (3, 8, 1), (7, 3, 4)])
def test_make_grid_layout(n, nrow, padding):
    a = np.random.rand(n, 3, 4, 5).astype(np.float32)
    grid = utils.make_grid(Tensor(a), nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(grid.numpy(), _grid_by_the_book(a, nrow, padding, 0.5))
    gray = utils.make_grid(Tensor(a[:, :1]), nrow=nrow, padding=padding)
    assert gray.shape[0] == 3                       # one channel becomes three
    np.testing.assert_array_equal(gray.numpy()[1], _grid_by_the_book(a[:, :1], nrow, padding, 0)[0])
    lst = utils.make_grid([Tensor(x) for x in a], nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(lst.numpy(), grid.numpy())


def test_make_grid_single_image_and_normalize():
    one = Tensor(np.random.rand(1, 4, 4).astype(np.float32))
    assert utils.make_grid(one).shape == (3, 4, 4)               # no padding for one image
    assert utils.make_grid(Tensor(np.zeros((4, 4), np.float32))).shape == (3, 4, 4)
    a = np.array([[[[-1.0, 0.0], [1.0, 3.0]]], [[[10.0, 12.0], [14.0, 18.0]]]], np.float32)
    whole = utils.make_grid(Tensor(a), normalize=True, padding=0).numpy()
    np.testing.assert_allclose(whole[0], np.concatenate([(a[0, 0] + 1) / 19, (a[1, 0] + 1) / 19], 1),
                               rtol=1e-6)
    each = utils.make_grid(Tensor(a), normalize=True, scale_each=True, padding=0).numpy()
    np.testing.assert_allclose(each[0], np.concatenate([(a[0, 0] + 1) / 4, (a[1, 0] - 10) / 8], 1),
                               rtol=1e-6)
    ranged = utils.make_grid(Tensor(a), normalize=True, value_range=(0.0, 2.0), padding=0).numpy()
    np.testing.assert_allclose(ranged[0], np.concatenate([np.clip(a[0, 0], 0, 2) / 2,
                                                          np.clip(a[1, 0], 0, 2) / 2], 1))
    assert a.min() == -1.0                                       # the input is left alone
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(Tensor(a), normalize=True, value_range=[0, 1])


def _read_png(data):
    """Decode an 8-bit, non-interlaced PNG whose rows all use filter 0 (what glassnet writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * channels)
    assert depth == 8 and interlace == 0 and (rows[:, 0] == 0).all() and b"IEND" in chunks
    return rows[:, 1:].reshape(h, w, channels)


def test_save_image_writes_png(tmp_path):
    a = np.random.rand(4, 3, 5, 6).astype(np.float32)
    a[0, 0, 0, 0], a[0, 0, 0, 1] = -1.0, 2.0                   # clamped
    utils.save_image(Tensor(a), tmp_path / "g.png", nrow=2)
    got = _read_png((tmp_path / "g.png").read_bytes())
    grid = utils.make_grid(Tensor(a), nrow=2).numpy()
    want = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(got, want)
    with open(tmp_path / "h.png", "wb") as f:                   # a file object works too
        utils.save_image(Tensor(a[0]), f)
    assert _read_png((tmp_path / "h.png").read_bytes()).shape == (5, 6, 3)
    try:
        from PIL import Image
    except ImportError:
        with pytest.raises(ValueError, match="needs Pillow"):
            utils.save_image(Tensor(a), tmp_path / "g.jpg")
    else:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "g.png")), want)
        utils.save_image(Tensor(a), tmp_path / "g.jpg")
        assert Image.open(tmp_path / "g.jpg").format == "JPEG"
