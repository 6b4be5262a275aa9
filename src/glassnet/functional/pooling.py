"""Pooling over windows of NCHW (and NCL) maps.

Every pool is computed as a loop over the k*k window offsets, each a strided slice
of the whole batch: a 2x2/2 max pool is four slices and three ``np.maximum`` calls
(no reshape, no fancy indexing). Backward routes gradients through the same slices.
The usual non-overlapping max pool takes a separable path (``_separable_max``) whose
chunks of the batch run on glassnet's threads (one ``backend.parallel_chunks`` call).

Output size per axis: floor((N + 2P - F) / S) + 1.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array
from ..validation import check_pair
from .conv import conv_output_size

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Iterator, Sequence

    from glassnet._typing import IntTuple, TensorLike


__all__ = ["max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "global_avg_pool2d",
           "adaptive_avg_pool2d", "lp_pool2d", "stochastic_pool2d", "max_avg_pool2d"]


def _slices(Ho: int, Wo: int, kh: int, kw: int, sh: int, sw: int) -> Iterator[tuple[int, tuple[slice, slice, slice, slice]]]:
    """(i, j, window-offset slice) for every kernel offset."""
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (slice(None), slice(None), slice(i, i + sh * (Ho - 1) + 1, sh),
                               slice(j, j + sw * (Wo - 1) + 1, sw))


def _padded(x: np.ndarray, ph: int, pw: int, fill: float) -> np.ndarray:
    if not ph and not pw:
        return x
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * ph, W + 2 * pw), fill, dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    return xp


def _unpad(g: np.ndarray, ph: int, pw: int) -> np.ndarray:
    if not ph and not pw:
        return g
    return g[:, :, ph:g.shape[2] - ph, pw:g.shape[3] - pw]


class MaxPool2dFunction(Function):
    """y = max over each window; the gradient goes to the (first) max position only.

    Non-overlapping windows without padding (kernel == stride, the usual 2x2/2) take a
    separable path: the max over the kw columns of every row, then over the kh rows of
    those maxima. Ties go to the first column, then the first row, which is the first
    maximum in row-major order, as PyTorch. The second stage reads whole contiguous rows,
    and the winners are kept as two small index maps (columns, rows) for backward.
    """

    meta: tuple[Any, ...]   # the sizes backward needs (two layouts: sliced or separable)

    def forward(self, x: np.ndarray, kernel: tuple[int, int] = (2, 2), stride: tuple[int, int] = (2, 2), padding: tuple[int, int] = (0, 0)) -> np.ndarray:
        kh, kw = kernel
        sh, sw = stride
        ph, pw = padding
        record = any(self.needs_input_grad)
        if (kh, kw) == (sh, sw) and (ph, pw) == (0, 0) and kh * kw > 1:
            return self._separable(x, kh, kw, record)
        xp = _padded(x, ph, pw, -np.inf)
        Hp, Wp = xp.shape[2:]
        Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
        it = _slices(Ho, Wo, kh, kw, sh, sw)
        _, s0 = next(it)
        out = xp[s0].copy()
        arg = np.zeros(out.shape, np.uint8) if record else None
        for o, s in it:
            v = xp[s]
            if arg is not None:
                # strict '>' keeps the first maximum, like PyTorch
                np.copyto(arg, o, where=v > out)
            np.maximum(out, v, out=out)
        if record:
            self.sep = False
            self.arg, self.meta = arg, (x.shape, kh, kw, sh, sw, ph, pw, Ho, Wo)
        return out

    def _separable(self, x: np.ndarray, kh: int, kw: int, record: bool) -> np.ndarray:
        N, C, H, W = x.shape
        Ho, Wo = H // kh, W // kw
        out = np.empty((N, C, Ho, Wo), x.dtype)
        colmax = np.empty((N, C, Ho * kh, Wo), x.dtype) if kw > 1 else None
        cidx = np.empty((N, C, Ho * kh, Wo), np.uint8) if record and kw > 1 else None
        ridx = np.empty((N, C, Ho, Wo), np.uint8) if record and kh > 1 else None
        backend.parallel_chunks(N, lambda lo, hi: _separable_max(
            x[lo:hi], kh, kw, out[lo:hi], *(_rows(a, lo, hi) for a in (colmax, cidx, ridx))),
            x.size)
        if record:
            self.sep = True
            self.cidx, self.ridx, self.meta = cidx, ridx, (x.shape, kh, kw, Ho, Wo)
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        if self.sep:
            return self._separable_backward(g)
        shape, kh, kw, sh, sw, ph, pw, Ho, Wo = self.meta
        N, C, H, W = shape
        arg = self.arg
        gp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), g.dtype)
        for o, s in _slices(Ho, Wo, kh, kw, sh, sw):
            gp[s] += g * (arg == o)
        return _unpad(gp, ph, pw)

    def _separable_backward(self, g: np.ndarray) -> np.ndarray:
        (N, C, H, W), kh, kw, Ho, Wo = self.meta
        cidx, ridx = self.cidx, self.ridx
        gx = np.empty((N, C, H, W), g.dtype)
        gcol = np.empty((N, C, Ho, kh, Wo), g.dtype) if kh > 1 else None
        backend.parallel_chunks(N, lambda lo, hi: _separable_max_backward(
            g[lo:hi], kh, kw, _rows(cidx, lo, hi), _rows(ridx, lo, hi), _rows(gcol, lo, hi),
            gx[lo:hi]),
            gx.size)
        self.cidx = self.ridx = None
        return gx


def _rows(a: np.ndarray | None, lo: int, hi: int) -> np.ndarray | None:
    """Samples lo..hi of ``a`` (None stays None)."""
    return None if a is None else a[lo:hi]


def _running_max(views: Sequence[np.ndarray], out: np.ndarray, idx: np.ndarray | None) -> None:
    """Elementwise max over ``views`` into ``out`` and (if ``idx`` is given) the index of
    the first maximum into ``idx`` (uint8)."""
    np.maximum(views[0], views[1], out=out)
    if idx is not None:
        np.greater(views[1], views[0], out=idx.view(np.bool_))
    for k in range(2, len(views)):
        if idx is not None:
            np.copyto(idx, k, where=views[k] > out)
        np.maximum(out, views[k], out=out)


def _separable_max(x: np.ndarray, kh: int, kw: int, out: np.ndarray, colmax: np.ndarray | None, cidx: np.ndarray | None, ridx: np.ndarray | None) -> None:
    """out (n, C, Ho, Wo) = the max of each kh x kw window of x (n, C, H, W): first the max
    over the kw columns of every window row into ``colmax`` (n, C, Ho*kh, Wo), then over
    the kh rows of those (contiguous rows). The winning column and row go into ``cidx``
    and ``ridx`` (uint8) when given; ``colmax`` and ``cidx`` are None when kw == 1."""
    n, C = x.shape[:2]
    Ho, Wo = out.shape[2:]
    xc = x[:, :, :Ho * kh, :Wo * kw]
    if kw > 1:
        assert colmax is not None, "_separable_max: kw > 1 needs colmax"
        _running_max([xc[..., j::kw] for j in range(kw)], colmax, cidx)
        cm = colmax
    else:
        cm = xc
    if kh > 1:
        rows = cm.reshape(n, C, Ho, kh, Wo)
        _running_max([rows[:, :, :, i] for i in range(kh)], out, ridx)
    else:
        out[...] = cm


def _separable_max_backward(g: np.ndarray, kh: int, kw: int, cidx: np.ndarray | None, ridx: np.ndarray | None, gcol: np.ndarray | None, gx: np.ndarray) -> None:
    """gx (n, C, H, W) from g (n, C, Ho, Wo): each window's gradient to its winning row
    (through ``gcol``, (n, C, Ho, kh, Wo)), then each row's to its winning column; the
    rows and columns no window covers get 0."""
    n, C, Ho, Wo = g.shape
    H, W = gx.shape[2:]
    if kh > 1:
        assert gcol is not None, "_separable_max_backward: kh > 1 needs gcol"
        for i in range(kh):
            np.multiply(g, ridx == i, out=gcol[:, :, :, i])
        g = gcol.reshape(n, C, Ho * kh, Wo)
    if H != Ho * kh:
        gx[:, :, Ho * kh:] = 0
    if W != Wo * kw:
        gx[:, :, :, Wo * kw:] = 0
    gxc = gx[:, :, :Ho * kh, :Wo * kw]
    if kw > 1:
        for j in range(kw):
            np.multiply(g, cidx == j, out=gxc[..., j::kw])
    else:
        gxc[...] = g


class AvgPool2dFunction(Function):
    """y = mean over each window (padding counted as zeros, as PyTorch's default)."""

    def forward(self, x: np.ndarray, kernel: tuple[int, int] = (2, 2), stride: tuple[int, int] = (2, 2), padding: tuple[int, int] = (0, 0)) -> np.ndarray:
        kh, kw = kernel
        sh, sw = stride
        ph, pw = padding
        xp = _padded(x, ph, pw, 0)
        Hp, Wp = xp.shape[2:]
        Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
        it = _slices(Ho, Wo, kh, kw, sh, sw)
        _, s0 = next(it)
        out = xp[s0].copy()
        for _, s in it:
            out += xp[s]
        out *= 1.0 / (kh * kw)
        self.meta = (x.shape, kh, kw, sh, sw, ph, pw, Ho, Wo)
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        shape, kh, kw, sh, sw, ph, pw, Ho, Wo = self.meta
        N, C, H, W = shape
        gs = g * (1.0 / (kh * kw))
        gp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), g.dtype)
        for _, s in _slices(Ho, Wo, kh, kw, sh, sw):
            gp[s] += gs
        return _unpad(gp, ph, pw)


