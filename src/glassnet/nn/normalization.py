"""Normalization layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm`` (PyTorch semantics).

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

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    _ndims = (2, 3)
    _want = "(N, C) or (N, C, L)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        self.num_features = check_int(num_features, "num_features", type(self).__name__)
        self.eps, self.momentum = float(eps), float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        xp = backend.xp()
        if affine:
            self.weight = Parameter(xp.ones(num_features, dt))
            self.bias = Parameter(xp.zeros(num_features, dt))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", xp.zeros(num_features, dt))
            self.register_buffer("running_var", xp.ones(num_features, dt))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): expected input of shape "
                             f"{self._want} with C = {self.num_features}, got {tuple(x.shape)}")
        track = self.track_running_stats
        if self.training or not track:
            # batch statistics; the running ones are updated in place while training
            rm = self.running_mean if track else None
            rv = self.running_var if track else None
            if track:
                self.num_batches_tracked = self.num_batches_tracked + 1
            return F.batch_norm(x, rm, rv, self.weight, self.bias, training=True,
                                momentum=self.momentum, eps=self.eps)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=False, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


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

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 dtype=None):
        super().__init__()
        shape = ((int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer))
                 else tuple(int(s) for s in normalized_shape))
        self.normalized_shape = shape
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dt))
            self.bias = Parameter(np.zeros(shape, dt))
        else:
            self.weight = self.bias = None

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"
