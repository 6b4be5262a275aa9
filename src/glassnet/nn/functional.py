"""``glassnet.nn.functional``: PyTorch's ``torch.nn.functional`` names, arguments and defaults.

``import glassnet.nn.functional as F`` is the face a PyTorch script expects (``dim=``,
``reduction=``, ``inplace=``, ``training=``, ...). Each function is a thin layer over
:mod:`glassnet.functional` (glassnet's own code keeps that module and its ``axis=`` names),
or over the Functions of :mod:`glassnet.nn._functions` where glassnet had no such op.

>>> import glassnet.nn.functional as F
>>> F.relu(gn.tensor([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
>>> F.one_hot(gn.tensor([0, 2]), num_classes=3).numpy()
array([[1, 0, 0],
       [0, 0, 1]])

Differences from PyTorch that remain are explicit errors, never other answers:
``groups`` works (one batched GEMM over the groups); ``ceil_mode`` of average pooling, ``dilation``
> 1 in pooling,
``return_indices`` of max pooling, ``bicubic`` interpolation and ``antialias`` raise an
:class:`~glassnet.errors.ArgumentError`.
"""
from __future__ import annotations

import math as _math
import warnings

import numpy as np

from .. import backend
from ..autograd.function import _grad_mode, no_grad
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError, ArgumentTypeError
from ..functional import activations as _A
from ..functional import conv as _C
from ..functional.conv_transpose import conv_transpose2d  # PyTorch's signature already
from ..functional.dropout import dropout as _dropout, dropout2d as _dropout2d
from ..functional.embedding import embedding as _embedding
from ..functional import losses as _L
from ..autograd.function import bump_version as _bump_version
from ..functional import inplace as _inplace_ops
from ..functional import math as _M
from ..functional import normalization as _N
from ..functional import pooling as _P
from ..functional import reduce as _R
from . import _functions as _X

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Sequence
    from typing import Any, TypeAlias, Union

    from glassnet._typing import DTypeLike, IntTuple, TensorLike

    # an adaptive pooling's output size: one for every axis or one per axis, None keeps it
    _OutSize: TypeAlias = Union[int, None, Sequence[Union[int, None]]]


