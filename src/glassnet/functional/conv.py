"""Convolutions (cross-correlation, as in PyTorch) in NCHW / NCL layout.

out[n, o, y, x] = b[o] + sum_{c, i, j} w[o, c, i, j] * xpad[n, c, y*sh + i*dh, x*sw + j*dw]

Output size per axis: floor((N + P_lo + P_hi - d*(F - 1) - 1) / S) + 1, which is the
course's floor((N - F + 2P) / S) + 1 when d = 1.

How it is computed (and why):

* the batch is cut into blocks of samples of about ``_BLOCK_COLUMNS`` output positions;
  for each block ``_im2col_chunk`` copies the (zero-bordered) input into a small column
  matrix (C*kh*kw, n*Ho*Wo) by one strided copy per kernel offset (a loop over offsets,
  never over pixels), and one GEMM ``W (O, K) @ cols`` gives the block's output, written
  in NCHW with the bias added. The block's columns stay in cache between the copy and the
  GEMM, and the column matrix of the whole batch (C*kh*kw times the input) is never made
  nor kept for backward;
* backward, block by block: the output gradient made channel-major (O, n*Ho*Wo), the
  block's columns recomputed from the input, dW^T += cols g^T and db += g 1 (a partial sum
  per thread), and dx one GEMM (kh*kw*C, O) @ (O, n*Ho*Wo) whose rows ``_col2im_chunk``
  adds into the padded input gradient by kernel-offset slices;
* the blocks run on glassnet's threads, one BLAS thread each
  (``backend.parallel_chunks(..., gemm=True)``). Grouped convolutions still take the
  whole-batch route (``_im2col``, one batched GEMM over the groups).

Speed lives behind ``backend``: each helper's copies are one call that runs them in
chunks of the batch on glassnet's threads (NumPy runs copies on one core while the GEMMs
use them all), and the large work arrays are scratch buffers reused between steps
(``backend.take_scratch`` / ``give_scratch``), so their pages are not faulted in again
each step.
"""
from __future__ import annotations

import numpy as np

from typing import NamedTuple

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError
from ..validation import check_ints, check_pair

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Iterator, Sequence
    from typing import Any

    from glassnet._typing import Dims, IntTuple, TensorLike
    from glassnet.autograd.tensor import Tensor


__all__ = ["conv1d", "conv2d", "conv_output_size", "floor_note", "resolve_padding",
           "Conv2dFunction", "Conv1dFunction"]


# ------------------------------------------------------------- size arithmetic
def resolve_padding(padding: IntTuple | str, kernel_size: Sequence[int], dilation: Sequence[int], stride: Sequence[int] = (1, 1), layer: str = "conv2d") -> tuple[int, int, int, int]:
    """Padding as (top, bottom, left, right) from an int, a pair, 'valid', 'same' or 'full'.

    'same' keeps the size at stride 1 (an odd total padding puts the extra row at the
    bottom/right, as PyTorch does); 'full' pads d*(F-1) on both sides (every partial
    overlap of kernel and image).
    """
    kh, kw = kernel_size
    dh, dw = dilation
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0, 0, 0
        if mode == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"{layer}: padding='same' needs stride 1, got stride {stride}")
            th, tw = dh * (kh - 1), dw * (kw - 1)
            return th // 2, th - th // 2, tw // 2, tw - tw // 2
        if mode == "full":
            ph, pw = dh * (kh - 1), dw * (kw - 1)
            return ph, ph, pw, pw
        raise ValueError(f"{layer}: padding must be an int, a pair, 'valid', 'same' or 'full', "
                         f"got {padding!r}")
    ph, pw = check_pair(padding, "padding", layer)
    if ph < 0 or pw < 0:
        raise ValueError(f"{layer}: padding must be >= 0, got {padding!r}")
    return ph, ph, pw, pw


def conv_output_size(n: int, k: int, stride: int = 1, pad_lo: int = 0, pad_hi: int = 0, dilation: int = 1, layer: str = "conv", axis: str = "",
                     strict: bool = False) -> int:
    """floor((n + pad_lo + pad_hi - dilation*(k-1) - 1) / stride) + 1, with clear errors.

    Raises when the (dilated) kernel is larger than the padded input, and, when
    ``strict``, when the kernel does not tile the input exactly, showing the
    arithmetic, e.g. ``(7 - 3 + 0) / 3 + 1 = 2.33``.
    """
    keff = dilation * (k - 1) + 1
    span = n + pad_lo + pad_hi - keff
    where = f" along {axis}" if axis else ""
    if span < 0:
        raise ValueError(f"{layer}: input too small{where}: size {n} with padding "
                         f"{pad_lo}+{pad_hi} is {n + pad_lo + pad_hi}, smaller than the "
                         f"kernel extent {keff} (kernel {k}, dilation {dilation})")
    if strict and span % stride != 0:
        raise ValueError(f"{layer}: kernel does not fit exactly{where} (strict shapes): "
                         f"{_fit_arithmetic(n, k, stride, pad_lo, pad_hi, dilation)}, not an "
                         f"integer; change padding or stride")
    return span // stride + 1


def _fit_arithmetic(n: int, k: int, stride: int, pad_lo: int, pad_hi: int, dilation: int) -> str:
    """``(N - F + 2P)/S + 1 = (7 - 3 + 0) / 3 + 1 = 2.33`` for one axis."""
    keff = dilation * (k - 1) + 1
    kshow = f"{k}" if dilation == 1 else f"{keff} (kernel {k} dilated by {dilation})"
    span = n + pad_lo + pad_hi - keff
    return (f"(N - F + 2P)/S + 1 = ({n} - {kshow} + {pad_lo + pad_hi}) / {stride} + 1 = "
            f"{span / stride + 1:.2f}")


