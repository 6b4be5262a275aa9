"""Activation functions, each a Function with its derivative beside it.

All are written in numerically stable forms: no overflow (and no NumPy warning)
at |x| = 1000 in float32 or float64.

Threshold units
---------------
``step`` and ``sign`` are the threshold units of the perceptron: they fire when
the net input reaches the threshold, ``z >= threshold`` (so the output *at*
the threshold is ``high`` for step and +1 for sign, as in glassnet's
Perceptron; note ``np.sign(0) == 0`` differs).  Their derivative is 0 almost
everywhere, so backprop passes zeros through them: they are for hand-worked
exercises and the perceptron rule, not for gradient descent.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..validation import check_real, lookup

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import Dims
    from glassnet.autograd.tensor import Tensor


__all__ = [
    "identity", "step", "sign", "relu", "sigmoid", "tanh", "leaky_relu", "rrelu", "prelu",
    "elu", "selu", "softplus", "softsign", "maxout", "apl", "softmax", "log_softmax",
    "get_activation", "ACTIVATIONS",
]

_LN2 = math.log(2.0)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Identity(Function):
    """a = z;  da/dz = 1."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z.view()

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g


class Step(Function):
    """a = high if z >= threshold else low;  da/dz = 0 (a threshold unit)."""

    def forward(self, z: np.ndarray, threshold: float = 0.0, low: float = 0.0,
                high: float = 1.0) -> np.ndarray:
        return np.where(z >= threshold, high, low).astype(z.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.zeros_like(g)


class Sign(Function):
    """a = +1 if z >= threshold else -1;  da/dz = 0 (a bipolar threshold unit). With
    ``three_valued``: +1 above the threshold, -1 below, 0 exactly at it."""

    def forward(self, z: np.ndarray, threshold: float = 0.0, three_valued: bool = False) -> np.ndarray:
        if three_valued:
            return np.where(z > threshold, 1.0, np.where(z < threshold, -1.0, 0.0)).astype(
                z.dtype, copy=False)
        return np.where(z >= threshold, 1.0, -1.0).astype(z.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.zeros_like(g)


class ReLU(Function):
    """a = max(0, z);  da/dz = 1 for z > 0, else 0.

    Forward computes a and the mask z > 0 together, backward g * mask: with Numba, one
    compiled pass each (``backend.kernels.relu_kernels``) over flat chunks on glassnet's
    threads, else NumPy's ufuncs through ``backend.elementwise``, which runs large arrays in
    chunks of the batch on the threads (NumPy would use one core). (A NaN or inf gradient
    where z <= 0 gives NaN here; PyTorch's threshold_backward gives 0. NumPy has no fast
    select: np.where took 10x the time of the product.)
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        if not self.needs_input_grad[0]:
            self.mask = None
            return backend.elementwise(np.maximum, z, 0)
        k = backend.kernels.relu_kernels(z.dtype)
        if k is None or type(z) is not np.ndarray or not z.flags.c_contiguous:
            a, self.mask = backend.elementwise((np.maximum, np.greater), z, 0)
            return a
        a = np.empty_like(z)
        self.mask = np.empty(z.shape, dtype=bool)
        backend.flat_chunks(k.forward, (z, a, self.mask), k.zero)
        return a

    def backward(self, g: np.ndarray) -> np.ndarray:
        m = self.mask
        assert m is not None          # forward keeps the mask whenever z needs a gradient
        k = backend.kernels.relu_kernels(g.dtype)
        if (k is None or type(g) is not np.ndarray or not g.flags.c_contiguous
                or g.shape != m.shape):
            return backend.elementwise(np.multiply, g, m)
        out = np.empty_like(g)
        backend.flat_chunks(k.backward, (g, m, out), k.zero)
        return out


class Sigmoid(Function):
    """a = 1 / (1 + e^-z);  da/dz = a (1 - a)."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.out = _stable_sigmoid(z)
        return self.out

    def backward(self, g: np.ndarray) -> np.ndarray:
        a = self.out
        return g * a * (1 - a)


class Tanh(Function):
    """a = tanh(z);  da/dz = 1 - a^2."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.out = np.tanh(z)
        return self.out

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g * (1 - self.out * self.out)


class LeakyReLU(Function):
    """a = z for z > 0, alpha z otherwise;  da/dz = 1 or alpha."""

    def forward(self, z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
        self.slope = np.where(z > 0, 1.0, negative_slope).astype(z.dtype, copy=False)
        return z * self.slope

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g * self.slope


class RReLU(Function):
    """Randomised leaky ReLU: a = z for z > 0, r z otherwise.

    Training: r ~ U(lower, upper) drawn per element from ``backend.rng()``;
    eval: r = (lower + upper) / 2.  da/dz = 1 or r.
    """

    def forward(self, z: np.ndarray, lower: float = 1 / 8, upper: float = 1 / 3,
                training: bool = False) -> np.ndarray:
        if training:
            r = backend.rng().uniform(lower, upper, size=z.shape).astype(z.dtype, copy=False)
            self.slope = np.where(z > 0, 1, r).astype(z.dtype, copy=False)
        else:
            self.slope = np.where(z > 0, 1.0, (lower + upper) / 2).astype(z.dtype, copy=False)
        return z * self.slope

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g * self.slope


def _channel_shape(z: np.ndarray, n: int) -> tuple[int, ...]:
    """Broadcast shape of a per-channel vector of length n against z (channels on axis 1)."""
    if n == 1:
        return (1,) * max(z.ndim, 1)
    if z.ndim == 1:
        if z.shape[0] != n:
            raise ValueError(f"prelu: {n} slopes for input of shape {z.shape}")
        return (n,)
    if z.ndim == 0 or z.shape[1] != n:
        raise ValueError(f"prelu: weight has {n} slopes but the input has "
                         f"{z.shape[1] if z.ndim > 1 else 'no'} channels on axis 1 "
                         f"(input shape {z.shape})")
    return (1, n) + (1,) * (z.ndim - 2)


class PReLU(Function):
    """a = z for z > 0, w z otherwise, w learnable (one slope, or one per channel on axis 1).

    da/dz = 1 or w;  dE/dw = sum over the non-channel axes of g z [z <= 0].
    """

    def forward(self, z: np.ndarray, w: np.ndarray) -> np.ndarray:
        self.z = z
        self.wshape = w.shape
        wb = w.reshape(_channel_shape(z, w.size))
        self.pos = z > 0
        self.wb = wb
        return np.where(self.pos, z, wb * z)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        gz = gw = None
        if self.needs_input_grad[0]:
            gz = np.where(self.pos, g, g * self.wb)
        if self.needs_input_grad[1]:
            t = np.where(self.pos, 0, g * self.z)
            if self.wb.size == 1:
                gw = np.asarray(t.sum(), dtype=t.dtype).reshape(self.wshape)
            elif t.ndim == 1:
                gw = t.reshape(self.wshape)
            else:
                axes = (0,) + tuple(range(2, t.ndim))
                gw = t.sum(axis=axes).reshape(self.wshape)
        return gz, gw


class ELU(Function):
    """a = z for z > 0, alpha (e^z - 1) otherwise;  da/dz = 1 or a + alpha.

    ``scale`` multiplies everything (SELU is ELU with fixed alpha and scale).
    """

    def forward(self, z: np.ndarray, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
        # e^{min(z, 0)} never overflows, and is exactly 1 where z > 0, so
        # max(z, 0) + alpha (e - 1) is the whole function in a few cheap passes
        # (np.expm1 is ~9x slower than np.exp in float32; its extra accuracy near 0 is
        # below one float32 ulp of the unit scale)
        e = np.exp(np.minimum(z, 0))
        out = np.maximum(z, 0)
        out += alpha * (e - 1)
        if scale != 1.0:
            out *= scale
        self.e, self.pos, self.alpha, self.scale = e, z > 0, alpha, scale
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        d = (self.alpha * self.scale) * self.e  # d/dz alpha (e^z - 1) = alpha e^z
        np.copyto(d, self.scale, where=self.pos)
        return g * d


class Softplus(Function):
    """a = (1/beta) ln(1 + e^{beta z}), linear (a = z) where beta z > threshold.

    ``centered=True`` subtracts ln(2)/beta so that a(0) = 0 (the centered softplus
    ln(1 + e^z) - ln 2).  da/dz = sigmoid(beta z) (1 in the linear region).
    Stable form: ln(1 + e^t) = max(t, 0) + ln(1 + e^{-|t|}).
    """

    def forward(self, z: np.ndarray, beta: float = 1.0, threshold: float = 20.0,
                centered: bool = False) -> np.ndarray:
        t = z * beta if beta != 1.0 else z
        self.lin = t > threshold
        sp = _softplus(t)
        if beta != 1.0:
            sp /= beta
        out = np.where(self.lin, z, sp)
        if centered:
            out -= _LN2 / beta
        self.t = t
        return out.astype(z.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        d = _stable_sigmoid(self.t)
        np.copyto(d, 1, where=self.lin)
        return (g * d).astype(g.dtype, copy=False)


class Softsign(Function):
    """a = z / (1 + |z|);  da/dz = 1 / (1 + |z|)^2."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.d = 1 + np.abs(z)
        return z / self.d

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g / (self.d * self.d)


class Maxout(Function):
    """Maxout units (Goodfellow et al. 2013): a_o = max_j (x . w_{o,j} + b_{o,j}).

    ``w`` is (out * pieces, in), row ``o * pieces + j`` the j-th piece of unit o;
    all pieces come from one GEMM. The gradient goes only to the winning piece.
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                pieces: int = 2) -> np.ndarray:
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        y = x2 @ w.T
        if b is not None:
            y += b
        m = x2.shape[0]
        out_f = w.shape[0] // pieces
        y = y.reshape(m, out_f, pieces)
        self.idx = y.argmax(axis=2)[..., None]
        self.x2, self.w, self.has_b, self.lead = x2, w, b is not None, lead
        self.pieces = pieces
        return np.take_along_axis(y, self.idx, axis=2).reshape(lead + (out_f,))

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None,
                                               np.ndarray | None]:
        m, out_f = self.idx.shape[0], self.idx.shape[1]
        G = np.zeros((m, out_f, self.pieces), dtype=g.dtype)
        np.put_along_axis(G, self.idx, g.reshape(m, out_f, 1), axis=2)
        G = G.reshape(m, out_f * self.pieces)
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = (G @ self.w).reshape(self.lead + (self.w.shape[1],))
        if self.needs_input_grad[1]:
            gw = G.T @ self.x2
        if self.has_b and self.needs_input_grad[2]:
            gb = backend.const_vector("ones", m, G.dtype) @ G
        return gx, gw, gb


class APL(Function):
    """Adaptive piecewise linear unit (Agostinelli et al. 2015).

    h(x) = max(0, x) + sum_s a_s max(0, -x + b_s), with a, b of shape (S, F) learnable per
    feature (axis 1 of x).  dh/dx = [x > 0] - sum_s a_s [b_s > x];
    dh/da_s = max(0, b_s - x);  dh/db_s = a_s [b_s > x].
    The loop runs over the S hinges (a hyperparameter, like kernel offsets), never units.
    """

    def forward(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if x.ndim < 2 or x.shape[1] != a.shape[1]:
            raise ValueError(f"apl: expected input with {a.shape[1]} features on axis 1, got "
                             f"shape {x.shape}")
        bshape = (1, a.shape[1]) + (1,) * (x.ndim - 2)
        self.x, self.a, self.b, self.bshape = x, a, b, bshape
        out = np.maximum(x, 0)
        self.masks = []
        for s in range(a.shape[0]):
            h = b[s].reshape(bshape) - x
            m = h > 0
            self.masks.append(m)
            out += a[s].reshape(bshape) * np.where(m, h, 0)
        return out

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None,
                                               np.ndarray | None]:
        x, a, b, bshape = self.x, self.a, self.b, self.bshape
        axes = (0,) + tuple(range(2, x.ndim))
        gx = g * (x > 0) if self.needs_input_grad[0] else None
        ga = np.zeros_like(a) if self.needs_input_grad[1] else None
        gb = np.zeros_like(b) if self.needs_input_grad[2] else None
        for s, m in enumerate(self.masks):
            gm = np.where(m, g, 0)
            if gx is not None:
                gx -= a[s].reshape(bshape) * gm
            if ga is not None:
                ga[s] = (gm * (b[s].reshape(bshape) - x)).sum(axis=axes)
            if gb is not None:
                gb[s] = a[s] * gm.sum(axis=axes)
        return gx, ga, gb


class Softmax(Function):
    """a_i = e^{z_i} / sum_j e^{z_j};  dz = a * (g - sum(g * a))."""

    def forward(self, z: np.ndarray, axis: Dims = -1) -> np.ndarray:
        self.axis = axis
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        self.out = e
        return e

    def backward(self, g: np.ndarray) -> np.ndarray:
        a = self.out
        return a * (g - (g * a).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """a_i = z_i - log sum_j e^{z_j};  dz = g - softmax(z) * sum(g).

    Minimal passes: forward writes z - max into the output buffer, exponentiates into one
    temporary, and subtracts the log-sum in place; backward exponentiates into the
    gradient buffer and finishes it in place (no other temporaries of the input's size).
    """

    def forward(self, z: np.ndarray, axis: Dims = -1) -> np.ndarray:
        self.axis = axis
        out = np.subtract(z, z.max(axis=axis, keepdims=True))
        e = np.exp(out)
        lse = np.log(e.sum(axis=axis, keepdims=True))
        out -= lse
        self.out = out
        return out

    def backward(self, g: np.ndarray) -> np.ndarray:
        gz = np.exp(self.out)
        gz *= g.sum(axis=self.axis, keepdims=True)
        return np.subtract(g, gz, out=gz)


def _softplus(t: np.ndarray) -> np.ndarray:
    """ln(1 + e^t) = max(t, 0) + ln(1 + e^{-|t|}): the exponent is never positive.
    (log of 1 + e rather than log1p(e): log1p is ~6x slower in NumPy, and the
    difference is below one ulp of the result's unit scale.)"""
    e = np.exp(-np.abs(t))
    e += 1
    out = np.log(e, out=e)
    out += np.maximum(t, 0)
    return out


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    # e^{-|z|} never overflows; pick the branch by sign
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


# ------------------------------------------------------------------ function API
def identity(x: Tensor) -> Tensor:
    """x unchanged (a linear unit), as a node of the graph."""
    return Identity.apply(x)


def step(x: Tensor, threshold: float = 0.0, low: float = 0.0, high: float = 1.0) -> Tensor:
    """Heaviside step: ``high`` where x >= threshold, ``low`` elsewhere; gradient 0.

    >>> step(gn.tensor([-1.0, 0.2, 0.5]), threshold=0.2).numpy()
    array([0., 1., 1.], dtype=float32)
    """
    return Step.apply(x, threshold=threshold, low=low, high=high)


def sign(x: Tensor, threshold: float = 0.0, three_valued: bool = False) -> Tensor:
    """Bipolar threshold: +1 where x >= threshold, -1 elsewhere (so sign(S - 0.2) is
    ``sign(S, threshold=0.2)``); gradient 0.  Unlike ``np.sign``, the output at the
    threshold is +1, never 0. ``three_valued=True`` gives the three-valued sign instead:
    -1 below the threshold, 0 exactly at it, +1 above (``np.sign(x - threshold)``, and
    ``glassnet.sign`` / ``torch.sign`` for threshold 0). A tie on paper may not be one in
    floating point (0.1 + 0.2 - 0.3 = 5.6e-17): round the net input first to reproduce
    hand arithmetic.

    >>> sign(gn.tensor([-2.0, 0.0, 3.0])).tolist()
    [-1.0, 1.0, 1.0]
    >>> sign(gn.tensor([-2.0, 0.0, 3.0]), three_valued=True).tolist()
    [-1.0, 0.0, 1.0]
    """
    return Sign.apply(x, threshold=float(threshold), three_valued=bool(three_valued))


def relu(x: Tensor) -> Tensor:
    """max(0, x)."""
    return ReLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x)."""
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise. "Very leaky" ReLU uses 0.1 to 0.5."""
    return LeakyReLU.apply(x, negative_slope=float(negative_slope))


def rrelu(x: Tensor, lower: float = 1 / 8, upper: float = 1 / 3,
          training: bool = False) -> Tensor:
    """Randomised leaky ReLU: slope ~ U(lower, upper) per element when training, their
    mean (lower + upper) / 2 otherwise (as ``torch.nn.functional.rrelu``)."""
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: need 0 <= lower <= upper, got lower={lower}, upper={upper}")
    return RReLU.apply(x, lower=float(lower), upper=float(upper), training=bool(training))


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise; weight has 1 slope or one per channel (axis 1)."""
    return PReLU.apply(x, weight)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return ELU.apply(x, alpha=float(alpha))


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. 2017."""
    return ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0,
             centered: bool = False) -> Tensor:
    """(1/beta) ln(1 + e^{beta x}) (x itself where beta x > threshold); minus ln(2)/beta
    when ``centered`` (then softplus(0) = 0)."""
    beta = check_real(beta, "beta", "softplus", 0, low_open=True)
    return Softplus.apply(x, beta=beta, threshold=float(threshold), centered=bool(centered))


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return Softsign.apply(x)


def maxout(x: Tensor, weight: Tensor, bias: Tensor | None = None, pieces: int = 2) -> Tensor:
    """Maxout: max over ``pieces`` affine maps. x (..., in), weight (out*pieces, in),
    bias (out*pieces,) -> (..., out)."""
    if weight.shape[0] % pieces:
        raise ValueError(f"maxout: weight has {weight.shape[0]} rows, not a multiple of "
                         f"pieces={pieces}")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"maxout: expected input with last dimension {weight.shape[1]}, got "
                         f"shape {tuple(x.shape)}")
    return Maxout.apply(x, weight, bias, pieces=int(pieces))


def apl(x: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Adaptive piecewise linear unit: max(0, x) + sum_s a_s max(0, -x + b_s);
    a, b of shape (S, F), features on axis 1 of x."""
    if tuple(a.shape) != tuple(b.shape) or len(a.shape) != 2:
        raise ValueError(f"apl: a and b must both be (hinges, features), got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    return APL.apply(x, a, b)


def softmax(x: Tensor, axis: Dims = -1) -> Tensor:
    """Softmax along ``axis`` (default the last)."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, axis: Dims = -1) -> Tensor:
    """log(softmax(x)) computed stably."""
    return LogSoftmax.apply(x, axis=axis)


ACTIVATIONS: dict[str, Callable[..., Tensor]] = {
    "identity": identity, "step": step, "sign": sign, "sigmoid": sigmoid, "tanh": tanh,
    "relu": relu, "leaky_relu": leaky_relu, "rrelu": rrelu, "prelu": prelu, "elu": elu,
    "selu": selu, "softplus": softplus, "softsign": softsign, "softmax": softmax,
    "log_softmax": log_softmax,
}
# other names people use for the same units
ALIASES = {"linear": "identity", "none": "identity", "heaviside": "step",
           "logistic": "sigmoid", "leakyrelu": "leaky_relu"}


def get_activation(name: str | Callable[..., Tensor], **kwargs: Any) -> Callable[..., Tensor]:
    """The activation *function* called ``name`` (keyword arguments bound).

    Functional code cannot hold parameters, so this returns functions
    (``"prelu"`` gives ``prelu(x, weight)``); ``glassnet.nn.get_activation`` returns
    Module instances. Names: identity/linear, step, sign, sigmoid, tanh, relu,
    leaky_relu, rrelu, prelu, elu, selu, softplus, softsign, softmax, log_softmax.

    >>> f = get_activation("leaky_relu", negative_slope=0.2)
    """
    if callable(name):
        return name
    fn = lookup(name, ACTIVATIONS, "activation", "get_activation", ALIASES)
    return functools.partial(fn, **kwargs) if kwargs else fn
