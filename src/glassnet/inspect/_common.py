"""Shared helpers of glassnet.inspect: lazy matplotlib, activation facts, call recording,
and the float64 copy, loss and target that the checks of backprop run on."""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from ..autograd.tensor import Tensor, as_array
from ..nn import loss as nnloss
from ..nn.module import Module

if TYPE_CHECKING:  # annotations only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from glassnet._typing import DTypeLike, PathLike, TensorLike
    from glassnet.nn.module import Parameter, RemovableHandle


# --------------------------------------------------------------- matplotlib
_PLOT_HINT = "pip install glassnet[plot]"


def figure(figsize: tuple[float, float] = (6, 4), **kw: Any) -> Figure:
    """A matplotlib Figure that belongs to no pyplot state (nothing to close, no GUI)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:   # pragma: no cover - matplotlib is installed in the test env
        raise ImportError(f"glassnet.inspect pictures need matplotlib: {_PLOT_HINT}") from e
    return Figure(figsize=figsize, **kw)


def save(fig: Figure, path: PathLike | None, dpi: float = 100) -> Figure:
    """Write ``fig`` to ``path`` (PNG/SVG/PDF by suffix) when a path is given; return fig."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


def log_panel(ax: Axes, xlabel: str, ylabel: str, title: str, legend: dict[str, Any]) -> None:
    """Label a panel whose y axis is on a log scale (gradient norms span decades), with a
    legend (``legend``: the keyword arguments of ``ax.legend``) and a light grid."""
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(**legend)
    ax.grid(alpha=0.3, which="both")


def to_numpy(x: TensorLike) -> np.ndarray:
    """The array of a Tensor, or ``np.asarray(x)``."""
    return as_array(x)


# ---------------------------------------------------------- activation facts
# class names (lower case) -> (lower, upper) output bounds where a unit saturates
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0),
          "hardtanh": (-1.0, 1.0), "hardsigmoid": (0.0, 1.0)}
_NOT_ACTIVATIONS = ("dropout", "batchnorm", "layernorm", "pool", "flatten", "identity",
                    "loss", "embedding", "reshape", "dropconnect")


def kind(module: object) -> str:
    """The activation's lower-case class name ("sigmoid", "leakyrelu", ...)."""
    return type(module).__name__.lower()


def is_activation(module: object, in_shape: Iterable[int] | None = None,
                  out_shape: Iterable[int] | None = None) -> bool:
    """True for activation modules: those of ``glassnet.nn.activation`` and, generically,
    parameter-light leaf modules that keep the shape of their input (user-defined units)."""
    if not isinstance(module, Module) or module._modules:
        return False
    name = kind(module)
    if any(s in name for s in _NOT_ACTIVATIONS):
        return False
    if type(module).__module__.endswith("nn.activation"):
        return name not in ("maxout",)   # maxout changes the width: a layer of its own
    if any(p.ndim >= 2 for p in module._parameters.values() if p is not None):
        return False
    return in_shape is not None and out_shape is not None and tuple(in_shape) == tuple(out_shape)


def is_relu_like(module: object) -> bool:
    return "relu" in kind(module)


def is_layer(module: object) -> bool:
    """A module owning a weight matrix or kernel (Linear, Conv, recurrent layers)."""
    return isinstance(module, Module) and any(
        p is not None and p.ndim >= 2 for p in module._parameters.values())


def layer_weight(module: Module) -> Parameter | None:
    """The module's main weight: ``weight`` if present, else its first >= 2-D parameter."""
    w = module._parameters.get("weight")
    if w is not None:
        return w
    for p in module._parameters.values():
        if p is not None and p.ndim >= 2:
            return p
    return None


