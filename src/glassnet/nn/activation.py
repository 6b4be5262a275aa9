"""Activation layers: thin Modules over glassnet.functional.activations.

``get_activation(name)`` builds one from its name (used by models and the CLI).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..functional import activations as A
from ..validation import check_int, check_real, lookup
from . import init
from .linear import Identity, Linear
from .module import Module, Parameter
from . import functional as _F

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor



def _inplace_repr(m: Module) -> str:
    return "inplace=True" if getattr(m, "inplace", False) else ""

__all__ = [
    "Step", "Sign", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "RReLU", "PReLU", "ELU", "SELU",
    "Softplus", "Softsign", "Maxout", "APL", "Softmax", "LogSoftmax", "get_activation",
    "GELU", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "Hardtanh", "ReLU6", "Softmin",
    "Threshold", "CELU", "LogSigmoid", "GLU",
]


class Step(Module):
    """Threshold unit: a = high if z >= threshold else low (0/1 by default).

    The output at exactly the threshold is ``high``. The derivative is 0, so
    gradients passing through are zero (use it with the perceptron rule).

    >>> nn.Step(threshold=0.2)(gn.tensor([0.0, 0.2])).numpy()
    array([0., 1.], dtype=float32)
    """

    def __init__(self, threshold: float = 0.0, low: float = 0.0, high: float = 1.0) -> None:
        super().__init__()
        self.threshold, self.low, self.high = float(threshold), float(low), float(high)

    def forward(self, x: Tensor) -> Tensor:
        return A.step(x, self.threshold, self.low, self.high)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, low={self.low}, high={self.high}"


class Sign(Module):
    """Bipolar threshold unit: a = +1 if z >= threshold else -1.

    sign(S - 0.2) is ``Sign(threshold=0.2)(S)``. The output at exactly the
    threshold is +1; the derivative is 0. ``three_valued=True`` is the sign function
    with sign(0) = 0: -1 below the threshold, 0 exactly at it, +1 above (the lectures'
    f(S) = sign(S) exercise, where a node with S = 0 outputs 0).

    >>> nn.Sign()(gn.tensor([-0.5, 0.0, 0.5])).tolist()
    [-1.0, 1.0, 1.0]
    >>> nn.Sign(three_valued=True)(gn.tensor([-0.5, 0.0, 0.5])).tolist()
    [-1.0, 0.0, 1.0]
    """

    def __init__(self, threshold: float = 0.0, three_valued: bool = False) -> None:
        super().__init__()
        self.threshold = float(threshold)
        self.three_valued = bool(three_valued)

    def forward(self, x: Tensor) -> Tensor:
        return A.sign(x, self.threshold, self.three_valued)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}" + (", three_valued=True" if self.three_valued
                                                 else "")


class ReLU(Module):
    """a = max(0, z); ``inplace=True`` overwrites the input (PyTorch's argument)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return _F.relu(x, inplace=True) if self.inplace else A.relu(x)

    def extra_repr(self) -> str:
        return _inplace_repr(self)


class Sigmoid(Module):
    """a = 1 / (1 + e^-z)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.sigmoid(x)


class Tanh(Module):
    """a = tanh(z)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.tanh(x)


class LeakyReLU(Module):
    """a = z for z > 0, negative_slope * z otherwise.

    The default slope 0.01 is PyTorch's; a "very leaky" ReLU uses 0.1 to 0.5.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return _F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class RReLU(Module):
    """Randomised leaky ReLU (Xu et al. 2015).

    Training: each negative element gets its own slope ~ U(lower, upper), drawn from
    glassnet's seeded generator; eval: the fixed slope (lower + upper) / 2, as PyTorch.
    """

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3) -> None:
        super().__init__()
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: need 0 <= lower <= upper, got lower={lower}, "
                             f"upper={upper}")
        self.lower, self.upper = float(lower), float(upper)

    def forward(self, x: Tensor) -> Tensor:
        return A.rrelu(x, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class PReLU(Module):
    """Parametric ReLU (He et al. 2015): a = z for z > 0, w z otherwise, w learned.

    ``num_parameters=1`` shares one slope; ``num_parameters=C`` learns one per channel
    (axis 1 of the input). The parameter is ``weight`` of shape (num_parameters,), as in
    PyTorch.
    """

    # PyTorch's attribute; on a PReLU it hides Module.num_parameters()
    num_parameters: int  # type: ignore[assignment]

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.num_parameters = check_int(num_parameters, "num_parameters", "PReLU")
        self.init = float(init)
        self.weight = Parameter(backend.allocate((self.num_parameters,), backend.get_default_dtype(),
                                                  "PReLU.weight", fill=self.init))

    def forward(self, x: Tensor) -> Tensor:
        return A.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """a = z for z > 0, alpha (e^z - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = float(alpha)
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return _F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(Module):
    """Scaled ELU with the self-normalising constants (alpha 1.6733, scale 1.0507)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return _F.selu(x, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self)


class Softplus(Module):
    """a = (1/beta) ln(1 + e^{beta z}); linear where beta z > threshold (as PyTorch).

    ``centered=True`` gives ln(1 + e^z) - ln 2 (divided by beta), which is 0 at z = 0.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0, centered: bool = False) -> None:
        super().__init__()
        self.beta = check_real(beta, "beta", "Softplus", 0, low_open=True)
        self.threshold, self.centered = float(threshold), bool(centered)

    def forward(self, x: Tensor) -> Tensor:
        return A.softplus(x, self.beta, self.threshold, self.centered)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}" + (
            ", centered=True" if self.centered else "")


