"""Weight initialisation schemes (in place, seeded by ``glassnet.manual_seed``).

Each takes a Parameter/Tensor and fills its ``.data``; fan-in and fan-out follow
PyTorch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel). While ``glassnet.load`` builds a model whose every value the
file then overwrites (``backend.init_skipped()``), they leave the tensor as it is and draw
no random numbers.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import backend
from ..autograd.generator import numpy_draws
from ..validation import check_choice, lookup

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.generator import Generator
    from glassnet.autograd.tensor import Tensor

_Scheme = TypeVar("_Scheme", bound=Callable[..., Any])


__all__ = ["calculate_fan_in_and_fan_out", "calculate_gain", "uniform_", "normal_", "zeros_",
           "ones_", "constant_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "epsilon_uniform_", "eye_", "dirac_",
           "trunc_normal_"]


def calculate_fan_in_and_fan_out(shape: Tensor | Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (or a weight's ``shape``) in PyTorch's convention."""
    shape = tuple(shape.shape) if hasattr(shape, "shape") else tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (shape {shape})")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _leaky_relu_gain(param: float | None) -> float:
    slope = 0.01 if param is None else float(param)
    return math.sqrt(2.0 / (1 + slope ** 2))


# PyTorch's private name, which some tutorials call (it takes the tensor)
_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out

_GAINS: dict[str, float | Callable[[float | None], float]] = {
    "linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "conv1d": 1.0, "conv2d": 1.0,
    "conv3d": 1.0, "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
    "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "leaky_relu": _leaky_relu_gain, "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str = "linear", param: float | None = None) -> float:
    """Recommended gain for an activation (PyTorch's table); ``param`` is leaky_relu's
    negative slope (default 0.01): gain sqrt(2 / (1 + slope^2))."""
    gain = lookup(nonlinearity, _GAINS, "nonlinearity", "calculate_gain")
    return gain(param) if callable(gain) else gain


def _skippable(fn: _Scheme) -> _Scheme:
    @functools.wraps(fn)
    def scheme(t: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if backend.init_skipped():
            return t
        return fn(t, *args, **kwargs)
    return cast(_Scheme, scheme)


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    # in place, so views of the parameter (e.g. an optimizer's flat buffer) stay valid
    t._data[...] = backend.xp().asarray(values.astype(t._data.dtype))
    return t


@_skippable
def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b), drawn from ``generator`` (a glassnet Generator) or else from
    glassnet's global generator (seeded by ``manual_seed``)."""
    return _fill(t, numpy_draws(generator, "uniform_").uniform(a, b, size=t.shape))


@_skippable
def epsilon_uniform_(t: Tensor, eps: float = 0.12) -> Tensor:
    """Fill with U(-eps, eps): the course's symmetric small-random initialisation."""
    return uniform_(t, -eps, eps)


@_skippable
def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _fill(t, numpy_draws(generator, "normal_").normal(mean, std, size=t.shape))


@_skippable
def constant_(t: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    t._data[...] = val
    return t


def zeros_(t: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(t, 1.0)


@_skippable
def eye_(t: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    if len(t.shape) != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    t._data[...] = np.eye(*t.shape, dtype=t._data.dtype)
    return t


@_skippable
def dirac_(t: Tensor, groups: int = 1) -> Tensor:
    """Fill a {3, 4, 5}-D convolution weight with the Dirac delta (the identity map on the
    channels, per group)."""
    d = len(t.shape)
    if d not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out = t.shape[0] // groups
    if t.shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    m = min(out, t.shape[1])
    w = np.zeros(t.shape, dtype=t._data.dtype)
    centre = tuple(k // 2 for k in t.shape[2:])
    g = np.arange(groups)[:, None]
    i = np.arange(m)[None, :]
    # a tuple index, not `w[a, b, *centre]`: that syntax needs Python 3.11 (we support 3.10)
    w[((g * out + i).ravel(), np.broadcast_to(i, (groups, m)).ravel()) + centre] = 1
    t._data[...] = w
    return t


@_skippable
def trunc_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b]: inverse-CDF sampling as PyTorch when
    SciPy is installed (for ``erfinv``), else rejection sampling from N(mean, std^2) (NumPy
    alone; the same distribution, other draws)."""
    rng = numpy_draws(generator, "trunc_normal_")
    try:
        from scipy.special import erfinv
    except ImportError:
        erfinv = None
    lo = 0.5 * (1 + math.erf((a - mean) / (std * math.sqrt(2))))
    hi = 0.5 * (1 + math.erf((b - mean) / (std * math.sqrt(2))))
    if erfinv is not None:
        u = rng.uniform(2 * lo - 1, 2 * hi - 1, size=t.shape)
        v = erfinv(u) * std * math.sqrt(2.0) + mean
        return _fill(t, np.clip(v, a, b))
    if hi - lo < 1e-4:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds {hi - lo:.1e} of "
                         f"N({mean}, {std}^2); rejection sampling needs SciPy for so narrow "
                         f"an interval (pip install scipy)")
    n = int(np.prod(t.shape))
    out = np.empty(n)
    filled = 0
    while filled < n:                       # rounds of vectorised draws, not samples
        k = int((n - filled) / (hi - lo) * 1.2) + 16
        d = rng.normal(mean, std, size=k)
        d = d[(d >= a) & (d <= b)][:n - filled]
        out[filled:filled + len(d)] = d
        filled += len(d)
    return _fill(t, out.reshape(t.shape))


@_skippable
def xavier_uniform_(t: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fi, fo = calculate_fan_in_and_fan_out(t.shape)
    a = gain * math.sqrt(6.0 / (fi + fo))
    return uniform_(t, -a, a, generator=generator)


@_skippable
def xavier_normal_(t: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fi, fo = calculate_fan_in_and_fan_out(t.shape)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fi + fo)), generator=generator)


def _fan(shape: Sequence[int], mode: str, who: str) -> int:
    fi, fo = calculate_fan_in_and_fan_out(shape)
    return fi if check_choice(mode, "mode", who, ("fan_in", "fan_out")) == "fan_in" else fo


@_skippable
def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He et al. (2015): U(-b, b), b = gain * sqrt(3 / fan)."""
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(t.shape, mode, "kaiming_uniform_"))
    return uniform_(t, -bound, bound, generator=generator)


@_skippable
def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He et al. (2015): N(0, std^2), std = gain / sqrt(fan)."""
    gain = calculate_gain(nonlinearity, a)
    return normal_(t, 0.0, gain / math.sqrt(_fan(t.shape, mode, "kaiming_normal_")),
                   generator=generator)


@_skippable
def orthogonal_(t: Tensor, gain: float = 1.0,
                generator: Generator | None = None) -> Tensor:
    """Saxe et al. (2013): a (semi-)orthogonal matrix from the QR of a Gaussian one."""
    rows = t.shape[0]
    cols = int(np.prod(t.shape[1:]))
    a = numpy_draws(generator, "orthogonal_").standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, gain * q[:rows, :cols].reshape(t.shape))
