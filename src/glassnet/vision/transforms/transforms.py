"""Transforms in torchvision's shape: ``Compose``, ``ToTensor``, ``Normalize``, ``Lambda``,
``RandomCrop``, ``RandomHorizontalFlip``, ``RandomVerticalFlip``, ``RandomRotation``,
``Resize``, ``CenterCrop``, ``Pad``, ``Grayscale``, ``ConvertImageDtype``.

A transform is called on one image (``t(img)`` runs ``t.forward(img)``); the formulas are in
:mod:`.functional`. The random ones draw from glassnet's generator, so
``glassnet.manual_seed`` makes them reproducible (in DataLoader workers each worker's
generator is seeded differently, see :mod:`glassnet.utils.data.worker`).

Whole batches. A transform that is this module's own (``forward`` not overridden) also
takes a batch of images at once, each with its own random parameters: a random transform
takes ``draws`` uniform numbers per image from the generator, and a batch of N draws an
(N, draws) block in one call, which is exactly the sequence N single calls would draw.
``batched(transform)`` gives that batch version of a transform or a ``Compose`` of them
(None for anything else, e.g. a ``Lambda``); datasets use it so the DataLoader
transforms a whole batch in a few array operations, with the same numbers as image by image.

Example
-------
>>> t = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
>>> t(np.zeros((28, 28), np.uint8)).shape
(1, 28, 28)
"""
from __future__ import annotations

import numbers

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor
from . import functional as F
from ._image import Images, ImageLike

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt  # annotations only
    from glassnet._typing import IntTuple


__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "Resize", "CenterCrop", "Pad", "Grayscale",
           "ConvertImageDtype", "batched"]


class Transform:
    """Base of this module's transforms: ``t(img)`` is ``t.forward(img)``, which runs
    ``_apply`` on the image with ``draws`` uniform numbers from glassnet's generator."""

    draws = 0            # uniform [0, 1) numbers taken from the generator per image
    batchable = True     # can run on a whole batch of dataset images at once

    def __call__(self, img: ImageLike) -> ImageLike:
        return self.forward(img)

    def forward(self, img: ImageLike) -> ImageLike:
        ims = Images.of(img, type(self).__name__)
        u = backend.rng().random((1, self.draws)) if self.draws else None
        return self._apply(ims, u).image()

    def _apply(self, ims: Images, u: Any) -> Images:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


def _own(t: object) -> bool:
    """Whether ``t`` runs this module's code unchanged (a subclass may add attributes but
    must not override how it transforms)."""
    cls = type(t)
    return isinstance(t, Transform) and all(
        getattr(cls, name).__module__ == __name__ for name in ("__call__", "forward", "_apply"))


