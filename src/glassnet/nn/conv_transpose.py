"""``ConvTranspose2d``: PyTorch's transposed convolution layer (names, arguments, weight
layout (in_channels, out_channels/groups, kh, kw) and initialisation).

Output size per axis: (H - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1;
``forward(x, output_size=...)`` picks the ``output_padding`` that reaches a given size
(stride 2 maps both 13 and 14 to 7 in a convolution: the transpose needs to be told).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional import conv_transpose as CT
from ..validation import check_int, check_pair
from . import init
from .module import Module, Parameter

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from glassnet._typing import DeviceLike, DTypeLike, IntTuple
    from glassnet.autograd.tensor import Tensor


__all__ = ["ConvTranspose2d"]


class ConvTranspose2d(Module):
    """Transposed 2-D convolution (N, C_in, H, W) -> (N, C_out, Ho, Wo), the adjoint of a
    Conv2d with the same weight: each input pixel adds ``x * W[c_in, :, i, j]`` onto a
    kh x kw patch of the output, patches ``stride`` apart.

    Weight (in_channels, out_channels/groups, kh, kw) and bias (out_channels,),
    initialised like PyTorch (Kaiming uniform, a=sqrt(5), fan-in from the weight's
    second axis). ``padding`` removes ``padding`` rows/columns from each border of the
    full output; ``output_padding`` adds rows/columns at the bottom/right.

    >>> up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
    >>> up(gn.randn(2, 16, 7, 7)).shape, up.num_parameters()
    ((2, 8, 14, 14), 2056)
    >>> nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1)(gn.randn(1, 8, 7, 7),
    ...                                                 output_size=(14, 14)).shape
    (1, 4, 14, 14)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntTuple,
                 stride: IntTuple = 1, padding: IntTuple = 0, output_padding: IntTuple = 0,
                 groups: int = 1, bias: bool = True, dilation: IntTuple = 1,
                 padding_mode: str = "zeros", device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        name = type(self).__name__
        if device is not None:
            backend.devices.check(device, "device", name)
        self.in_channels = check_int(in_channels, "in_channels", name)
        self.out_channels = check_int(out_channels, "out_channels", name)
        self.groups = check_int(groups, "groups", name, min=1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported for transposed "
                             f"convolutions (as in PyTorch), got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.kernel_size = check_pair(kernel_size, "kernel_size", name, min=1)
        self.stride = check_pair(stride, "stride", name, min=1)
        self.dilation = check_pair(dilation, "dilation", name, min=1)
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a pair of ints, got "
                             f"{padding!r}")
        self.padding = check_pair(padding, "padding", name, min=0)
        self.output_padding = check_pair(output_padding, "output_padding", name, min=0)
        for a in (0, 1):
            if self.output_padding[a] >= max(self.stride[a], self.dilation[a]):
                raise ValueError(f"{name}: output_padding must be smaller than either stride "
                                 f"or dilation, got output_padding={self.output_padding}, "
                                 f"stride={self.stride}, dilation={self.dilation}")
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        xp = backend.xp()
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self.weight = Parameter(backend.allocate(shape, dt, f"{name}.weight", xp=xp))
        self.bias = Parameter(backend.allocate((self.out_channels,), dt, f"{name}.bias",
                                               xp=xp)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (self.out_channels // self.groups) * self.kernel_size[0] * self.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _label(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _output_padding(self, input_shape: Sequence[int],
                        output_size: Sequence[int] | None) -> tuple[int, int]:
        """``output_padding``, or the one that gives ``output_size`` ((H, W), or a shape
        ending in them), checked against the sizes this layer can reach."""
        if output_size is None:
            return int(self.output_padding[0]), int(self.output_padding[1])
        size = [int(s) for s in output_size]
        if len(size) not in (2, len(input_shape)):
            raise ValueError(f"{self._label()}: output_size must have 2 or {len(input_shape)} "
                             f"elements, got {len(size)} ({list(output_size)})")
        size = size[-2:]
        op = []
        for a in (0, 1):
            n, k = input_shape[-2 + a], self.kernel_size[a]
            s, p, d = self.stride[a], self.padding[a], self.dilation[a]
            lo = (n - 1) * s - 2 * p + d * (k - 1) + 1
            hi = lo + s - 1
            if not lo <= size[a] <= hi:
                raise ValueError(f"{self._label()}: requested an output size of {size}, but "
                                 f"valid sizes for input {list(input_shape[-2:])} range from "
                                 f"{lo} to {hi} along {'height' if a == 0 else 'width'}")
            op.append(size[a] - lo)
        return op[0], op[1]

    def output_shape(self, input_shape: Sequence[int],
                     output_size: Sequence[int] | None = None) -> tuple[int, ...]:
        """The output shape for ``input_shape`` (N, C_in, H, W), computed without running."""
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ValueError(f"{self._label()}: expected input shape (N, {self.in_channels}, "
                             f"H, W), got {shape}")
        op = self._output_padding(shape, output_size)
        hw = tuple(CT.conv_transpose_output_size(shape[2 + a], self.kernel_size[a],
                                                 self.stride[a], self.padding[a], op[a],
                                                 self.dilation[a], self._label(), axis)
                   for a, axis in ((0, "height"), (1, "width")))
        return (shape[0], self.out_channels) + hw

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        op = self._output_padding(tuple(input.shape), output_size)
        if input.ndim in (3, 4) and input.shape[-3] != self.in_channels:
            raise ValueError(f"{self._label()}: expected input with {self.in_channels} "
                             f"channels, got shape {tuple(input.shape)}")
        return CT.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                   op, self.groups, self.dilation)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
