"""Transposed 2-D convolution (PyTorch's ``conv_transpose2d``), NCHW.

A transposed convolution is the adjoint of a convolution: the map ``x -> conv2d(x, W)``
from (N, C_out, Ho, Wo) to (N, C_in, H, W) is linear, and ``conv_transpose2d`` applies
its transpose, (N, C_in, H, W) -> (N, C_out, Ho, Wo), with the same weight
(C_in, C_out/groups, kh, kw). Each input pixel scatters ``x[n, c, y, x] * W[c, :, i, j]``
onto output position (y*s - p + i*d, x*s - p + j*d). Output size per axis::

    Ho = (H - 1)*s - 2p + d*(k - 1) + output_padding + 1

How it is computed, with the helpers of :mod:`glassnet.functional.conv` (the geometry
of that convolution, whose *input* is our output):

* forward: one (batched over groups) GEMM ``W^T x`` gives the column matrix
  (kh*kw*C_out, N*H*W), which ``_col2im`` adds into the (padded) output by kernel-offset
  slices; the bias is added in the pass that crops the padding;
* backward: ``_im2col`` of the output gradient g gives (C_out*kh*kw, N*H*W); then
  dx = W cols (a convolution of g) and dW = x cols^T, one GEMM each per group; db sums g.

``output_padding`` only adds rows/columns at the bottom/right that no input reaches
(they hold the bias); PyTorch's rule ``output_padding < max(stride, dilation)`` is kept.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array
from ..validation import check_int, check_pair
from .conv import _Geometry, _col2im, _im2col

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from glassnet._typing import IntTuple, TensorLike


__all__ = ["conv_transpose2d", "conv_transpose_output_size", "ConvTranspose2dFunction"]


def conv_transpose_output_size(n: int, k: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1,
                               layer: str = "conv_transpose2d", axis: str = "") -> int:
    """(n - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1, with clear
    errors (a size below 1, or ``output_padding`` not below max(stride, dilation)).

    >>> conv_transpose_output_size(14, 4, stride=2, padding=1)
    28
    """
    where = f" along {axis}" if axis else ""
    if not 0 <= output_padding < max(stride, dilation):
        raise ValueError(f"{layer}: output_padding{where} must be >= 0 and smaller than "
                         f"either stride ({stride}) or dilation ({dilation}), got "
                         f"{output_padding}")
    size = (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"{layer}: output size{where} would be {size} (input {n}, kernel {k}, "
                         f"stride {stride}, padding {padding}, dilation {dilation}, "
                         f"output_padding {output_padding}); it must be >= 1")
    return size


def _geometry(x_shape: Sequence[int], w_shape: Sequence[int], groups: int,
              stride: tuple[int, int], padding: tuple[int, int],
              output_padding: tuple[int, int], dilation: tuple[int, int]) -> _Geometry:
    """The geometry of the convolution this transposes: its input is our output
    (N, C_out, Ho, Wo), its output our input (N, C_in, H, W)."""
    N, Cin, H, W = x_shape
    _, cg, kh, kw = w_shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + output_padding[0] + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + output_padding[1] + 1
    return _Geometry(N, cg * groups, Ho, Wo, Cin, kh, kw, sh, sw, dh, dw, (ph, ph, pw, pw),
                     H, W)


class ConvTranspose2dFunction(Function):
    """Transposed 2-D convolution; inputs x (N, C_in, H, W), w (C_in, C_out/groups, kh, kw),
    b (C_out,) or None; output (N, C_out, Ho, Wo)::

        y  = col2im(W^T x) + b             W per group as (C_in/g, C_out/g*kh*kw)
        cols = im2col(g)                   (C_out*kh*kw, N*H*W), g the output gradient
        dx = W cols,  dW = x cols^T,  db = sum of g over (N, Ho, Wo)
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
                output_padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1),
                groups: int = 1) -> np.ndarray:
        geo = _geometry(x.shape, w.shape, groups, stride, padding, output_padding, dilation)
        G, cin_g, cout_g = groups, geo.O // groups, geo.C // groups
        dt = np.result_type(x.dtype, w.dtype)
        hw = geo.N * geo.Ho * geo.Wo          # the input's pixels (N*H*W)
        xc = x.transpose(1, 0, 2, 3).reshape(G, cin_g, hw)           # channel-major
        # W^T per group, rows ordered (i, j, c_out) as _col2im takes them
        wt = w.reshape(G, cin_g, cout_g, geo.kh, geo.kw).transpose(0, 3, 4, 2, 1)
        wt = wt.reshape(G, geo.kh * geo.kw * cout_g, cin_g)
        d = np.matmul(wt.astype(dt, copy=False), xc.astype(dt, copy=False))
        d7 = d.reshape(G, geo.kh, geo.kw, cout_g, geo.N, geo.Ho, geo.Wo)
        dcols = d7.transpose(1, 2, 0, 3, 4, 5, 6).reshape(geo.kh, geo.kw, geo.C, geo.N,
                                                          geo.Ho, geo.Wo)
        y = _col2im(dcols, geo)               # (N, C_out, Ho_out, Wo_out), a view
        out = np.empty(y.shape, dt)
        if b is None:
            np.copyto(out, y)
        else:
            np.add(y, b.reshape(1, -1, 1, 1), out=out)
        if any(self.needs_input_grad):
            self.x, self.w, self.geo, self.groups, self.has_b = x, w, geo, groups, b is not None
        return out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, w, geo, G, need = self.x, self.w, self.geo, self.groups, self.needs_input_grad
        cin_g, cout_g = geo.O // G, geo.C // G
        K = cout_g * geo.kh * geo.kw
        hw = geo.N * geo.Ho * geo.Wo
        cols = _im2col(np.ascontiguousarray(grad), geo, grad.dtype)   # (C_out*kh*kw, N*H*W)
        c3 = cols.reshape(G, K, hw)
        gx = gw = gb = None
        if need[0]:
            w3 = w.reshape(G, cin_g, K).astype(grad.dtype, copy=False)
            gxc = np.matmul(w3, c3)                                     # (G, C_in/g, N*H*W)
            gx = np.ascontiguousarray(
                gxc.reshape(geo.O, geo.N, geo.Ho, geo.Wo).transpose(1, 0, 2, 3)).astype(
                    x.dtype, copy=False)
        if len(need) > 1 and need[1]:
            xc = x.transpose(1, 0, 2, 3).reshape(G, cin_g, hw).astype(grad.dtype, copy=False)
            gw = np.matmul(xc, c3.transpose(0, 2, 1)).reshape(w.shape).astype(w.dtype,
                                                                              copy=False)
        backend.give_scratch("cols", cols)
        if self.has_b and len(need) > 2 and need[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return (gx, gw, gb)[:len(need)]


def conv_transpose2d(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
                     stride: IntTuple = 1, padding: IntTuple = 0, output_padding: IntTuple = 0,
                     groups: int = 1, dilation: IntTuple = 1) -> Tensor:
    """Transposed 2-D convolution, PyTorch's argument order and weight layout.

    input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_in, C_out/groups, kh, kw);
    bias (C_out,) or None -> (N, C_out, Ho, Wo) with
    Ho = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1.

    >>> y = conv_transpose2d(gn.randn(2, 8, 7, 7), gn.randn(8, 4, 4, 4), stride=2, padding=1)
    >>> y.shape
    (2, 4, 14, 14)
    """
    who = "conv_transpose2d"
    xa, wa = as_array(input), as_array(weight)
    if wa.ndim != 4:
        raise ValueError(f"{who}: expected weight of shape (C_in, C_out/groups, kh, kw), got "
                         f"shape {wa.shape}")
    if xa.ndim == 3:
        from .math import reshape
        xt = input if isinstance(input, Tensor) else Tensor(xa)
        out = conv_transpose2d(reshape(xt, 1, *xa.shape), weight, bias, stride, padding,
                               output_padding, groups, dilation)
        return reshape(out, *out.shape[1:])
    if xa.ndim != 4:
        raise ValueError(f"{who}: expected input of shape (N, C_in, H, W) or (C_in, H, W), got "
                         f"shape {xa.shape}")
    g = check_int(groups, "groups", who, min=1)
    if xa.shape[1] != wa.shape[0]:
        raise ValueError(f"{who}: input has {xa.shape[1]} channels but the weight "
                         f"(C_in, C_out/groups, kh, kw) = {wa.shape} expects {wa.shape[0]}")
    if wa.shape[0] % g:
        raise ValueError(f"{who}: in_channels ({wa.shape[0]}) must be divisible by groups ({g})")
    st = check_pair(stride, "stride", who, min=1)
    dl = check_pair(dilation, "dilation", who, min=1)
    if isinstance(padding, str):
        raise ValueError(f"{who}: padding must be an int or a pair of ints (PyTorch has no "
                         f"string padding for transposed convolutions), got {padding!r}")
    pd = check_pair(padding, "padding", who, min=0)
    op = check_pair(output_padding, "output_padding", who, min=0)
    for a, axis in ((0, "height"), (1, "width")):
        conv_transpose_output_size(xa.shape[2 + a], wa.shape[2 + a], st[a], pd[a], op[a], dl[a],
                                   who, axis)
    if bias is not None:
        ba = as_array(bias)
        if ba.shape != (wa.shape[1] * g,):
            raise ValueError(f"{who}: expected bias of shape ({wa.shape[1] * g},) (C_out), got "
                             f"{ba.shape}")
        return ConvTranspose2dFunction.apply(input, weight, bias, stride=st, padding=pd,
                                             output_padding=op, dilation=dl, groups=g)
    return ConvTranspose2dFunction.apply(input, weight, stride=st, padding=pd,
                                         output_padding=op, dilation=dl, groups=g)

