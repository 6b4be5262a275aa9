"""Batch normalization (Ioffe & Szegedy 2015) over the channel axis 1.

Training: mu, var = batch mean and (biased) variance over every axis but 1;
x_hat = (x - mu) / sqrt(var + eps); y = gamma * x_hat + beta; the running statistics
are updated as PyTorch does: r = (1 - momentum) r + momentum * stat, with the
unbiased variance M / (M - 1) var (M = elements per channel).
Eval: the running statistics replace the batch ones.

Backward (training), with dxh = g * gamma:
dx = (1 / sigma) (dxh - mean(dxh) - x_hat * mean(dxh * x_hat)),
dgamma = sum(g * x_hat), dbeta = sum(g).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import as_array
from ..backend import kernels, threads

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import IntTuple, TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["batch_norm", "layer_norm", "BatchNormFunction", "LayerNormFunction"]


def _bshape(x: np.ndarray) -> tuple[int, ...]:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNormFunction(Function):
    """One node for y = gamma * (x - mu) / sqrt(var + eps) + beta (see the module doc).

    The per-channel sums are einsum reductions over a (N, C, L) view (one pass each, no
    temporaries); x - mu is kept for backward instead of x_hat, so the forward makes
    three passes over the activation (subtract, scale, shift) and backward four.
    """

    xc: np.ndarray | None   # x - mu, kept for backward (None once backward has run)

    def forward(self, x: np.ndarray, gamma: np.ndarray | None = None,
                beta: np.ndarray | None = None, running_mean: np.ndarray | None = None,
                running_var: np.ndarray | None = None, training: bool = True,
                momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
        axes = (0,) + tuple(range(2, x.ndim))
        bs = _bshape(x)
        m = x.size // x.shape[1]
        if training:
            mu = _channel_sum(x) / m
            xc = x - mu.reshape(bs)
            var = _channel_sum(xc, xc) / m
            if running_mean is not None:
                assert running_var is not None, "batch_norm: running_var with running_mean"
                running_mean *= 1 - momentum
                running_mean += momentum * mu.astype(running_mean.dtype)
                running_var *= 1 - momentum
                running_var += (momentum * var * (m / max(m - 1, 1))).astype(running_var.dtype)
        else:
            assert running_mean is not None and running_var is not None, \
                "batch_norm: eval mode needs running_mean and running_var"
            mu = running_mean.astype(x.dtype)
            var = running_var.astype(x.dtype)
            xc = x - mu.reshape(bs)
        inv = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        scale = inv if gamma is None else inv * gamma
        if any(self.needs_input_grad):
            self.xc, self.inv, self.training, self.bs = xc, inv, training, bs
            self.gamma = gamma
            y = xc * scale.reshape(bs)
        else:
            y = xc
            y *= scale.reshape(bs)
        if beta is not None:
            y += beta.reshape(bs)
        return y

    def backward(self,
                 g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        xc, inv, bs = self.xc, self.inv, self.bs
        assert xc is not None, "BatchNormFunction: backward after the buffers were released"
        need = self.needs_input_grad
        m = g.size // g.shape[1]
        sg = _channel_sum(g)                      # sum(g)
        sgx = _channel_sum(g, xc) * inv           # sum(g * x_hat)
        gg = sgx if len(need) > 1 and need[1] else None
        gb = sg if len(need) > 2 and need[2] else None
        gx = None
        if need[0]:
            scale = inv if self.gamma is None else inv * self.gamma
            if self.training:
                # dx = scale (g - mean(g) - x_hat mean(g x_hat)), x_hat = xc * inv
                gx = xc * (-(sgx * inv / m) * scale).reshape(bs)
                gx += g * scale.reshape(bs)
                gx -= (sg / m * scale).reshape(bs)
            else:
                gx = g * scale.reshape(bs)
        self.xc = None
        return gx, gg, gb


def _channel_sum(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Sum over every axis but 1 of a (or of a * b), as a (C,) array."""
    a3 = a.reshape(a.shape[0], a.shape[1], -1)
    if b is None:
        return np.einsum("ncl->c", a3)
    return np.einsum("ncl,ncl->c", a3, b.reshape(a3.shape))


