"""The image operations behind the transforms, with torchvision's names and formulas.

Each public function takes one image (a glassnet Tensor (..., C, H, W), a NumPy array
(H, W) / (H, W, C), or a PIL image) and returns the same form. The underscored versions
work on :class:`Images` (M, C, H, W) with per-image parameters, which is how a transform
treats a whole batch of dataset samples in one pass.

Formulas (torchvision's):

* ``to_tensor``: uint8 (H, W, C) -> float (C, H, W) = x / 255 (other dtypes: transposed only)
* ``normalize``: (x - mean[c]) / std[c], in the tensor's dtype
* ``rgb_to_grayscale``: the ITU-R 601-2 luma L = 0.2989 R + 0.587 G + 0.114 B on tensor
  images, cast back to their dtype (an integer tensor is truncated, as torch's ``.to``);
  array images (glassnet's stand-in for PIL images) and PIL images get Pillow's "L"
  conversion, (19595 R + 38470 G + 7471 B + 2^15) >> 16 for uint8 (299/587/114 per mille,
  rounded), 0.299 R + 0.587 G + 0.114 B for floats
* ``convert_image_dtype``: integer -> float x / max (uint8: x / 255); float -> integer
  x * (max + 1 - 0.001) truncated (so 1.0 -> 255 and 0.5 -> 127 for uint8); integers of
  different widths by powers of two
* ``rotate`` by a degrees counter-clockwise about the centre: output pixel (x, y) reads the
  input at (cos a dx - sin a dy, sin a dx + cos a dy) + centre, where (dx, dy) is the pixel
  centre relative to the centre; nearest (round half to even) or bilinear sampling with
  zeros outside; with a ``fill`` the result is ``v * m + (1 - m) * fill`` where m samples an
  all-ones image the same way (nearest: fill where m < 0.5)
* ``resize``: separable weights; bilinear is the triangle filter on half-pixel centres,
  widened by the scale when shrinking with ``antialias`` (PIL's and torchvision's rule);
  nearest reads floor(i * in / out) for tensors, floor((i + 0.5) * in / out) for arrays

Arrays and PIL images are transformed with the same float formulas and rounded back to
their dtype (torchvision hands PIL images to Pillow, whose rounding can differ by one level).

Example
-------
>>> img = np.arange(12, dtype=np.uint8).reshape(3, 4)
>>> to_tensor(hflip(img)).shape
(1, 3, 4)
"""
from __future__ import annotations

import enum
import math
import numbers

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor
from ._image import Images, ImageLike

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    import numpy.typing as npt  # annotations only
    from glassnet._typing import IntTuple


# numbers.Number for isinstance on values typed Any (mypy does not count int as a Number)
_NUMBER: Any = numbers.Number

__all__ = ["InterpolationMode", "to_tensor", "normalize", "hflip", "vflip", "pad", "crop",
           "center_crop", "rotate", "resize", "rgb_to_grayscale", "convert_image_dtype"]