def floor_note(n: int, k: int, stride: int = 1, pad_lo: int = 0, pad_hi: int = 0,
               dilation: int = 1, axis: str = "") -> str | None:
    """None when the kernel tiles the axis exactly; else what flooring the output size
    does, with the arithmetic: ``"width: (N - F + 2P)/S + 1 = (7 - 3 + 0) / 3 + 1 = 2.33,
    floored to 2 (the last 1 input position(s) are never read)"``.

    >>> floor_note(7, 3, 3, axis="width")
    'width: (N - F + 2P)/S + 1 = (7 - 3 + 0) / 3 + 1 = 2.33, floored to 2 (the last 1 input position(s) are never read)'
    >>> floor_note(7, 3, 2) is None     # (7 - 3) / 2 + 1 = 3
    True
    """
    keff = dilation * (k - 1) + 1
    span = n + pad_lo + pad_hi - keff
    if span < 0 or span % stride == 0:
        return None
    head = f"{axis}: " if axis else ""
    return (f"{head}{_fit_arithmetic(n, k, stride, pad_lo, pad_hi, dilation)}, floored to "
            f"{span // stride + 1} (the last {span % stride} input position(s) are never read)")


# --------------------------------------------------------------- the kernels
class _Geometry(NamedTuple):
    """Sizes of one convolution: input (N, C, H, W), weight (O, C, kh, kw), output
    (N, O, Ho, Wo); ``pads`` is (top, bottom, left, right)."""
    N: int
    C: int
    H: int
    W: int
    O: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pads: tuple
    Ho: int
    Wo: int

    @classmethod
    def of(cls, x_shape: Sequence[int], w_shape: Sequence[int], stride: tuple[int, int], pads: Sequence[int], dilation: tuple[int, int]) -> _Geometry:
        N, C, H, W = x_shape
        O, _, kh, kw = w_shape
        (sh, sw), (dh, dw) = stride, dilation
        Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
        Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
        Wo = (Wp - dw * (kw - 1) - 1) // sw + 1
        return cls(N, C, H, W, O, kh, kw, sh, sw, dh, dw, tuple(pads), Ho, Wo)


def _offsets(geo: _Geometry) -> Iterator[tuple[int, int, tuple[slice, slice]]]:
    """(i, j, window slice) for every kernel offset: the (Ho, Wo) positions that kernel
    element (i, j) meets in the padded input."""
    for i in range(geo.kh):
        y0 = i * geo.dh
        for j in range(geo.kw):
            x0 = j * geo.dw
            yield i, j, (slice(y0, y0 + geo.sh * (geo.Ho - 1) + 1, geo.sh),
                         slice(x0, x0 + geo.sw * (geo.Wo - 1) + 1, geo.sw))


def _zero_border(xpad: np.ndarray, pads: Sequence[int]) -> None:
    pt, pb, pl, pr = pads
    if pt:
        xpad[:, :, :pt] = 0
    if pb:
        xpad[:, :, xpad.shape[2] - pb:] = 0
    if pl:
        xpad[:, :, :, :pl] = 0
    if pr:
        xpad[:, :, :, xpad.shape[3] - pr:] = 0


def _im2col_chunk(xc: np.ndarray, xpad: np.ndarray | None, cols: np.ndarray, geo: _Geometry) -> None:
    """For one chunk of the batch: pad ``xc`` (C, n, H, W, channel-major) into ``xpad``
    (C, n, Hp, Wp; None without padding), then fill ``cols`` (C, kh, kw, n, Ho, Wo) with
    one strided copy per kernel offset."""
    if xpad is not None:
        pt, _, pl, _ = geo.pads
        _zero_border(xpad, geo.pads)   # a reused buffer: only its thin border is zeroed
        xpad[:, :, pt:pt + geo.H, pl:pl + geo.W] = xc
    else:
        xpad = xc
    for i, j, (ys, xs) in _offsets(geo):
        cols[:, i, j] = xpad[:, :, ys, xs]


def _im2col(x: np.ndarray, geo: _Geometry, dtype: np.dtype[Any]) -> np.ndarray:
    """The column matrix of ``x`` (N, C, H, W): (C*kh*kw, N*Ho*Wo), column (n, y, x)
    holding the padded input under the kernel at output position (y, x) of sample n.
    A scratch buffer (give it back as "cols")."""
    xc = x.transpose(1, 0, 2, 3)
    Hp, Wp = geo.H + geo.pads[0] + geo.pads[1], geo.W + geo.pads[2] + geo.pads[3]
    xpad = (backend.take_scratch(("xpad", geo.pads), (geo.C, geo.N, Hp, Wp), dtype)
            if any(geo.pads) else None)
    cols = backend.take_scratch("cols", (geo.C * geo.kh * geo.kw, geo.N * geo.Ho * geo.Wo), dtype)
    c6 = cols.reshape(geo.C, geo.kh, geo.kw, geo.N, geo.Ho, geo.Wo)
    backend.parallel_chunks(geo.N, lambda lo, hi: _im2col_chunk(
        xc[:, lo:hi], None if xpad is None else xpad[:, lo:hi], c6[:, :, :, lo:hi], geo),
        cols.size)
    backend.give_scratch(("xpad", geo.pads), xpad)
    return cols