def batch_norm(x: TensorLike, running_mean: np.ndarray | None = None,
               running_var: np.ndarray | None = None, weight: TensorLike | None = None,
               bias: TensorLike | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalization over axis 1 of (N, C) or (N, C, ...) input (PyTorch's signature).

    ``running_mean``/``running_var`` (C,) arrays are updated in place in training.

    >>> y = batch_norm(gn.randn(8, 3, 4, 4), training=True)
    >>> y.shape
    (8, 3, 4, 4)
    """
    a = as_array(x)
    if a.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got shape {a.shape}")
    if training and a.size // a.shape[1] < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got "
                         f"input shape {a.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: eval mode needs running_mean and running_var")
    return BatchNormFunction.apply(x, weight, bias, running_mean=running_mean,
                                   running_var=running_var,
                                   training=bool(training), momentum=float(momentum),
                                   eps=float(eps))


class LayerNormFunction(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta over the last ``k`` axes."""

    def forward(self, x: np.ndarray, gamma: np.ndarray | None = None,
                beta: np.ndarray | None = None, k: int = 1, eps: float = 1e-5) -> np.ndarray:
        self.kr: kernels.RowKernels | None = None
        kr = kernels.row_kernels(x.dtype) if x.size else None
        if kr is not None and (gamma is None and beta is None or (
                gamma is not None and beta is not None and gamma.dtype == beta.dtype == x.dtype)):
            return self._forward_kernel(kr, x, gamma, beta, k, eps)
        axes = tuple(range(x.ndim - k, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        xc = x - mu
        var = np.mean(xc * xc, axis=axes, keepdims=True)
        inv = 1.0 / np.sqrt(var + eps)
        xhat = xc * inv
        self.xhat, self.inv, self.axes, self.gamma, self.k = xhat, inv, axes, gamma, k
        y = xhat * gamma if gamma is not None else xhat.copy()
        if beta is not None:
            y += beta
        return y

    def backward(self,
                 g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        if self.kr is not None:
            return self._backward_kernel(g)
        xhat, inv, axes, k = self.xhat, self.inv, self.axes, self.k
        need = self.needs_input_grad
        lead = tuple(range(g.ndim - k))
        gg = (g * xhat).sum(axis=lead) if len(need) > 1 and need[1] else None
        gb = g.sum(axis=lead) if len(need) > 2 and need[2] else None
        gx = None
        if need[0]:
            dxh = g * self.gamma if self.gamma is not None else g
            gx = inv * (dxh - dxh.mean(axis=axes, keepdims=True)
                        - xhat * (dxh * xhat).mean(axis=axes, keepdims=True))
        return gx, gg, gb

    # one compiled pass per row each way (the statistics, xhat, the affine map; the
    # backward's two row means and its dL/dgamma, dL/dbeta partial sums per chunk)
    def _forward_kernel(self, kr: kernels.RowKernels, x: np.ndarray, gamma: np.ndarray | None,
                        beta: np.ndarray | None, k: int, eps: float) -> np.ndarray:
        D = int(np.prod(x.shape[x.ndim - k:]))
        xf = np.ascontiguousarray(x).reshape(-1)
        xhat, y = np.empty_like(xf), np.empty_like(xf)
        R = xf.size // D
        inv = np.empty(R, x.dtype)
        affine = gamma is not None
        w = np.ascontiguousarray(gamma).reshape(-1) if affine else np.ones(D, x.dtype)
        b = np.ascontiguousarray(beta).reshape(-1) if beta is not None else w  # w: unused
        e = x.dtype.type(eps)
        threads.parallel_chunks(R, lambda lo, hi: kr.layernorm(xf, w, b, affine, e, D, xhat,
                                                               inv, y, lo, hi, kr.one), xf.size)
        self.kr, self.xhat, self.inv, self.w, self.D = kr, xhat, inv, w, D
        self.affine, self.shape, self.pshape = affine, x.shape, x.shape[x.ndim - k:]
        return y.reshape(x.shape)

    def _backward_kernel(self, g: np.ndarray
                         ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        kr, D, R = self.kr, self.D, self.inv.size
        assert kr is not None
        gf = np.ascontiguousarray(g, dtype=self.xhat.dtype).reshape(-1)
        gx = np.empty_like(gf)
        n = max(1, min(threads.get_num_threads(), R))
        parts = np.zeros((n, 3, D), gf.dtype)     # per chunk: dgamma, dbeta, scratch
        bounds = [R * i // n for i in range(n + 1)]

        def run(lo: int, hi: int) -> None:       # parallel_chunks cuts [0, n) into chunks
            for c in range(lo, hi):
                kr.layernorm_backward(gf, self.xhat, self.inv, self.w, self.affine, D, gx,
                                      parts[c, 2], parts[c, 0], parts[c, 1], bounds[c],
                                      bounds[c + 1], kr.one)
        threads.parallel_chunks(n, run, gf.size)
        need = self.needs_input_grad
        gg = gb = None
        if self.affine and len(need) > 1 and need[1]:
            gg = parts[:, 0].sum(axis=0).reshape(self.pshape)
        if self.affine and len(need) > 2 and need[2]:
            gb = parts[:, 1].sum(axis=0).reshape(self.pshape)
        return (gx.reshape(self.shape) if need[0] else None), gg, gb


def layer_norm(x: TensorLike, normalized_shape: IntTuple, weight: TensorLike | None = None,
               bias: TensorLike | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalization over the trailing ``normalized_shape`` axes (PyTorch's signature)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    a = as_array(x)
    if tuple(a.shape[a.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: input shape {a.shape} does not end with normalized_shape "
                         f"{shape}")
    return LayerNormFunction.apply(x, weight, bias, k=len(shape), eps=float(eps))
