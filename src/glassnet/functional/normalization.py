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
    from collections.abc import Callable

    from glassnet._typing import IntTuple, TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["batch_norm", "layer_norm", "BatchNormFunction", "LayerNormFunction"]


class BatchNormFunction(Function):
    """One node for y = gamma * (x - mu) / sqrt(var + eps) + beta (see the module doc).

    The work runs over blocks of samples small enough to stay in cache (about
    ``_BLOCK_ELEMENTS`` values), the blocks on glassnet's threads
    (``backend.parallel_chunks``). Per-channel sums are einsum reductions of each block
    into its own row of a (blocks, C) array, added in block order, so the result does
    not depend on the number of threads. Training forward reads x three times (sum, the
    centred sum of squares, then y = x * scale + shift in one write); backward reads x
    and g twice (sum(g) and sum(g (x - mu)), then dx). Like PyTorch, backward keeps x
    itself, mu and 1 / sigma, not an activation-sized x - mu.
    """

    x: np.ndarray | None   # the input, kept for backward (None once backward has run)

    def forward(self, x: np.ndarray, gamma: np.ndarray | None = None,
                beta: np.ndarray | None = None, running_mean: np.ndarray | None = None,
                running_var: np.ndarray | None = None, training: bool = True,
                momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
        dt = x.dtype
        x3 = _as3(x)
        C = x3.shape[1]
        m = x.size // C
        if training:
            mu = _channel_sums(x3) / m
            var = _channel_sums(x3, mu) / m
            if running_mean is not None:
                assert running_var is not None, "batch_norm: running_var with running_mean"
                running_mean *= 1 - momentum
                running_mean += momentum * mu.astype(running_mean.dtype)
                running_var *= 1 - momentum
                running_var += (momentum * var * (m / max(m - 1, 1))).astype(running_var.dtype)
        else:
            assert running_mean is not None and running_var is not None, \
                "batch_norm: eval mode needs running_mean and running_var"
            mu = running_mean.astype(np.float64)
            var = running_var.astype(np.float64)
        inv = 1.0 / np.sqrt(var + eps)                       # float64 (C,)
        scale = inv if gamma is None else inv * gamma
        shift = -mu * scale if beta is None else beta - mu * scale
        y = np.empty(x.shape, dtype=dt)
        _affine(_as3(y), [(x3, scale.astype(dt))], shift.astype(dt))
        if any(self.needs_input_grad):
            self.x, self.mu, self.inv, self.training = x, mu.astype(dt), inv, training
            self.gamma = gamma
        return y

    def backward(self,
                 g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        x, mu, inv = self.x, self.mu, self.inv
        assert x is not None, "BatchNormFunction: backward after the buffers were released"
        need = self.needs_input_grad
        dt = g.dtype
        g3, x3 = _as3(g), _as3(x)
        m = g.size // g3.shape[1]
        sg, sgxc = _channel_sums_g(g3, x3, mu)               # sum(g), sum(g (x - mu))
        sgx = sgxc * inv                                     # sum(g * x_hat)
        gg = sgx.astype(dt) if len(need) > 1 and need[1] else None
        gb = sg.astype(dt) if len(need) > 2 and need[2] else None
        gx = None
        if need[0]:
            scale = inv if self.gamma is None else inv * self.gamma
            gx = np.empty(g.shape, dtype=dt)
            if self.training:
                # dx = scale (g - mean(g) - x_hat mean(g x_hat)), x_hat = (x - mu) inv
                #    = g * scale + x * a + b, with a = -scale inv mean(g x_hat)
                a = -scale * inv * sgx / m
                b = -scale * sg / m - a * mu
                _affine(_as3(gx), [(g3, scale.astype(dt)), (x3, a.astype(dt))], b.astype(dt))
            else:
                _affine(_as3(gx), [(g3, scale.astype(dt))])
        self.x = None
        return gx, gg, gb


_BLOCK_ELEMENTS = 1 << 15   # values per block: the block and a temporary of it stay in L2


def _as3(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape[0], a.shape[1], -1)


def _blocks(a3: np.ndarray) -> tuple[int, int]:
    """(samples per block, number of blocks) for a (N, C, L) array."""
    per = max(1, a3.shape[1] * a3.shape[2])
    bs = max(1, _BLOCK_ELEMENTS // per)
    return bs, -(-a3.shape[0] // bs)


def _over_blocks(a3: np.ndarray, fn: Callable[[int, int, int], object], passes: int) -> None:
    """Call ``fn(block, lo, hi)`` for every block of samples of ``a3`` (see :func:`_blocks`)
    on glassnet's threads."""
    bs, nb = _blocks(a3)
    N = a3.shape[0]

    def chunk(lo: int, hi: int) -> None:
        for blk in range(lo, hi):
            fn(blk, blk * bs, min(N, (blk + 1) * bs))

    threads.parallel_chunks(nb, chunk, a3.size * passes)


def _channel_sums(x3: np.ndarray, mu: np.ndarray | None = None) -> np.ndarray:
    """sum(x) or, given ``mu``, sum((x - mu)^2) per channel of (N, C, L) ``x3``, float64."""
    part = np.empty((_blocks(x3)[1], x3.shape[1]), dtype=x3.dtype)
    mu3 = None if mu is None else mu.astype(x3.dtype).reshape(1, -1, 1)

    def block(blk: int, lo: int, hi: int) -> None:
        if mu3 is None:
            np.einsum("ncl->c", x3[lo:hi], out=part[blk])
        else:
            t = x3[lo:hi] - mu3
            np.einsum("ncl,ncl->c", t, t, out=part[blk])

    _over_blocks(x3, block, 2)
    return part.sum(0, dtype=np.float64)


def _channel_sums_g(g3: np.ndarray, x3: np.ndarray,
                    mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum(g), sum(g (x - mu))) per channel, float64, in one pass over g and x."""
    part = np.empty((2, _blocks(g3)[1], g3.shape[1]), dtype=g3.dtype)
    mu3 = mu.reshape(1, -1, 1)

    def block(blk: int, lo: int, hi: int) -> None:
        gb = g3[lo:hi]
        np.einsum("ncl->c", gb, out=part[0, blk])
        t = x3[lo:hi] - mu3
        np.einsum("ncl,ncl->c", gb, t, out=part[1, blk])

    _over_blocks(g3, block, 3)
    sums = part.sum(1, dtype=np.float64)
    return sums[0], sums[1]


def _affine(out3: np.ndarray, terms: list[tuple[np.ndarray, np.ndarray]],
            shift: np.ndarray | None = None) -> None:
    """out = sum of a * s over ``terms`` [(a (N, C, L), s (C,)), ...] (+ ``shift`` (C,)),
    per channel, block by block."""
    ts = [(a, s.reshape(1, -1, 1)) for a, s in terms]
    b3 = None if shift is None else shift.reshape(1, -1, 1)

    def block(blk: int, lo: int, hi: int) -> None:
        (a0, s0), *rest = ts
        o = np.multiply(a0[lo:hi], s0, out=out3[lo:hi])
        for a, s3 in rest:
            o += a[lo:hi] * s3
        if b3 is not None:
            o += b3

    _over_blocks(out3, block, len(ts) + 1)


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
