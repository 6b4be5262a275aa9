"""Fixed (hand-designed) image kernels, as arrays and as a non-learnable conv layer.

Apply one to an image with ``functional.conv2d(image, kernel)``, or use
``FixedConv2d("sobel_x")`` as a layer (its weight is a buffer, not a parameter).

>>> from glassnet.nn import kernels
>>> edges = gn.functional.conv2d(image, kernels.sobel_x(), padding=1)  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..functional import conv as C
from ..validation import check_int, check_pair, lookup
from .module import Module

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import IntTuple
    from glassnet.autograd.tensor import Tensor
    import numpy.typing as npt


__all__ = ["sobel_x", "sobel_y", "vertical_line", "horizontal_line", "gabor", "blur",
           "sharpen", "emboss", "corner", "get_kernel", "FixedConv2d"]


def sobel_x() -> np.ndarray:
    """Sobel operator for horizontal change (responds to vertical edges)."""
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)


def sobel_y() -> np.ndarray:
    """Sobel operator for vertical change (responds to horizontal edges)."""
    return sobel_x().T.copy()


def _line_centre(centre: float, who: str) -> float:
    if isinstance(centre, bool) or not isinstance(centre, (int, float, np.integer, np.floating)) \
            or not np.isfinite(centre):
        raise ValueError(f"{who}: centre must be a finite number (2 for the zero-sum detector, "
                         f"1 for the lectures' form), got {centre!r}")
    return float(centre)


def vertical_line(centre: float = 2.0) -> np.ndarray:
    """Responds to a bright one-pixel vertical line on a dark background: a middle column
    of ``centre`` between two columns of -1.

    The default, ``centre=2``, sums to 0, so flat regions of any brightness give 0 and
    only a line stands out (a one-pixel line of brightness 1 gives 6). ``centre=1`` is the
    lectures' vertical line detector, (-1, 1, -1) in every row; it sums to -3, so a flat
    region of brightness b gives -3b and the line gives 3.

    >>> vertical_line(1).tolist()[0]
    [-1.0, 1.0, -1.0]
    """
    c = _line_centre(centre, "vertical_line")
    return np.array([[-1, c, -1], [-1, c, -1], [-1, c, -1]], np.float32)


def horizontal_line(centre: float = 2.0) -> np.ndarray:
    """Responds to a bright one-pixel horizontal line on a dark background: the transpose of
    :func:`vertical_line` (``centre=1``: the lectures' horizontal line detector, rows
    (-1, -1, -1), (1, 1, 1), (-1, -1, -1))."""
    return vertical_line(_line_centre(centre, "horizontal_line")).T.copy()


def emboss(direction: str = "bottom_right") -> np.ndarray:
    """Emboss: differences along a diagonal plus the pixel itself (sums to 1), so flat
    regions keep their value and edges turn into light and dark relief, as if lit from
    the opposite corner. ``direction``: the corner of the positive weights,
    "bottom_right" (default: [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]), "bottom_left",
    "top_left" or "top_right".

    >>> emboss().tolist()[0]
    [-2.0, -1.0, 0.0]
    """
    k = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32)
    turns = {"bottom_right": 0, "top_right": 1, "top_left": 2, "bottom_left": 3}
    return np.ascontiguousarray(np.rot90(k, lookup(direction, turns, "direction", "emboss")))


def corner(direction: str = "bottom_right") -> np.ndarray:
    """Corner detector: responds to the corner of a bright one-pixel L, whose two arms
    leave the centre towards ``direction`` ("bottom_right" by default: one arm to the right,
    one downwards; also "bottom_left", "top_left", "top_right"). The centre and the two
    arm pixels weigh 2, the six others -1, so the kernel sums to 0: flat regions give 0,
    a straight one-pixel line through the centre 3, and the corner itself 6.

    >>> corner().tolist()
    [[-1.0, -1.0, -1.0], [-1.0, 2.0, 2.0], [-1.0, 2.0, -1.0]]
    """
    k = np.array([[-1, -1, -1], [-1, 2, 2], [-1, 2, -1]], np.float32)
    turns = {"bottom_right": 0, "top_right": 1, "top_left": 2, "bottom_left": 3}
    return np.ascontiguousarray(np.rot90(k, lookup(direction, turns, "direction", "corner")))


def blur(size: int = 3) -> np.ndarray:
    """Box blur: a size x size kernel of 1 / size^2."""
    check_int(size, "size", "blur")
    return backend.allocate((size, size), np.float32, "blur", fill=1.0 / (size * size))


def sharpen() -> np.ndarray:
    """Sharpen: 5 x centre minus the four neighbours (sums to 1)."""
    return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)


def gabor(theta: float = 0.0, sigma: float = 2.0, lambd: float = 4.0, psi: float = 0.0,
          gamma: float = 0.5, size: int = 7) -> np.ndarray:
    """Gabor kernel g(x, y) = exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) cos(2 pi x' / lambd + psi),
    x' = x cos(theta) + y sin(theta), y' = -x sin(theta) + y cos(theta); (size, size)."""
    check_int(size, "size", "gabor")
    backend.reserve((4, size, size), np.float64, "gabor")     # the grids and their products
    if sigma <= 0 or lambd <= 0:
        raise ValueError(f"gabor: sigma and lambd must be > 0, got {sigma}, {lambd}")
    half = (size - 1) / 2.0
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) - half
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-(xr ** 2 + gamma ** 2 * yr ** 2) / (2 * sigma ** 2))
    g *= np.cos(2 * np.pi * xr / lambd + psi)
    return g.astype(np.float32)


_NAMED = {"sobel_x": sobel_x, "sobel_y": sobel_y, "vertical_line": vertical_line,
          "horizontal_line": horizontal_line, "blur": blur, "sharpen": sharpen, "gabor": gabor,
          "emboss": emboss, "corner": corner}


def get_kernel(name: str | npt.ArrayLike, **params: Any) -> np.ndarray:
    """A named kernel (``'sobel_x'``, ``'sobel_y'``, ``'vertical_line'``, ``'horizontal_line'``,
    ``'blur'``, ``'sharpen'``, ``'gabor'``, ``'emboss'``, ``'corner'``) built with
    ``params``; arrays pass through."""
    if not isinstance(name, str):
        k = np.asarray(name, dtype=np.float32)
        if k.ndim != 2:
            raise ValueError(f"get_kernel: a kernel array must be 2-D, got shape {k.shape}")
        return k
    return lookup(name, _NAMED, "kernel", "get_kernel")(**params)


def _as_list(kernels: str | Sequence[Any] | np.ndarray) -> list[Any]:
    """One kernel (a name or a 2-D array/list) or several, as a list."""
    if isinstance(kernels, str):
        return [kernels]
    try:
        a = np.asarray(kernels, dtype=np.float64)
    except (ValueError, TypeError):
        return list(kernels)
    if a.ndim == 2:
        return [a]
    if a.ndim == 3:
        return list(a)
    raise ValueError(f"FixedConv2d: kernels must be a name, a 2-D kernel or a list of them, "
                     f"got an array of shape {a.shape}")


class FixedConv2d(Module):
    """A convolution with fixed kernels: (N, C, H, W) -> (N, K, Ho, Wo).

    ``kernels``: a name, a 2-D list, or a list of names/2-D lists (all the same size).
    Each kernel is applied to every input channel and the results averaged, so a
    grayscale image gives one map per kernel. The weight is a buffer (saved, not trained).

    >>> layer = nn.FixedConv2d(["sobel_x", "sobel_y"], padding=1)
    >>> layer(gn.randn(2, 1, 28, 28)).shape
    (2, 2, 28, 28)
    """

    def __init__(self, kernels: str | Sequence[Any] | np.ndarray, in_channels: int = 1,
                 stride: IntTuple = 1,
                 padding: IntTuple | str = 0, params: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        params = dict(params or {})
        kernels = _as_list(kernels)
        ks = [get_kernel(k, **(params if isinstance(k, str) and k == "gabor" else {}))
              for k in kernels]
        if len({k.shape for k in ks}) != 1:
            raise ValueError(f"FixedConv2d: all kernels must have the same size, got "
                             f"{[k.shape for k in ks]}")
        self.in_channels = int(in_channels)
        self.stride = check_pair(stride, "stride", "FixedConv2d", min=1)
        self.padding = padding if isinstance(padding, str) else check_pair(padding, "padding",
                                                                           "FixedConv2d")
        backend.reserve((len(ks), self.in_channels) + ks[0].shape, np.float64,
                        "FixedConv2d.weight")
        w = np.stack(ks)[:, None] / float(self.in_channels)
        w = np.repeat(w, self.in_channels, axis=1).astype(backend.get_default_dtype())
        self.register_buffer("weight", w)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"FixedConv2d: expected input (N, {self.in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        w = self.weight._data.astype(x.dtype, copy=False)
        return C.conv2d(x, w, None, self.stride, self.padding, name="FixedConv2d")