class InterpolationMode(enum.Enum):
    """Interpolation for geometric transforms (glassnet implements NEAREST and BILINEAR)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def interpolation_mode(mode: object, where: str) -> InterpolationMode:
    """``mode`` (an InterpolationMode or its name) checked to be one glassnet implements."""
    if isinstance(mode, str):
        try:
            mode = InterpolationMode(mode.lower())
        except ValueError:
            mode = None
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"{where}: interpolation must be InterpolationMode.NEAREST or "
                         f"InterpolationMode.BILINEAR (the ones glassnet implements), got "
                         f"{mode!r}")
    return cast(InterpolationMode, mode)


# ------------------------------------------------------------------ helpers
def _float_work(a: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """``a`` as floats to compute with, and a function giving results back in a's dtype
    (integer images are rounded half to even and clipped, as torchvision does)."""
    if a.dtype.kind == "f":
        return a, lambda r: r
    info = np.iinfo(a.dtype) if a.dtype.kind in "iu" else None
    dtype = a.dtype

    def back(r: np.ndarray) -> np.ndarray:
        r = np.rint(r)
        if info is not None:
            np.clip(r, info.min, info.max, out=r)
        return r.astype(dtype)
    return a.astype(np.float32), back


def _fill_per_channel(fill: Any, channels: int, dtype: np.dtype[Any],
                      where: str) -> np.ndarray | None:
    if fill is None:
        return None
    if isinstance(fill, numbers.Number):
        return np.full((channels, 1, 1), fill, dtype=dtype)
    fill = list(fill)
    if len(fill) == 1:
        fill = fill * channels
    if len(fill) != channels:
        raise ValueError(f"{where}: fill has {len(fill)} values but the image has {channels} "
                         f"channels")
    return np.asarray(fill, dtype=dtype).reshape(channels, 1, 1)


# ------------------------------------------------------------------ to_tensor / normalize
def _to_tensor(ims: Images) -> Images:
    if ims.tensor:
        raise TypeError("ToTensor: pic should be PIL Image or ndarray. Got a glassnet Tensor "
                        "(it is already a tensor image)")
    a = ims.data
    if a.dtype == np.uint8:
        # x / 255 computed in the float dtype itself (as torch's div), C-contiguous
        dtype = backend.get_default_dtype()
        out = np.empty(a.shape, dtype)
        np.divide(a, dtype.type(255), out=out, dtype=dtype)
    else:
        out = np.ascontiguousarray(a)
    return ims.as_tensor_images(out)


def to_tensor(pic: ImageLike) -> Tensor:
    """A uint8 (H, W) / (H, W, C) array or PIL image as a float (C, H, W) Tensor in [0, 1]
    (x / 255); arrays of other dtypes are transposed to (C, H, W) unscaled."""
    if isinstance(pic, Tensor):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    return _to_tensor(Images.of(pic, "to_tensor")).image()


def _normalize_array(a: np.ndarray, mean: Any, std: Any,
                     where: str) -> tuple[np.ndarray, np.ndarray]:
    if a.dtype.kind not in "fc":
        raise TypeError(f"Input tensor should be a float tensor. Got {a.dtype}.")
    mean = np.asarray(mean, dtype=a.dtype)
    std = np.asarray(std, dtype=a.dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {a.dtype}, leading to "
                         f"division by zero.")
    if mean.ndim == 1:
        mean = mean.reshape(-1, 1, 1)
    if std.ndim == 1:
        std = std.reshape(-1, 1, 1)
    c = a.shape[-3]
    for name, v in (("mean", mean), ("std", std)):
        if v.ndim == 3 and v.shape[0] not in (1, c):
            raise RuntimeError(f"{where}: {name} has {v.shape[0]} values but the image has "
                               f"{c} channels")
    return mean, std


def _normalize(ims: Images, mean: float | Sequence[float], std: float | Sequence[float],
               inplace: bool = False) -> Images:
    if not ims.tensor:
        raise TypeError("Normalize: img should be Tensor Image. Got an array image (apply "
                        "ToTensor first)")
    a = ims.data
    m, s = _normalize_array(a, mean, std, "Normalize")
    out = a if inplace else np.empty_like(a)
    np.subtract(a, m, out=out)
    np.divide(out, s, out=out)
    return ims.replace(out)


def normalize(tensor: Tensor, mean: float | Sequence[float], std: float | Sequence[float],
              inplace: bool = False) -> Tensor:
    """(tensor - mean[c]) / std[c] per channel of a float (..., C, H, W) Tensor; with
    ``inplace`` the tensor's own values are overwritten and it is returned."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    a = tensor._data
    if a.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tuple(a.shape)}")
    m, s = _normalize_array(a, mean, std, "normalize")
    out = a if inplace else np.empty_like(a)
    np.subtract(a, m, out=out)
    np.divide(out, s, out=out)
    return tensor if inplace else Tensor(out)


