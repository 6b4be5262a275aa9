"""The differentiable operations behind ``glassnet.nn.functional`` that glassnet.functional
does not have: one :class:`~glassnet.autograd.function.Function` each, on raw arrays, with
the derivative beside the forward.

* elementwise units: GELU (exact and tanh), SiLU, Mish, Hardswish, Hardsigmoid, Hardtanh
  (ReLU6 is hardtanh(0, 6)), Threshold;
* ``AxisGather``: out = x taken along some axes by index maps (pad in reflect / replicate /
  circular / constant mode, nearest interpolation); backward adds each output gradient
  back onto the input element it was copied from;
* ``AxisLinear``: out = x with a matrix applied along some axes (bilinear / linear
  interpolation, adaptive average pooling); backward applies the transposes;
* ``AxisWindowMax``: max over variable windows along one axis (adaptive max pooling, one
  axis at a time: a max over a rectangle is the max over rows of the max over columns);
* ``SmoothL1``, ``KLDiv``, ``CosineEmbedding``-free helpers are written with these or with
  glassnet.functional's own Functions.

Everything is vectorised: the only Python loops run over the axes of a tensor.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, unbroadcast
from ..backend import kernels, threads

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence


_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

try:  # SciPy's erf is vectorised (used when the compiled kernels are off)
    from scipy.special import erf as _erf
except Exception:  # pragma: no cover - SciPy is a dependency of scikit-learn, normally present
    def _erf(x: np.ndarray) -> np.ndarray:
        """erf(x) = sign(x) (1 - erfc(|x|)) by the erfc fit of glassnet.backend.kernels
        (fractional error below 1.2e-7), vectorised NumPy."""
        a = np.abs(x).astype(np.float64)
        t = 1.0 / (1.0 + 0.5 * a)
        p = np.polyval(kernels.ERFC_FIT[::-1], t)
        y = 1.0 - t * np.exp(p - a * a)
        return (np.sign(x) * y).astype(x.dtype, copy=False)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def _softplus(t: np.ndarray) -> np.ndarray:
    return (np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))).astype(t.dtype, copy=False)


# ---------------------------------------------------------------- elementwise
class GELU(Function):
    """a = x Phi(x) (``approximate='none'``) or 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))
    (``'tanh'``);  da/dx = Phi(x) + x phi(x), or the derivative of the tanh form."""

    def forward(self, x: np.ndarray, approximate: str = "none") -> np.ndarray:
        self.x, self.approximate, self.d = x, approximate, None
        k = kernels.row_kernels(x.dtype) if approximate != "tanh" and x.size else None
        if k is not None:        # one compiled pass: the output and the derivative
            xf = np.ascontiguousarray(x).reshape(-1)
            d, out = np.empty_like(xf), np.empty_like(xf)
            threads.flat_chunks(k.gelu, (xf, d, out),      # erf per element: split early
                                min_elements=threads.PARALLEL_MIN_ELEMENTS)
            self.d = d.reshape(x.shape)
            return out.reshape(x.shape)
        if approximate == "tanh":
            u = _SQRT_2_PI * (x + 0.044715 * x ** 3)
            self.t = np.tanh(u)
            return (0.5 * x * (1 + self.t)).astype(x.dtype, copy=False)
        self.cdf = (0.5 * (1 + _erf(x * _INV_SQRT2))).astype(x.dtype, copy=False)
        return x * self.cdf

    def backward(self, g: np.ndarray) -> np.ndarray:
        x = self.x
        if self.d is not None:
            return threads.elementwise(np.multiply, g, self.d)
        if self.approximate == "tanh":
            t = self.t
            du = _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
        else:
            d = self.cdf + x * (_INV_SQRT_2PI * np.exp(-0.5 * x * x))
        return (g * d).astype(g.dtype, copy=False)


class SiLU(Function):
    """a = x sigmoid(x);  da/dx = s (1 + x (1 - s))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, self.s = x, _sigmoid(x)
        return x * self.s

    def backward(self, g: np.ndarray) -> np.ndarray:
        s = self.s
        return g * (s * (1 + self.x * (1 - s)))


