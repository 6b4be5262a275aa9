"""Normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm``,
``InstanceNorm1d`` / ``InstanceNorm2d`` (PyTorch semantics, parameters and buffers).

Batch norm, training: y = gamma (x - mu_B) / sqrt(var_B + eps) + beta, with the running
statistics updated as r = (1 - momentum) r + momentum * stat (unbiased variance for
``running_var``). Eval: the running statistics replace the batch ones.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..functional import normalization as F
from ..validation import check_int
from .module import Module, Parameter

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor
    from glassnet._typing import DTypeLike
    from glassnet._typing import DeviceLike


__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d"]


class _BatchNorm(Module):
    _ndims: tuple[int, ...] = (2, 3)
    _want = "(N, C) or (N, C, L)"
    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: DeviceLike = None,
                 dtype: DTypeLike = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", type(self).__name__)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self._bias_flag = bool(bias) and self.affine
        dt = _dtype(dtype, device, type(self).__name__)
        xp = backend.xp()
        if affine:
            self.weight = Parameter(backend.allocate(num_features, dt, "weight", 1, xp))
            self.bias = Parameter(backend.allocate(num_features, dt, "bias", 0, xp)) \
                if bias else None
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", backend.allocate(num_features, dt,
                                                                 "running_mean", 0, xp))
            self.register_buffer("running_var", backend.allocate(num_features, dt,
                                                                "running_var", 1, xp))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(input_shape)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): expected input of shape "
                             f"{self._want} with C = {self.num_features}, got {tuple(x.shape)}")
        track = self.track_running_stats
        if self.training or not track:
            # batch statistics; the running ones are updated in place while training
            rm = self.running_mean._data if track and self.training else None
            rv = self.running_var._data if track and self.training else None
            momentum = self.momentum
            if track and self.training:
                self.num_batches_tracked._data += 1
                if momentum is None:       # a cumulative moving average, as PyTorch
                    momentum = 1.0 / float(self.num_batches_tracked._data)
            return F.batch_norm(x, rm, rv, self.weight, self.bias, training=True,
                                momentum=0.0 if momentum is None else momentum, eps=self.eps)
        return F.batch_norm(x, self.running_mean._data, self.running_var._data, self.weight,
                            self.bias,
                            training=False, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self._bias_flag}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per feature C.

    >>> bn = nn.BatchNorm1d(16)
    >>> bn(gn.randn(32, 16)).shape
    (32, 16)
    """


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel over N, H and W.

    >>> nn.BatchNorm2d(8)(gn.randn(4, 8, 5, 5)).shape
    (4, 8, 5, 5)
    """
    _ndims = (4,)
    _want = "(N, C, H, W)"


class LayerNorm(Module):
    """y = gamma (x - mean) / sqrt(var + eps) + beta over the trailing ``normalized_shape``.

    >>> nn.LayerNorm(10)(gn.randn(4, 10)).shape
    (4, 10)
    """

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True,
                 bias: bool = True, device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        shape = ((int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer))
                 else tuple(int(s) for s in normalized_shape))
        self.normalized_shape = shape
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self._bias_flag = bool(bias) and self.elementwise_affine
        dt = _dtype(dtype, device, "LayerNorm")
        if elementwise_affine:
            self.weight = Parameter(backend.allocate(shape, dt, "LayerNorm.weight", 1))
            self.bias = Parameter(backend.allocate(shape, dt, "LayerNorm.bias", 0)) \
                if bias else None
        else:
            self.weight = self.bias = None

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(input_shape)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self._bias_flag}")


def _dtype(dtype: DTypeLike, device: DeviceLike, who: str) -> np.dtype[Any]:
    if device is not None:
        backend.devices.check(device, "device", who)
    return backend.dtypes.resolve(dtype, "dtype", who) if dtype is not None \
        else backend.get_default_dtype()


class GroupNorm(Module):
    """Normalise each group of ``num_channels / num_groups`` channels of each sample, then
    scale and shift per channel (``weight``, ``bias`` of shape (C,)), as PyTorch.

    >>> nn.GroupNorm(2, 4)(gn.randn(3, 4, 5)).shape
    (3, 4, 5)
    """

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: DeviceLike = None, dtype: DTypeLike = None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), bool(affine)
        self._bias_flag = bool(bias) and self.affine
        dt = _dtype(dtype, device, "GroupNorm")
        if affine:
            self.weight = Parameter(backend.allocate(num_channels, dt, "GroupNorm.weight", 1))
            self.bias = Parameter(backend.allocate(num_channels, dt, "GroupNorm.bias", 0)) \
                if bias else None
        else:
            self.weight = self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        from .functional import group_norm
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self._bias_flag}")


class _InstanceNorm(Module):
    _spatial = 1
    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: DeviceLike = None,
                 dtype: DTypeLike = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", type(self).__name__)
        self.eps, self.momentum = float(eps), float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self._bias_flag = bool(bias) and self.affine
        dt = _dtype(dtype, device, type(self).__name__)
        if affine:
            self.weight = Parameter(backend.allocate(num_features, dt, "weight", 1))
            self.bias = Parameter(backend.allocate(num_features, dt, "bias", 0)) \
                if bias else None
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", backend.allocate(num_features, dt,
                                                                 "running_mean", 0))
            self.register_buffer("running_var", backend.allocate(num_features, dt,
                                                                "running_var", 1))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))

    def forward(self, x: Tensor) -> Tensor:
        from .functional import instance_norm
        from ..functional.math import reshape
        s = self._spatial
        if x.ndim not in (s + 1, s + 2):
            raise ValueError(f"{type(self).__name__}: expected {s + 1}D or {s + 2}D input "
                             f"(got {x.ndim}D input)")
        unbatched = x.ndim == s + 1
        if unbatched:
            x = reshape(x, (1,) + tuple(x.shape))
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(f"{type(self).__name__}: expected input with "
                             f"{self.num_features} channels, got shape {tuple(x.shape)}")
        track = self.track_running_stats
        use_input = self.training or not track
        if track and self.training:
            self.num_batches_tracked._data += 1
        y = instance_norm(x, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_input_stats=use_input, momentum=self.momentum, eps=self.eps)
        return reshape(y, tuple(y.shape[1:])) if unbatched else y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self._bias_flag}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) or (C, L): each channel of each sample on its own."""


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W)."""
    _spatial = 2