# ------------------------------------------------------------------ colour
_LUMA_TENSOR = (0.2989, 0.587, 0.114)     # torchvision's tensor weights (ITU-R 601-2)
_LUMA_PIL = (0.299, 0.587, 0.114)         # Pillow's "L" conversion, per mille 299/587/114


def _gray_out_form(form: str | tuple[str, str], channels: int) -> str | tuple[str, str]:
    """The form a grayscale image goes back in: one channel is (H, W) / mode "L"."""
    if channels == 3:
        return ("pil", "RGB") if isinstance(form, tuple) else form
    if isinstance(form, tuple):
        return ("pil", "L")
    return {"hwc": "hw", "batch-hwc": "batch-hw"}.get(form, form)


def _rgb_to_grayscale(ims: Images, num_output_channels: int = 1,
                      where: str = "rgb_to_grayscale") -> Images:
    if num_output_channels not in (1, 3):
        raise ValueError(f"{where}: num_output_channels should be either 1 or 3, got "
                         f"{num_output_channels!r}")
    a = ims.data
    c = a.shape[1]
    if c not in (1, 3):
        raise TypeError(f"{where}: input image should have 1 or 3 channels (RGB), got {c}")
    if c == 1:
        gray = a
    elif ims.tensor:
        r, g, b = (a[:, i:i + 1].astype(np.float32 if a.dtype.kind != "f" else a.dtype,
                                        copy=False) for i in range(3))
        wr, wg, wb = _LUMA_TENSOR
        lum = wr * r + wg * g + wb * b
        gray = lum.astype(a.dtype) if a.dtype.kind != "f" else lum.astype(a.dtype, copy=False)
    elif a.dtype == np.uint8:                      # Pillow's fixed-point rounding
        r, g, b = (a[:, i:i + 1].astype(np.uint32) for i in range(3))
        gray = ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16).astype(np.uint8)
    else:
        work, back = _float_work(a)
        wr, wg, wb = _LUMA_PIL
        gray = back(wr * work[:, 0:1] + wg * work[:, 1:2] + wb * work[:, 2:3])
    if num_output_channels == 3:
        gray = np.repeat(gray, 3, axis=1)
    return Images(gray, ims.tensor, _gray_out_form(ims.form, num_output_channels), ims.lead)


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    """An RGB image in grayscale: one channel (or the gray value in all three with
    ``num_output_channels=3``), by the ITU-R 601-2 luma weights.

    A tensor image (..., 3, H, W) gets torchvision's formula L = 0.2989 R + 0.587 G +
    0.114 B in its own dtype; an (H, W, 3) array or a PIL image gets Pillow's "L"
    conversion (an (H, W) array or an "L" image back). One-channel images pass through.

    >>> rgb = gn.tensor([[[1.0]], [[0.5]], [[0.0]]])          # (3, 1, 1)
    >>> round(rgb_to_grayscale(rgb).item(), 4)                # 0.2989 + 0.587 / 2
    0.5924
    >>> rgb_to_grayscale(np.array([[[255, 128, 0]]], np.uint8))   # Pillow's integers
    array([[151]], dtype=uint8)
    """
    return _rgb_to_grayscale(Images.of(img, "rgb_to_grayscale"), num_output_channels).image()


def _int_max(dtype: np.dtype) -> int:
    return int(np.iinfo(dtype).max)