class Mish(Function):
    """a = x tanh(softplus(x));  da/dx = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, self.t = x, np.tanh(_softplus(x))
        return x * self.t

    def backward(self, g: np.ndarray) -> np.ndarray:
        t = self.t
        return g * (t + self.x * _sigmoid(self.x) * (1 - t * t))


class Hardtanh(Function):
    """a = clamp(x, min_val, max_val);  da/dx = 1 strictly inside (min_val, max_val), else 0
    (PyTorch's rule at the two corners)."""

    def forward(self, x: np.ndarray, min_val: float = -1.0, max_val: float = 1.0) -> np.ndarray:
        self.inside = (x > min_val) & (x < max_val)
        return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g * self.inside


class Hardsigmoid(Function):
    """a = relu6(x + 3) / 6;  da/dx = 1/6 strictly inside (-3, 3), else 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.inside = (x > -3) & (x < 3)
        return (np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return (g * self.inside / 6).astype(g.dtype, copy=False)


class Hardswish(Function):
    """a = x relu6(x + 3) / 6;  da/dx = 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 above
    (PyTorch's choice at the corners)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        x = self.x
        d = np.where(x < -3, 0.0, np.where(x <= 3, x / 3 + 0.5, 1.0))
        return (g * d).astype(g.dtype, copy=False)


class Threshold(Function):
    """a = x where x > threshold, else value;  da/dx = [x > threshold]."""

    def forward(self, x: np.ndarray, threshold: float = 0.0, value: float = 0.0) -> np.ndarray:
        self.keep = x > threshold
        return np.where(self.keep, x, value).astype(x.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g * self.keep


# ---------------------------------------------------------- index maps by axis
class AxisGather(Function):
    """out = x[..., idx_a, ..., idx_b, ...]: along each listed axis the output position j
    copies input position ``idx[j]``; where ``valid[j]`` is False the output holds
    ``value`` instead (constant padding).

    ``maps`` is a tuple of (axis, idx, valid-or-None). Backward adds each output gradient
    onto its source position (``np.add.at`` along the axis, one call per axis).
    """

    def forward(self, x: np.ndarray,
                maps: Sequence[tuple[int, np.ndarray, np.ndarray | None]] = (),
                value: float = 0.0) -> np.ndarray:
        self.maps, self.shape = maps, x.shape
        out = x
        fill = None
        for axis, idx, valid in maps:
            out = np.take(out, idx, axis=axis)
            if valid is not None:
                shp = [1] * out.ndim
                shp[axis] = -1
                v = valid.reshape(shp)
                fill = v if fill is None else (fill & v)
        if fill is not None:
            out = np.where(fill, out, np.asarray(value, dtype=x.dtype)).astype(x.dtype,
                                                                                 copy=False)
        self.fill = fill
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        if self.fill is not None:
            g = np.where(self.fill, g, 0).astype(g.dtype, copy=False)
        in_shape = list(g.shape)
        # undo the axes in reverse order, each back to its input length
        sizes = []
        shape = list(self.shape)
        for axis, _idx, _v in self.maps:
            sizes.append(shape[axis])
        for (axis, idx, _v), n in zip(reversed(self.maps), reversed(sizes)):
            in_shape[axis] = n
            moved = np.moveaxis(g, axis, 0)
            acc = np.zeros((n,) + moved.shape[1:], dtype=g.dtype)
            np.add.at(acc, idx, moved)
            g = np.moveaxis(acc, 0, axis)
        return g


class AxisLinear(Function):
    """out = x with matrix ``A`` (out_len, in_len) applied along each listed axis.

    ``maps`` is a tuple of (axis, A). Backward applies A^T along the same axes.
    """

    def forward(self, x: np.ndarray, maps: Sequence[tuple[int, np.ndarray]] = ()) -> np.ndarray:
        self.maps = maps
        out = x
        for axis, A in maps:
            out = np.moveaxis(np.moveaxis(out, axis, -1) @ A.T.astype(x.dtype), -1, axis)
        return np.ascontiguousarray(out)

    def backward(self, g: np.ndarray) -> np.ndarray:
        for axis, A in reversed(self.maps):
            g = np.moveaxis(np.moveaxis(g, axis, -1) @ A.astype(g.dtype), -1, axis)
        return np.ascontiguousarray(g)


class AxisWindowMax(Function):
    """Max along ``axis`` over windows given by an index table ``win`` (out_len, width)
    (short windows repeat their last index). The gradient goes to the first maximum of
    each window, as PyTorch's adaptive max pooling."""

    def forward(self, x: np.ndarray, axis: int = -1, win: np.ndarray | None = None) -> np.ndarray:
        assert win is not None, "AxisWindowMax: win (the window table) is required"
        axis = axis % x.ndim
        moved = np.moveaxis(x, axis, -1)                 # (..., L)
        vals = moved[..., win]                           # (..., out, width)
        k = vals.argmax(axis=-1)
        self.src = np.take_along_axis(np.broadcast_to(win, vals.shape), k[..., None],
                                      axis=-1)[..., 0]  # (..., out) input positions
        self.axis, self.n = axis, x.shape[axis]
        out = np.take_along_axis(vals, k[..., None], axis=-1)[..., 0]
        return np.ascontiguousarray(np.moveaxis(out, -1, axis))

    def backward(self, g: np.ndarray) -> np.ndarray:
        gm = np.moveaxis(g, self.axis, -1)
        lead = gm.shape[:-1]
        acc = np.zeros(lead + (self.n,), dtype=g.dtype)
        flat = acc.reshape(-1, self.n)
        rows = np.arange(flat.shape[0])[:, None]
        np.add.at(flat, (rows, self.src.reshape(flat.shape[0], -1)), gm.reshape(flat.shape[0], -1))
        return np.ascontiguousarray(np.moveaxis(acc, -1, self.axis))

    def indices(self) -> np.ndarray:
        return np.moveaxis(self.src, -1, self.axis)


# --------------------------------------------------------------------- losses
class SmoothL1(Function):
    """Per element: 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (Huber divided by
    beta); ``huber=True`` gives PyTorch's huber_loss (beta * smooth_l1, delta = beta).

    d = y - t. dE/dd = d / beta inside, sign(d) outside (times delta for huber)."""

    def forward(self, y: np.ndarray, t: np.ndarray, beta: float = 1.0, huber: bool = False,
                reduction: str = "mean") -> np.ndarray:
        d = y - t
        a = np.abs(d)
        if beta == 0:
            inside = np.zeros(d.shape, dtype=bool)
        else:
            inside = a < beta
        if huber:
            per = np.where(inside, 0.5 * d * d, beta * (a - 0.5 * beta))
            self.dd = np.where(inside, d, beta * np.sign(d))
        else:
            per = np.where(inside, 0.5 * d * d / (beta if beta else 1.0), a - 0.5 * beta)
            self.dd = np.where(inside, d / (beta if beta else 1.0), np.sign(d))
        per = per.astype(y.dtype, copy=False)
        self.reduction, self.n = reduction, per.size
        self.yshape, self.tshape = y.shape, np.shape(t)
        return _reduce(per, reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        gd = self.dd * (g / max(self.n, 1) if self.reduction == "mean" else g)
        gd = gd.astype(self.dd.dtype, copy=False)
        gy = unbroadcast(gd, self.yshape) if self.needs_input_grad[0] else None
        gt = unbroadcast(-gd, self.tshape) if self.needs_input_grad[1] else None
        return gy, gt


class KLDiv(Function):
    """PyTorch's kl_div(input, target): input holds log-probabilities; per element
    t (log t - x) (0 where t = 0), or e^t (t - x) when ``log_target``.

    dE/dx = -t (or -e^t);  dE/dt = log t + 1 - x (or e^t (t - x + 1))."""

    def forward(self, x: np.ndarray, t: np.ndarray, log_target: bool = False,
                reduction: str = "mean") -> np.ndarray:
        if log_target:
            et = np.exp(t)
            per = et * (t - x)
            self.dx, self.dt = -et, et * (t - x + 1)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                logt = np.where(t > 0, np.log(np.where(t > 0, t, 1)), 0)
            per = np.where(t > 0, t * (logt - x), 0)
            self.dx = -t
            self.dt = np.where(t > 0, logt + 1 - x, 0)
        per = per.astype(x.dtype, copy=False)
        self.reduction, self.n, self.batch = reduction, per.size, (x.shape[0] if x.ndim else 1)
        self.xshape, self.tshape = x.shape, np.shape(t)
        if reduction == "batchmean":
            return np.asarray(per.sum() / self.batch, dtype=per.dtype)
        return _reduce(per, reduction)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.reduction == "mean":
            s = g / max(self.n, 1)
        elif self.reduction == "batchmean":
            s = g / self.batch
        else:
            s = g
        gx = unbroadcast((self.dx * s).astype(g.dtype, copy=False), self.xshape) \
            if self.needs_input_grad[0] else None
        gt = unbroadcast((self.dt * s).astype(g.dtype, copy=False), self.tshape) \
            if self.needs_input_grad[1] else None
        return gx, gt


def _reduce(per: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(per.mean(), dtype=per.dtype)
    if reduction == "sum":
        return np.asarray(per.sum(), dtype=per.dtype)
    return per