class StochasticPool2dFunction(Function):
    """Stochastic pooling (Zeiler & Fergus 2013) on non-negative activations.

    p_i = a_i / sum_j a_j in each window. Training: y = a_k with k ~ p (the gradient
    goes to a_k). Eval: y = sum_i p_i a_i = sum a_i^2 / sum a_i, with
    dy/da_i = (2 a_i S1 - S2) / S1^2 (S1 = sum a, S2 = sum a^2; a window of zeros gives 0).
    """

    def forward(self, x: np.ndarray, kernel: tuple[int, int] = (2, 2), stride: tuple[int, int] = (2, 2), training: bool = True) -> np.ndarray:
        kh, kw = kernel
        sh, sw = stride
        if (x < 0).any():
            raise ValueError("stochastic_pool2d: activations must be non-negative (apply it "
                             "after a ReLU); got a negative value")
        Hp, Wp = x.shape[2:]
        Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
        offs = list(_slices(Ho, Wo, kh, kw, sh, sw))
        s1 = np.zeros((x.shape[0], x.shape[1], Ho, Wo), x.dtype)
        for _, s in offs:
            s1 += x[s]
        self.meta = (x.shape, kh, kw, sh, sw, Ho, Wo, training)
        if training:
            # inverse-CDF sampling: the first offset whose running sum passes u * S1
            u = cast(np.ndarray, backend.rng().random(s1.shape)).astype(x.dtype) * s1
            csum = np.zeros_like(s1)
            arg = np.full(s1.shape, 255, np.uint8)
            out = np.zeros_like(s1)
            for o, s in offs:
                v = x[s]
                csum += v
                pick = (arg == 255) & (csum > u)
                np.copyto(arg, o, where=pick)
                np.copyto(out, v, where=pick)
            self.arg = arg
            return out
        s2 = np.zeros_like(s1)
        for _, s in offs:
            s2 += x[s] * x[s]
        safe = np.where(s1 > 0, s1, 1)
        self.x, self.s1, self.s2 = x, safe, s2
        self.zero = s1 <= 0
        return np.where(self.zero, 0, s2 / safe)

    def backward(self, g: np.ndarray) -> np.ndarray:
        shape, kh, kw, sh, sw, Ho, Wo, training = self.meta
        gx = np.zeros(shape, g.dtype)
        offs = _slices(Ho, Wo, kh, kw, sh, sw)
        if training:
            for o, s in offs:
                gx[s] += g * (self.arg == o)
            return gx
        s1, s2 = self.s1, self.s2
        gz = np.where(self.zero, 0, g) / (s1 * s1)
        for _, s in offs:
            gx[s] += gz * (2 * self.x[s] * s1 - s2)
        return gx