def convert_image_dtype(image: Tensor, dtype: npt.DTypeLike = np.float32) -> Tensor:
    """A tensor image (or array) in another dtype, rescaled so that each dtype's full range
    maps to the other's (torchvision's ``convert_image_dtype``): uint8 -> float is x / 255,
    float in [0, 1] -> uint8 is x * (255 + 1 - 0.001) truncated, integers of different
    widths shift by powers of two, float -> float only casts. The input's type (Tensor or
    NumPy array) is kept.

    >>> convert_image_dtype(gn.tensor(np.array([0, 128, 255], np.uint8))).tolist()
    [0.0, 0.501960813999176, 1.0]
    >>> convert_image_dtype(gn.tensor([0.0, 0.5, 1.0]), np.uint8).tolist()
    [0, 127, 255]
    """
    is_tensor = isinstance(image, Tensor)
    a = image._data if is_tensor else np.asarray(image)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"convert_image_dtype: dtype must be a NumPy dtype (np.uint8, "
                        f"np.float32, ...), got {dtype!r}") from None
    if a.dtype.kind not in "biuf" or dt.kind not in "iuf":
        raise TypeError(f"convert_image_dtype: converts between integer and float images, got "
                        f"{a.dtype} -> {dt}")
    if a.dtype.kind == "b":
        a = a.astype(np.uint8) * np.uint8(255)
    if a.dtype == dt:
        out = a
    elif a.dtype.kind == "f" and dt.kind == "f":
        out = a.astype(dt)
    elif a.dtype.kind == "f":
        if (a.dtype == np.float32 and dt in (np.int32, np.int64)) or                 (a.dtype == np.float64 and dt == np.int64):
            raise RuntimeError(f"convert_image_dtype: the cast from {a.dtype} to {dt} cannot be "
                               f"performed safely")
        out = (a * (_int_max(dt) + 1.0 - 1e-3)).astype(dt)
    elif dt.kind == "f":
        out = (a.astype(dt) / dt.type(_int_max(a.dtype)))
    else:
        m_in, m_out = _int_max(a.dtype) + 1, _int_max(dt) + 1
        if m_in > m_out:
            out = (a // (m_in // m_out)).astype(dt)
        else:
            out = a.astype(dt) * dt.type(m_out // m_in)
    return Tensor(np.ascontiguousarray(out)) if is_tensor else out  # type: ignore[return-value]  # an array in, an array out


# ------------------------------------------------------------------ flips, pad, crop
def _hflip_where(ims: Images, flags: Sequence[bool] | np.ndarray) -> Images:
    """Mirror left-right the images whose flag is set (one flag: all of them or none)."""
    a = ims.data
    flags = np.asarray(flags, bool).reshape(-1)
    if flags.size == 1:
        return ims.replace(a[..., ::-1]) if flags[0] else ims
    out = a.copy()
    out[flags] = a[flags, ..., ::-1]
    return ims.replace(out)


def hflip(img: ImageLike) -> ImageLike:
    """The image mirrored left-right."""
    return _hflip_where(Images.of(img, "hflip"), [True]).image()


def vflip(img: ImageLike) -> ImageLike:
    """The image mirrored top-bottom."""
    ims = Images.of(img, "vflip")
    return ims.replace(ims.data[..., ::-1, :]).image()


def parse_padding(padding: IntTuple | str, where: str = "pad") -> list[int]:
    """``padding`` (int, or 1, 2 or 4 numbers) as (left, top, right, bottom)."""
    if isinstance(padding, bool) or not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"{where}: Got inappropriate padding arg {padding!r}")
    if isinstance(padding, numbers.Number):
        p = [int(cast(int, padding))] * 4
    else:
        p = [int(v) for v in padding]
        if len(p) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(p)} element tuple")
        if len(p) == 1:
            p = p * 4
        elif len(p) == 2:
            p = [p[0], p[1], p[0], p[1]]
    return p


_PAD_MODES: dict[str, Literal["constant", "edge", "reflect", "symmetric"]] = {"constant": "constant", "edge": "edge", "reflect": "reflect",
              "symmetric": "symmetric"}