def _to_nchw(y: np.ndarray, b: np.ndarray | None, geo: _Geometry) -> np.ndarray:
    """y (O, N*Ho*Wo) + b as a new (N, O, Ho, Wo) array, in one pass."""
    out = np.empty((geo.N, geo.O, geo.Ho, geo.Wo), y.dtype)
    yt = y.reshape(geo.O, geo.N, geo.Ho, geo.Wo).transpose(1, 0, 2, 3)
    if b is None:
        return backend.copy(out, yt)
    return backend.elementwise(np.add, yt, b.reshape(1, geo.O, 1, 1), out=out)


def _channel_major(grad: np.ndarray, geo: _Geometry) -> np.ndarray:
    """The output gradient (N, O, Ho, Wo) as (O, N*Ho*Wo), for the GEMMs. A scratch
    buffer (give it back as "gT")."""
    gT = backend.take_scratch("gT", (geo.O, geo.N * geo.Ho * geo.Wo), grad.dtype)
    backend.copy(gT.reshape(geo.O, geo.N, geo.Ho, geo.Wo).transpose(1, 0, 2, 3), grad)
    return gT


def _col2im_chunk(dcols: np.ndarray, gpad: np.ndarray, geo: _Geometry) -> None:
    """For one chunk of the batch: add every kernel offset's block of ``dcols``
    (kh, kw, C, n, Ho, Wo) into its strided slice of ``gpad`` (C, n, Hp, Wp)."""
    gpad.fill(0)
    for i, j, (ys, xs) in _offsets(geo):
        gpad[:, :, ys, xs] += dcols[i, j]


def _col2im(dcols: np.ndarray, geo: _Geometry) -> np.ndarray:
    """dx (N, C, H, W) from the column gradient ``dcols`` (kh, kw, C, N, Ho, Wo): each
    input pixel sums the gradients of every column it was copied into."""
    pt, pb, pl, pr = geo.pads
    gpad = np.empty((geo.C, geo.N, geo.H + pt + pb, geo.W + pl + pr), dcols.dtype)
    backend.parallel_chunks(geo.N, lambda lo, hi: _col2im_chunk(
        dcols[:, :, :, lo:hi], gpad[:, lo:hi], geo), dcols.size)
    return gpad[:, :, pt:pt + geo.H, pl:pl + geo.W].transpose(1, 0, 2, 3)


# columns of one block of the input gradient: the block's (kh*kw*C, cols) product stays
# in cache while col2im adds it up (about 1.3x faster than one full product then col2im)
_DX_BLOCK_COLUMNS = 2304


