"""Convolution layers: ``Conv1d`` and ``Conv2d`` (PyTorch names, arguments and weight layout).

Output size per axis: floor((N - F + 2P) / S) + 1 (with dilation d, F becomes d(F-1)+1).
A kernel that does not tile the input exactly (7x7 input, 3x3 kernel, stride 3:
(7 - 3) / 3 + 1 = 2.33) is floored as in PyTorch, and the layer says so once with a
:class:`glassnet.errors.ShapeWarning` showing that arithmetic; ``strict=True`` on a layer,
or ``nn.set_strict_shapes(True)`` for every layer, makes it an error instead. The pooling
layers do the same.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..errors import ShapeWarning
from ..functional import conv as C
from ..validation import check_int, check_ints, check_pair
from . import init
from .module import Module, Parameter

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # annotations only
    from types import FrameType

    from glassnet.functional.conv import Conv2dFunction
    from glassnet._typing import DTypeLike
    from glassnet._typing import IntTuple
    from glassnet.autograd.tensor import Tensor


__all__ = ["Conv1d", "Conv2d", "set_strict_shapes", "get_strict_shapes"]


def set_strict_shapes(flag: bool = True) -> None:
    """Make every conv and pooling layer check that its kernel fits the input exactly.

    >>> nn.set_strict_shapes(True)   # 3x3 on 7x7 with stride 3 now raises: (7 - 3)/3 + 1 = 2.33
    >>> nn.get_strict_shapes()
    True
    >>> nn.set_strict_shapes(False)  # back to PyTorch's flooring (and this doctest leaves no trace)
    """
    backend.config.set("strict_shapes", bool(flag))


def get_strict_shapes() -> bool:
    """Whether the global strict-shapes switch is on."""
    return backend.config.get("strict_shapes")


def warn_floor(layer: Module, label: str, notes: list[str | None]) -> None:
    """Warn (a :class:`~glassnet.errors.ShapeWarning`, once per layer: the first input that
    does not fit) when ``notes`` (from :func:`glassnet.functional.conv.floor_note`, one per
    spatial axis) say the kernel and stride do not tile the input."""
    found = [n for n in notes if n]
    if not found or layer.__dict__.get("_floor_warned", False):
        return
    layer.__dict__["_floor_warned"] = True
    warnings.warn(f"{label}: the kernel and stride do not tile the input: " + "; ".join(found)
                  + ". The output size is floored (as in PyTorch); change padding or stride "
                  "to use every position, or pass strict=True (nn.set_strict_shapes(True) for "
                  "every layer) to make this an error. This layer warns only once.",
                  ShapeWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside glassnet (the user's line that ran the
    layer), so the warning points there."""
    import os
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame: "FrameType | None" = sys._getframe(2)   # 1: warn_floor, 2: its caller
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame, level = frame.f_back, level + 1
    return level


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the checks of their arguments (``n`` spatial axes),
    and a forward that checks the input shape and runs ``_function``."""

    _function: ClassVar[type[Conv2dFunction]]   # set by each subclass
    kernel_size: int | tuple[int, ...]
    stride: int | tuple[int, ...]
    dilation: int | tuple[int, ...]

    def _check_args(self, n: int, in_channels: int, out_channels: int, kernel_size: IntTuple,
                    stride: IntTuple, dilation: IntTuple, groups: int) -> None:
        name = type(self).__name__
        self.in_channels = check_int(in_channels, "in_channels", name)
        self.out_channels = check_int(out_channels, "out_channels", name)
        self.groups = C.check_groups(groups, self.in_channels, self.out_channels, name)
        sizes = [check_ints(v, arg, name, n, min=1) for arg, v in
                 (("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation))]
        # Conv1d keeps plain ints (PyTorch keeps 1-tuples; glassnet's files store ints)
        self.kernel_size, self.stride, self.dilation = (s if n > 1 else s[0] for s in sizes)

    def forward(self, x: Tensor) -> Tensor:
        self.output_shape(x.shape)
        return self._function.apply(*((x, self.weight) if self.bias is None else
                                      (x, self.weight, self.bias)),
                                    stride=self.stride, pads=self._pads, dilation=self.dilation,
                                    groups=self.groups)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) -> (N, C_out, Ho, Wo).

    out = b + sum_{c,i,j} W[o, c, i, j] * x[n, c, y*s + i*d, x*s + j*d]; weight
    (out_channels, in_channels / groups, kh, kw), initialised like PyTorch (Kaiming
    uniform, a=sqrt(5)). ``padding``: int, (ph, pw), 'valid', 'same' or 'full'.

    ``groups`` G (both channel counts divisible by it) splits the convolution into G
    independent ones, as PyTorch's: output channels [g O/G, (g+1) O/G) see only input
    channels [g C/G, (g+1) C/G). ``groups=in_channels`` is a depthwise convolution (one
    kernel per input slice; ``out_channels = k * in_channels`` gives k maps per slice, the
    depth multiplier k).

    >>> conv = nn.Conv2d(3, 10, 5, padding=2)
    >>> conv.output_shape((1, 3, 32, 32)), conv.num_parameters()
    ((1, 10, 32, 32), 760)
    >>> depthwise = nn.Conv2d(8, 16, 3, padding=1, groups=8)      # depth multiplier 2
    >>> depthwise.weight.shape, depthwise(gn.randn(2, 8, 5, 5)).shape
    ((16, 1, 3, 3), (2, 16, 5, 5))
    """

    _function = C.Conv2dFunction
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntTuple, stride: IntTuple = 1, padding: IntTuple | str = 0,
                 dilation: IntTuple = 1, groups: int = 1, bias: bool = True, strict: bool = False,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        name = type(self).__name__
        self._check_args(2, in_channels, out_channels, kernel_size, stride, dilation, groups)
        self.padding = padding if isinstance(padding, str) else check_pair(padding, "padding",
                                                                           name)
        self._pads = C.resolve_padding(self.padding, self.kernel_size, self.dilation,
                                       self.stride, name)
        self.strict = bool(strict)
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        xp = backend.xp()
        self.weight = Parameter(backend.allocate(
            (out_channels, in_channels // self.groups) + self.kernel_size, dt, f"{name}.weight",
            xp=xp))
        self.bias = Parameter(backend.allocate((out_channels,), dt, f"{name}.bias", xp=xp)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _label(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _out_hw(self, H: int, W: int) -> tuple[int, int]:
        label = self._label()
        strict = self.strict or get_strict_shapes()
        kh, kw = self.kernel_size
        pt, pb, pl, pr = self._pads
        Ho = C.conv_output_size(H, kh, self.stride[0], pt, pb, self.dilation[0], label, "height",
                                strict)
        Wo = C.conv_output_size(W, kw, self.stride[1], pl, pr, self.dilation[1], label, "width",
                                strict)
        warn_floor(self, label, [C.floor_note(H, kh, self.stride[0], pt, pb, self.dilation[0],
                                              "height"),
                                 C.floor_note(W, kw, self.stride[1], pl, pr, self.dilation[1],
                                              "width")])
        return Ho, Wo

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        """The output shape for ``input_shape`` (N, C, H, W), computed without running."""
        shape = tuple(input_shape)
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ValueError(f"{self._label()}: expected input shape (N, {self.in_channels}, H, W)"
                             f", got {shape}")
        return (shape[0], self.out_channels) + self._out_hw(shape[2], shape[3])

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self._pads != (0, 0, 0, 0):
            p = self.padding
            s += f", padding={p if isinstance(p, str) else repr(p)}"   # torch: padding=same
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, Lo); weight (out, in / groups, k).

    ``padding``: int, 'valid', 'same' or 'full'; ``groups`` as in :class:`Conv2d`.

    >>> nn.Conv1d(4, 8, 3, padding="same")(gn.randn(2, 4, 50)).shape
    (2, 8, 50)
    """

    _function = C.Conv1dFunction
    kernel_size: int   # plain ints (PyTorch keeps 1-tuples; glassnet's files store ints)
    stride: int
    dilation: int

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntTuple, stride: IntTuple = 1, padding: IntTuple | str = 0,
                 dilation: IntTuple = 1, groups: int = 1, bias: bool = True, strict: bool = False,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        name = type(self).__name__
        self._check_args(1, in_channels, out_channels, kernel_size, stride, dilation, groups)
        self.padding = (padding if isinstance(padding, str) else
                        check_ints(padding, "padding", name, 1, min=0)[0])
        self._pads = C.resolve_padding(self.padding, (1, self.kernel_size), (1, self.dilation),
                                       (1, self.stride), name)[2:]
        self.strict = bool(strict)
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        xp = backend.xp()
        self.weight = Parameter(backend.allocate(
            (out_channels, in_channels // self.groups, self.kernel_size), dt, f"{name}.weight",
            xp=xp))
        self.bias = Parameter(backend.allocate((out_channels,), dt, f"{name}.bias", xp=xp)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_channels // self.groups * self.kernel_size)
            init.uniform_(self.bias, -bound, bound)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        """The output shape for ``input_shape`` (N, C, L), computed without running."""
        shape = tuple(input_shape)
        label = f"{type(self).__name__}({self.extra_repr()})"
        if len(shape) != 3 or shape[1] != self.in_channels:
            raise ValueError(f"{label}: expected input shape (N, {self.in_channels}, L), "
                             f"got {shape}")
        Lo = C.conv_output_size(shape[2], self.kernel_size, self.stride, self._pads[0],
                                self._pads[1], self.dilation, label, "length",
                                self.strict or get_strict_shapes())
        warn_floor(self, label, [C.floor_note(shape[2], self.kernel_size, self.stride,
                                              self._pads[0], self._pads[1], self.dilation,
                                              "length")])
        return (shape[0], self.out_channels, Lo)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size=({self.kernel_size},), "
             f"stride=({self.stride},)")
        if self._pads != (0, 0):
            p = self.padding
            s += f", padding={p if isinstance(p, str) else (p if isinstance(p, tuple) else (p,))}"
        if self.dilation != 1:
            s += f", dilation=({self.dilation},)"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