# ----------------------------------------------------------------- helpers
def _check(x: TensorLike, name: str, ndim: int = 4) -> np.ndarray:
    a = as_array(x)
    if a.ndim != ndim:
        want = "(N, C, H, W)" if ndim == 4 else "(N, C, L)"
        raise ValueError(f"{name}: expected input of shape {want}, got shape {a.shape}")
    return a


def _args(x: TensorLike, kernel_size: IntTuple, stride: IntTuple | None, padding: IntTuple, name: str, strict: bool = False) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    a = _check(x, name)
    k = check_pair(kernel_size, "kernel_size", name)
    s = k if stride is None else check_pair(stride, "stride", name)
    p = check_pair(padding, "padding", name)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{name}: padding {p} must be at most half the kernel size {k}")
    conv_output_size(a.shape[2], k[0], s[0], p[0], p[0], 1, name, "height", strict)
    conv_output_size(a.shape[3], k[1], s[1], p[1], p[1], 1, name, "width", strict)
    return k, s, p


def max_pool2d(x: TensorLike, kernel_size: IntTuple = 2, stride: IntTuple | None = None, padding: IntTuple = 0, strict: bool = False, name: str = "max_pool2d") -> Tensor:
    """Max over each kh x kw window (stride defaults to the kernel size).

    (N, C, H, W) -> (N, C, Ho, Wo). The gradient flows only to each window's maximum.

    >>> max_pool2d(gn.randn(1, 1, 4, 4), 2).shape   # the 2x2 block maxima
    (1, 1, 2, 2)
    """
    k, s, p = _args(x, kernel_size, stride, padding, name, strict)
    return MaxPool2dFunction.apply(x, kernel=k, stride=s, padding=p)