class Compose:
    """Apply ``transforms`` one after the other.

    Example
    -------
    >>> Compose([ToTensor(), Lambda(lambda x: x * 2)])           # doctest: +ELLIPSIS
    Compose(...
    """

    def __init__(self, transforms: Iterable[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: ImageLike) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """A user function as a transform (always image by image)."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got "
                            f"{type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: ImageLike) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToTensor(Transform):
    """uint8 (H, W) / (H, W, C) array or PIL image -> float (C, H, W) Tensor = x / 255;
    other dtypes are transposed to (C, H, W) and not scaled (torchvision's rule)."""

    def forward(self, img: ImageLike) -> Tensor:
        # the per-sample path of a torchvision-style Dataset: one 2-D uint8 array in, one
        # (1, H, W) float Tensor out, in one ufunc call (the general path below handles
        # PIL images, (H, W, C) arrays and the errors)
        if type(img) is np.ndarray and img.ndim == 2 and img.dtype == np.uint8:
            dtype = backend.get_default_dtype()
            out = np.empty((1,) + img.shape, dtype)
            np.divide(img, dtype.type(255), out=out[0], dtype=dtype)
            return Tensor(out)
        return Transform.forward(self, img)

    def _apply(self, ims: Images, u: Any) -> Images:
        return F._to_tensor(ims)


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel of a float tensor image (..., C, H, W).

    Example
    -------
    >>> Normalize((0.5,), (0.5,))(ToTensor()(np.full((2, 2), 255, np.uint8))).tolist()
    [[[1.0, 1.0], [1.0, 1.0]]]
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float],
                 inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace
        self._cache: tuple[Any, ...] | None = None   # (mean, std, dtype, channels) -> the checked (C, 1, 1) arrays

    def forward(self, tensor: Tensor) -> Tensor:
        # one image after another with the same mean / std: check and shape them once
        a = tensor._data if isinstance(tensor, Tensor) else None
        if a is not None and a.ndim == 3 and a.dtype.kind == "f":
            c = self.__dict__.get("_cache")
            if c is None or c[0] is not self.mean or c[1] is not self.std or \
                    c[2] != a.dtype or c[3] != a.shape[0]:
                m, s = F._normalize_array(a, self.mean, self.std, "Normalize")
                c = self._cache = (self.mean, self.std, a.dtype, a.shape[0], m, s)
            out = a if self.inplace else np.empty_like(a)
            np.subtract(a, c[4], out=out)
            np.divide(out, c[5], out=out)
            return tensor if self.inplace else Tensor(out)
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def _apply(self, ims: Images, u: Any) -> Images:
        return F._normalize(ims, self.mean, self.std, self.inplace)

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Grayscale(Transform):
    """An RGB image in grayscale (ITU-R 601-2 luma; see
    :func:`.functional.rgb_to_grayscale`): one channel, or the gray value in three with
    ``num_output_channels=3``. Tensor images keep their dtype; (H, W, 3) arrays and PIL
    images get Pillow's "L" conversion and come back as (H, W) / "L".

    Example
    -------
    >>> Grayscale()(np.full((2, 2, 3), 200, np.uint8)).shape
    (2, 2)
    """

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels should be either 1 or 3, got "
                             f"{num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def _apply(self, ims: Images, u: object) -> Images:
        return F._rgb_to_grayscale(ims, self.num_output_channels, "Grayscale")

    def extra_repr(self) -> str:
        return f"num_output_channels={self.num_output_channels}"


class ConvertImageDtype:
    """A tensor image in another dtype, rescaled to its range
    (:func:`.functional.convert_image_dtype`; uint8 <-> float is x / 255 and back).

    Example
    -------
    >>> ConvertImageDtype(np.float32)(gn.tensor(np.full((1, 2, 2), 255, np.uint8))).max().item()
    1.0
    """

    def __init__(self, dtype: npt.DTypeLike) -> None:
        self.dtype = np.dtype(dtype)

    def __call__(self, image: Tensor) -> Tensor:
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype})"


