"""Pooling layers (no parameters): max, average, global average, L^p, stochastic, max+average.

All take (N, C, H, W) (the 1-D ones (N, C, L)); stride defaults to the kernel size.
Output size per axis: floor((N + 2P - F) / S) + 1.
"""
from __future__ import annotations

from ..functional import conv as C
from ..functional import pooling as P
from ..validation import check_int, check_pair
from .conv import get_strict_shapes, warn_floor
from .module import Module

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

    from glassnet.autograd.tensor import Tensor
    from glassnet._typing import IntTuple

    # PyTorch's _size_any_opt_t: an output size, None keeping that axis
    _OptSize: TypeAlias = Union[int, None, Sequence[Union[int, None]]]


__all__ = ["MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveAvgPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool1d",
           "GlobalAvgPool2d", "LPPool2d", "StochasticPool2d", "MaxAvgPool2d"]


class _Pool2d(Module):
    _fn: ClassVar[Callable[..., Tensor]]   # set by each subclass that uses _Pool2d.forward

    def __init__(self, kernel_size: IntTuple = 2, stride: IntTuple | None = None,
                 padding: IntTuple = 0, strict: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = check_pair(kernel_size, "kernel_size", name, min=1)
        self.stride = (self.kernel_size if stride is None else
                       check_pair(stride, "stride", name, min=1))
        self.padding = check_pair(padding, "padding", name)
        self.strict = bool(strict)
        self._given = (kernel_size, kernel_size if stride is None else stride, padding)

    def _label(self) -> str:
        return f"{type(self).__name__}({self._geometry()})"

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        """The output shape for ``input_shape`` (N, C, H, W), computed without running."""
        s = tuple(input_shape)
        if len(s) != 4:
            raise ValueError(f"{self._label()}: expected input shape (N, C, H, W), got {s}")
        st = self.strict or get_strict_shapes()
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        Ho = C.conv_output_size(s[2], kh, sh, ph, ph, 1, self._label(), "height", st)
        Wo = C.conv_output_size(s[3], kw, sw, pw, pw, 1, self._label(), "width", st)
        warn_floor(self, self._label(), [C.floor_note(s[2], kh, sh, ph, ph, 1, "height"),
                                         C.floor_note(s[3], kw, sw, pw, pw, 1, "width")])
        return (s[0], s[1], Ho, Wo)

    def forward(self, x: Tensor) -> Tensor:
        self.output_shape(x.shape)
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding, name=self._label())

    def _geometry(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s

    extra_repr = _geometry


class MaxPool2d(_Pool2d):
    """Max over each window; the gradient goes only to the maximum.

    >>> nn.MaxPool2d(2)(gn.randn(1, 1, 4, 4)).shape
    (1, 1, 2, 2)
    """
    _fn = staticmethod(P.max_pool2d)

    def __init__(self, kernel_size: IntTuple = 2, stride: IntTuple | None = None,
                 padding: IntTuple = 0, dilation: IntTuple = 1,
                 return_indices: bool = False, ceil_mode: bool = False, *,
                 strict: bool = False) -> None:
        _Pool2d.__init__(self, kernel_size, stride, padding, strict)
        self.dilation, self.return_indices = dilation, bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        if return_indices or dilation not in (1, (1, 1)):
            raise ValueError("MaxPool2d: return_indices=True and dilation > 1 are not "
                             "implemented in glassnet")

    def forward(self, x: Tensor) -> Tensor:
        if self.ceil_mode:
            from .functional import max_pool2d
            return max_pool2d(x, self.kernel_size, self.stride, self.padding, ceil_mode=True)
        return _Pool2d.forward(self, x)

    def extra_repr(self) -> str:
        k, st, p = self.__dict__.get("_given", (self.kernel_size, self.stride, self.padding))
        return (f"kernel_size={k}, stride={st}, padding={p}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """Mean over each window (zero padding counted, as PyTorch's default)."""
    _fn = staticmethod(P.avg_pool2d)

    def __init__(self, kernel_size: IntTuple = 2, stride: IntTuple | None = None,
                 padding: IntTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None, *,
                 strict: bool = False) -> None:
        _Pool2d.__init__(self, kernel_size, stride, padding, strict)
        if ceil_mode:
            raise ValueError("AvgPool2d: ceil_mode=True is not implemented in glassnet")
        self.ceil_mode, self.count_include_pad = False, bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        if not self.count_include_pad or self.divisor_override is not None:
            from .functional import avg_pool2d
            return avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                              count_include_pad=self.count_include_pad,
                              divisor_override=self.divisor_override)
        return _Pool2d.forward(self, x)

    def extra_repr(self) -> str:
        k, st, p = self.__dict__.get("_given", (self.kernel_size, self.stride, self.padding))
        return f"kernel_size={k}, stride={st}, padding={p}"


class MaxAvgPool2d(_Pool2d):
    """Max + average pooling over each window.

    ``alpha=None`` (the default): y = max + mean, the lectures' form. A number ``alpha``
    in [0, 1]: the convex mix y = alpha * max + (1 - alpha) * mean. See
    :func:`glassnet.functional.pooling.max_avg_pool2d`.
    """

    def __init__(self, kernel_size: IntTuple = 2, stride: IntTuple | None = None,
                 padding: IntTuple = 0, alpha: float | None = None, strict: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, strict)
        if alpha is not None and (isinstance(alpha, bool) or not 0.0 <= float(alpha) <= 1.0):
            raise ValueError(f"MaxAvgPool2d: alpha must be None (max + mean) or a number in "
                             f"[0, 1] (the convex mix), got {alpha!r}")
        self.alpha: float | None = None if alpha is None else float(alpha)

    def forward(self, x: Tensor) -> Tensor:
        self.output_shape(x.shape)
        return P.max_avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.alpha,
                                name=self._label())

    def extra_repr(self) -> str:
        return super().extra_repr() + f", alpha={self.alpha}"


class LPPool2d(_Pool2d):
    """y = (sum_window x^p)^(1/p) (p = norm_type; 2 is L2 pooling), no padding."""

    def __init__(self, norm_type: float = 2.0, kernel_size: IntTuple = 2, stride: IntTuple | None = None, strict: bool = False) -> None:
        super().__init__(kernel_size, stride, 0, strict)
        self.norm_type = float(norm_type)

    def forward(self, x: Tensor) -> Tensor:
        self.output_shape(x.shape)
        return P.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, name=self._label())

    def extra_repr(self) -> str:
        return f"norm_type={self.norm_type}, " + super().extra_repr()


