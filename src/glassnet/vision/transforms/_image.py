"""``Images``: one image or a batch of them as a channel-first (M, C, H, W) array, plus what
it takes to give them back in the form they came in.

An image reaches a transform in one of three forms, as in torchvision:

* a glassnet Tensor, (..., C, H, W) or (H, W): the "tensor image";
* a NumPy array (H, W) or (H, W, C), usually uint8: glassnet's stand-in for a PIL image
  (what ``glassnet.vision.datasets`` returns, what ``ToTensor`` expects);
* a PIL image, when Pillow happens to be installed (converted to such an array and back).

Every transform works on the (M, C, H, W) array, so one code path serves a single image
(M = 1, or a tensor's leading dimensions flattened) and a batch of dataset samples (M = N,
each with its own random parameters).
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor

from typing import Any

# an image as the transforms take and give it: a Tensor (..., C, H, W), a NumPy array (H, W)
# or (H, W, C), or a PIL image (Pillow is optional, so its class is not named: Any)
ImageLike = Any


__all__ = ["Images", "is_pil"]


def is_pil(x: object) -> bool:
    """Whether ``x`` is a PIL image (checked without importing Pillow)."""
    return type(x).__module__.split(".")[0] == "PIL" and hasattr(x, "mode")


# PIL modes that are not 8-bit, with the NumPy type torchvision reads them as
_PIL_TYPES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


class Images:
    """``data`` (M, C, H, W); ``tensor`` says whether these are tensor images (after
    ``ToTensor``) or array / PIL images; ``form`` remembers how to give them back."""

    __slots__ = ("data", "tensor", "form", "lead")
    data: np.ndarray
    tensor: bool
    form: str | tuple[str, str]
    lead: tuple[int, ...] | None

    def __init__(self, data: np.ndarray, tensor: bool, form: str | tuple[str, str],
                 lead: tuple[int, ...] | None = ()) -> None:
        self.data = data
        self.tensor = tensor
        # "hw" / "hwc" (an array), ("pil", mode), "tensor", "chw" (an array after ToTensor),
        # "batch-hw" / "batch-hwc" / "batch-chw" (dataset samples)
        self.form = form
        self.lead = lead      # a tensor image's leading shape, restored on the way out

    # ------------------------------------------------------------------ in
    @classmethod
    def of(cls, img: ImageLike, where: str) -> Images:
        """One image in any of the three forms."""
        if isinstance(img, Tensor):
            a = img._data
            if a.ndim < 2:
                raise ValueError(f"{where}: a tensor image needs at least 2 dimensions "
                                 f"(..., H, W), got shape {tuple(a.shape)}")
            if a.ndim == 2:
                return cls(a[None, None], True, "tensor", None)
            return cls(a.reshape((-1,) + a.shape[-3:]), True, "tensor", a.shape[:-3])
        if is_pil(img):
            a = np.array(img, _PIL_TYPES.get(img.mode, np.uint8))
            if img.mode == "1":
                a = a.astype(np.uint8) * np.uint8(255)
            return cls._array(a, ("pil", img.mode), where)
        if isinstance(img, np.ndarray):
            return cls._array(img, "hwc" if img.ndim == 3 else "hw", where)
        raise TypeError(f"{where}: img should be a glassnet Tensor, a NumPy array (H, W) or "
                        f"(H, W, C), or a PIL image; got {type(img).__name__}")

    @classmethod
    def _array(cls, a: np.ndarray, form: str | tuple[str, str], where: str) -> Images:
        if a.ndim == 2:
            return cls(a[None, None], False, form)
        if a.ndim == 3:
            return cls(a.transpose(2, 0, 1)[None], False, form)
        raise ValueError(f"{where}: pic should be 2/3 dimensional. Got {a.ndim} dimensions.")

    @classmethod
    def stack(cls, arrays: np.ndarray) -> Images:
        """N array images stacked: (N, H, W) or (N, H, W, C), as a dataset holds them."""
        if arrays.ndim == 3:
            return cls(arrays[:, None], False, "batch-hw")
        return cls(arrays.transpose(0, 3, 1, 2), False, "batch-hwc")

    # ------------------------------------------------------------------ out
    def replace(self, data: np.ndarray) -> Images:
        return Images(data, self.tensor, self.form, self.lead)

    def as_tensor_images(self, data: np.ndarray) -> Images:
        """What ``ToTensor`` makes of array images: tensor images (C, H, W) each."""
        return Images(data, True, "batch-chw" if str(self.form).startswith("batch") else "chw")

    def image(self) -> ImageLike:
        """Back in the form the image came in (after ``ToTensor``: a (C, H, W) Tensor).
        Tensors come out C-contiguous (a flip or a crop may have left a strided view)."""
        a, form = self.data, self.form
        if form == "batch-hw":
            return Tensor(np.ascontiguousarray(a[:, 0]))
        if form == "batch-hwc":
            return Tensor(np.ascontiguousarray(a.transpose(0, 2, 3, 1)))
        if form == "batch-chw":
            return Tensor(np.ascontiguousarray(a))
        if form == "chw":
            return Tensor(np.ascontiguousarray(a[0]))
        if form == "tensor":
            out = a[0, 0] if self.lead is None else a.reshape(tuple(self.lead) + a.shape[1:])
            return Tensor(np.ascontiguousarray(out))
        if form == "hw" or (isinstance(form, tuple) and a.shape[1] == 1):
            out = a[0, 0]
        else:
            out = a[0].transpose(1, 2, 0)
        if isinstance(form, tuple):
            return _to_pil(np.ascontiguousarray(out), form[1])
        return out


def _to_pil(a: np.ndarray, mode: str) -> Any:
    from PIL import Image   # noqa: PLC0415  (only reached when a PIL image came in)
    if mode == "1":
        return Image.fromarray(a > 127)
    if mode in _PIL_TYPES:
        return Image.fromarray(a.astype(_PIL_TYPES[mode], copy=False))
    return Image.fromarray(a.astype(np.uint8, copy=False))