def _pad(ims: Images, padding: IntTuple | str, fill: float | Sequence[float] | None = 0,
         padding_mode: str = "constant") -> Images:
    left, top, right, bottom = parse_padding(padding)
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"pad: Got inappropriate fill arg {fill!r}")
    a = ims.data
    # negative padding crops (torchvision's rule for tensors)
    h, w = a.shape[-2:]
    a = a[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    widths = ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0)))
    if padding_mode != "constant":
        return ims.replace(np.pad(a, widths, mode=_PAD_MODES[padding_mode]))
    fill = 0 if fill is None else fill
    if isinstance(fill, numbers.Number):
        return ims.replace(np.pad(a, widths, mode="constant", constant_values=fill))
    per = _fill_per_channel(fill, a.shape[1], a.dtype, "pad")
    out = np.empty(a.shape[:2] + (a.shape[2] + sum(widths[2]), a.shape[3] + sum(widths[3])),
                   a.dtype)
    out[...] = per
    out[..., widths[2][0]:widths[2][0] + a.shape[2], widths[3][0]:widths[3][0] + a.shape[3]] = a
    return ims.replace(out)


def pad(img: ImageLike, padding: IntTuple | str, fill: float | Sequence[float] | None = 0,
        padding_mode: str = "constant") -> ImageLike:
    """The image with ``padding`` (int, (left/right, top/bottom) or (left, top, right,
    bottom)) added: ``fill`` for "constant", or "edge", "reflect", "symmetric"."""
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    return _pad(Images.of(img, "pad"), padding, fill, padding_mode).image()


def _crop_at(ims: Images, tops: Sequence[int] | np.ndarray, lefts: Sequence[int] | np.ndarray,
             height: int, width: int) -> Images:
    """The height x width window at (tops[m], lefts[m]) of each image (one offset: all)."""
    a = ims.data
    tops = np.asarray(tops, np.int64).reshape(-1)
    lefts = np.asarray(lefts, np.int64).reshape(-1)
    if tops.size == 1:
        t, l_ = int(tops[0]), int(lefts[0])
        return ims.replace(a[..., t:t + height, l_:l_ + width])
    # every image its own window: index a view of all windows, one block copy per image
    windows = np.lib.stride_tricks.sliding_window_view(a, (height, width), axis=(2, 3))
    return ims.replace(windows[np.arange(a.shape[0]), :, tops, lefts])


def crop(img: ImageLike, top: int, left: int, height: int, width: int) -> ImageLike:
    """The height x width window whose top-left pixel is (top, left); parts outside the
    image are zeros."""
    ims = Images.of(img, "crop")
    h, w = ims.data.shape[-2:]
    pads = [max(-left, 0), max(-top, 0), max(left + width - w, 0), max(top + height - h, 0)]
    if any(pads):
        ims = _pad(ims, pads, 0)
        top, left = top + pads[1], left + pads[0]
    return _crop_at(ims, [top], [left], height, width).image()


def setup_size(size: IntTuple, where: str) -> tuple[int, int]:
    """``size`` (int or 1 or 2 numbers) as (h, w)."""
    sz: Any = size      # checked here: an int, or 1 or 2 ints
    if isinstance(sz, _NUMBER) and not isinstance(sz, bool):
        return int(sz), int(sz)
    if isinstance(sz, (tuple, list)) and len(sz) == 1:
        return int(sz[0]), int(sz[0])
    if isinstance(sz, (tuple, list)) and len(sz) == 2:
        return int(sz[0]), int(sz[1])
    raise ValueError(f"{where}: Please provide only two dimensions (h, w) for size, got "
                     f"{sz!r}")


def _center_crop(ims: Images, output_size: IntTuple) -> Images:
    ch, cw = setup_size(output_size, "center_crop")
    h, w = ims.data.shape[-2:]
    if ch > h or cw > w:
        ltrb = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        ims = _pad(ims, ltrb, 0)
        h, w = ims.data.shape[-2:]
        if ch == h and cw == w:
            return ims
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return _crop_at(ims, [top], [left], ch, cw)


def center_crop(img: ImageLike, output_size: IntTuple) -> ImageLike:
    """The central window of ``output_size`` (zeros around when the image is smaller)."""
    return _center_crop(Images.of(img, "center_crop"), output_size).image()