class Softsign(Module):
    """a = z / (1 + |z|)."""

    def forward(self, x: Tensor) -> Tensor:
        return A.softsign(x)


class Maxout(Module):
    """Maxout layer (Goodfellow et al. 2013): out_features units, each the max of
    ``pieces`` affine functions of the input.

    a_o = max_j (x . w_{o,j} + b_{o,j}); computed with one GEMM. ``weight`` is
    (out_features * pieces, in_features), row ``o * pieces + j`` the j-th piece of
    unit o; ``bias`` is (out_features * pieces,). Initialised like Linear.

    >>> nn.Maxout(4, 3, pieces=2)(gn.randn(5, 4)).shape
    (5, 3)
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Maxout")
        self.out_features = check_int(out_features, "out_features", "Maxout")
        self.pieces = check_int(pieces, "pieces", "Maxout")
        dt = backend.get_default_dtype()
        rows = self.out_features * self.pieces
        self.weight = Parameter(backend.allocate((rows, self.in_features), dt, "Maxout.weight"))
        self.bias = Parameter(backend.allocate((rows,), dt, "Maxout.bias")) if bias else None
        self.reset_parameters()

    # the same fan-in uniform scheme as Linear
    reset_parameters = cast("Callable[[Maxout], None]", Linear.reset_parameters)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Maxout({self.in_features}, {self.out_features}, "
                             f"pieces={self.pieces}): expected input with last dimension "
                             f"{self.in_features}, got shape {tuple(x.shape)}")
        return A.maxout(x, self.weight, self.bias, self.pieces)

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(input_shape[:-1]) + (self.out_features,)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")


class APL(Module):
    """Adaptive piecewise linear unit (Agostinelli et al. 2015).

    h(x) = max(0, x) + sum_{s=1}^{S} a_s max(0, -x + b_s), with a, b of shape
    (hinges, num_features) learned per feature (axis 1 of the input). Initialised as
    in the authors' code: a ~ U(-0.2, 0.2), b ~ N(0, 0.5^2). The paper puts an L2
    penalty on a (``WeightPenalty`` includes both a and b: they are 2-D).

    >>> nn.APL(8, hinges=2)(gn.randn(4, 8)).shape
    (4, 8)
    """

    def __init__(self, num_features: int, hinges: int = 1) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", "APL")
        self.hinges = check_int(hinges, "hinges", "APL")
        dt = backend.get_default_dtype()
        shape = (self.hinges, self.num_features)
        self.a = Parameter(backend.allocate(shape, dt, "APL.a"))
        self.b = Parameter(backend.allocate(shape, dt, "APL.b"))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.uniform_(self.a, -0.2, 0.2)
        self.b._data[...] = backend.rng().normal(0.0, 0.5, size=self.b.shape)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"APL({self.num_features}): expected input with "
                             f"{self.num_features} features on axis 1, got shape "
                             f"{tuple(x.shape)}")
        return A.apl(x, self.a, self.b)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, hinges={self.hinges}"


class Softmax(Module):
    """a_i = e^{z_i} / sum_j e^{z_j} along ``dim``. As in PyTorch, ``dim=None`` (the
    default) picks the axis implicitly, with PyTorch's warning: 0 for 0-, 1- and 3-D input,
    1 otherwise. Pass ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """a_i = z_i - log sum_j e^{z_j} along ``dim`` (``dim=None`` as :class:`Softmax`)."""

    def forward(self, x: Tensor) -> Tensor:
        return _F.log_softmax(x, self.dim)