def avg_pool2d(x: TensorLike, kernel_size: IntTuple = 2, stride: IntTuple | None = None, padding: IntTuple = 0, strict: bool = False, name: str = "avg_pool2d") -> Tensor:
    """Mean over each kh x kw window; (N, C, H, W) -> (N, C, Ho, Wo)."""
    k, s, p = _args(x, kernel_size, stride, padding, name, strict)
    return AvgPool2dFunction.apply(x, kernel=k, stride=s, padding=p)


def _as_2d(x: TensorLike) -> Tensor:
    from .math import unsqueeze
    return unsqueeze(cast("Tensor", x), 2)   # an array is wrapped by the Function


def _from_2d(y: Tensor) -> Tensor:
    from .math import squeeze
    return squeeze(y, 2)


def _pool1d(pool2d: Callable[..., Tensor], x: TensorLike, kernel_size: IntTuple, stride: IntTuple | None, padding: IntTuple, strict: bool, name: str) -> Tensor:
    """A 1-D pool as the 2-D one over (N, C, 1, L) with (1, k) windows."""
    _check(x, name, 3)

    def first(v: IntTuple) -> int:
        return v[0] if isinstance(v, (tuple, list)) else cast(int, v)
    k = first(kernel_size)
    s = k if stride is None else first(stride)
    return _from_2d(pool2d(_as_2d(x), (1, k), (1, s), (0, first(padding)), strict, name))


def max_pool1d(x: TensorLike, kernel_size: IntTuple = 2, stride: IntTuple | None = None, padding: IntTuple = 0, strict: bool = False, name: str = "max_pool1d") -> Tensor:
    """Max over windows of length k along the last axis: (N, C, L) -> (N, C, Lo)."""
    return _pool1d(max_pool2d, x, kernel_size, stride, padding, strict, name)


def avg_pool1d(x: TensorLike, kernel_size: IntTuple = 2, stride: IntTuple | None = None, padding: IntTuple = 0, strict: bool = False, name: str = "avg_pool1d") -> Tensor:
    """Mean over windows of length k along the last axis: (N, C, L) -> (N, C, Lo)."""
    return _pool1d(avg_pool2d, x, kernel_size, stride, padding, strict, name)


def global_avg_pool2d(x: Tensor, name: str = "global_avg_pool2d") -> Tensor:
    """Mean over H and W, keeping them as size 1: (N, C, H, W) -> (N, C, 1, 1)."""
    from .math import mean
    _check(x, name)
    return mean(x, axis=(2, 3), keepdims=True)