# ------------------------------------------------------------------ rotate
def _sample(a: np.ndarray, ix: np.ndarray, iy: np.ndarray,
            mode: InterpolationMode) -> tuple[np.ndarray, np.ndarray]:
    """Sample (M, C, H, W) ``a`` at input coordinates ix, iy of shape (P, oh, ow), P = M or
    1; points outside read zero. Returns the samples (M, C, oh, ow) and, sampled the same
    way, the all-ones image (the mask)."""
    m, c, h, w = a.shape
    flat = a.reshape(m, c, h * w)
    p, oh, ow = ix.shape

    def gather(yi: np.ndarray, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        idx = (np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)).reshape(p, oh * ow)
        if p == 1:
            vals = flat[:, :, idx[0]]
        else:
            vals = np.take_along_axis(flat, idx[:, None, :], axis=2)
        return vals.reshape(m, c, oh, ow), inside.astype(a.dtype)[:, None]

    if mode is InterpolationMode.NEAREST:
        vals, inside = gather(np.rint(iy).astype(np.int64), np.rint(ix).astype(np.int64))
        return vals * inside, inside
    x0 = np.floor(ix)
    y0 = np.floor(iy)
    wx1 = (ix - x0).astype(a.dtype)[:, None]
    wy1 = (iy - y0).astype(a.dtype)[:, None]
    wx0, wy0 = 1 - wx1, 1 - wy1
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    out = np.zeros((m, c, oh, ow), a.dtype)
    mask = np.zeros((p, 1, oh, ow), a.dtype)
    for dy, wy in ((0, wy0), (1, wy1)):
        for dx, wx in ((0, wx0), (1, wx1)):
            vals, inside = gather(y0 + dy, x0 + dx)
            wgt = wy * wx * inside
            out += vals * wgt
            mask += wgt
    return out, mask


def _expanded_size(angle: float, w: int, h: int) -> tuple[int, int]:
    """torchvision's output size (w, h) of a rotation with ``expand=True``."""
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    corners = np.array([[-0.5 * w, -0.5 * h], [-0.5 * w, 0.5 * h], [0.5 * w, 0.5 * h],
                        [0.5 * w, -0.5 * h]])
    inv = np.array([[cos, -sin], [sin, cos]], np.float32)
    pts = corners.astype(np.float32) @ inv.T
    lo = pts.min(0) + (0.5 * w, 0.5 * h)
    hi = pts.max(0) + (0.5 * w, 0.5 * h)
    tol = 1e-4       # so that 1e-15 above an integer does not round up a whole pixel
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _rotate(ims: Images, angles: Sequence[float] | np.ndarray,
            mode: InterpolationMode = InterpolationMode.NEAREST, expand: bool = False,
            center: Sequence[float] | None = None,
            fill: float | Sequence[float] | None = None) -> Images:
    """Rotate image m by angles[m] degrees counter-clockwise (one angle: all images)."""
    a, back = _float_work(ims.data)
    angles = np.asarray(angles, np.float64).reshape(-1)
    m, c, h, w = a.shape
    oh, ow = h, w
    if expand:
        if angles.size != 1:
            raise ValueError("rotate: expand=True needs one angle for all images (the output "
                             "size depends on it)")
        ow, oh = _expanded_size(float(angles[0]), w, h)
    cx, cy = (0.0, 0.0) if center is None else (center[0] - 0.5 * w, center[1] - 0.5 * h)
    rad = np.deg2rad(angles)[:, None, None]
    cos, sin = np.cos(rad), np.sin(rad)
    dx = (np.arange(ow) - (ow - 1) / 2.0)[None, None, :] - cx     # output pixel centres,
    dy = (np.arange(oh) - (oh - 1) / 2.0)[None, :, None] - cy     # relative to the centre
    ix = cos * dx - sin * dy + cx + (w - 1) / 2.0
    iy = sin * dx + cos * dy + cy + (h - 1) / 2.0
    out, mask = _sample(a, ix, iy, mode)
    per = _fill_per_channel(fill, c, a.dtype, "rotate")
    if per is not None:
        if mode is InterpolationMode.NEAREST:
            out = np.where(mask < 0.5, per, out)
        else:
            out = out * mask + (1 - mask) * per
    return ims.replace(back(out))