__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "selu", "celu", "gelu",
    "silu", "mish", "hardswish", "hardsigmoid", "hardtanh", "threshold", "softplus",
    "softsign", "sigmoid", "tanh", "logsigmoid", "prelu", "rrelu", "glu", "softmax",
    "log_softmax", "softmin", "dropout", "dropout1d", "dropout2d", "linear", "bilinear",
    "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "pad", "interpolate", "upsample", "upsample_nearest", "pixel_shuffle", "one_hot",
    "embedding", "normalize", "cosine_similarity", "pairwise_distance", "layer_norm",
    "batch_norm", "group_norm", "instance_norm", "cross_entropy", "nll_loss", "mse_loss",
    "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "margin_ranking_loss",
    "hinge_embedding_loss", "multi_margin_loss", "cosine_embedding_loss",
    "triplet_margin_loss",
    "scaled_dot_product_attention",
]

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------- helpers
def _t(x: object, who: str, name: str = "input") -> Tensor:
    """``x`` as a Tensor (NumPy arrays and numbers wrapped); anything else refused."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic, float, int, list, tuple)):
        return Tensor(np.asarray(x))
    raise ArgumentTypeError(f"{who}(): argument '{name}' must be a Tensor, not "
                            f"{type(x).__name__}")


def _raw(x: Tensor | np.ndarray | None) -> np.ndarray | None:
    return x._data if isinstance(x, Tensor) else x


def _shadow(x: Tensor) -> Tensor:
    """x's value before an in-place op, as the op's input (raises PyTorch's leaf error)."""
    return _inplace_ops._previous(x, True) if _inplace_ops._records(x) else x


def _inplace(x: Tensor, y: Tensor) -> Tensor:
    """Make ``x`` (same object and memory) hold ``y``: recorded when y is in the graph."""
    if y._ctx is not None and _grad_mode.enabled:
        return _inplace_ops._adopt(x, y)
    np.copyto(x._data, y._data, casting="unsafe")
    _bump_version(x)
    return x


def _unary(fn: Callable[..., Tensor], input: TensorLike, inplace: bool, who: str,
           **kw: Any) -> Tensor:
    """``fn(input)``; with ``inplace=True`` the result is written into ``input`` itself,
    through autograd's in-place rules (functional/inplace.py): a leaf that requires grad is
    refused, on a tensor in the graph the op is recorded and the version counter moves."""
    x = _t(input, who)
    if not inplace:
        return fn(x, **kw)
    return _inplace(x, fn(_shadow(x), **kw))


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's mapping of the deprecated ``size_average`` / ``reduce`` flags."""
    if size_average is None and reduce is None:
        return reduction
    sa = True if size_average is None else bool(size_average)
    rd = True if reduce is None else bool(reduce)
    ret = "none" if not rd else ("mean" if sa else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _check_reduction(reduction: str, who: str, extra: Sequence[str] = ()) -> str:
    allowed = _REDUCTIONS + tuple(extra)
    if reduction not in allowed:
        raise ArgumentError(f"{who}: {reduction} is not a valid value for reduction "
                            f"(expected one of {', '.join(repr(r) for r in allowed)})")
    return reduction


def _reduce(per: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return _M.mean(per)
    if reduction == "sum":
        return _M.sum(per)
    return per


def _dim(dim: int, ndim: int, who: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise ArgumentTypeError(f"{who}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return int(dim) % n


def _broadcast_pair(input: Tensor, target: TensorLike, who: str) -> tuple[Tensor, Tensor]:
    """PyTorch's elementwise losses broadcast a target of another shape, with a warning."""
    if isinstance(target, Tensor):
        t = target
    else:
        t = Tensor(np.asarray(target, dtype=input.dtype))
    if tuple(t.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({_size(t.shape)}) that is different to the input "
                      f"size ({_size(input.shape)}). This will likely lead to incorrect results "
                      f"due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(t.shape))
        zeros = np.zeros(shape, dtype=input.dtype)
        input = _M.add(input, zeros) if tuple(input.shape) != shape else input
        t = _M.add(t, zeros) if tuple(t.shape) != shape else t
    return input, t


def _size(shape: Sequence[int]) -> str:
    return "torch.Size([" + ", ".join(str(int(s)) for s in shape) + "])"


# --------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x) elementwise; ``inplace=True`` overwrites ``input`` and returns it."""
    return _unary(_A.relu, input, inplace, "relu")


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return _unary(lambda x: _X.Hardtanh.apply(x, min_val=0.0, max_val=6.0), input, inplace,
                  "relu6")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return _unary(lambda x: _A.leaky_relu(x, negative_slope), input, inplace, "leaky_relu")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return _unary(lambda x: _A.elu(x, alpha), input, inplace, "elu")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (e^{x/alpha} - 1))."""
    if alpha == 0:
        raise ArgumentError("celu: ZeroDivisionError, alpha cannot be 0")

    def f(x: Tensor) -> Tensor:
        return _M.mul(_A.elu(_M.mul(x, 1.0 / alpha), 1.0), float(alpha))
    return _unary(f, input, inplace, "celu")


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _unary(_A.selu, input, inplace, "selu")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate argument must be either none or tanh, got "
                            f"{approximate!r}")
    return _X.GELU.apply(_t(input, "gelu"), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return _unary(_X.SiLU.apply, input, inplace, "silu")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _unary(_X.Mish.apply, input, inplace, "mish")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _unary(_X.Hardswish.apply, input, inplace, "hardswish")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _unary(_X.Hardsigmoid.apply, input, inplace, "hardsigmoid")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val)."""
    if min_val > max_val:
        raise ArgumentError("hardtanh: min_val cannot be greater than max_val")
    return _unary(lambda x: _X.Hardtanh.apply(x, min_val=float(min_val),
                                              max_val=float(max_val)),
                  input, inplace, "hardtanh")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    return _unary(lambda x: _X.Threshold.apply(x, threshold=float(threshold),
                                               value=float(value)), input, inplace,
                  "threshold")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + e^{beta x}), linear where beta x > threshold."""
    return _A.softplus(_t(input, "softplus"), beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _A.softsign(_t(input, "softsign"))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x)."""
    return _A.sigmoid(_t(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _A.tanh(_t(input, "tanh"))


def logsigmoid(input: Tensor) -> Tensor:
    """log sigmoid(x) = -softplus(-x), stable."""
    return _M.neg(_A.softplus(_M.neg(_t(input, "logsigmoid")), 1.0, 20.0))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise (one slope or one per channel, axis 1)."""
    return _A.prelu(_t(input, "prelu"), weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU (random slopes in training, their mean otherwise)."""
    return _unary(lambda x: _A.rrelu(x, lower, upper, training), input, inplace, "rrelu")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), a and b the two halves of ``input`` along ``dim``."""
    x = _t(input, "glu")
    d = _dim(dim, x.ndim, "glu")
    n = x.shape[d]
    if n % 2:
        raise ArgumentError(f"glu: Halving dimension must be even, but dimension {d} is "
                            f"size {n}")
    lo = [slice(None)] * x.ndim
    hi = [slice(None)] * x.ndim
    lo[d], hi[d] = slice(0, n // 2), slice(n // 2, n)
    return _M.mul(_M.getitem(x, tuple(lo)), _A.sigmoid(_M.getitem(x, tuple(hi))))


def _softmax_dim(ndim: int, name: str) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_prep(input: TensorLike, dim: int | None, dtype: DTypeLike,
                  name: str) -> tuple[Tensor, int | None]:
    x = _t(input, name)
    if dim is None:
        dim = _softmax_dim(x.ndim, name)
    if dtype is not None:
        x = _M.cast(x, backend.dtypes.resolve(dtype, "dtype", name))
    if x.ndim == 0:
        return x, None
    return x, _dim(dim, x.ndim, name)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: DTypeLike = None) -> Tensor:
    """e^{x_i} / sum_j e^{x_j} along ``dim`` (PyTorch's implicit choice, with its warning,
    when ``dim`` is None: 0 for 0-, 1- and 3-D input, else 1)."""
    x, d = _softmax_prep(input, dim, dtype, "softmax")
    if d is None:
        return _M.reshape(_A.softmax(_M.reshape(x, (1,)), 0), ())
    return _A.softmax(x, d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: DTypeLike = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably."""
    x, d = _softmax_prep(input, dim, dtype, "log_softmax")
    if d is None:
        return _M.reshape(_A.log_softmax(_M.reshape(x, (1,)), 0), ())
    return _A.log_softmax(x, d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: DTypeLike = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x, d = _softmax_prep(input, dim, dtype, "softmin")
    if d is None:
        return _M.reshape(_A.softmax(_M.reshape(_M.neg(x), (1,)), 0), ())
    return _A.softmax(_M.neg(x), d)


# ------------------------------------------------------------------- dropout
def _check_p(p: float, who: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) \
            or not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{who} probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) while
    ``training``; the input itself otherwise. (Unlike ``nn.Dropout`` this does not look
    at any module's mode: pass ``training=self.training``.)"""
    p = _check_p(p, "dropout")
    x = _t(input, "dropout")
    if not training or p == 0:
        return x
    if p == 1:
        y = _M.mul(x, np.zeros((), dtype=x.dtype))
    else:
        y = _dropout(_shadow(x) if inplace else x, p, True)
    return _inplace(x, y) if inplace else y


def _channel_dropout(x: Tensor, p: float, inplace: bool) -> Tensor:
    if p == 1:
        return _M.mul(_shadow(x) if inplace else x, np.zeros((), dtype=x.dtype))
    return _dropout2d(_shadow(x) if inplace else x, p, True)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels x[n, c, :] of (N, C, L) (or x[c, :] of (C, L)) with probability
    p, scaling the kept ones by 1/(1 - p)."""
    p = _check_p(p, "dropout")
    x = _t(input, "dropout1d")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    if not training or p == 0:
        return x
    if x.ndim == 2:          # (C, L): one sample
        y = _M.reshape(_channel_dropout(_M.reshape(x, (1,) + tuple(x.shape)), p, False),
                       tuple(x.shape))
    else:
        y = _channel_dropout(x, p, inplace)
    return _inplace(x, y) if inplace else y


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels x[n, c] of (N, C, H, W) with probability p, scaling the kept
    ones by 1/(1 - p). Other ranks behave and warn as PyTorch: 3-D input is taken as
    (N, C, L), 2-D and 5-D input channel-wise over axis 1."""
    p = _check_p(p, "dropout")
    x = _t(input, "dropout2d")
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead. "
                      f"Note that dropout2d exists to provide channel-wise dropout on inputs "
                      f"with 2 spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    elif x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      UserWarning, stacklevel=2)
    if x.ndim < 2:
        raise RuntimeError(f"dropout2d: Expected at least 2D input, got {x.ndim}D")
    if not training or p == 0:
        return x
    y = _channel_dropout(x, p, inplace)
    return _inplace(x, y) if inplace else y


# ------------------------------------------------------------ linear / conv
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, W of shape (out_features, in_features)."""
    x = _t(input, "linear")
    if x.shape[-1:] != tuple(weight.shape[-1:]):
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({int(np.prod(x.shape[:-1]))}x{x.shape[-1]} and "
                           f"{weight.shape[-1]}x{weight.shape[0]})")
    return _M.linear(x, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T W_k x2 + b_k, W of shape (out, in1, in2)."""
    a, b = _t(input1, "bilinear", "input1"), _t(input2, "bilinear", "input2")
    o, i1, i2 = weight.shape
    lead = tuple(a.shape[:-1])
    a2 = _M.reshape(a, (-1, i1))
    b2 = _M.reshape(b, (-1, i2))
    # (M, i1) @ (i1, o*i2) -> (M, o, i2), times x2 and summed over i2
    w = _M.reshape(_M.transpose(weight, (1, 0, 2)), (i1, o * i2))
    t = _M.reshape(_M.matmul(a2, w), (-1, o, i2))
    y = _M.sum(_M.mul(t, _M.reshape(b2, (-1, 1, i2))), axis=2)
    if bias is not None:
        y = _M.add(y, bias)
    return _M.reshape(y, lead + (o,))


def _conv(fn: Callable[..., Tensor], input: Tensor, weight: Tensor, bias: Tensor | None,
          stride: IntTuple, padding: IntTuple | str, dilation: IntTuple, groups: int, who: str,
          spatial: int) -> Tensor:
    x = _t(input, who)
    unbatched = x.ndim == spatial + 1
    if unbatched:
        x = _M.reshape(x, (1,) + tuple(x.shape))
    if x.ndim != spatial + 2:
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) "
                           f"input to {who}, but got input of size: {list(input.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentError(f"{who}: non-positive groups is not supported, got {groups!r}")
    c = x.shape[1]
    if c != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {c} channels instead")
    if weight.shape[0] % groups:
        raise ArgumentError(f"{who}: out_channels ({weight.shape[0]}) must be divisible by "
                            f"groups ({groups})")
    # one grouped kernel (a batched GEMM over the groups)
    y = fn(x, weight, bias, stride=stride, padding=padding, dilation=dilation, name=who,
           groups=int(groups))
    return _M.reshape(y, tuple(y.shape[1:])) if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntTuple = 1,
           padding: IntTuple | str = 0, dilation: IntTuple = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation: (N, C, L) x (O, C/groups, k) -> (N, O, Lo); ``padding`` an
    int, a 1-tuple, 'valid' or 'same'."""
    return _conv(_C.conv1d, input, weight, bias, stride, padding, dilation, groups,
                 "conv1d", 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntTuple = 1,
           padding: IntTuple | str = 0, dilation: IntTuple = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation: (N, C, H, W) x (O, C/groups, kh, kw) -> (N, O, Ho, Wo);
    ``padding`` an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise ArgumentError(f"conv2d: Invalid padding string '{padding}', should be one of "
                            f"{{'valid', 'same'}}")
    return _conv(_C.conv2d, input, weight, bias, stride, padding, dilation, groups,
                 "conv2d", 2)


# ------------------------------------------------------------------- pooling
def _no(flag: object, what: str, who: str) -> None:
    if flag:
        raise ArgumentError(f"{who}: {what} is not implemented in glassnet")


def _pool_input(input: TensorLike, who: str, spatial: int) -> tuple[Tensor, bool]:
    x = _t(input, who)
    if x.ndim == spatial + 1:
        return _M.reshape(x, (1,) + tuple(x.shape)), True
    if x.ndim != spatial + 2:
        raise RuntimeError(f"{who}: Expected {spatial + 1}D or {spatial + 2}D input, got "
                           f"shape {tuple(x.shape)}")
    return x, False


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return _M.reshape(y, tuple(y.shape[1:])) if unbatched else y


def _one(v: IntTuple) -> int:
    return v[0] if isinstance(v, (tuple, list)) else cast(int, v)


def max_pool2d(input: Tensor, kernel_size: IntTuple, stride: IntTuple | None = None,
               padding: IntTuple = 0, dilation: IntTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Max over kh x kw windows (stride defaults to the kernel size); ``ceil_mode=True``
    keeps a last partial window that starts inside the input, as PyTorch."""
    _no(return_indices, "return_indices=True", "max_pool2d")
    _no(dilation not in (1, (1, 1), [1, 1]), "dilation > 1", "max_pool2d")
    x, ub = _pool_input(input, "max_pool2d", 2)
    if stride is not None and not isinstance(stride, (int, np.integer)) and len(stride) == 0:
        stride = None
    if ceil_mode:
        return _unbatch(_ceil_max_pool(x, kernel_size, stride, padding, 2), ub)
    return _unbatch(_P.max_pool2d(x, kernel_size, stride, padding), ub)


def _tuple(v: IntTuple, n: int) -> tuple[int, ...]:
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(cast(int, v)),) * n


def _ceil_max_pool(x: Tensor, kernel_size: IntTuple, stride: IntTuple | None, padding: IntTuple,
                   n: int) -> Tensor:
    """ceil_mode: pad with -inf on the far side so the extra window fits, then pool without
    padding (the -inf cells never win; their gradient is dropped by pad's backward)."""
    k = _tuple(kernel_size, n)
    st = k if stride is None else _tuple(stride, n)
    p = _tuple(padding, n)
    pads = []
    for d in reversed(range(n)):
        size = x.shape[2 + d]
        out = -(-(size + 2 * p[d] - k[d]) // st[d]) + 1
        if (out - 1) * st[d] >= size + p[d]:
            out -= 1
        extra = max((out - 1) * st[d] + k[d] - (size + 2 * p[d]), 0)
        pads += [p[d], p[d] + extra]
    xp = pad(x, pads, value=-np.inf)
    if n == 2:
        return _P.max_pool2d(xp, k, st, 0)
    return _P.max_pool1d(xp, k[0], st[0], 0)


def avg_pool2d(input: Tensor, kernel_size: IntTuple, stride: IntTuple | None = None,
               padding: IntTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over kh x kw windows (padding counted as zeros, PyTorch's default)."""
    _no(ceil_mode, "ceil_mode=True", "avg_pool2d")
    x, ub = _pool_input(input, "avg_pool2d", 2)
    y = _P.avg_pool2d(x, kernel_size, stride, padding)
    if not count_include_pad and padding not in (0, (0, 0), [0, 0]):
        # mean over the real pixels only: divide by the share of each window inside
        with no_grad():
            share = _P.avg_pool2d(Tensor(np.ones((1, 1) + tuple(x.shape[2:]), x.dtype)),
                                  kernel_size, stride, padding)._data
        y = _M.div(y, share)
    if divisor_override is not None:
        k = _tuple(kernel_size, 2)
        y = _M.mul(y, float(k[0] * k[1]) / float(divisor_override))
    return _unbatch(y, ub)


def max_pool1d(input: Tensor, kernel_size: IntTuple, stride: IntTuple | None = None,
               padding: IntTuple = 0, dilation: IntTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Max over windows of length k along the last axis of (N, C, L) or (C, L)."""
    _no(return_indices, "return_indices=True", "max_pool1d")
    _no(_one(dilation) != 1, "dilation > 1", "max_pool1d")
    x, ub = _pool_input(input, "max_pool1d", 1)
    s = None if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _one(stride)
    if ceil_mode:
        return _unbatch(_ceil_max_pool(x, _one(kernel_size), s, _one(padding), 1), ub)
    return _unbatch(_P.max_pool1d(x, _one(kernel_size), s, _one(padding)), ub)


def avg_pool1d(input: Tensor, kernel_size: IntTuple, stride: IntTuple | None = None,
               padding: IntTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of length k along the last axis of (N, C, L) or (C, L)."""
    _no(ceil_mode, "ceil_mode=True", "avg_pool1d")
    _no(not count_include_pad and _one(padding) != 0, "count_include_pad=False", "avg_pool1d")
    x, ub = _pool_input(input, "avg_pool1d", 1)
    s = None if stride is None else _one(stride)
    return _unbatch(_P.avg_pool1d(x, _one(kernel_size), s, _one(padding)), ub)


def _adaptive_sizes(output_size: _OutSize, in_sizes: tuple[int, ...], who: str) -> tuple[int, ...]:
    n = len(in_sizes)
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        out = (output_size,) * n
    else:
        out = tuple(output_size)
        if len(out) != n:
            raise ArgumentError(f"{who}: output_size must be an int or a {n}-tuple, got "
                                f"{output_size!r}")
    return tuple(int(i) if o is None else int(o) for o, i in zip(out, in_sizes))


def _windows(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: [floor(i n/o), ceil((i+1) n/o))."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    return start, end


def _avg_matrix(n_in: int, n_out: int, dtype: DTypeLike) -> np.ndarray:
    start, end = _windows(n_in, n_out)
    j = np.arange(n_in)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg(input: TensorLike, output_size: _OutSize, who: str, spatial: int) -> Tensor:
    x, ub = _pool_input(input, who, spatial)
    sizes = tuple(x.shape[2:])
    out = _adaptive_sizes(output_size, sizes, who)
    maps = tuple((2 + k, _avg_matrix(sizes[k], out[k], np.float64)) for k in range(spatial))
    return _unbatch(_X.AxisLinear.apply(x, maps=maps), ub)


def adaptive_avg_pool1d(input: Tensor, output_size: "int | None | Sequence[int | None]") -> Tensor:
    """Average pooling to a fixed length (PyTorch's window rule, any sizes)."""
    return _adaptive_avg(input, output_size, "adaptive_avg_pool1d", 1)


def adaptive_avg_pool2d(input: Tensor, output_size: "int | None | Sequence[int | None]") -> Tensor:
    """Average pooling to a fixed (oh, ow) (PyTorch's window rule, any sizes; None keeps
    that axis)."""
    return _adaptive_avg(input, output_size, "adaptive_avg_pool2d", 2)


def _win_table(n_in: int, n_out: int) -> np.ndarray:
    start, end = _windows(n_in, n_out)
    width = int((end - start).max())
    w = start[:, None] + np.arange(width)[None, :]
    return np.minimum(w, (end - 1)[:, None])


def _adaptive_max(input: TensorLike, output_size: _OutSize, return_indices: bool, who: str,
                  spatial: int) -> Tensor:
    _no(return_indices, "return_indices=True", who)
    x, ub = _pool_input(input, who, spatial)
    sizes = tuple(x.shape[2:])
    out = _adaptive_sizes(output_size, sizes, who)
    y = x
    for k in reversed(range(spatial)):   # last axis first: ties go to the first in row order
        y = _X.AxisWindowMax.apply(y, axis=2 + k, win=_win_table(sizes[k], out[k]))
    return _unbatch(y, ub)


def adaptive_max_pool1d(input: Tensor, output_size: "int | None | Sequence[int | None]",
                        return_indices: bool = False) -> Tensor:
    """Max pooling to a fixed length."""
    return _adaptive_max(input, output_size, return_indices, "adaptive_max_pool1d", 1)


def adaptive_max_pool2d(input: Tensor, output_size: "int | None | Sequence[int | None]",
                        return_indices: bool = False) -> Tensor:
    """Max pooling to a fixed (oh, ow)."""
    return _adaptive_max(input, output_size, return_indices, "adaptive_max_pool2d", 2)


# ---------------------------------------------------------------- pad / resize
def _pad_index(n: int, lo: int, hi: int, mode: str, who: str,
               axis: int) -> tuple[np.ndarray, np.ndarray | None]:
    j = np.arange(n + lo + hi) - lo
    if mode == "constant":
        valid = (j >= 0) & (j < n)
        return np.clip(j, 0, max(n - 1, 0)), valid
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise ArgumentError(f"{who}: Padding size should be less than the corresponding "
                                f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                                f"{axis} of input of size {n}")
        period = 2 * (n - 1) if n > 1 else 1
        m = np.mod(j, period)
        return np.where(m < n, m, period - m), None
    if mode == "replicate":
        return np.clip(j, 0, n - 1), None
    if mode == "circular":
        if lo > n or hi > n:
            raise ArgumentError(f"{who}: Padding value causes wrapping around more than once "
                                f"(padding ({lo}, {hi}) at dimension {axis} of size {n})")
        return np.mod(j, n), None
    raise ArgumentError(f"{who}: Unrecognised padding mode {mode!r} (expected 'constant', "
                        f"'reflect', 'replicate' or 'circular')")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left, right, top, bottom, ...)``
    starts with the last dimension. Modes 'constant' (``value``, default 0; negative pads
    crop), 'reflect', 'replicate', 'circular'. Differentiable in every mode.

    >>> gn.nn.functional.pad(gn.ones(1, 2), (1, 2)).numpy()
    array([[0., 1., 1., 0., 0.]], dtype=float32)
    """
    who = "pad"
    x = _t(input, who)
    pads = [int(p) for p in pad]
    if len(pads) % 2:
        raise ArgumentError(f"{who}: Padding length must be divisible by 2, got {len(pads)}")
    if len(pads) // 2 > x.ndim:
        raise ArgumentError(f"{who}: Padding length should be less than or equal to two times "
                            f"the input dimension but got padding length {len(pads)} and "
                            f"input of dimension {x.ndim}")
    if mode != "constant" and value not in (None, 0, 0.0):
        raise ArgumentError(f"{who}: Padding mode \"{mode}\" doesn't take in value argument.")
    if mode != "constant" and any(p < 0 for p in pads) and mode != "circular":
        raise ArgumentError(f"{who}: negative padding is only supported in constant mode, got "
                            f"{tuple(pads)}")
    if mode != "constant" and x.ndim not in (len(pads) // 2 + 1, len(pads) // 2 + 2):
        raise NotImplementedError(f"Padding size {len(pads)} is not supported for {x.ndim}D "
                                  f"input tensor.")
    maps = []
    for k in range(len(pads) // 2):
        axis = x.ndim - 1 - k
        lo, hi = pads[2 * k], pads[2 * k + 1]
        if lo == 0 and hi == 0:
            continue
        n = x.shape[axis]
        if n + lo + hi < 0:
            raise ArgumentError(f"{who}: The input size {n}, plus negative padding {lo} and "
                                f"{hi} resulted in a negative output size")
        idx, valid = _pad_index(n, lo, hi, mode, who, axis)
        maps.append((axis, idx, valid))
    return _X.AxisGather.apply(x, maps=tuple(maps), value=0.0 if value is None else value)


def _linear_matrix(n_in: int, n_out: int, align_corners: bool, scale: float | None,
                   dtype: DTypeLike) -> np.ndarray:
    """Linear interpolation weights (n_out, n_in) with PyTorch's source coordinates."""
    j = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = j * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        s = (n_in / n_out) if scale is None else 1.0 / scale
        src = np.maximum((j + 0.5) * s - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    A = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(A, (rows, i0), 1 - lam)
    np.add.at(A, (rows, i1), lam)
    return A.astype(dtype)


def _nearest_index(n_in: int, n_out: int, scale: float | None, exact: bool) -> np.ndarray:
    j = np.arange(n_out, dtype=np.float64)
    s = (n_in / n_out) if scale is None else 1.0 / scale
    src = np.floor((j + 0.5) * s) if exact else np.floor(j * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input: Tensor, size: IntTuple | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of (N, C, ...) input: ``mode`` 'nearest',
    'nearest-exact', 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D) or 'area';
    any size or factor, with PyTorch's source-pixel rules (``align_corners`` for the
    linear modes)."""
    who = "interpolate"
    x = _t(input, who)
    _no(antialias, "antialias=True", who)
    if mode in ("bicubic",):
        raise ArgumentError(f"{who}: mode 'bicubic' is not implemented in glassnet")
    spatial = x.ndim - 2
    if spatial < 1:
        raise ArgumentError(f"{who}: expected input of shape (N, C, ...) with at least one "
                            f"spatial dimension, got {tuple(x.shape)}")
    if mode in _LINEAR_MODES:
        if _LINEAR_MODES[mode] != spatial:
            want = {1: "3D", 2: "4D", 3: "5D"}[_LINEAR_MODES[mode]]
            raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {want} "
                                      f"input")
        ac = bool(align_corners)
    elif mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
        ac = False
    else:
        raise ArgumentError(f"{who}: unknown mode {mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not
                         None else "either size or scale_factor should be defined")
    in_sizes = tuple(x.shape[2:])
    if size is not None:
        out = (tuple(int(s) for s in size) if isinstance(size, (tuple, list))
               else (int(cast(int, size)),) * spatial)
        if len(out) != spatial:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(in_sizes)} and output size of {list(out)}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and output size "
                             f"in (o1, o2, ...,oK) format.")
        scales: tuple[float | None, ...] = (None,) * spatial
    else:
        sf = (tuple(float(s) for s in scale_factor)
              if isinstance(scale_factor, (tuple, list))
              else (float(cast(float, scale_factor)),) * spatial)
        if len(sf) != spatial:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(in_sizes)} and scale_factor of shape {list(sf)}.")
        out = tuple(int(_math.floor(n * s)) for n, s in zip(in_sizes, sf))
        scales = (None,) * spatial if recompute_scale_factor else sf
    if mode == "area":
        return _adaptive_avg(x, out, who, spatial)
    if mode in _LINEAR_MODES:
        maps = tuple((2 + k, _linear_matrix(in_sizes[k], out[k], ac, scales[k], np.float64))
                     for k in range(spatial))
        return _X.AxisLinear.apply(x, maps=maps)
    exact = mode == "nearest-exact"
    index_maps = tuple((2 + k, _nearest_index(in_sizes[k], out[k], scales[k], exact), None)
                       for k in range(spatial))
    return _X.AxisGather.apply(x, maps=index_maps, value=0.0)


def upsample(input: Tensor, size: IntTuple | None = None,
             scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated in PyTorch; :func:`interpolate` with the same arguments."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: IntTuple | None = None,
                     scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """Deprecated in PyTorch; ``interpolate(mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    x = _t(input, "pixel_shuffle")
    r = int(upscale_factor)
    *leading, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(leading)
    k = len(lead)
    y = _M.reshape(x, lead + (c // (r * r), r, r, h, w))
    perm = tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2)
    y = _M.transpose(y, perm)
    return _M.reshape(y, lead + (c // (r * r), h * r, w * r))


# ------------------------------------------------------------ sparse / distance
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot int64 encoding: shape ``tensor.shape + (num_classes,)``; num_classes=-1
    takes max(tensor) + 1."""
    a = as_array(tensor)
    if a.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (int(num_classes),), dtype=np.int64)
    if a.size:
        np.put_along_axis(out, a.astype(np.int64)[..., None], 1, axis=-1)
    return Tensor(out)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by integer ``input`` -> input.shape + (embedding_dim,);
    ``max_norm`` renormalises (in place) the picked rows whose norm exceeds it."""
    _no(scale_grad_by_freq, "scale_grad_by_freq=True", "embedding")
    ids = as_array(input)
    if max_norm is not None:
        with no_grad():
            w = weight._data
            rows = np.unique(ids.reshape(-1))
            nrm = np.linalg.norm(w[rows], ord=norm_type, axis=1)
            over = nrm > max_norm
            scale = max_norm / (nrm[over] + 1e-7)
            w[rows[over]] *= scale[:, None].astype(w.dtype)
    return _embedding(ids, weight, padding_idx)


def _pnorm(x: Tensor, p: float, axis: int, keepdim: bool) -> Tensor:
    """The p-norm of x along ``axis`` from glassnet's differentiable ops."""
    if p == 2:
        return _M.sqrt(_M.sum(_M.mul(x, x), axis=axis, keepdims=keepdim))
    if p == 1:
        return _M.sum(_M.abs(x), axis=axis, keepdims=keepdim)
    if _math.isinf(p):     # the largest |x| (p = inf) or the smallest (p = -inf)
        return (_R.amax if p > 0 else _R.amin)(_M.abs(x), axis, keepdim)
    return _M.pow(_M.sum(_M.pow(_M.abs(x), float(p)), axis=axis, keepdims=keepdim), 1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``."""
    _no(out is not None, "out=", "normalize")
    x = _t(input, "normalize")
    d = _dim(dim, x.ndim, "normalize")
    n = _M.clip(_pnorm(x, float(p), d, True), min=float(eps))
    return _M.div(x, n)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim`` (broadcasting), each norm
    clamped at ``eps``."""
    a, b = _t(x1, "cosine_similarity", "x1"), _t(x2, "cosine_similarity", "x2")
    nd = max(a.ndim, b.ndim)
    d = _dim(dim, nd, "cosine_similarity")
    d = d - nd          # a negative axis works for both broadcast operands
    na = _M.clip(_pnorm(a, 2.0, d, True), min=float(eps))
    nb = _M.clip(_pnorm(b, 2.0, d, True), min=float(eps))
    return _M.sum(_M.mul(_M.div(a, na), _M.div(b, nb)), axis=d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension."""
    a, b = _t(x1, "pairwise_distance", "x1"), _t(x2, "pairwise_distance", "x2")
    diff = _M.add(_M.sub(a, b), float(eps))
    return _pnorm(diff, float(p), -1, keepdim)


# -------------------------------------------------------------- normalization
def layer_norm(input: Tensor, normalized_shape: IntTuple, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions."""
    return _N.layer_norm(_t(input, "layer_norm"), normalized_shape, weight, bias, eps)


def batch_norm(input: Tensor, running_mean: Tensor | np.ndarray | None,
               running_var: Tensor | np.ndarray | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float | None = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation over axis 1; the running statistics (Tensors or arrays) are
    updated in place while ``training``."""
    return _N.batch_norm(_t(input, "batch_norm"), _raw(running_mean), _raw(running_var),
                         weight, bias, training, 0.1 if momentum is None else momentum, eps)


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, ndim: int) -> Tensor:
    shape = (1, -1) + (1,) * (ndim - 2)
    if weight is not None:
        y = _M.mul(y, _M.reshape(weight, shape))
    if bias is not None:
        y = _M.add(y, _M.reshape(bias, shape))
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each group of C/num_groups channels of each sample, then scale/shift per
    channel."""
    x = _t(input, "group_norm")
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={num_groups}")
    g = _M.reshape(x, (n, num_groups, -1))
    y = _N.LayerNormFunction.apply(g, None, None, k=1, eps=float(eps))
    return _affine(_M.reshape(y, tuple(x.shape)), weight, bias, x.ndim)


def instance_norm(input: Tensor, running_mean: Tensor | np.ndarray | None = None,
                  running_var: Tensor | np.ndarray | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial positions; with running
    statistics, update them (training) or use them (``use_input_stats=False``)."""
    x = _t(input, "instance_norm")
    if x.ndim < 3:
        raise ArgumentError(f"instance_norm: expected input (N, C, L...) with at least one "
                            f"spatial dimension, got {tuple(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    rm, rv = _raw(running_mean), _raw(running_var)
    if not use_input_stats:
        if rm is None or rv is None:
            raise ArgumentError("instance_norm: Expected running_mean and running_var to be "
                                "defined when use_input_stats is false")
        return _N.batch_norm(x, rm, rv, weight, bias, False, momentum, eps)
    g = _M.reshape(x, (n, c, -1))
    y = _N.LayerNormFunction.apply(g, None, None, k=1, eps=float(eps))
    if rm is not None or rv is not None:
        a = g._data
        m = a.shape[-1]
        if rm is not None:
            rm *= 1 - momentum
            rm += (momentum * a.mean(axis=(0, 2))).astype(rm.dtype)
        if rv is not None:
            uv = a.var(axis=2) * (m / max(m - 1, 1))
            rv *= 1 - momentum
            rv += (momentum * uv.mean(axis=0)).astype(rv.dtype)
    return _affine(_M.reshape(y, tuple(x.shape)), weight, bias, x.ndim)


# --------------------------------------------------------------------- losses
def _unbatched_class(input: TensorLike, target: TensorLike) -> tuple[Tensor, TensorLike, bool]:
    """(C,) input with a scalar target, as PyTorch allows: a batch of one."""
    x = _t(input, "loss")
    if x.ndim == 1:
        t = as_array(target)
        if t.ndim == 0:
            return _M.reshape(x, (1, -1)), np.reshape(t, (1,)), True
        if t.shape == x.shape and t.dtype.kind == "f":
            return (_M.reshape(x, (1, -1)),
                    target if not isinstance(target, Tensor) else _M.reshape(target, (1, -1)),
                    True)
    return x, target, False


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax + negative log-likelihood on logits (N, C) / (N, C, d...) / (C,), against
    class indices or class probabilities (the input's shape)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x, t, single = _unbatched_class(input, target)
    ta = as_array(t)
    if ta.dtype.kind in "iu":
        want = (x.shape[0],) + tuple(x.shape[2:])
        if tuple(ta.shape) != want:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                             f"batch_size ({ta.shape[0] if ta.ndim else 0}).")
    out = _L.cross_entropy(x, ta, reduction=reduction, label_smoothing=float(label_smoothing),
                           ignore_index=int(ignore_index), weight=_raw(weight))
    if single and reduction == "none":
        out = _M.reshape(out, ())
    return out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) / (N, C, d...) / (C,)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "nll_loss")
    x, t, single = _unbatched_class(input, target)
    out = _L.nll_loss(x, t, _raw(weight), int(ignore_index), reduction)
    if single and reduction == "none":
        out = _M.reshape(out, ())
    return out


def _weighted(per: Tensor, weight: Tensor, reduction: str) -> Tensor:
    if weight is not None:
        per = _M.mul(per, weight)
    return _reduce(per, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error (a target of another shape broadcasts, with PyTorch's warning)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "mse_loss")
    x, t = _broadcast_pair(_t(input, "mse_loss"), target, "mse_loss")
    if weight is None:
        return _L.mse_loss(x, t, reduction)
    return _weighted(_L.mse_loss(x, t, "none"), weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "l1_loss")
    x, t = _broadcast_pair(_t(input, "l1_loss"), target, "l1_loss")
    if weight is None:
        return _L.l1_loss(x, t, reduction)
    return _weighted(_L.l1_loss(x, t, "none"), weight, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = _broadcast_pair(_t(input, "smooth_l1_loss"), target, "smooth_l1_loss")
    return _X.SmoothL1.apply(x, t, beta=float(beta), huber=False, reduction=reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, t = _broadcast_pair(_t(input, "huber_loss"), target, "huber_loss")
    if weight is None:
        return _X.SmoothL1.apply(x, t, beta=float(delta), huber=True, reduction=reduction)
    per = _X.SmoothL1.apply(x, t, beta=float(delta), huber=True, reduction="none")
    return _weighted(per, weight, reduction)


def _same_size(input: Tensor, target: TensorLike, who: str, msg: str) -> None:
    ts, xs = tuple(as_array(target).shape), tuple(input.shape)
    if ts != xs:
        hint = f"; reshape the target to {xs}" if int(np.prod(ts)) == int(np.prod(xs)) else ""
        raise ValueError(f"{who}: " + msg.format(t=_size(ts), i=_size(xs))
                         + f" (target shape {ts}, input shape {xs}){hint}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities in [0, 1] (each log clamped at -100)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "binary_cross_entropy")
    x = _t(input, "binary_cross_entropy")
    _same_size(x, target, "binary_cross_entropy",
               "Using a target size ({t}) that is different to the input size ({i}) is "
               "deprecated. Please ensure they have the same size.")
    w = _raw(weight)
    if w is not None:
        w = np.broadcast_to(np.asarray(w, dtype=x.dtype), x.shape)
    return _L.binary_cross_entropy(x, target, w, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy on logits, stable; ``pos_weight`` per class."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "binary_cross_entropy_with_logits")
    x = _t(input, "binary_cross_entropy_with_logits")
    _same_size(x, target, "binary_cross_entropy_with_logits",
               "Target size ({t}) must be the same as input size ({i})")
    return _L.binary_cross_entropy_with_logits(x, target, _raw(weight), _raw(pos_weight),
                                               reduction)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with ``input`` log-probabilities: sum t (log t - x)
    ('batchmean' divides by the batch size, the mathematical KL; 'mean', the default,
    by the number of elements, with PyTorch's warning)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "kl_div", ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", UserWarning,
                      stacklevel=2)
    x = _t(input, "kl_div")
    t = target if isinstance(target, Tensor) else np.asarray(target, dtype=x.dtype)
    return _X.KLDiv.apply(x, t, log_target=bool(log_target), reduction=reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -t (x1 - x2) + margin)."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "margin_ranking_loss")
    a = _t(input1, "margin_ranking_loss", "input1")
    return _L.margin_ranking_loss(a, _t(input2, "margin_ranking_loss", "input2"),
                                  as_array(target, a.dtype), margin, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """x where t = 1, max(0, margin - x) where t = -1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "hinge_embedding_loss")
    x = _t(input, "hinge_embedding_loss")
    return _L.hinge_embedding_loss(x, as_array(target, x.dtype), margin, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multiclass hinge loss sum_{j != y} max(0, margin - x_y + x_j)^p / C."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    return _L.multi_margin_loss(_t(input, "multi_margin_loss"), as_array(target), p, margin,
                                _raw(weight), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where t = 1, max(0, cos(x1, x2) - margin) where t = -1."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "cosine_embedding_loss")
    a = _t(input1, "cosine_embedding_loss", "input1")
    b = _t(input2, "cosine_embedding_loss", "input2")
    eps = 1e-12
    d = a.ndim - 1
    dot = _M.sum(_M.mul(a, b), axis=d)
    m1 = _M.add(_M.sum(_M.mul(a, a), axis=d), eps)
    m2 = _M.add(_M.sum(_M.mul(b, b), axis=d), eps)
    cos = _M.div(dot, _M.sqrt(_M.mul(m1, m2)))
    t = as_array(target)
    pos = _M.mul(_M.sub(cos, 1.0), -1.0)
    neg = _M.clip(_M.sub(cos, float(margin)), min=0.0)
    zero = np.zeros(t.shape, dtype=a.dtype)
    per = _M.add(_M.where(t == 1, pos, zero), _M.where(t == -1, neg, zero))
    return _reduce(per, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-distance."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction),
                                 "triplet_margin_loss")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_pn = pairwise_distance(positive, negative, p, eps)
        d_an = _M.minimum(d_an, d_pn)
    per = _M.clip(_M.add(_M.sub(d_ap, d_an), float(margin)), min=0.0)
    return _reduce(per, reduction)


# attention: the Function lives in glassnet.functional.attention, with PyTorch's signature
from ..functional.attention import scaled_dot_product_attention  # noqa: E402,F401