def adaptive_avg_pool2d(x: Tensor, output_size: IntTuple = 1, name: str = "adaptive_avg_pool2d") -> Tensor:
    """Average pooling to a fixed (oh, ow) output; H, W must be multiples of oh, ow.

    output_size=1 is global average pooling.
    """
    a = _check(x, name)
    oh, ow = check_pair(output_size, "output_size", name)
    if (oh, ow) == (1, 1):
        return global_avg_pool2d(x, name)
    H, W = a.shape[2:]
    if H % oh or W % ow:
        raise ValueError(f"{name}: input size {H}x{W} is not a multiple of output_size "
                         f"{oh}x{ow} (only evenly dividing sizes are supported)")
    return avg_pool2d(x, (H // oh, W // ow), name=name)


class _WindowRootFunction(Function):
    """y = s^(1/p) for the non-negative window sums s of ``lp_pool2d``.

    dy/ds = y / (p s) for s > 0. At s = 0 (a window of zeros, common after a ReLU) the
    derivative is infinite and ``x^p``'s backward multiplies it by 0: the subgradient
    0 is used there instead, which is what PyTorch's LPPool2d gives for such windows.
    """

    def forward(self, s: np.ndarray, p: float = 2.0) -> np.ndarray:
        y = np.power(s, 1.0 / p)
        self.s, self.y, self.p = s, y, p
        return y

    def backward(self, g: np.ndarray) -> np.ndarray:
        s, y = self.s, self.y
        pos = s > 0
        d = np.where(pos, y, 0) / (self.p * np.where(pos, s, 1))
        return g * d.astype(g.dtype, copy=False)


def lp_pool2d(x: Tensor, norm_type: float = 2.0, kernel_size: IntTuple = 2, stride: IntTuple | None = None,
              name: str = "lp_pool2d") -> Tensor:
    """Power-average pooling: y = (sum_window x^p)^(1/p); p = 2 is L2 pooling.

    As PyTorch's LPPool2d (no padding). For p = 2 the gradient is x / y per window; a
    window whose sum of powers is 0 (all zeros, e.g. after a ReLU) gets gradient 0,
    as in PyTorch, instead of the 0 * inf = NaN of the plain chain rule.

    >>> x = gn.tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    >>> lp_pool2d(x, 2, 2).sum().backward()
    >>> x.grad.tolist()
    [[[[0.0, 0.0], [0.0, 0.0]]]]
    """
    from .math import pow as _pow
    k, s, _ = _args(x, kernel_size, stride, 0, name)
    p = float(norm_type)
    xp = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    summed = avg_pool2d(_pow(xp, p), k, s, name=name) * float(k[0] * k[1])
    return _WindowRootFunction.apply(summed, p=p)


def stochastic_pool2d(x: TensorLike, kernel_size: IntTuple = 2, stride: IntTuple | None = None, training: bool = True,
                      name: str = "stochastic_pool2d") -> Tensor:
    """Stochastic pooling: sample by activation in training, probability-weighted mean in eval.

    Input must be non-negative (after ReLU); (N, C, H, W) -> (N, C, Ho, Wo).
    """
    k, s, _ = _args(x, kernel_size, stride, 0, name)
    return StochasticPool2dFunction.apply(x, kernel=k, stride=s, training=bool(training))


def max_avg_pool2d(x: Tensor, kernel_size: IntTuple = 2, stride: IntTuple | None = None, padding: IntTuple = 0,
                   alpha: float | None = None, name: str = "max_avg_pool2d") -> Tensor:
    """Max + average pooling over each window.

    With ``alpha=None`` (the default) this is the lectures' form (the 2015 entry of the
    table of pooling methods): y = max(window) + mean(window), the plain sum of the max
    pool and the average pool. With a number ``alpha`` in [0, 1] it is the convex mix
    y = alpha * max(window) + (1 - alpha) * mean(window) (``alpha=0.5`` is half the sum).

    >>> x = gn.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    >>> max_avg_pool2d(x, 2).item()               # 6 + 3
    9.0
    >>> max_avg_pool2d(x, 2, alpha=0.5).item()    # (6 + 3) / 2
    4.5
    """
    m = max_pool2d(x, kernel_size, stride, padding, name=name)
    a = avg_pool2d(x, kernel_size, stride, padding, name=name)
    if alpha is None:
        return m + a
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) \
            or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"{name}: alpha must be None (max + mean) or a number in [0, 1] "
                         f"(the convex mix), got {alpha!r}")
    return m * float(alpha) + a * float(1.0 - alpha)