class Pad(Transform):
    """Pad by ``padding`` with ``fill`` ("constant") or by "edge", "reflect", "symmetric"."""

    def __init__(self, padding: IntTuple | str, fill: float | Sequence[float] | None = 0,
                 padding_mode: str = "constant") -> None:
        F.parse_padding(padding, "Pad")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def _apply(self, ims: Images, u: Any) -> Images:
        return F._pad(ims, self.padding, self.fill, self.padding_mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"


class CenterCrop(Transform):
    """The central ``size`` window (zeros around an image smaller than it)."""

    def __init__(self, size: IntTuple) -> None:
        self.size = F.setup_size(size, "CenterCrop")

    def _apply(self, ims: Images, u: Any) -> Images:
        return F._center_crop(ims, self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class RandomCrop(Transform):
    """A random ``size`` window, after ``padding`` (and, with ``pad_if_needed``, padding an
    image smaller than ``size``). Top-left corner: (floor(u0 (H - h + 1)), floor(u1 (W - w
    + 1))) for two uniform draws u0, u1, i.e. uniform over the valid positions.

    Example
    -------
    >>> RandomCrop(28, padding=4)(np.zeros((28, 28), np.uint8)).shape
    (28, 28)
    """

    draws = 2

    def __init__(self, size: IntTuple, padding: IntTuple | str | None = None,
                 pad_if_needed: bool = False, fill: float | Sequence[float] | None = 0,
                 padding_mode: str = "constant") -> None:
        self.size = F.setup_size(size, "RandomCrop")
        if padding is not None:
            F.parse_padding(padding, "RandomCrop")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img: ImageLike, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, h, w) of a random crop of ``output_size`` from ``img``."""
        h, w = Images.of(img, "RandomCrop").data.shape[-2:]
        th, tw = output_size
        return (*RandomCrop._corner(h, w, th, tw, backend.rng().random((1, 2))), th, tw)

    @staticmethod
    def _corner(h: int, w: int, th: int, tw: int, u: np.ndarray) -> tuple[Any, Any]:
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        tops = np.minimum((u[:, 0] * (h - th + 1)).astype(np.int64), h - th)
        lefts = np.minimum((u[:, 1] * (w - tw + 1)).astype(np.int64), w - tw)
        return tops, lefts

    def _apply(self, ims: Images, u: Any) -> Images:
        if self.padding is not None:
            ims = F._pad(ims, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        h, w = ims.data.shape[-2:]
        if self.pad_if_needed and w < tw:
            ims = F._pad(ims, [tw - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            ims = F._pad(ims, [0, th - h], self.fill, self.padding_mode)
        h, w = ims.data.shape[-2:]
        tops, lefts = self._corner(h, w, th, tw, u)
        return F._crop_at(ims, tops, lefts, th, tw)

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p`` (one uniform draw u: flip when u < p)."""

    draws = 1

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def _apply(self, ims: Images, u: Any) -> Images:
        return F._hflip_where(ims, u[:, 0] < self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability ``p``."""

    draws = 1

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def _apply(self, ims: Images, u: Any) -> Images:
        flags = u[:, 0] < self.p
        a = ims.data
        if flags.size == 1:
            return ims.replace(a[..., ::-1, :]) if flags[0] else ims
        out = a.copy()
        out[flags] = a[flags, ..., ::-1, :]
        return ims.replace(out)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomRotation(Transform):
    """Rotate by an angle uniform in ``degrees`` ((-d, d) for a number d, or (lo, hi)):
    angle = lo + u (hi - lo). NEAREST (default) or BILINEAR, the area outside filled with
    ``fill`` (torchvision's mask formula, see :func:`.functional.rotate`).

    Example
    -------
    >>> RandomRotation(10)(np.zeros((28, 28), np.uint8)).shape
    (28, 28)
    """

    draws = 1

    def __init__(self, degrees: float | Sequence[float],
                 interpolation: F.InterpolationMode | str = F.InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[float] | None = None,
                 fill: float | Sequence[float] | None = 0) -> None:
        deg: Any = degrees          # checked here: a number or two
        if isinstance(deg, F._NUMBER):
            if deg < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            deg = [-float(deg), float(deg)]
        else:
            if len(deg) != 2:
                raise ValueError("If degrees is a sequence, it must be of len 2.")
            deg = [float(d) for d in deg]
        if center is not None and len(center) != 2:
            raise ValueError("If center is a sequence, it must be of len 2.")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.degrees: list[float] = deg
        self.interpolation = F.interpolation_mode(interpolation, "RandomRotation")
        self.expand, self.center, self.fill = expand, center, fill
        self.batchable = not expand     # the output size would differ between images

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        """A random angle uniform in [degrees[0], degrees[1])."""
        u = backend.rng().random()
        return float(degrees[0] + u * (degrees[1] - degrees[0]))

    def _apply(self, ims: Images, u: Any) -> Images:
        lo, hi = self.degrees
        angles = lo + u[:, 0] * (hi - lo)
        return F._rotate(ims, angles, self.interpolation, self.expand, self.center, self.fill)

    def extra_repr(self) -> str:
        return (f"degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}, fill={self.fill}")


class Resize(Transform):
    """Resize to ``size`` ((h, w), or an int for the shorter side keeping the aspect ratio),
    BILINEAR (antialiased when shrinking, as torchvision) or NEAREST."""

    def __init__(self, size: IntTuple,
                 interpolation: F.InterpolationMode | str = F.InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool = True) -> None:
        if isinstance(size, bool) or not isinstance(size, (numbers.Number, tuple, list)) \
                or (isinstance(size, (tuple, list)) and len(size) not in (1, 2)):
            raise TypeError(f"Size should be int or sequence of length 1 or 2. Got {size!r}")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = F.interpolation_mode(interpolation, "Resize")

    def _apply(self, ims: Images, u: Any) -> Images:
        return F._resize(ims, self.size, self.interpolation, self.max_size, self.antialias)

    def extra_repr(self) -> str:
        return (f"size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias}")


def _flatten(transform: Any) -> list[Transform] | None:
    if isinstance(transform, Compose) and type(transform).__call__ is Compose.__call__:
        out = []
        for t in transform.transforms:
            parts = _flatten(t)
            if parts is None:
                return None
            out += parts
        return out
    if _own(transform) and transform.batchable:
        return [transform]
    return None


def batched(transform: object) -> Callable[[Images], Images] | None:
    """The batch version of ``transform``: a function ``Images -> Images`` that transforms
    N images at once exactly as N calls would (same random numbers), or None when
    ``transform`` (or a part of a Compose) is not one of this module's batchable transforms.
    ``None`` (no transform) gives the identity."""
    if transform is None:
        return lambda ims: ims
    parts = _flatten(transform)
    if parts is None:
        return None
    k = sum(t.draws for t in parts)

    def run(ims: Images) -> Images:
        u: Any = backend.rng().random((ims.data.shape[0], k)) if k else None
        col = 0
        for t in parts:
            ims = t._apply(ims, u[:, col:col + t.draws] if t.draws else None)
            col += t.draws
        return ims
    return run
