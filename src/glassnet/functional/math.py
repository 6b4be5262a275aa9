"""Elementary tensor math, each op a Function with its derivative beside it.

Also installs the Python operators (``+ - * / ** @``, indexing) and the methods
(``sum``, ``mean``, ``reshape``...) on :class:`~glassnet.Tensor`.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function, unbroadcast
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError, ArgumentTypeError
from . import elementwise as _ew
from . import reduce as _red
from .elementwise import (Abs, Cast, Exp, Log, Maximum, Minimum, Sqrt, _operands,  # noqa: F401
                          abs, exp, log, maximum, minimum, sqrt)

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from typing import cast as _cast

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import Dims
    from glassnet.autograd.tensor import Tensor
    from glassnet._typing import TensorLike

_Grads2 = tuple["np.ndarray | None", "np.ndarray | None"]   # a binary op's input gradients


__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "abs", "clip",
    "maximum", "minimum", "where", "sum", "mean", "max", "min", "reshape", "transpose",
    "getitem", "concat", "cat", "stack", "cast", "square", "var", "flatten", "linear",
    "squeeze", "unsqueeze", "divide", "multiply", "subtract", "true_divide",
]


def _c(x: TensorLike, like: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """A scalar or array operand as an array of ``like``'s dtype (keeps float32 float32)."""
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    if a.dtype.kind in "fiub" and like.dtype.kind == "f":
        return a.astype(like.dtype, copy=False)
    return a