def activation_derivative(module: Module, z: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, str]:
    """f'(z) for an elementwise activation module, with the formula's name.

    Returns ``(fprime, how)``; ``how`` is the formula used, or "autograd" when the
    derivative was obtained by backpropagating ones through the module (unknown units).
    """
    k = kind(module)
    if k == "sigmoid":
        return a * (1 - a), "a(1 - a)"
    if k == "tanh":
        return 1 - a * a, "1 - a^2"
    if k == "relu":
        return (z > 0).astype(z.dtype), "1[z > 0]"
    if k == "leakyrelu":
        return np.where(z > 0, 1.0, module.negative_slope).astype(z.dtype), "1 or slope"
    if k == "rrelu":
        # the random slope of this very pass, read off a = r z
        safe = np.where(z == 0, 1.0, z)
        return np.where(z > 0, 1.0, a / safe).astype(z.dtype), "1 or r (= a / z)"
    if k == "prelu":
        w = module.weight._data
        shape = (1, -1) + (1,) * (z.ndim - 2) if w.size > 1 else (1,) * z.ndim
        return np.where(z > 0, 1.0, w.reshape(shape)).astype(z.dtype), "1 or w"
    if k == "elu":
        return np.where(z > 0, 1.0, a + module.alpha).astype(z.dtype), "1 or a + alpha"
    if k == "softsign":
        return 1.0 / (1.0 + np.abs(z)) ** 2, "1 / (1 + |z|)^2"
    # anything else (SELU, softplus, user-defined units): backpropagate ones through it
    zt = Tensor(z.copy(), requires_grad=True)
    out = module(zt)
    if not isinstance(out, Tensor) or out.shape != zt.shape:
        raise ValueError(f"{type(module).__name__} is not elementwise (output shape "
                         f"{getattr(out, 'shape', None)} for input {zt.shape})")
    out.backward(np.ones_like(out._data))
    assert zt.grad is not None  # zt requires a gradient and out depends on it
    return zt.grad._data, "autograd"


# ------------------------------------------------------------- call records
class CallRecorder:
    """Forward hooks on every leaf module, recording (name, module, input, output) in the
    order the calls happen; ``retain=True`` also keeps ``.grad`` of every output."""

    def __init__(self, model: Module, retain: bool = False) -> None:
        self.calls: list[tuple[str, Module, Any, Any]] = []
        self.handles: list[RemovableHandle] = []
        self.retain = retain
        for name, m in model.named_modules():
            if m._modules:
                continue
            self.handles.append(m.register_forward_hook(self._hook(name or type(m).__name__)))

    def _hook(self, name: str) -> Callable[[Module, tuple[Any, ...], Any], None]:
        def hook(module: Module, args: tuple[Any, ...], out: Any) -> None:
            x = args[0] if args else None
            if self.retain:
                for t in (out if isinstance(out, tuple) else (out,)):
                    if isinstance(t, Tensor) and t.requires_grad:
                        t.retain_grad()
            self.calls.append((name, module, x, out))
        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    def __enter__(self) -> CallRecorder:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.remove()
        return False


def same_tensor(a: object, b: object) -> bool:
    return a is b or (isinstance(a, Tensor) and isinstance(b, Tensor) and a._data is b._data)


# ------------------------------------------------- what a check of backprop runs on
def copy_in_dtype(model: Module, dtype: DTypeLike = np.float64) -> Module:
    """A deep copy of ``model`` cast to ``dtype`` (the user's model and its gradients stay
    as they are)."""
    return copy.deepcopy(model).to_dtype(dtype)


def resolve_loss(loss: str | Callable[..., Tensor], who: str) -> Callable[..., Tensor]:
    """The loss to call: a name goes through ``nn.get_loss``, a module or callable as it is.

    >>> resolve_loss("mse", "trace")
    MSELoss()
    """
    loss_fn = nnloss.get_loss(loss) if isinstance(loss, str) else loss
    if not callable(loss_fn):
        raise TypeError(f"{who}: loss must be a loss module, a callable or a name, got "
                        f"{type(loss).__name__}")
    return loss_fn


def loss_target(y: TensorLike, dtype: DTypeLike) -> Tensor | np.ndarray:
    """The target as the loss gets it: floats as a Tensor of ``dtype`` (a loss module
    would cast a float array to its own dtype, float32, spoiling a float64 check), class
    indices as the integer array."""
    y = to_numpy(y)
    return Tensor(y.astype(dtype)) if y.dtype.kind == "f" else y


def named_param_lookup(params: Module | dict[str, Tensor] | Iterable[tuple[str, Tensor]] | None
                       ) -> dict[int, str]:
    """{id(tensor): name} from a Module, a dict name -> tensor or (name, tensor) pairs."""
    if params is None:
        return {}
    pairs: Iterable[tuple[str, Tensor]]
    if isinstance(params, Module):
        pairs = params.named_parameters()
    elif isinstance(params, dict):
        pairs = params.items()
    else:
        pairs = cast("Iterable[tuple[str, Tensor]]", params)  # (name, tensor) pairs
    return {id(t): n for n, t in pairs}
