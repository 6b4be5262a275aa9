"""Convolutions (cross-correlation, as in PyTorch) in NCHW / NCL layout.

out[n, o, y, x] = b[o] + sum_{c, i, j} w[o, c, i, j] * xpad[n, c, y*sh + i*dh, x*sw + j*dw]

Output size per axis: floor((N + P_lo + P_hi - d*(F - 1) - 1) / S) + 1, which is the
course's floor((N - F + 2P) / S) + 1 when d = 1.

How it is computed (and why):

* the input is copied once, channel-major, into a zero-bordered (C, N, Hp, Wp) buffer
  taken from a small pool (scratch arrays are reused between steps, so their pages
  are not faulted in again each step);
* the column matrix ``cols`` (C*kh*kw, N*Ho*Wo) is filled by one strided copy per
  kernel offset (a loop over offsets, never over pixels), then one GEMM
  ``W (O, K) @ cols`` gives (O, N*Ho*Wo), copied once into NCHW;
* backward: the gradient is made channel-major once, dW = g cols^T is one GEMM,
  db a GEMV with a ones vector, and dx one GEMM (kh*kw*C, O) @ (O, N*Ho*Wo) whose
  blocks are added into a padded buffer (col2im by kernel-offset slices);
* the copies around the GEMMs (padding, im2col, col2im, layout changes) are split
  into chunks of the batch run on glassnet's threads (``glassnet.set_num_threads``),
  since NumPy runs them on one core while the GEMMs use them all.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array
from ..validation import check_ints, check_pair

__all__ = ["conv1d", "conv2d", "conv_output_size", "resolve_padding", "Conv2dFunction",
           "Conv1dFunction"]


# ------------------------------------------------------------------ buffer pool
class _Pool:
    """A few scratch arrays keyed by (tag, shape, dtype), handed out and returned.

    A buffer is taken in forward and given back once backward has used it; a taken
    buffer is never handed out twice, so two layers (or two calls of one layer)
    waiting for backward never share memory.
    """

    def __init__(self, max_per_key=4):
        self.free = {}
        self.max_per_key = max_per_key

    def take(self, tag, shape, dtype, zero=False):
        key = (tag, tuple(shape), np.dtype(dtype).str)
        lst = self.free.get(key)
        if lst:
            a = lst.pop()
            if zero:
                a.fill(0)
            return a
        return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)

    def give(self, tag, a):
        if a is None:
            return
        key = (tag, a.shape, a.dtype.str)
        lst = self.free.setdefault(key, [])
        if len(lst) < self.max_per_key:
            lst.append(a)


_pool = _Pool()


# ------------------------------------------------------------- size arithmetic
def resolve_padding(padding, kernel_size, dilation, stride=(1, 1), layer="conv2d"):
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


def conv_output_size(n, k, stride=1, pad_lo=0, pad_hi=0, dilation=1, layer="conv", axis="",
                     strict=False):
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
        pad = f"{pad_lo + pad_hi}"
        kshow = f"{k}" if dilation == 1 else f"{keff} (kernel {k} dilated by {dilation})"
        raise ValueError(f"{layer}: kernel does not fit exactly{where} (strict shapes): "
                         f"(N - F + 2P)/S + 1 = ({n} - {kshow} + {pad}) / {stride} + 1 = "
                         f"{span / stride + 1:.2f}, not an integer; change padding or stride")
    return span // stride + 1


# --------------------------------------------------------------- the kernels
def _im2col(xpad, kh, kw, sh, sw, dh, dw, Ho, Wo, out):
    """Fill ``out`` (C, kh, kw, N, Ho, Wo) from xpad (C, N, Hp, Wp), one strided copy per
    kernel offset."""
    for i in range(kh):
        y0 = i * dh
        for j in range(kw):
            x0 = j * dw
            out[:, i, j] = xpad[:, :, y0:y0 + sh * (Ho - 1) + 1:sh, x0:x0 + sw * (Wo - 1) + 1:sw]
    return out


class Conv2dFunction(Function):
    """2-D cross-correlation; inputs x (N, C, H, W), w (O, C, kh, kw), b (O,) or None.

    Output (N, O, Ho, Wo). ``pads`` is (top, bottom, left, right).

    Internally channel-major: the padded input is (C, N, Hp, Wp) and the column matrix
    (C*kh*kw, N*Ho*Wo), so the forward is one large GEMM W (O, K) @ cols and the weight
    gradient one GEMM g (O, N*Ho*Wo) @ cols^T. Large GEMMs keep the BLAS threads busy;
    a batch of 64 small per-sample GEMMs spent its time synchronising them.
    """

    def forward(self, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1)):
        N, C, H, W = x.shape
        O, Cw, kh, kw = w.shape
        sh, sw = stride
        dh, dw = dilation
        pt, pb, pl, pr = pads
        Hp, Wp = H + pt + pb, W + pl + pr
        Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
        Wo = (Wp - dw * (kw - 1) - 1) // sw + 1
        dt = np.result_type(x.dtype, w.dtype)
        xc = x.transpose(1, 0, 2, 3)
        padded = bool(pt or pb or pl or pr)
        # a pooled buffer: only its thin border is zeroed, the interior is overwritten
        xpad = _pool.take(("xpad", pads), (C, N, Hp, Wp), dt) if padded else xc
        K = C * kh * kw
        cols = _pool.take("cols", (C, kh, kw, N, Ho, Wo), dt)

        def fill(lo, hi):   # one chunk of the batch: pad, then im2col (on glassnet's threads)
            xp = xpad[:, lo:hi]
            if padded:
                _zero_border(xp, pads)
                xp[:, :, pt:pt + H, pl:pl + W] = xc[:, lo:hi]
            _im2col(xp, kh, kw, sh, sw, dh, dw, Ho, Wo, cols[:, :, :, lo:hi])
        backend.parallel_chunks(N, fill, cols.size)
        if padded:
            _pool.give(("xpad", pads), xpad)
        colmat = cols.reshape(K, N * Ho * Wo)
        y = _pool.take("y", (O, N * Ho * Wo), dt)
        np.matmul(w.reshape(O, K), colmat, out=y)
        out = np.empty((N, O, Ho, Wo), dt)
        yt = y.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)
        bb = None if b is None else b.reshape(1, O, 1, 1)

        def nchw(lo, hi):   # bias added in the same pass that makes the output NCHW
            if bb is not None:
                np.add(yt[lo:hi], bb, out=out[lo:hi])
            else:
                out[lo:hi] = yt[lo:hi]
        backend.parallel_chunks(N, nchw, out.size)
        _pool.give("y", y)
        self.need = self.needs_input_grad
        if any(self.need):
            self.cols, self.w = cols, w
            self.meta = (N, C, H, W, O, kh, kw, sh, sw, dh, dw, pads, Ho, Wo)
            self.has_b = b is not None
        else:
            _pool.give("cols", cols)
        return out

    def backward(self, g):
        N, C, H, W, O, kh, kw, sh, sw, dh, dw, pads, Ho, Wo = self.meta
        need = self.need
        K = C * kh * kw
        M = N * Ho * Wo
        # the gradient channel-major, once: (O, N*Ho*Wo)
        gT = _pool.take("gT", (O, N, Ho, Wo), g.dtype)
        gt = g.transpose(1, 0, 2, 3)

        def copy(lo, hi):
            gT[:, lo:hi] = gt[:, lo:hi]
        backend.parallel_chunks(N, copy, g.size)
        g2 = gT.reshape(O, M)
        gx = gw = gb = None
        if len(need) > 1 and need[1]:
            gw = (g2 @ self.cols.reshape(K, M).T).reshape(self.w.shape)
        if self.has_b and len(need) > 2 and need[2]:
            gb = g2 @ backend.const_vector("ones", M, g.dtype)
        _pool.give("cols", self.cols)
        self.cols = None
        if need[0]:
            gx = _conv2d_input_grad(g2, self.w, N, C, H, W, kh, kw, sh, sw, dh, dw, pads, Ho, Wo)
        _pool.give("gT", gT)
        return (gx, gw, gb)[:len(need)]


def _zero_border(xpad, pads):
    pt, pb, pl, pr = pads
    if pt:
        xpad[:, :, :pt] = 0
    if pb:
        xpad[:, :, xpad.shape[2] - pb:] = 0
    if pl:
        xpad[:, :, :, :pl] = 0
    if pr:
        xpad[:, :, :, xpad.shape[3] - pr:] = 0


def _conv2d_input_grad(g2, w, N, C, H, W, kh, kw, sh, sw, dh, dw, pads, Ho, Wo):
    """dx: one GEMM (kh*kw*C, O) @ (O, N*Ho*Wo) gives every kernel offset's contribution,
    then col2im adds each offset's block into its strided slice of a padded channel-major
    buffer (chunks of the batch on glassnet's threads); returned as an (N, C, H, W) view."""
    pt, pb, pl, pr = pads
    Hp, Wp = H + pt + pb, W + pl + pr
    dt = g2.dtype
    O = w.shape[0]
    wt = w.transpose(2, 3, 1, 0).reshape(kh * kw * C, O)   # rows ordered (i, j, c)
    dcols = _pool.take("dcols", (kh, kw, C, N, Ho, Wo), dt)
    np.matmul(wt, g2, out=dcols.reshape(kh * kw * C, N * Ho * Wo))
    gpad = np.empty((C, N, Hp, Wp), dt)

    def col2im(lo, hi):
        gp = gpad[:, lo:hi]
        gp.fill(0)
        for i in range(kh):
            y0 = i * dh
            for j in range(kw):
                x0 = j * dw
                gp[:, :, y0:y0 + sh * (Ho - 1) + 1:sh, x0:x0 + sw * (Wo - 1) + 1:sw] += \
                    dcols[i, j, :, lo:hi]
    backend.parallel_chunks(N, col2im, dcols.size)
    _pool.give("dcols", dcols)
    return gpad[:, :, pt:pt + H, pl:pl + W].transpose(1, 0, 2, 3)


class Conv1dFunction(Conv2dFunction):
    """1-D cross-correlation: x (N, C, L), w (O, C, k) -> (N, O, Lo); a height-1 conv2d."""

    def forward(self, x, w, b=None, stride=1, pads=(0, 0), dilation=1):
        out = super().forward(x[:, :, None, :], w[:, :, None, :], b, stride=(1, stride),
                              pads=(0, 0) + tuple(pads), dilation=(1, dilation))
        return out[:, :, 0, :]

    def backward(self, g):
        grads = list(super().backward(g[:, :, None, :]))
        for i in (0, 1):
            if grads[i] is not None:
                grads[i] = grads[i][:, :, 0, :]
        return tuple(grads)


# ------------------------------------------------------------------ function API
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, strict=False, name="conv2d"):
    """2-D cross-correlation (what deep learning calls convolution), NCHW.

    x: (N, C, H, W); weight: (O, C, kh, kw); bias: (O,) or None -> (N, O, Ho, Wo).
    ``padding``: int, (ph, pw), 'valid', 'same' or 'full'.

    For a single image and a single kernel pass 2-D arrays: ``conv2d(image (H, W),
    kernel (kh, kw))`` returns the (Ho, Wo) map (a Tensor).

    >>> img = np.array([[0,10,10,0],[20,30,30,20],[10,20,20,10],[0,5,5,0]], float)
    >>> conv2d(img, np.array([[1., 0], [0, 2]])).numpy()
    array([[60., 70., 50.], [60., 70., 50.], [20., 30., 20.]])
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
    if xa.ndim != 4:
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got shape {xa.shape}")
    if wa.ndim != 4:
        raise ValueError(f"{name}: expected weight of shape (O, C, kh, kw), got shape {wa.shape}")
    if xa.shape[1] != wa.shape[1]:
        raise ValueError(f"{name}: input has {xa.shape[1]} channels but the weight expects "
                         f"{wa.shape[1]} (input shape {xa.shape}, weight shape {wa.shape})")
    st = check_pair(stride, "stride", name, min=1)
    dl = check_pair(dilation, "dilation", name, min=1)
    pads = resolve_padding(padding, wa.shape[2:], dl, st, name)
    conv_output_size(xa.shape[2], wa.shape[2], st[0], pads[0], pads[1], dl[0], name, "height",
                     strict)
    conv_output_size(xa.shape[3], wa.shape[3], st[1], pads[2], pads[3], dl[1], name, "width",
                     strict)
    if bias is None:
        return Conv2dFunction.apply(x, weight, stride=st, pads=pads, dilation=dl)
    return Conv2dFunction.apply(x, weight, bias, stride=st, pads=pads, dilation=dl)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, strict=False, name="conv1d"):
    """1-D cross-correlation: x (N, C, L), weight (O, C, k), bias (O,) -> (N, O, Lo).

    ``padding``: int, 'valid', 'same' or 'full'.

    >>> conv1d(gn.randn(2, 3, 10), gn.randn(4, 3, 3), padding="same").shape
    (2, 4, 10)
    """
    xa, wa = as_array(x), as_array(weight)
    if xa.ndim != 3:
        raise ValueError(f"{name}: expected input of shape (N, C, L), got shape {xa.shape}")
    if wa.ndim != 3:
        raise ValueError(f"{name}: expected weight of shape (O, C, k), got shape {wa.shape}")
    if xa.shape[1] != wa.shape[1]:
        raise ValueError(f"{name}: input has {xa.shape[1]} channels but the weight expects "
                         f"{wa.shape[1]} (input shape {xa.shape}, weight shape {wa.shape})")
    stride = check_ints(stride, "stride", name, 1, min=1)[0]
    dilation = check_ints(dilation, "dilation", name, 1, min=1)[0]
    if isinstance(padding, (tuple, list)):
        padding = padding[0]
    pads = resolve_padding(padding, (1, wa.shape[2]), (1, dilation), (1, stride), name)[2:]
    conv_output_size(xa.shape[2], wa.shape[2], stride, pads[0], pads[1], dilation, name,
                     "length", strict)
    if bias is None:
        return Conv1dFunction.apply(x, weight, stride=stride, pads=pads, dilation=dilation)
    return Conv1dFunction.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation)