class Softmin(Softmax):
    """softmax(-z) along ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return _F.softmin(x, self.dim)


class GELU(Module):
    """a = z Phi(z) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return _F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _InplaceUnit(Module):
    _fn: ClassVar[Callable[..., Tensor]]   # set by each subclass

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self)


class SiLU(_InplaceUnit):
    """a = z sigmoid(z) (swish)."""
    _fn = staticmethod(_F.silu)


class Mish(_InplaceUnit):
    """a = z tanh(softplus(z))."""
    _fn = staticmethod(_F.mish)


class Hardswish(_InplaceUnit):
    """a = z relu6(z + 3) / 6."""
    _fn = staticmethod(_F.hardswish)


class Hardsigmoid(_InplaceUnit):
    """a = relu6(z + 3) / 6."""
    _fn = staticmethod(_F.hardsigmoid)


class ReLU6(_InplaceUnit):
    """a = min(max(0, z), 6)."""
    _fn = staticmethod(_F.relu6)


class Hardtanh(Module):
    """a = clamp(z, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            min_val = min_value
        if max_value is not None:
            max_val = max_value
        self.min_val, self.max_val = float(min_val), float(max_val)
        self.inplace = bool(inplace)
        if self.max_val <= self.min_val:
            raise ValueError(f"Hardtanh: max_val ({self.max_val}) must be greater than "
                             f"min_val ({self.min_val})")

    def forward(self, x: Tensor) -> Tensor:
        return _F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class Threshold(Module):
    """a = z where z > threshold, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = float(threshold), float(value), bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return _F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class CELU(Module):
    """a = max(0, z) + min(0, alpha (e^{z/alpha} - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = float(alpha), bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return _F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class LogSigmoid(Module):
    """a = log sigmoid(z)."""

    def forward(self, x: Tensor) -> Tensor:
        return _F.logsigmoid(x)


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# one Module per name of glassnet.functional.ACTIVATIONS (aliases shared with it)
_MODULES = {
    "identity": Identity, "step": Step, "sign": Sign, "sigmoid": Sigmoid, "tanh": Tanh,
    "relu": ReLU, "leaky_relu": LeakyReLU, "rrelu": RReLU, "prelu": PReLU, "elu": ELU,
    "selu": SELU, "softplus": Softplus, "softsign": Softsign, "softmax": Softmax,
    "log_softmax": LogSoftmax,
}


def get_activation(name: str | Module, **kwargs: Any) -> Module:
    """A new activation Module from its name; keyword arguments go to its constructor.

    Names: identity/linear, step, sign, sigmoid, tanh, relu, leaky_relu, rrelu, prelu,
    elu, selu, softplus, softsign, softmax, log_softmax. A Module passes through unchanged.

    >>> nn.get_activation("leaky_relu", negative_slope=0.2)
    LeakyReLU(negative_slope=0.2)
    """
    if isinstance(name, Module):
        return name
    cls = lookup(name, _MODULES, "activation", "get_activation", A.ALIASES)
    if issubclass(cls, Softmax) and "dim" not in kwargs:
        kwargs["dim"] = -1          # glassnet's own default: the last axis
    return cls(**kwargs)