def rotate(img: ImageLike, angle: float,
           interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[float] | None = None,
           fill: float | Sequence[float] | None = None) -> ImageLike:
    """The image rotated by ``angle`` degrees counter-clockwise about its centre (or
    ``center`` (x, y), origin the top-left corner); ``expand`` grows the output to hold the
    whole rotated image; outside points are zeros, or ``fill`` (see the module docstring)."""
    mode = interpolation_mode(interpolation, "rotate")
    return _rotate(Images.of(img, "rotate"), [angle], mode, expand, center, fill).image()


# ------------------------------------------------------------------ resize
def _bilinear_weights(n_in: int, n_out: int, antialias: bool) -> np.ndarray:
    """(n_out, n_in) weights: the triangle filter at output centres (i + 0.5) * scale,
    widened by the scale when shrinking with antialias, each row summing to one."""
    scale = n_in / n_out
    widen = antialias and scale > 1.0
    support = scale if widen else 1.0
    inv = 1.0 / scale if widen else 1.0
    centre = (np.arange(n_out) + 0.5) * scale
    lo = np.maximum((centre - support + 0.5).astype(np.int64), 0)
    hi = np.minimum((centre + support + 0.5).astype(np.int64), n_in)
    j = np.arange(n_in)
    wts = np.maximum(0.0, 1.0 - np.abs((j[None, :] - centre[:, None] + 0.5) * inv))
    wts *= (j[None, :] >= lo[:, None]) & (j[None, :] < hi[:, None])
    return wts / wts.sum(1, keepdims=True)


def output_size(h: int, w: int, size: IntTuple, max_size: int | None = None) -> tuple[int, int]:
    """torchvision's (new_h, new_w): an int ``size`` sets the shorter side and keeps the
    aspect ratio (the longer side at most ``max_size``); (h, w) sets both."""
    sz: Any = size      # checked here: an int, or 1 or 2 ints
    if isinstance(sz, (tuple, list)) and len(sz) == 2:
        return int(sz[0]), int(sz[1])
    requested = sz if isinstance(sz, _NUMBER) else sz[0]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = int(requested), int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                             f"size for the smaller edge size = {sz}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


def _resize(ims: Images, size: IntTuple, mode: InterpolationMode = InterpolationMode.BILINEAR,
            max_size: int | None = None, antialias: bool = True) -> Images:
    h, w = ims.data.shape[-2:]
    oh, ow = output_size(h, w, size, max_size)
    if (oh, ow) == (h, w):
        return ims
    if mode is InterpolationMode.NEAREST:
        # tensors: floor(i * scale) (PyTorch's "nearest"); arrays: PIL's pixel centres
        offset = 0.0 if ims.tensor else 0.5
        rows = np.minimum(np.floor((np.arange(oh) + offset) * (h / oh)).astype(np.int64), h - 1)
        cols = np.minimum(np.floor((np.arange(ow) + offset) * (w / ow)).astype(np.int64), w - 1)
        return ims.replace(ims.data[..., rows[:, None], cols[None, :]])
    a, back = _float_work(ims.data)
    wh = _bilinear_weights(h, oh, antialias).astype(a.dtype)
    ww = _bilinear_weights(w, ow, antialias).astype(a.dtype)
    return ims.replace(back(wh @ a @ ww.T))


def resize(img: ImageLike, size: IntTuple,
           interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool = True) -> ImageLike:
    """The image resized to ``size`` ((h, w), or an int for the shorter side)."""
    mode = interpolation_mode(interpolation, "resize")
    return _resize(Images.of(img, "resize"), size, mode, max_size, antialias).image()