def _input_grad_blocked(wt: np.ndarray, g: np.ndarray, geo: _Geometry) -> np.ndarray:
    """dx (N, C, H, W) = col2im(W^T g), a block of samples at a time: for each block one
    GEMM (kh*kw*C, O) @ (O, n*Ho*Wo) into a reused buffer, added at once into the padded
    gradient by kernel-offset slices (the column gradient of the whole batch is never
    materialised)."""
    pt, pb, pl, pr = geo.pads
    hw = geo.Ho * geo.Wo
    nb = max(1, min(geo.N, _DX_BLOCK_COLUMNS // max(hw, 1)))
    gpad = np.empty((geo.C, geo.N, geo.H + pt + pb, geo.W + pl + pr), g.dtype)
    g3 = g.reshape(geo.O, geo.N, hw)
    buf = backend.take_scratch("dcols_block", (wt.shape[0], nb * hw), g.dtype)
    for lo in range(0, geo.N, nb):      # blocks of the batch, not samples one by one
        hi = min(lo + nb, geo.N)
        gc = g3[:, lo:hi].reshape(geo.O, (hi - lo) * hw)
        d = np.matmul(wt, gc, out=buf[:, :gc.shape[1]])
        _col2im_chunk(d.reshape(geo.kh, geo.kw, geo.C, hi - lo, geo.Ho, geo.Wo),
                      gpad[:, lo:hi], geo)
    backend.give_scratch("dcols_block", buf)
    return gpad[:, :, pt:pt + geo.H, pl:pl + geo.W].transpose(1, 0, 2, 3)


def _input_grad_grouped(w: np.ndarray, g: np.ndarray, geo: _Geometry, groups: int) -> np.ndarray:
    """dx of a grouped convolution: as :func:`_input_grad_blocked`, with one batched GEMM
    over the groups per block of samples, (G, kh*kw*Cg, Og) @ (G, Og, n*Ho*Wo); the product's
    rows, (G, i, j, c) within a group, are viewed as the (i, j, C) order col2im adds up."""
    pt, pb, pl, pr = geo.pads
    G, hw = groups, geo.Ho * geo.Wo
    Og, Cg = geo.O // G, geo.C // G
    nb = max(1, min(geo.N, _DX_BLOCK_COLUMNS // max(hw, 1)))
    # W^T per group, rows ordered (i, j, c): (G, kh*kw*Cg, Og)
    wt = np.ascontiguousarray(w.reshape(G, Og, Cg, geo.kh, geo.kw).transpose(0, 3, 4, 2, 1)
                              ).reshape(G, geo.kh * geo.kw * Cg, Og)
    gpad = np.empty((geo.C, geo.N, geo.H + pt + pb, geo.W + pl + pr), g.dtype)
    g4 = g.reshape(G, Og, geo.N, hw)
    buf = np.empty((G, wt.shape[1], nb * hw), g.dtype)
    for lo in range(0, geo.N, nb):      # blocks of the batch, not samples one by one
        hi = min(lo + nb, geo.N)
        gc = g4[:, :, lo:hi].reshape(G, Og, (hi - lo) * hw)
        d = np.matmul(wt, gc, out=buf[:, :, :gc.shape[2]])
        d7 = d.reshape(G, geo.kh, geo.kw, Cg, hi - lo, geo.Ho, geo.Wo).transpose(1, 2, 0, 3, 4,
                                                                                  5, 6)
        _col2im_chunk(d7.reshape(geo.kh, geo.kw, geo.C, hi - lo, geo.Ho, geo.Wo),
                      gpad[:, lo:hi], geo)
    return gpad[:, :, pt:pt + geo.H, pl:pl + geo.W].transpose(1, 0, 2, 3)


# columns (samples x output positions) of one block of the blocked convolution: a block's
# column matrix, (C*kh*kw, columns), and its products stay in cache between the im2col copy
# and the GEMMs. Measured on one core (OpenBLAS, float32, batch 64, 28x28): the forward of
# conv 16->32 3x3 pad 1 went 11.0 -> 6.9 ms, 32->32 5x5 pad 2 76.6 -> 35 ms against one
# im2col of the whole batch then one GEMM.
_BLOCK_COLUMNS = 2048


def _blocks(geo: _Geometry) -> tuple[int, int]:
    """(samples per block, number of blocks) of the blocked convolution: blocks of about
    ``_BLOCK_COLUMNS`` columns, and, when there are few of them, blocks of down to half
    that size if it lowers the samples of the busiest thread (each of glassnet's threads
    runs a contiguous run of blocks). Measured on two cores (float32, 3x3 pad 1, forward
    / forward + backward ms): conv 64->64 at 8x8, batch 32, one block of 32 samples ->
    two of 16: 2.06 / 5.71 -> 1.55 / 4.87; 32->64 at 14x14, batch 64, 7 blocks -> 8:
    12.4 -> 12.1 forward + backward."""
    N = geo.N
    nb = max(1, min(N, _BLOCK_COLUMNS // max(geo.Ho * geo.Wo, 1)))
    k = backend.get_num_threads()
    if k > 1 and -(-N // nb) < 4 * k:
        def busiest(b: int) -> int:         # samples of the busiest thread
            blocks = -(-N // b)
            return -(-blocks // k) * b
        nb = min(range(max(1, nb // 2), nb + 1), key=lambda b: (busiest(b), -b))
    return nb, -(-N // nb)


# the "wide" layout of a stride-1 convolution: the output is computed on the padded width,
# positions p = y*Wp + x for x in [0, Wp), so that kernel offset (i, j) reads the padded
# input, flattened per sample, at p + i*Wp + j: im2col and col2im become contiguous runs
# (Ho*Wp elements per channel, offset and sample in the forward, one run per channel and
# offset for a whole block in the backward) instead of Ho runs of Wo. The columns x >= Wo
# are junk, dropped in the forward and zero in the gradients. It pays while the extra
# GEMM work, Wp/Wo - 1, stays small against the copies it saves. Measured on one core
# (float32, batch 64, forward / backward ms, blocked -> wide; in brackets the extra GEMM
# columns forward / backward): conv 16->32 3x3 pad 1 at 28x28 (+7% / +15%) 6.7 / 16.4 ->
# 6.1 / 13.7; 16->16 at 32x32 (+6% / +13%) 6.4 / 17.9 -> 5.7 / 12.8; 32->32 at 16x16
# (+13% / +27%) 5.0 / 11.4 -> 5.0 / 9.3; 64->64 at 14x14 (+14% / +32%) 10.1 / 22.8 ->
# 12.7 / 21.5; 64->64 at 8x8 (+25% / +59%) 4.1 / 9.2 -> 4.6 / 8.8; 32->32 5x5 pad 2 at
# 28x28 (+14% / +31%) 39.1 / 80.6 -> 46.1 / 79.0. The forward gains up to ~10% extra
# columns and loses past it; the backward, whose col2im (short strided adds) was its
# largest non-GEMM cost, gains at every size tried.
_WIDE_FORWARD_RATIO = 1.1
_WIDE_BACKWARD_RATIO = 1.6      # of Hp*Wp + kw - 1 against Ho*Wo


def _wide(geo: _Geometry, ratio: float, backward: bool = False) -> bool:
    """Whether the blocked convolution of ``geo`` uses the wide layout: stride 1, no
    dilation, and GEMM columns at most ``ratio`` times the outputs Ho*Wo: Ho*Wp in the
    forward, Hp*Wp + kw - 1 per sample in the backward."""
    hp, wp = geo.H + geo.pads[0] + geo.pads[1], geo.W + geo.pads[2] + geo.pads[3]
    columns = hp * wp + geo.kw - 1 if backward else geo.Ho * wp
    return (geo.sh == geo.sw == 1 and geo.dh == geo.dw == 1
            and columns <= ratio * geo.Ho * geo.Wo)


def _wide_input(xc: np.ndarray, xw: np.ndarray, geo: _Geometry) -> None:
    """Write ``xc`` (C, n, H, W) into the interior of ``xw`` (C, n, Hp*Wp + kw - 1), whose
    border and tail stay zero."""
    pt, pb, pl, pr = geo.pads
    hp, wp = geo.H + pt + pb, geo.W + pl + pr
    n = xc.shape[1]
    xw[:, :, :hp * wp].reshape(geo.C, n, hp, wp)[:, :, pt:pt + geo.H, pl:pl + geo.W] = xc


def _wide_im2col(xw: np.ndarray, cols: np.ndarray, geo: _Geometry) -> None:
    """``cols`` (C, kh, kw, n, Ho*Wp) from the wide input ``xw`` (C, n, Hp*Wp + kw - 1):
    one contiguous run per (channel, offset, sample)."""
    wp = geo.W + geo.pads[2] + geo.pads[3]
    L = geo.Ho * wp
    for i in range(geo.kh):
        for j in range(geo.kw):
            o = i * wp + j
            cols[:, i, j] = xw[:, :, o:o + L]


def _forward_blocked(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, geo: _Geometry,
                     dt: np.dtype[Any]) -> np.ndarray:
    """y (N, O, Ho, Wo) = W im2col(x) + b, one block of samples at a time: im2col of the
    block into a small buffer, one GEMM (O, C*kh*kw) @ (C*kh*kw, n*Ho*Wo), and the block's
    output written in NCHW. The bias is one more column of W against a row of ones under
    the columns: the layout copy is then a plain copy (a NumPy add with a broadcast bias
    over the same strided views took 2.7x as long). Blocks run on glassnet's threads with
    one BLAS thread each."""
    hw, K = geo.Ho * geo.Wo, geo.C * geo.kh * geo.kw
    nb, nblocks = _blocks(geo)
    out = np.empty((geo.N, geo.O, geo.Ho, geo.Wo), dt)
    xc = x.transpose(1, 0, 2, 3)
    wm = w.reshape(geo.O, K).astype(dt, copy=False)
    if b is not None:
        wm = np.concatenate([wm, b.reshape(geo.O, 1).astype(dt, copy=False)], axis=1)
    rows = wm.shape[1]                   # K, or K + 1 with the bias
    pt, pb, pl, pr = geo.pads
    padded = any(geo.pads)
    hp, wp = geo.H + pt + pb, geo.W + pl + pr
    wide = _wide(geo, _WIDE_FORWARD_RATIO)
    wo = wp if wide else geo.Wo          # the width the GEMM computes
    L = geo.Ho * wo                      # columns per sample

    def run(b0: int, b1: int) -> None:
        cols = np.empty((rows, nb * L), dt)
        cols[K:] = 1                     # the bias row; im2col writes the first K rows only
        if wide:
            xw = np.zeros((geo.C, nb, hp * wp + geo.kw - 1), dt)
        xpad = (np.zeros((geo.C, nb, hp, wp), dt) if padded and not wide else None)
        y = np.empty((geo.O, nb * L), dt)
        for blk in range(b0, b1):
            lo, hi = blk * nb, min(geo.N, (blk + 1) * nb)
            n = hi - lo
            c = cols[:K, :n * L]
            if wide:
                _wide_input(xc[:, lo:hi], xw[:, :n], geo)
                _wide_im2col(xw[:, :n], c.reshape(geo.C, geo.kh, geo.kw, n, L), geo)
            else:
                _im2col_chunk(xc[:, lo:hi], None if xpad is None else xpad[:, :n],
                              c.reshape(geo.C, geo.kh, geo.kw, n, geo.Ho, geo.Wo), geo)
            yy = np.matmul(wm, cols[:, :n * L], out=y[:, :n * L])
            out[lo:hi] = yy.reshape(geo.O, n, geo.Ho, wo)[:, :, :, :geo.Wo].transpose(1, 0, 2, 3)

    backend.parallel_chunks(nblocks, run, geo.N * geo.O * hw, gemm=True)
    return out


def _sum_partials(partial_w: list[np.ndarray], partial_b: list[np.ndarray],
                  w_shape: tuple[int, ...]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dW, db) from the threads' partial sums (dW^T per thread; empty lists: None)."""
    gw_all = gb_all = None
    if partial_w:
        gw_all = partial_w[0]
        for p in partial_w[1:]:
            gw_all += p
        gw_all = np.ascontiguousarray(gw_all.T).reshape(w_shape)
    if partial_b:
        gb_all = partial_b[0]
        for p in partial_b[1:]:
            gb_all += p
    return gw_all, gb_all


def _backward_blocked(x: np.ndarray, w: np.ndarray, grad: np.ndarray, geo: _Geometry,
                      want_x: bool, want_w: bool, want_b: bool
                      ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dx, dW, db) one block of samples at a time: the block's output gradient made
    channel-major (O, n*Ho*Wo), its column matrix recomputed from ``x`` (im2col of a block is
    cheaper than keeping the whole batch's, which is C*kh*kw times the input), dW += g cols^T
    and db += g 1 per block (a partial sum per thread, added at the end), and
    dx = col2im(W^T g) added into the block's slice of the padded input gradient."""
    if _wide(geo, _WIDE_BACKWARD_RATIO, backward=True):
        return _backward_wide(x, w, grad, geo, want_x, want_w, want_b)
    hw, K = geo.Ho * geo.Wo, geo.C * geo.kh * geo.kw
    nb, nblocks = _blocks(geo)
    dt = grad.dtype
    pt, pb, pl, pr = geo.pads
    padded = any(geo.pads)
    xc = x.transpose(1, 0, 2, 3)
    gpad = (np.empty((geo.C, geo.N, geo.H + pt + pb, geo.W + pl + pr), dt) if want_x
            else None)
    wt = (np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(K, geo.O)).astype(dt, copy=False)
          if want_x else None)                           # W^T, rows ordered (i, j, c)
    partial_w: list[np.ndarray] = []
    partial_b: list[np.ndarray] = []

    def run(b0: int, b1: int) -> None:
        gT = np.empty((geo.O, nb * hw), dt)
        if want_w:
            cols = np.empty((K, nb * hw), dt)
            xpad = (np.zeros((geo.C, nb, geo.H + pt + pb, geo.W + pl + pr), dt) if padded
                    else None)
            gw = np.zeros((K, geo.O), dt)     # dW^T: (cols g^T) ran 1.4x faster than g cols^T
            tmp = np.empty((K, geo.O), dt)
        if want_x:
            d = np.empty((K, nb * hw), dt)
        gb = np.zeros(geo.O, dt) if want_b else None
        for blk in range(b0, b1):
            lo, hi = blk * nb, min(geo.N, (blk + 1) * nb)
            n = hi - lo
            g = gT[:, :n * hw]
            g.reshape(geo.O, n, geo.Ho, geo.Wo)[...] = grad[lo:hi].transpose(1, 0, 2, 3)
            if want_w:
                c = cols[:, :n * hw]
                _im2col_chunk(xc[:, lo:hi], None if xpad is None else xpad[:, :n],
                              c.reshape(geo.C, geo.kh, geo.kw, n, geo.Ho, geo.Wo), geo)
                gw += np.matmul(c, g.T, out=tmp)
            if gb is not None:
                gb += g.sum(axis=1)
            if want_x:
                assert gpad is not None and wt is not None
                dd = np.matmul(wt, g, out=d[:, :n * hw])
                _col2im_chunk(dd.reshape(geo.kh, geo.kw, geo.C, n, geo.Ho, geo.Wo),
                              gpad[:, lo:hi], geo)
        if want_w:
            partial_w.append(gw)
        if gb is not None:
            partial_b.append(gb)

    backend.parallel_chunks(nblocks, run, geo.N * geo.O * hw, gemm=True)
    gx = (None if gpad is None
          else gpad[:, :, pt:pt + geo.H, pl:pl + geo.W].transpose(1, 0, 2, 3))
    gw_all, gb_all = _sum_partials(partial_w, partial_b, w.shape)
    return gx, gw_all, gb_all


def _backward_wide(x: np.ndarray, w: np.ndarray, grad: np.ndarray, geo: _Geometry,
                   want_x: bool, want_w: bool, want_b: bool
                   ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """:func:`_backward_blocked` of a stride-1 convolution in the wide layout, with every
    sample given S = Hp*Wp + kw - 1 columns (its padded input, flattened, and a tail): then
    kernel offset o = i*Wp + j reads and writes one contiguous run of n*S elements per
    channel for a whole block, the im2col a single copy and the col2im a single add per
    (channel, offset) (NumPy adds two contiguous runs about 4x faster than the same
    elements as rows of a 2-D slice). The columns outside a sample's Ho x Wo outputs are
    zero in the output gradient, so they add nothing to dW and db, and W^T g is zero
    there: what an offset's add carries past a sample's S columns is zero, and the last
    sample's spill past its block is cut (each thread writes its own block only)."""
    K = geo.C * geo.kh * geo.kw
    nb, nblocks = _blocks(geo)
    dt = grad.dtype
    pt, pb, pl, pr = geo.pads
    hp, wp = geo.H + pt + pb, geo.W + pl + pr
    S = hp * wp + geo.kw - 1
    spill = (geo.kh - 1) * wp + geo.kw - 1            # the largest offset
    offs = [i * wp + j for i in range(geo.kh) for j in range(geo.kw)]
    xc = x.transpose(1, 0, 2, 3)
    gx = np.empty((geo.N, geo.C, geo.H, geo.W), dt) if want_x else None
    wt = (np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(K, geo.O)).astype(dt, copy=False)
          if want_x else None)                           # W^T, rows ordered (i, j, c)
    partial_w: list[np.ndarray] = []
    partial_b: list[np.ndarray] = []

    def run(b0: int, b1: int) -> None:
        # flat buffers: a block of n samples uses the first (rows x n*S) elements as one
        # C-ordered matrix, so that every offset's add below is one contiguous run
        gflat = np.empty(geo.O * nb * S, dt)
        if want_w:
            cflat = np.empty(K * nb * S, dt)
            xw = np.zeros((geo.C, nb * S + spill), dt)    # border and tail stay zero
            xw4 = xw[:, :nb * S].reshape(geo.C, nb, S)[:, :, :hp * wp].reshape(
                geo.C, nb, hp, wp)[:, :, pt:pt + geo.H, pl:pl + geo.W]
            gw = np.zeros((K, geo.O), dt)     # dW^T: (cols g^T) ran 1.4x faster than g cols^T
            tmp = np.empty((K, geo.O), dt)
        if want_x:
            dflat = np.empty(K * nb * S, dt)
            gloc = np.empty(geo.C * nb * S, dt)
        gb = np.zeros(geo.O, dt) if want_b else None
        shape_n = -1
        for blk in range(b0, b1):
            lo, hi = blk * nb, min(geo.N, (blk + 1) * nb)
            n = hi - lo
            m = n * S
            if n != shape_n:          # the first block, and a shorter last one
                shape_n = n
                g = gflat[:geo.O * m].reshape(geo.O, m)
                g.fill(0)                     # outside the outputs: zero, never written
                g4 = g.reshape(geo.O, n, S)[:, :, :geo.Ho * wp].reshape(
                    geo.O, n, geo.Ho, wp)[:, :, :, :geo.Wo]
            g4[...] = grad[lo:hi].transpose(1, 0, 2, 3)
            if want_w:
                xw4[:, :n] = xc[:, lo:hi]
                c = cflat[:K * m].reshape(geo.C, len(offs), m)
                for k, o in enumerate(offs):
                    c[:, k] = xw[:, o:o + m]
                gw += np.matmul(c.reshape(K, m), g.T, out=tmp)
            if gb is not None:
                gb += g.sum(axis=1)
            if want_x:
                assert gx is not None and wt is not None
                dd = np.matmul(wt, g, out=dflat[:K * m].reshape(K, m))
                dd1 = dd.reshape(len(offs), geo.C * m)
                gv = gloc[:geo.C * m]
                gv.fill(0)
                for k, o in enumerate(offs):          # one contiguous add per offset
                    np.add(gv[o:], dd1[k, :geo.C * m - o], out=gv[o:])
                gx[lo:hi] = gv.reshape(geo.C, n, S)[:, :, :hp * wp].reshape(
                    geo.C, n, hp, wp)[:, :, pt:pt + geo.H, pl:pl + geo.W].transpose(1, 0, 2, 3)
        if want_w:
            partial_w.append(gw)
        if gb is not None:
            partial_b.append(gb)

    backend.parallel_chunks(nblocks, run, geo.N * geo.O * geo.Ho * geo.Wo, gemm=True)
    gw_all, gb_all = _sum_partials(partial_w, partial_b, w.shape)
    return gx, gw_all, gb_all


class Conv2dFunction(Function):
    """2-D cross-correlation; inputs x (N, C, H, W), w (O, C, kh, kw), b (O,) or None.

    Output (N, O, Ho, Wo); ``pads`` is (top, bottom, left, right)::

        cols = im2col(pad(x))            (C*kh*kw, N*Ho*Wo)
        y    = W cols + b                W as (O, C*kh*kw)
        dW = g cols^T,   db = g 1,   dx = col2im(W^T g)       g as (O, N*Ho*Wo)

    Channel-major inside, so the forward is one large GEMM and each gradient one more:
    large GEMMs keep the BLAS threads busy, where a batch of 64 small per-sample GEMMs
    spent its time synchronising them.

    ``groups`` G (PyTorch's layout: w is (O, C/G, kh, kw), output channels
    [g O/G, (g+1) O/G) see input channels [g C/G, (g+1) C/G)): the rows of ``cols`` are
    channel-major, so group g's rows are one block, and every product above becomes one
    batched GEMM over the G groups, (G, O/G, C/G*kh*kw) @ (G, C/G*kh*kw, N*Ho*Wo).
    Depthwise convolution is G = C (each output channel sees one input channel).
    """

    cols: np.ndarray | None    # the column matrix, kept for backward (None once released)

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                stride: tuple[int, int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
                dilation: tuple[int, int] = (1, 1), groups: int = 1) -> np.ndarray:
        geo = _Geometry.of(x.shape, w.shape, stride, pads, dilation)
        dt = np.result_type(x.dtype, w.dtype)
        self.groups = groups
        if groups == 1:
            # block by block: the column matrix of the whole batch is never made
            out = _forward_blocked(x, w, b, geo, dt)
            if any(self.needs_input_grad):
                self.x, self.w, self.geo, self.has_b = x, w, geo, b is not None
                self.cols = None
            return out
        cols = _im2col(x, geo, dt)
        y = backend.take_scratch("y", (geo.O, cols.shape[1]), dt)
        G = groups
        np.matmul(w.reshape(G, geo.O // G, -1), cols.reshape(G, -1, cols.shape[1]),
                  out=y.reshape(G, geo.O // G, cols.shape[1]))
        out = _to_nchw(y, b, geo)
        backend.give_scratch("y", y)
        if any(self.needs_input_grad):
            self.cols, self.w, self.geo, self.has_b = cols, w, geo, b is not None
        else:
            backend.give_scratch("cols", cols)
        return out

    def backward(self, grad: np.ndarray) -> tuple:
        geo, w, need, G = self.geo, self.w, self.needs_input_grad, self.groups
        if G == 1:
            want_w = len(need) > 1 and need[1]
            want_b = self.has_b and len(need) > 2 and need[2]
            gx, gw, gb = _backward_blocked(self.x, w, grad, geo, need[0], want_w, want_b)
            return (gx, gw, gb)[:len(need)]
        cols = self.cols
        assert cols is not None, "Conv2dFunction: backward after the buffers were released"
        g = _channel_major(grad, geo)                      # (O, N*Ho*Wo)
        gx = gw = gb = None
        if len(need) > 1 and need[1]:                      # (G, O/G, L) @ (G, L, C/G*kh*kw)
            L = g.shape[1]
            gw = np.matmul(g.reshape(G, -1, L),
                           cols.reshape(G, -1, L).transpose(0, 2, 1)).reshape(w.shape)
        if self.has_b and len(need) > 2 and need[2]:
            gb = g @ backend.const_vector("ones", g.shape[1], g.dtype)
        backend.give_scratch("cols", cols)
        self.cols = None
        if need[0]:
            gx = _input_grad_grouped(w, g, geo, G)
        backend.give_scratch("gT", g)
        return (gx, gw, gb)[:len(need)]


class Conv1dFunction(Conv2dFunction):
    """1-D cross-correlation: x (N, C, L), w (O, C, k) -> (N, O, Lo); a height-1 conv2d."""

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,  # type: ignore[override]  # 1-D sizes
                stride: int = 1, pads: Sequence[int] = (0, 0), dilation: int = 1,
                groups: int = 1) -> np.ndarray:
        out = super().forward(x[:, :, None, :], w[:, :, None, :], b, stride=(1, stride),
                              pads=(0, 0) + tuple(pads), dilation=(1, dilation), groups=groups)
        return out[:, :, 0, :]

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        grads = list(super().backward(g[:, :, None, :]))
        for i in (0, 1):
            if grads[i] is not None:
                grads[i] = grads[i][:, :, 0, :]
        return tuple(grads)


# ------------------------------------------------------------------ function API
def check_groups(groups: int, in_channels: int, out_channels: int, name: str) -> int:
    """``groups`` as an int that divides both channel counts, else an error naming them."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentError(f"{name}: groups must be a positive integer, got {groups!r}")
    for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
        if n % groups:
            raise ArgumentError(f"{name}: {what} ({n}) must be divisible by groups ({groups})")
    return int(groups)


def _check_shapes(xa: np.ndarray, wa: np.ndarray, name: str, x_layout: str, w_layout: str,
                  groups: int = 1) -> int:
    """Input and weight have the layouts' number of axes, and the input has ``groups`` times
    the weight's channel count (C = groups * C/groups); returns the checked groups."""
    for a, what, layout in ((xa, "input", x_layout), (wa, "weight", w_layout)):
        if a.ndim != layout.count(",") + 1:
            raise ValueError(f"{name}: expected {what} of shape {layout}, got shape {a.shape}")
    if groups == 1:
        if xa.shape[1] != wa.shape[1]:
            raise ValueError(f"{name}: input has {xa.shape[1]} channels but the weight expects "
                             f"{wa.shape[1]} (input shape {xa.shape}, weight shape {wa.shape})")
        return 1
    groups = check_groups(groups, xa.shape[1], wa.shape[0], name)
    if xa.shape[1] != wa.shape[1] * groups:
        raise ValueError(f"{name}: with groups={groups} the weight (O, C/groups, ...) expects "
                         f"{wa.shape[1]} * {groups} = {wa.shape[1] * groups} input channels, "
                         f"the input has {xa.shape[1]} (input shape {xa.shape}, weight shape "
                         f"{wa.shape})")
    return groups


def conv2d(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None, stride: IntTuple = 1,
           padding: IntTuple | str = 0, dilation: IntTuple = 1, strict: bool = False,
           name: str = "conv2d", groups: int = 1) -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution), NCHW.

    x: (N, C, H, W); weight: (O, C/groups, kh, kw); bias: (O,) or None -> (N, O, Ho, Wo).
    ``padding``: int, (ph, pw), 'valid', 'same' or 'full'. ``groups`` splits the channels
    into that many independent convolutions (PyTorch's layout; ``groups=C`` with O = k C is
    depthwise with depth multiplier k); C and O must be divisible by it.

    For a single image and a single kernel pass 2-D arrays: ``conv2d(image (H, W),
    kernel (kh, kw))`` returns the (Ho, Wo) map (a Tensor).

    >>> img = np.array([[0,10,10,0],[20,30,30,20],[10,20,20,10],[0,5,5,0]], float)
    >>> conv2d(img, np.array([[1., 0], [0, 2]])).numpy()
    array([[60., 70., 50.],
           [60., 70., 50.],
           [20., 30., 20.]])
    """
    xa, wa = as_array(x), as_array(weight)
    if xa.ndim == 2 and wa.ndim == 2:
        from .math import reshape
        xt = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.result_type(xa, wa,
                                                                                        np.float32)))
        wt = weight if isinstance(weight, Tensor) else Tensor(wa.astype(xt.dtype))
        out = conv2d(reshape(xt, 1, 1, *xa.shape), reshape(wt, 1, 1, *wa.shape), bias, stride,
                     padding, dilation, strict, name)
        return reshape(out, *out.shape[2:])
    groups = _check_shapes(xa, wa, name, "(N, C, H, W)", "(O, C/groups, kh, kw)", groups)
    st = check_pair(stride, "stride", name, min=1)
    dl = check_pair(dilation, "dilation", name, min=1)
    pads = resolve_padding(padding, wa.shape[2:], dl, st, name)
    conv_output_size(xa.shape[2], wa.shape[2], st[0], pads[0], pads[1], dl[0], name, "height",
                     strict)
    conv_output_size(xa.shape[3], wa.shape[3], st[1], pads[2], pads[3], dl[1], name, "width",
                     strict)
    if bias is None:
        return Conv2dFunction.apply(x, weight, stride=st, pads=pads, dilation=dl, groups=groups)
    return Conv2dFunction.apply(x, weight, bias, stride=st, pads=pads, dilation=dl,
                                groups=groups)


def conv1d(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None, stride: IntTuple = 1,
           padding: IntTuple | str = 0, dilation: IntTuple = 1, strict: bool = False,
           name: str = "conv1d", groups: int = 1) -> Tensor:
    """1-D cross-correlation: x (N, C, L), weight (O, C/groups, k), bias (O,) -> (N, O, Lo).

    ``padding``: int, 'valid', 'same' or 'full'; ``groups`` as in :func:`conv2d`.

    >>> conv1d(gn.randn(2, 3, 10), gn.randn(4, 3, 3), padding="same").shape
    (2, 4, 10)
    """
    xa, wa = as_array(x), as_array(weight)
    groups = _check_shapes(xa, wa, name, "(N, C, L)", "(O, C/groups, k)", groups)
    st: int = check_ints(stride, "stride", name, 1, min=1)[0]
    dl: int = check_ints(dilation, "dilation", name, 1, min=1)[0]
    if isinstance(padding, (tuple, list)):
        padding = padding[0]
    pads = resolve_padding(padding, (1, wa.shape[2]), (1, dl), (1, st), name)[2:]
    conv_output_size(xa.shape[2], wa.shape[2], st, pads[0], pads[1], dl, name,
                     "length", strict)
    if bias is None:
        return Conv1dFunction.apply(x, weight, stride=st, pads=pads, dilation=dl,
                                    groups=groups)
    return Conv1dFunction.apply(x, weight, bias, stride=st, pads=pads, dilation=dl,
                                groups=groups)