class StochasticPool2d(_Pool2d):
    """Stochastic pooling: samples a_k with p = a / sum(a) while training; in eval
    the probability-weighted average sum(a^2) / sum(a). Use after a ReLU."""

    def __init__(self, kernel_size: IntTuple = 2, stride: IntTuple | None = None, strict: bool = False) -> None:
        super().__init__(kernel_size, stride, 0, strict)

    def forward(self, x: Tensor) -> Tensor:
        self.output_shape(x.shape)
        return P.stochastic_pool2d(x, self.kernel_size, self.stride, training=self.training,
                                   name=self._label())


class _Pool1d(Module):
    _fn: ClassVar[Callable[..., Tensor]]   # set by each subclass

    # plain ints (int() of each): a 1-tuple is not accepted here
    def __init__(self, kernel_size: int = 2, stride: int | None = None, padding: int = 0,
                 strict: bool = False) -> None:
        super().__init__()
        self.kernel_size = int(kernel_size)
        self.stride = self.kernel_size if stride is None else int(stride)
        self.padding = int(padding)
        self.strict = bool(strict)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        s = tuple(input_shape)
        label = f"{type(self).__name__}({self.extra_repr()})"
        if len(s) != 3:
            raise ValueError(f"{label}: expected input shape (N, C, L), got {s}")
        Lo = C.conv_output_size(s[2], self.kernel_size, self.stride, self.padding, self.padding,
                                1, label, "length", self.strict or get_strict_shapes())
        warn_floor(self, label, [C.floor_note(s[2], self.kernel_size, self.stride, self.padding,
                                              self.padding, 1, "length")])
        return (s[0], s[1], Lo)

    def forward(self, x: Tensor) -> Tensor:
        self.output_shape(x.shape)
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding,
                              name=type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(_Pool1d):
    """Max over windows along the last axis: (N, C, L) -> (N, C, Lo)."""
    _fn = staticmethod(P.max_pool1d)


class AvgPool1d(_Pool1d):
    """Mean over windows along the last axis: (N, C, L) -> (N, C, Lo)."""
    _fn = staticmethod(P.avg_pool1d)


class _Adaptive(Module):
    _spatial = 2
    _fn: ClassVar[Callable[..., Any]]   # each subclass overrides forward instead

    def __init__(self, output_size: _OptSize, return_indices: bool = False) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
        for v in sizes:
            if v is not None:
                check_int(v, "output_size", type(self).__name__)
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size
        self.return_indices = bool(return_indices)

    def _sizes(self, spatial_in: Sequence[int]) -> tuple[int, ...]:
        o = self.output_size
        o = (o,) * self._spatial if o is None or isinstance(o, int) else tuple(o)
        return tuple(int(i) if a is None else int(a) for a, i in zip(o, spatial_in))

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        s = tuple(input_shape)
        return s[:-self._spatial] + self._sizes(s[-self._spatial:])

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        if self.return_indices:
            return type(self)._fn(x, self.output_size, True)
        return type(self)._fn(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_Adaptive):
    """Average pooling to a fixed output size (1: global average pooling), any input size
    (PyTorch's windows [floor(i H/oh), ceil((i+1) H/oh))); (N, C, H, W) -> (N, C, oh, ow).
    ``None`` keeps that axis.

    >>> nn.AdaptiveAvgPool2d((2, 3))(gn.randn(1, 4, 7, 5)).shape
    (1, 4, 2, 3)
    """

    def __init__(self, output_size: _OptSize = 1) -> None:
        super().__init__(output_size)

    def forward(self, x: Tensor) -> Tensor:
        from .functional import adaptive_avg_pool2d
        return adaptive_avg_pool2d(x, self.output_size)


class AdaptiveAvgPool1d(_Adaptive):
    """Average pooling of (N, C, L) to a fixed length."""
    _spatial = 1

    def __init__(self, output_size: _OptSize) -> None:
        super().__init__(output_size)

    def forward(self, x: Tensor) -> Tensor:
        from .functional import adaptive_avg_pool1d
        return adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool2d(_Adaptive):
    """Max pooling to a fixed (oh, ow), any input size (PyTorch's windows)."""

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        from .functional import adaptive_max_pool2d
        return adaptive_max_pool2d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_Adaptive):
    """Max pooling of (N, C, L) to a fixed length."""
    _spatial = 1

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        from .functional import adaptive_max_pool1d
        return adaptive_max_pool1d(x, self.output_size, self.return_indices)


class GlobalAvgPool2d(Module):
    """Mean over H and W: (N, C, H, W) -> (N, C) (flatten=True) or (N, C, 1, 1)."""

    def __init__(self, flatten: bool = True) -> None:
        super().__init__()
        self.flatten = bool(flatten)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        s = tuple(input_shape)
        return (s[0], s[1]) if self.flatten else (s[0], s[1], 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = P.global_avg_pool2d(x, name=type(self).__name__)
        return y.reshape(y.shape[0], y.shape[1]) if self.flatten else y