# ------------------------------------------------------------------ arithmetic
class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1 (summed over broadcast axes)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.sa, self.sb = np.shape(a), np.shape(b)
        return a + b

    def backward(self, g: np.ndarray) -> _Grads2:
        return (unbroadcast(g, self.sa) if self.needs_input_grad[0] else None,
                unbroadcast(g, self.sb) if self.needs_input_grad[1] else None)


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.sa, self.sb = np.shape(a), np.shape(b)
        return a - b

    def backward(self, g: np.ndarray) -> _Grads2:
        return (unbroadcast(g, self.sa) if self.needs_input_grad[0] else None,
                unbroadcast(-g, self.sb) if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a * b

    def backward(self, g: np.ndarray) -> _Grads2:
        ga = unbroadcast(g * self.b, np.shape(self.a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * self.a, np.shape(self.b)) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a / b

    def backward(self, g: np.ndarray) -> _Grads2:
        ga = unbroadcast(g / self.b, np.shape(self.a)) if self.needs_input_grad[0] else None
        gb = (unbroadcast(-g * self.a / (self.b * self.b), np.shape(self.b))
              if self.needs_input_grad[1] else None)
        return ga, gb


class Pow(Function):
    """z = a ** b;  dz/da = b a^(b-1), dz/db = a^b ln a."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g: np.ndarray) -> _Grads2:
        # PyTorch's conventions: da = 0 where b = 0 (also at a = 0); db = 0 where a = 0 and
        # b >= 0; a negative base gives NaN for db (log of a negative number)
        a, b = self.a, self.b
        ga = gb = None
        with np.errstate(all="ignore"):
            if self.needs_input_grad[0]:
                ga = unbroadcast(np.where(b == 0, 0, g * b * a ** (b - 1)), np.shape(a))
            if self.needs_input_grad[1]:
                gb = np.where((a == 0) & (b >= 0), 0, g * self.out * np.log(a))
                gb = unbroadcast(gb, np.shape(b))
        dt = g.dtype
        return (None if ga is None else ga.astype(dt, copy=False),
                None if gb is None else gb.astype(dt, copy=False))


class Neg(Function):
    """z = -a."""

    def forward(self, a: np.ndarray) -> np.ndarray:
        return -a

    def backward(self, g: np.ndarray) -> np.ndarray:
        return -g


class MatMul(Function):
    """Z = A @ B;  dA = G B^T, dB = A^T G (batched over leading axes).

    With A N-D (..., n, k) and B a matrix (k, m), the product, dA and dB each run as one
    2-D GEMM over A's (-1, k) rows instead of NumPy's loop over the leading axes.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        if a.ndim > 2 and b.ndim == 2:
            return (_rows(a) @ b).reshape(a.shape[:-1] + (b.shape[1],))
        return a @ b

    def backward(self, g: np.ndarray) -> _Grads2:
        a, b = self.a, self.b
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if self.needs_input_grad[0] else None,
                    g * a if self.needs_input_grad[1] else None)
        if a.ndim > 2 and b.ndim == 2:
            g2 = _rows(g)
            if self.needs_input_grad[0]:
                ga = (g2 @ b.T).reshape(a.shape)
            if self.needs_input_grad[1]:
                gb = _rows(a).T @ g2
            return ga, gb
        if self.needs_input_grad[0]:
            if b.ndim == 1:
                ga = np.multiply.outer(g, b)
            else:
                ga = g @ np.swapaxes(b, -1, -2) if a.ndim > 1 else (g @ np.swapaxes(b, -1, -2))
            ga = unbroadcast(ga, a.shape)
        if self.needs_input_grad[1]:
            if a.ndim == 1:
                gb = np.multiply.outer(a, g)
            elif b.ndim == 1:
                gb = (g[..., None] * a).reshape(-1, a.shape[-1]).sum(0)
            else:
                gb = np.swapaxes(a, -1, -2) @ g
            gb = unbroadcast(gb, b.shape)
        return ga, gb


# --------------------------------------------------------------- elementwise
class Where(Function):
    """z = cond ? a : b;  the gradient flows to the chosen side."""

    def forward(self, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.cond = np.asarray(cond, dtype=bool)
        self.sa, self.sb = np.shape(a), np.shape(b)
        return np.where(self.cond, a, b)

    def backward(self, g: np.ndarray) -> tuple[None, np.ndarray | None, np.ndarray | None]:
        ga = unbroadcast(np.where(self.cond, g, 0), self.sa) if self.needs_input_grad[1] else None
        gb = unbroadcast(np.where(self.cond, 0, g), self.sb) if self.needs_input_grad[2] else None
        return None, ga, gb


# -------------------------------------------------------------------- shapes
class Reshape(Function):
    """z = a viewed with another shape."""

    def forward(self, a: np.ndarray, shape: Sequence[int] | None = None) -> np.ndarray:
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g.reshape(self.shape)


class Transpose(Function):
    """z = a with axes permuted (reversed when axes is None)."""

    def forward(self, a: np.ndarray, axes: Sequence[int] | None = None) -> np.ndarray:
        self.axes = axes
        return np.transpose(a, axes)

    def backward(self, g: np.ndarray) -> np.ndarray:
        if self.axes is None:
            return np.transpose(g)
        return np.transpose(g, np.argsort(self.axes))


class GetItem(Function):
    """z = a[index]; the gradient is scattered back (summed for repeated indices)."""

    def forward(self, a: np.ndarray, index: Any = None) -> np.ndarray:
        self.shape, self.dt, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(out, self.index, g)
        return out


class Concat(Function):
    """z = concatenation of inputs along an axis; the gradient is split back."""

    def forward(self, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return np.concatenate(arrays, axis=axis)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        idx = np.cumsum(self.sizes)[:-1]
        parts = np.split(g, idx, axis=self.axis)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))


class Stack(Function):
    """z = inputs stacked along a new axis; the gradient is unstacked."""

    def forward(self, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        n = g.shape[self.axis]
        return tuple(np.take(g, i, axis=self.axis) if need else None
                     for i, need in zip(range(n), self.needs_input_grad))


class Linear(Function):
    """y = x W^T + b (PyTorch layout: W is (out, in)), one node.

    dx = g W,  dW = g^T x,  db = 1^T g (a GEMV, faster than sum over rows).

    An N-D input (..., in) runs as ONE 2-D GEMM on its (-1, in) view, forward and
    backward (NumPy's matmul of a 3-D array by a matrix loops over the leading axis,
    about 3x slower than the same data as one matrix).
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        self.x, self.w, self.has_b = x, w, b is not None
        if x.ndim > 2:
            y = _rows(x) @ w.T
            if b is not None:
                y += b
            return y.reshape(x.shape[:-1] + (w.shape[0],))
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, w = self.x, self.w
        gx = gw = gb = None
        if x.ndim > 2:
            x2, g2 = _rows(x), _rows(g)
        else:
            x2, g2 = x, g
        if self.needs_input_grad[0]:
            gx = g2 @ w
            if x.ndim > 2:
                gx = gx.reshape(x.shape)
        if self.needs_input_grad[1]:
            gw = g2.T @ x2 if x.ndim > 1 else np.multiply.outer(g, x)
        if self.has_b and self.needs_input_grad[2]:
            gb = (backend.const_vector("ones", g2.shape[0], g2.dtype) @ g2 if g2.ndim > 1
                  else g.copy())
        return (gx, gw, gb)[:len(self.needs_input_grad)]


def _rows(a: np.ndarray) -> np.ndarray:
    """``a`` (..., k) as a (-1, k) matrix: a view when the layout allows, else one copy."""
    return a.reshape(-1, a.shape[-1])


# ------------------------------------------------------------- function API
def _check_alpha(alpha: complex, dt: np.dtype, who: str) -> None:
    if alpha != 1 and dt.kind in "iub" and not isinstance(alpha, (int, np.integer)):
        raise ArgumentTypeError(f"{who}: for integral input tensors, argument alpha must not "
                                f"be a floating point number")


def add(input: TensorLike, other: TensorLike, *, alpha: complex = 1) -> Tensor:  # noqa: A002
    """input + alpha * other, with PyTorch's type promotion (see
    :func:`~glassnet.functional.elementwise.result_type`)."""
    if alpha != 1:
        return add(input, mul(other, alpha))
    a, b, _ = _operands(input, other)
    if type(a) is Tensor and not a._requires_grad and not (type(b) is Tensor and b._requires_grad):
        # nothing to record (index arithmetic such as i + block_size): the sum itself
        return Tensor._from_op(a._data + (b._data if type(b) is Tensor else b), None, 0, False)
    return Add.apply(a, b)


def sub(input: TensorLike, other: TensorLike, *, alpha: complex = 1) -> Tensor:  # noqa: A002
    """input - alpha * other, with PyTorch's type promotion."""
    if alpha != 1:
        return sub(input, mul(other, alpha))
    if _is_bool(input) or _is_bool(other):
        raise ArgumentTypeError("sub: subtraction, the '-' operator, with a bool tensor or "
                                "number is not supported; to invert a mask use '~' or "
                                "logical_not(), for two masks '^' or logical_xor()")
    a, b, _ = _operands(input, other)
    return Sub.apply(a, b)


def _is_bool(x: object) -> bool:
    return (x._data.dtype == np.bool_ if isinstance(x, Tensor)
            else isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == np.bool_)


def mul(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
    """input * other, with PyTorch's type promotion."""
    a, b, _ = _operands(input, other)
    return Mul.apply(a, b)


def div(input: TensorLike, other: TensorLike, *,  # noqa: A002
        rounding_mode: str | None = None) -> Tensor:
    """input / other: true division (integers divide in the default floating dtype), or
    ``rounding_mode='floor'`` / ``'trunc'``."""
    if rounding_mode == "floor":
        return _ew.floor_divide(input, other)
    if rounding_mode == "trunc":
        return _ew.trunc(div(input, other)) if _ew.result_type(input, other).kind == "f" \
            else _ew.cast(_ew.trunc(div(input, other)), _ew.result_type(input, other))
    if rounding_mode is not None:
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                            f"{rounding_mode!r}")
    a, b, dt = _operands(input, other)
    if dt.kind not in "fc":
        dt = backend.get_default_dtype()
        a, b = _ew._as(a, dt), _ew._as(b, dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        return Div.apply(a, b)


divide = true_divide = div
multiply = mul
subtract = sub


def neg(a: Tensor) -> Tensor: return _ew.neg(a)  # noqa: E704
def matmul(a: Tensor, b: Tensor) -> Tensor: return MatMul.apply(a, b)  # noqa: E704
def square(a: Tensor) -> Tensor: return _ew.square(a)  # noqa: E704


def cast(a: Tensor, dtype: DTypeLike) -> Tensor:
    """``a`` as ``dtype`` (see :func:`glassnet.functional.elementwise.cast`)."""
    return _ew.cast(a, dtype)


def pow(input: TensorLike, exponent: TensorLike) -> Tensor:  # noqa: A001,A002
    """input ** exponent (a number or a tensor, on either side), with PyTorch's promotion:
    a float32 tensor to an int tensor's power stays float32; integers to a negative
    integer power are refused."""
    a, b, dt = _operands(input, exponent)
    if dt.kind in "iu":
        e = b._data if isinstance(b, Tensor) else b
        if np.any(np.asarray(e) < 0):
            raise ArgumentError("pow: Integers to negative integer powers are not allowed.")
    with np.errstate(all="ignore"):
        return Pow.apply(a, b)


def clip(a: Tensor, min: TensorLike | None = None,  # noqa: A001
         max: TensorLike | None = None) -> Tensor:  # noqa: A001
    """Clamp values into [min, max] (see :func:`glassnet.functional.elementwise.clamp`)."""
    return _ew.clamp(a, min, max)


def where(condition: TensorLike, input: TensorLike | None = None,  # noqa: A002
          other: TensorLike | None = None) -> Tensor | tuple[Tensor, ...]:
    """Elementwise ``input`` where ``condition`` else ``other`` (tensors or numbers, with
    PyTorch's promotion); ``where(condition)`` is ``nonzero(condition, as_tuple=True)``."""
    cond = as_array(condition)
    if input is None and other is None:
        return tuple(Tensor._from_op(i.astype(np.int64), None, 0, False)
                     for i in np.nonzero(cond))
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    # with only one of input/other given, result_type refuses the None
    a, b, _ = _operands(_cast("TensorLike", input), _cast("TensorLike", other))
    return Where.apply(cond, a, b)


sum = _red.sum  # noqa: A001
mean = _red.mean
var = _red.var
max = _red.max  # noqa: A001
min = _red.min  # noqa: A001


def reshape(a: Tensor, *shape: int | Sequence[int]) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(a, shape=shape)


def flatten(a: Tensor, start_dim: int = 1) -> Tensor:
    """Flatten all axes from ``start_dim`` on (keeps the batch axis by default)."""
    return reshape(a, a.shape[:start_dim] + (-1,))


def squeeze(a: Tensor, axis: Dims = None) -> Tensor:
    shape = np.squeeze(np.empty(a.shape, dtype=np.bool_), axis=axis).shape
    return reshape(a, shape)


def unsqueeze(a: Tensor, axis: int | Sequence[int]) -> Tensor:
    return reshape(a, np.expand_dims(np.empty(a.shape, dtype=np.bool_), axis).shape)


def transpose(a: Tensor, *axes: int | Sequence[int]) -> Tensor:
    """``transpose(a, dim0, dim1)`` swaps two axes, as ``torch.transpose`` does, for any
    number of dimensions (a matrix included: ``transpose(m, 0, 1)`` is ``m.T``).
    ``transpose(a)`` reverses the axes and a full permutation (three or more axes, or one
    tuple) is applied as ``np.transpose`` would (``permute``)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    elif len(axes) == 2:
        perm = list(range(a.ndim))
        i, j = _cast("tuple[int, int]", axes)
        perm[i], perm[j] = perm[j], perm[i]
        axes = tuple(perm)
    return Transpose.apply(a, axes=axes or None)


def getitem(a: Tensor, index: Any) -> Tensor:
    if isinstance(index, Tensor):
        index = index._data
    elif isinstance(index, tuple):
        index = tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return GetItem.apply(a, index=index)


def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    return Concat.apply(*tensors, axis=axis)


cat = concat


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    return Stack.apply(*tensors, axis=axis)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b with W of shape (out_features, in_features)."""
    return Linear.apply(x, weight, bias)


# ------------------------------------------------- operators on Tensor
def _rsub(a: Tensor, b: TensorLike) -> Tensor: return sub(b, a)  # noqa: E704
def _rdiv(a: Tensor, b: TensorLike) -> Tensor: return div(b, a)  # noqa: E704
def _rpow(a: Tensor, b: TensorLike) -> Tensor: return pow(b, a)  # noqa: E704
def _rmatmul(a: Tensor, b: TensorLike) -> Tensor: return MatMul.apply(b, a)  # noqa: E704


def _float(self: Tensor) -> Tensor:
    return cast(self, np.float32)


def _double(self: Tensor) -> Tensor:
    return cast(self, np.float64)


def _argmax(self: Tensor, axis: int | None = None) -> Tensor:
    return Tensor(np.argmax(self._data, axis=axis))


def _argmin(self: Tensor, axis: int | None = None) -> Tensor:
    return Tensor(np.argmin(self._data, axis=axis))


def _cmp(op: Callable[[Any, Any], Any]) -> Callable[[Tensor, TensorLike], Tensor]:
    def f(a: Tensor, b: TensorLike) -> Tensor:
        return Tensor(op(a._data, b._data if isinstance(b, Tensor) else b))
    return f


def _install_tensor_methods() -> None:
    T = Tensor
    setattr(T, "__add__", add)
    setattr(T, "__radd__", add)
    setattr(T, "__sub__", sub)
    setattr(T, "__rsub__", _rsub)
    setattr(T, "__mul__", mul)
    setattr(T, "__rmul__", mul)
    setattr(T, "__truediv__", div)
    setattr(T, "__rtruediv__", _rdiv)
    setattr(T, "__pow__", pow)
    setattr(T, "__rpow__", _rpow)
    setattr(T, "__neg__", neg)
    setattr(T, "__matmul__", matmul)
    setattr(T, "__rmatmul__", _rmatmul)
    setattr(T, "__getitem__", getitem)
    setattr(T, "__lt__", _cmp(np.less))
    setattr(T, "__le__", _cmp(np.less_equal))
    setattr(T, "__gt__", _cmp(np.greater))
    setattr(T, "__ge__", _cmp(np.greater_equal))
    setattr(T, "__eq__", _cmp(np.equal))
    setattr(T, "__ne__", _cmp(np.not_equal))
    setattr(T, "exp", exp)
    setattr(T, "log", log)
    setattr(T, "sqrt", sqrt)
    setattr(T, "abs", abs)
    setattr(T, "__abs__", abs)
    setattr(T, "clip", clip)
    setattr(T, "clamp", clip)
    setattr(T, "sum", sum)
    setattr(T, "mean", mean)
    setattr(T, "var", var)
    setattr(T, "max", max)
    setattr(T, "min", min)
    setattr(T, "reshape", reshape)
    setattr(T, "view", reshape)
    setattr(T, "flatten", flatten)
    setattr(T, "squeeze", squeeze)
    setattr(T, "unsqueeze", unsqueeze)
    setattr(T, "transpose", transpose)
    setattr(T, "permute", transpose)
    setattr(T, "matmul", matmul)
    setattr(T, "pow", pow)
    setattr(T, "astype", cast)
    setattr(T, "float", _float)
    setattr(T, "double", _double)
    setattr(T, "argmax", _argmax)
    setattr(T, "argmin", _argmin)


_install_tensor_methods()


def _install_named_arithmetic() -> None:
    """Tensor.add / sub / mul / div / pow / where... as methods (PyTorch's names), with the
    promotion of the functions above."""
    T = Tensor
    for name in ("add", "sub", "mul", "div", "divide", "multiply", "subtract", "pow",
                 "true_divide"):
        setattr(T, name, globals()[name])

    def _where(self: Tensor, condition: TensorLike, other: TensorLike) -> Tensor:
        """``x.where(condition, y)``: x where condition holds, else y."""
        return _cast("Tensor", where(condition, self, other))
    setattr(T, "where", _where)


_install_named_arithmetic()
