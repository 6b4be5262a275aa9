"""Reductions, as PyTorch defines them: ``dim`` (an int, a tuple, negative counts from the
end; ``axis`` is accepted as an alias) and ``keepdim`` (alias ``keepdims``).

* ``sum``, ``mean``, ``prod``, ``std``, ``var`` (the *unbiased* estimate by default,
  ``correction=1``; ``unbiased=False`` or ``correction=0`` for the population variance),
  ``norm``, ``logsumexp``, ``amax``/``amin``, ``cumsum``/``cumprod``, ``all``/``any``,
  ``count_nonzero``;
* ``max``/``min``: without ``dim`` the 0-d extreme; with ``dim`` the named tuple
  ``(values, indices)`` (so ``values, idx = out.max(1)`` unpacks); with a tensor the
  elementwise maximum/minimum;
* ``argmax``/``argmin``, ``topk``, ``sort``, ``argsort``, ``median``, ``mode``,
  ``kthvalue``: the ones that pick elements return ``(values, indices)`` and their gradient
  goes to the picked index.

>>> out = gn.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
>>> values, idx = out.max(1)
>>> values.numpy(), idx.numpy()
(array([0.7, 0.5], dtype=float32), array([1, 0]))
"""
from __future__ import annotations

import builtins
import collections
import types
import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import dtypes as _dtypes
from ..errors import ArgumentError, ArgumentTypeError
from . import elementwise as _ew

from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable
    from typing import Any, NamedTuple

    from glassnet._typing import DTypeLike, Dims, TensorLike

    class _ValuesIndices(NamedTuple):
        """What ``return_types.max``, ``.sort``, ``.topk``, ... hold (named tuples)."""
        values: Tensor
        indices: Tensor

    class _MinMax(NamedTuple):
        """What ``return_types.aminmax`` holds."""
        min: Tensor
        max: Tensor


__all__ = [
    "sum", "mean", "nansum", "nanmean", "prod", "std", "var", "std_mean", "var_mean", "norm",
    "logsumexp", "amax", "amin", "aminmax", "max", "min", "maximum", "minimum", "fmax", "fmin",
    "argmax", "argmin", "topk", "sort", "argsort", "msort", "median", "nanmedian", "mode",
    "kthvalue", "cumsum", "cumprod", "cummax", "cummin", "all", "any", "count_nonzero",
    "return_types",
]


def _rt(name: str, fields: tuple[str, ...] = ("values", "indices")) -> type[tuple[Any, ...]]:
    cls = collections.namedtuple(name, fields)  # type: ignore[misc]  # names made at run time
    cls.__module__ = "glassnet.return_types"
    cls.__doc__ = f"The ({', '.join(fields)}) result of ``{name}`` (a named tuple)."
    return cls


return_types = types.SimpleNamespace(**{n: _rt(n) for n in (
    "max", "min", "topk", "sort", "median", "nanmedian", "mode", "kthvalue", "cummax",
    "cummin")})
return_types.aminmax = _rt("aminmax", ("min", "max"))


# ------------------------------------------------------------------ arguments
def _pick(dim: Any, axis: Any, who: str, default: Any = None) -> Any:  # dim's alias axis
    if axis is not None:
        if dim is not None:
            raise ArgumentTypeError(f"{who}: give dim or its alias axis, not both")
        return axis
    return default if dim is None else dim


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    return builtins.bool(keepdims) if keepdims is not None else builtins.bool(keepdim)


def _wrap(d: object, ndim: int, who: str) -> int:
    if isinstance(d, Tensor):
        d = int(d)
    if not isinstance(d, (int, np.integer)) or isinstance(d, builtins.bool):
        raise ArgumentTypeError(f"{who}: dim must be an int or a tuple of ints, got "
                                f"{type(d).__name__}")
    n = builtins.max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{who}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return int(d) % n


def _axes(dim: object, ndim: int, who: str) -> tuple[int, ...]:
    """``dim`` (None, an int or a sequence) as a sorted tuple of axes of an ``ndim`` array
    (a 0-d tensor accepts dim 0 / -1 and reduces nothing)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        axes = tuple(_wrap(d, ndim, who) for d in dim)
        if len(set(axes)) != len(axes):
            raise ArgumentError(f"{who}: dim {tuple(dim)} names an axis twice")
    else:
        axes = (_wrap(dim, ndim, who),)
    return tuple(sorted(axes)) if ndim else ()


def _one_axis(dim: object, ndim: int, who: str) -> int:
    """``dim`` as one axis of an array with ``ndim`` >= 1 dimensions (every caller
    handles a 0-d tensor before asking)."""
    if isinstance(dim, (tuple, list)):
        raise ArgumentTypeError(f"{who}: dim must be a single int, got {dim!r}")
    return _wrap(dim, ndim, who)


def _x(input: object, who: str) -> Tensor:
    if isinstance(input, Tensor):
        return input
    raise ArgumentTypeError(f"{who}(): argument 'input' must be a Tensor, got "
                            f"{type(input).__name__}")


def _copy(x: Tensor) -> Tensor:
    return _ew.cast(x, x._data.dtype, copy=True)


def _zero_index() -> Tensor:
    return Tensor._from_op(np.zeros((), np.int64), None, 0, False)


def _expand(g: np.ndarray, shape: tuple[int, ...], axes: int | tuple[int, ...] | None,
            keepdim: bool) -> np.ndarray:
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def _need_float(x: Tensor, who: str, msg: str | None = None) -> None:
    if x._data.dtype.kind not in "fc":
        raise ArgumentTypeError(msg or (
            f"{who}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {x._data.dtype}"))


def _acc_dtype(x: Tensor, dtype: DTypeLike, who: str) -> np.dtype[Any]:
    """The result dtype of sum/prod/cumsum: ``dtype`` if given, else int64 for bool and
    integer input (as PyTorch), else the input's."""
    if dtype is not None:
        return _ew._resolve_dtype(dtype, who)
    d = x._data.dtype
    return _dtypes.int64 if d.kind in "biu" else d


# ------------------------------------------------------------------ Functions
class Sum(Function):
    """z = sum of a over axes;  dz/da = 1 broadcast back."""

    def forward(self, a: np.ndarray, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False) -> np.ndarray:
        self.shape, self.axes, self.keepdims = a.shape, axis, keepdims
        return np.asarray(a.sum(axis=axis, keepdims=keepdims))

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.array(_expand(g, self.shape, self.axes, self.keepdims))


class Mean(Function):
    """z = mean of a over axes;  dz/da = 1/n broadcast back."""

    def forward(self, a: np.ndarray, axis: tuple[int, ...] | None = None,
                keepdims: bool = False) -> np.ndarray:
        self.shape, self.axes, self.keepdims = a.shape, axis, keepdims
        self.n = int(np.prod([a.shape[i] for i in axis])) if axis else 1
        with np.errstate(all="ignore"):
            return np.asarray(a.mean(axis=axis, keepdims=keepdims))

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.array(_expand(g / self.n, self.shape, self.axes, self.keepdims))


class Var(Function):
    """z = sum (a - mean)^2 / (n - c) over axes (c = the correction);
    dz/da = 2 (a - mean) / (n - c).  With ``sqrt``: the standard deviation,
    dz/da = (a - mean) / ((n - c) z) (0 where z = 0)."""

    def forward(self, a: np.ndarray, axis: tuple[int, ...] | None = None, keepdims: bool = False,
                correction: float = 1, sqrt: bool = False) -> np.ndarray:
        n = int(np.prod([a.shape[i] for i in axis])) if axis else 1
        self.shape, self.axes, self.keepdims, self.sqrt = a.shape, axis, keepdims, sqrt
        if n - correction <= 0:
            warnings.warn("var(): degrees of freedom is <= 0", UserWarning, stacklevel=4)
        self.den = np.asarray(builtins.max(n - correction, 0), dtype=a.dtype)
        self.d = a - a.mean(axis=axis, keepdims=True)
        with np.errstate(all="ignore"):
            v = np.asarray(np.square(self.d).sum(axis=axis, keepdims=keepdims) / self.den)
            if sqrt:
                v = np.sqrt(v)
        self.out = v
        return v

    def backward(self, g: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.sqrt:
                g = np.where(self.out == 0, 0, g / self.out)
                scale = 1.0
            else:
                scale = 2.0
            g = _expand(g, self.shape, self.axes, self.keepdims)
            return (scale * g * self.d / self.den).astype(self.d.dtype, copy=False)


class Prod(Function):
    """z = product of a over axes;  dz/da_i = product of the others (exact with zeros)."""

    def forward(self, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        self.a, self.axes, self.keepdims = a, axis, keepdims
        self.out = np.asarray(np.prod(a, axis=axis, keepdims=True))
        return self.out if keepdims else np.asarray(self.out.reshape(
            [n for i, n in enumerate(a.shape) if i not in axis]))

    def backward(self, g: np.ndarray) -> np.ndarray:
        a = self.a
        if not self.keepdims and self.axes:
            g = np.expand_dims(g, self.axes)
        zero = a == 0
        nz = zero.sum(axis=self.axes, keepdims=True)
        with np.errstate(all="ignore"):
            others = np.where(zero, 0, self.out / np.where(zero, 1, a))
        if nz.any():
            p1 = np.prod(np.where(zero, 1, a), axis=self.axes, keepdims=True)
            others = np.where(nz == 0, others, np.where(zero & (nz == 1), p1, 0))
        return (g * others).astype(a.dtype, copy=False)


class LogSumExp(Function):
    """z = log sum e^a over axes (stable);  dz/da = softmax(a) over the axes."""

    def forward(self, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        self.a, self.axes, self.keepdims = a, axis, keepdims
        m = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros((), a.dtype)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(all="ignore"):
            self.out = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
        return self.out if keepdims else np.asarray(self.out.reshape(
            [n for i, n in enumerate(a.shape) if i not in axis]))

    def backward(self, g: np.ndarray) -> np.ndarray:
        if not self.keepdims and self.axes:
            g = np.expand_dims(g, self.axes)
        with np.errstate(all="ignore"):
            return g * np.exp(self.a - self.out)


class Extreme(Function):
    """z = max (or min) of a over axes; the gradient is shared evenly by the elements equal
    to the extreme (PyTorch's rule for ``max()``, ``amax``, ``amin``)."""

    def forward(self, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False,
                op: Callable[..., Any] = np.max) -> np.ndarray:
        self.a, self.axes, self.keepdims = a, axis, keepdims
        self.out = np.asarray(op(a, axis=axis, keepdims=True))
        return self.out if keepdims else np.asarray(self.out.reshape(
            [n for i, n in enumerate(a.shape) if i not in axis]))

    def backward(self, g: np.ndarray) -> np.ndarray:
        mask = (self.a == self.out) | (np.isnan(self.a) & np.isnan(self.out)
                                       if self.a.dtype.kind == "f" else False)
        count = mask.sum(axis=self.axes, keepdims=True)
        if not self.keepdims and self.axes:
            g = np.expand_dims(g, self.axes)
        return (g * mask / count).astype(g.dtype, copy=False)


class TakeAlong(Function):
    """z = a picked along ``axis`` at ``index`` (the values of max(dim), sort, topk...);
    the gradient goes back to the picked positions (indices unique along the axis)."""

    def forward(self, a: np.ndarray, index: np.ndarray, axis: int = 0) -> np.ndarray:
        self.shape, self.index, self.axis = a.shape, index, axis
        return np.take_along_axis(a, index, axis=axis)

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        np.put_along_axis(out, self.index, g, axis=self.axis)
        return out


class Norm(Function):
    """z = (sum |a|^p)^(1/p) over axes (p = 2, 1, inf, -inf, 0 or any real);
    dz/da = sign(a) |a|^(p-1) / z^(p-1) (0 where z = 0), shared evenly among the maxima
    for p = inf."""

    def forward(self, a: np.ndarray, p: float = 2.0, *, axis: tuple[int, ...],
                keepdims: bool = False) -> np.ndarray:
        self.a, self.p, self.axes, self.keepdims = a, p, axis, keepdims
        x = np.abs(a)
        with np.errstate(all="ignore"):
            if p == 2:
                out = np.sqrt(np.square(x).sum(axis=axis, keepdims=True))
            elif p == 1:
                out = x.sum(axis=axis, keepdims=True)
            elif p == np.inf:
                out = x.max(axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)
            elif p == -np.inf:
                out = x.min(axis=axis, keepdims=True)
            elif p == 0:
                out = (x != 0).sum(axis=axis, keepdims=True).astype(a.dtype)
            else:
                out = (x ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        self.out = np.asarray(out, dtype=a.dtype)
        return self.out if keepdims else np.asarray(self.out.reshape(
            [n for i, n in enumerate(a.shape) if i not in axis]))

    def backward(self, g: np.ndarray) -> np.ndarray:
        a, p, out = self.a, self.p, self.out
        if not self.keepdims and self.axes:
            g = np.expand_dims(g, self.axes)
        with np.errstate(all="ignore"):
            if p == 0:
                return np.zeros_like(a)
            if p == 1:
                return g * np.sign(a)
            if p in (np.inf, -np.inf):
                mask = np.abs(a) == out
                return g * np.sign(a) * mask / mask.sum(axis=self.axes, keepdims=True)
            if p == 2:
                r = np.where(out == 0, 0, a / out)
            else:
                r = np.where(out == 0, 0,
                             np.sign(a) * np.abs(a) ** (p - 1) / out ** (p - 1))
            return (g * r).astype(a.dtype, copy=False)


class Cumsum(Function):
    """z_i = sum_{j<=i} a_j along an axis;  dz/da = reversed cumulative sum of g."""

    def forward(self, a: np.ndarray, axis: int = 0) -> np.ndarray:
        self.axis = axis
        return np.cumsum(a, axis=axis)

    def backward(self, g: np.ndarray) -> np.ndarray:
        ax = self.axis
        return np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)


class Cumprod(Function):
    """z_i = prod_{j<=i} a_j along an axis;  da_i = sum_{j>=i} g_j prod_{k<=j, k!=i} a_k
    (from z / a where no element is 0, by the masked products where one is)."""

    def forward(self, a: np.ndarray, axis: int = 0) -> np.ndarray:
        self.a, self.axis = a, axis
        self.out = np.cumprod(a, axis=axis)
        return self.out

    def backward(self, g: np.ndarray) -> np.ndarray:
        a, ax = self.a, self.axis
        if not (a == 0).any():
            r = np.flip(np.cumsum(np.flip(g * self.out, ax), axis=ax), ax)
            return r / a
        x = np.moveaxis(a, ax, -1)
        gg = np.moveaxis(g, ax, -1)
        n = x.shape[-1]
        eye = np.eye(n, dtype=bool)
        m = np.where(eye, 1, x[..., None, :])           # (..., i, k): a_k, 1 at k = i
        p = np.cumprod(m, axis=-1)                        # prod_{k<=j, k!=i} a_k
        upper = np.triu(np.ones((n, n), dtype=bool))      # j >= i
        r = (np.where(upper, p, 0) * gg[..., None, :]).sum(-1)
        return np.moveaxis(r, -1, ax).astype(a.dtype, copy=False)


# ------------------------------------------------------------------ sums and means
def sum(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: DTypeLike = None,  # noqa: A001,A002,E501
        axis: Dims = None, keepdims: bool | None = None) -> Tensor:
    """Sum over ``dim`` (all by default); bool and integer tensors sum in int64 unless
    ``dtype`` is given.

    >>> gn.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=0).numpy()
    array([4., 6.], dtype=float32)
    """
    x = _x(input, "sum")
    if dim is None and axis is None and dtype is None and x._data.dtype.kind == "f":
        return Sum.apply(x, axis=tuple(range(x._data.ndim)), keepdims=_keep(keepdim, keepdims))
    axes = _axes(_pick(dim, axis, "sum"), x.ndim, "sum")
    x = _ew.cast(x, _acc_dtype(x, dtype, "sum"))
    return Sum.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims))


def mean(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: DTypeLike = None,  # noqa: A002
         axis: Dims = None, keepdims: bool | None = None) -> Tensor:
    """Mean over ``dim`` (all by default). Integer tensors are refused unless ``dtype`` says
    the floating type to compute in, as in PyTorch."""
    x = _x(input, "mean")
    if dtype is not None:
        x = _ew.cast(x, _ew._resolve_dtype(dtype, "mean"))
    _need_float(x, "mean")
    axes = _axes(_pick(dim, axis, "mean"), x.ndim, "mean")
    return Mean.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims))


def nansum(input: Tensor, dim: Dims = None, keepdim: bool = False, *,  # noqa: A002
           dtype: DTypeLike = None) -> Tensor:
    """Sum treating NaN as 0 (its gradient is 0)."""
    x = _x(input, "nansum")
    if x._data.dtype.kind == "f":
        x = _ZeroNan.apply(x)
    return sum(x, dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim: Dims = None, keepdim: bool = False, *,  # noqa: A002
            dtype: DTypeLike = None) -> Tensor:
    """Mean over the elements that are not NaN."""
    x = _x(input, "nanmean")
    _need_float(x, "nanmean")
    count = sum(_ew.logical_not(_ew.isnan(x)), dim, keepdim)
    return nansum(x, dim, keepdim, dtype=dtype) / count


def _correction(who: str, dim: Dims, unbiased: bool | None, correction: float | None,
                keepdim: bool) -> tuple[Dims, float]:
    # torch.var(x, True) / x.var(False): the bool in dim's place is ``unbiased``
    if isinstance(dim, (bool, np.bool_)):
        if unbiased is not None:
            raise ArgumentTypeError(f"{who}: unbiased given twice")
        dim, unbiased = None, builtins.bool(dim)
    if correction is not None and unbiased is not None:
        raise ArgumentTypeError(f"{who}: give correction or unbiased, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def var(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *,  # noqa: A002,E501
        correction: float | None = None, axis: Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """Variance over ``dim`` with Bessel's correction by default, as ``torch.var``:
    sum (x - mean)^2 / (N - correction), correction=1 (``unbiased=False`` or
    ``correction=0``: divide by N).

    >>> gn.tensor([1.0, 2.0, 3.0, 4.0]).var().item()
    1.6666666...
    """
    x = _x(input, "var")
    dim, c = _correction("var", _pick(dim, axis, "var"), unbiased, correction, keepdim)
    _need_float(x, "var", "var(): std and var only support floating point and complex dtypes")
    axes = _axes(dim, x.ndim, "var")
    return Var.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims), correction=c)


def std(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *,  # noqa: A002,E501
        correction: float | None = None, axis: Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """Standard deviation (square root of :func:`var`, unbiased by default)."""
    x = _x(input, "std")
    dim, c = _correction("std", _pick(dim, axis, "std"), unbiased, correction, keepdim)
    _need_float(x, "std", "std(): std and var only support floating point and complex dtypes")
    axes = _axes(dim, x.ndim, "std")
    return Var.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims), correction=c, sqrt=True)


def var_mean(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False,  # noqa: A002
             *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim`` (unbiased by default)."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, builtins.bool) else dim, keepdim))


def std_mean(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False,  # noqa: A002
             *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim`` (unbiased by default)."""
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, builtins.bool) else dim, keepdim))


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
         dtype: DTypeLike = None) -> Tensor:
    """Product over one ``dim`` (all elements by default); integers multiply in int64."""
    x = _x(input, "prod")
    axes = _axes(None, x.ndim, "prod") if dim is None else (
        () if x.ndim == 0 else (_one_axis(dim, x.ndim, "prod"),))
    x = _ew.cast(x, _acc_dtype(x, dtype, "prod"))
    return Prod.apply(x, axis=axes, keepdims=builtins.bool(keepdim))


def logsumexp(input: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:  # noqa: A002
    """log(sum(exp(input), dim)) computed without overflow; gradient softmax."""
    x = _ew._floating(_x(input, "logsumexp"))
    axes = _axes(dim, x.ndim, "logsumexp")
    return LogSumExp.apply(x, axis=axes, keepdims=builtins.bool(keepdim))


def norm(input: Tensor, p: float | str | None = "fro", dim: Dims = None, keepdim: bool = False,  # noqa: A002
         dtype: DTypeLike = None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default): p = 'fro' or 2
    (Euclidean), 1, inf, -inf, 0 (count of nonzeros) or any real. 'nuc' is not supported.

    >>> gn.tensor([3.0, 4.0]).norm().item()
    5.0
    """
    x = _x(input, "norm")
    if dtype is not None:
        x = _ew.cast(x, _ew._resolve_dtype(dtype, "norm"))
    _need_float(x, "norm", f"norm(): input dtype should be floating point or complex, got "
                f"{x._data.dtype}")
    if p is None or p == "fro":
        p = 2.0
    elif isinstance(p, str):
        raise ArgumentError(f"norm: p={p!r} is not supported (use 'fro' or a number)")
    axes = _axes(dim, x.ndim, "norm")
    return Norm.apply(x, p=float(p), axis=axes, keepdims=builtins.bool(keepdim))


# ------------------------------------------------------------------ extremes
def amax(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Maximum over ``dim`` (all when empty); gradient shared evenly among ties."""
    x = _x(input, "amax")
    axes = _axes(None if dim in ((), []) else dim, x.ndim, "amax")
    return Extreme.apply(x, axis=axes, keepdims=builtins.bool(keepdim), op=np.max)


def amin(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Minimum over ``dim`` (all when empty); gradient shared evenly among ties."""
    x = _x(input, "amin")
    axes = _axes(None if dim in ((), []) else dim, x.ndim, "amin")
    return Extreme.apply(x, axis=axes, keepdims=builtins.bool(keepdim), op=np.min)


def aminmax(input: Tensor, *, dim: Dims = None, keepdim: bool = False) -> _MinMax:  # noqa: A002
    """The named tuple ``(min, max)`` over ``dim`` (all by default)."""
    d = () if dim is None else dim
    return return_types.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


def _arg_extreme(a: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """Index of the first maximum (minimum) along ``axis``, NaN counting as the extreme."""
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        if nan.any():
            first_nan = np.argmax(nan, axis=axis)
            any_nan = nan.any(axis=axis)
            best = np.argmax(a, axis) if largest else np.argmin(a, axis)
            return np.where(any_nan, first_nan, best)
    return np.argmax(a, axis) if largest else np.argmin(a, axis)


def _select(x: Tensor, idx: np.ndarray, axis: int, keepdim: bool,
            rt: Callable[..., Any]) -> _ValuesIndices:
    """(values, indices) of the picked ``idx`` (keepdim shape) along ``axis``."""
    values = TakeAlong.apply(x, index=idx, axis=axis)
    if not keepdim:
        values = _squeeze(values, axis)
        idx = np.squeeze(idx, axis)
    return rt(values, Tensor._from_op(np.asarray(idx, dtype=np.int64), None, 0, False))


def _squeeze(t: Tensor, axis: int) -> Tensor:
    return _Squeeze.apply(t, axis=axis)


class _Squeeze(Function):
    """z = a without its size-1 ``axis``;  the gradient gets the axis back."""

    def forward(self, a: np.ndarray, axis: int = 0) -> np.ndarray:
        self.axis = axis
        return np.squeeze(a, axis)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.expand_dims(g, self.axis)


class _ZeroNan(Function):
    """z = a with NaN replaced by 0;  dz/da = 1 where a is not NaN, else 0."""

    def forward(self, a: np.ndarray) -> np.ndarray:
        self.nan = np.isnan(a)
        return np.where(self.nan, 0, a).astype(a.dtype, copy=False)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.where(self.nan, 0, g)


class _FExtreme(Function):
    """z = fmax(a, b) (fmin): the larger (smaller), a NaN losing to a number; the gradient
    goes to the chosen side (to a on ties)."""

    def forward(self, a: np.ndarray, b: np.ndarray,
                op: Callable[..., np.ndarray] = np.fmax) -> np.ndarray:
        z = op(a, b)
        self.sa, self.sb = np.shape(a), np.shape(b)
        self.take_a = (z == a) | (np.isnan(z) & np.isnan(a)) if z.dtype.kind == "f" \
            else z == a
        return z

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        from ..autograd.function import unbroadcast  # noqa: PLC0415
        return (unbroadcast(np.where(self.take_a, g, 0), self.sa)
                if self.needs_input_grad[0] else None,
                unbroadcast(np.where(self.take_a, 0, g), self.sb)
                if self.needs_input_grad[1] else None)


def _max_min(input: object, dim: int | Tensor | None, keepdim: bool, other: TensorLike | None,
             largest: bool, who: str, axis: int | None = None,
             keepdims: bool | None = None) -> Tensor | _ValuesIndices:
    x = _x(input, who)
    dim = _pick(dim, axis, who)
    if isinstance(dim, Tensor) and dim.ndim and other is None:
        dim, other = None, dim
    if other is not None:
        return (maximum if largest else minimum)(x, other)
    keep = _keep(keepdim, keepdims)
    if dim is None:
        if keep:
            raise ArgumentTypeError(f"{who}(): keepdim needs a dim")
        if x._data.size == 0:
            raise ArgumentError(f"{who}(): Expected reduction dim to be specified for "
                                f"input.numel() == 0")
        return Extreme.apply(x, axis=tuple(range(x.ndim)), keepdims=False,
                             op=np.max if largest else np.min)
    rt = return_types.max if largest else return_types.min
    if x.ndim == 0:
        _wrap(dim, 0, who)
        return rt(_copy(x), _zero_index())
    ax = _one_axis(dim, x.ndim, who)
    idx = np.expand_dims(_arg_extreme(x._data, ax, largest), ax)
    return _select(x, idx, ax, keep, rt)


@overload
def max(input: Tensor) -> Tensor: ...  # noqa: A001,A002
@overload
def max(input: Tensor, dim: int, keepdim: bool = False, *,  # noqa: A001,A002
        keepdims: bool | None = None) -> _ValuesIndices: ...
@overload
def max(input: Tensor, dim: Tensor) -> Tensor: ...  # noqa: A001,A002
@overload
def max(input: Tensor, *, other: TensorLike) -> Tensor: ...  # noqa: A001,A002
@overload
def max(input: Tensor, *, axis: int, keepdims: bool | None = None) -> _ValuesIndices: ...  # noqa: A001,A002,E501
def max(input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,  # noqa: A001,A002
        other: TensorLike | None = None, axis: int | None = None,
        keepdims: bool | None = None) -> Tensor | _ValuesIndices:
    """``max(input)``: the largest element (0-d; gradient shared among ties).
    ``max(input, dim, keepdim=False)``: the named tuple ``(values, indices)`` along ``dim``
    (the first maximum; the gradient goes to it). ``max(input, other)``: the elementwise
    maximum of two tensors.

    >>> values, idx = gn.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    >>> idx.numpy()
    array([1, 0])
    """
    return _max_min(input, dim, keepdim, other, True, "max", axis, keepdims)


@overload
def min(input: Tensor) -> Tensor: ...  # noqa: A001,A002
@overload
def min(input: Tensor, dim: int, keepdim: bool = False, *,  # noqa: A001,A002
        keepdims: bool | None = None) -> _ValuesIndices: ...
@overload
def min(input: Tensor, dim: Tensor) -> Tensor: ...  # noqa: A001,A002
@overload
def min(input: Tensor, *, other: TensorLike) -> Tensor: ...  # noqa: A001,A002
@overload
def min(input: Tensor, *, axis: int, keepdims: bool | None = None) -> _ValuesIndices: ...  # noqa: A001,A002,E501
def min(input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,  # noqa: A001,A002
        other: TensorLike | None = None, axis: int | None = None,
        keepdims: bool | None = None) -> Tensor | _ValuesIndices:
    """``min(input)``, ``min(input, dim, keepdim)`` -> ``(values, indices)``, or
    ``min(input, other)`` (elementwise): as :func:`max`, for the smallest."""
    return _max_min(input, dim, keepdim, other, False, "min", axis, keepdims)


maximum = _ew.maximum
minimum = _ew.minimum


def fmax(input: Tensor, other: TensorLike) -> Tensor:  # noqa: A002
    """Elementwise maximum ignoring NaN (a number wins over a NaN)."""
    a, b, _ = _ew._operands(_x(input, "fmax"), other)
    return _FExtreme.apply(a, b, op=np.fmax)


def fmin(input: Tensor, other: TensorLike) -> Tensor:  # noqa: A002
    """Elementwise minimum ignoring NaN (a number wins over a NaN)."""
    a, b, _ = _ew._operands(_x(input, "fmin"), other)
    return _FExtreme.apply(a, b, op=np.fmin)


def _argext(input: object, dim: int | None, keepdim: bool, largest: bool, who: str,
            axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    x = _x(input, who)
    dim = _pick(dim, axis, who)
    keep = _keep(keepdim, keepdims)
    a = x._data
    if dim is None:
        i = np.asarray(_arg_extreme(a.reshape(-1), 0, largest), dtype=np.int64)
        if keep:
            i = i.reshape((1,) * a.ndim)
        return Tensor._from_op(i, None, 0, False)
    if a.ndim == 0:
        _wrap(dim, 0, who)
        return _zero_index()
    ax = _one_axis(dim, a.ndim, who)
    i = np.asarray(_arg_extreme(a, ax, largest), dtype=np.int64)
    if keep:
        i = np.expand_dims(i, ax)
    return Tensor._from_op(i, None, 0, False)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Index of the (first) maximum: over the flattened tensor without ``dim``, else along
    ``dim``; int64."""
    return _argext(input, dim, keepdim, True, "argmax", axis, keepdims)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Index of the (first) minimum (see :func:`argmax`)."""
    return _argext(input, dim, keepdim, False, "argmin", axis, keepdims)


# ------------------------------------------------------------------ ordering
def _argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis``; descending keeps equal elements in their order, NaN
    counts as the largest (as PyTorch)."""
    if a.dtype == np.bool_:
        a = a.astype(np.int8)
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.flip(a, axis)
    idx = np.argsort(rev, axis=axis, kind="stable")
    return (n - 1) - np.flip(idx, axis)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False,  # noqa: A002
         axis: int | None = None) -> _ValuesIndices:
    """The named tuple ``(values, indices)`` of ``input`` sorted along ``dim`` (a stable
    sort, so ``stable=True`` holds always); gradients go back to the original places."""
    x = _x(input, "sort")
    dim = _pick(None if dim == -1 and axis is not None else dim, axis, "sort", -1)
    if x.ndim == 0:
        return return_types.sort(_copy(x),
                                 _zero_index())
    ax = _one_axis(dim, x.ndim, "sort")
    idx = _argsort(x._data, ax, builtins.bool(descending))
    return return_types.sort(TakeAlong.apply(x, index=idx, axis=ax),
                             Tensor._from_op(idx.astype(np.int64, copy=False), None, 0, False))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,  # noqa: A002
            stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (int64)."""
    x = _x(input, "argsort")
    if x.ndim == 0:
        return _zero_index()
    ax = _one_axis(dim, x.ndim, "argsort")
    return Tensor._from_op(_argsort(x._data, ax, builtins.bool(descending)).astype(np.int64),
                           None, 0, False)


def msort(input: Tensor) -> Tensor:  # noqa: A002
    """``input`` sorted along its first dimension."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> _ValuesIndices:
    """The named tuple ``(values, indices)`` of the ``k`` largest (``largest=False``:
    smallest) elements along ``dim``, in order; gradients go back to those positions.

    >>> topk(gn.tensor([1.0, 3.0, 2.0]), 2).indices.numpy()
    array([1, 2])
    """
    x = _x(input, "topk")
    n = x.shape[_one_axis(dim, x.ndim, "topk")] if x.ndim else 1
    k = int(k)
    if not 0 <= k <= n:
        raise ArgumentError(f"topk: k={k} is out of range for a dimension of size {n}")
    if x.ndim == 0:
        return return_types.topk(_copy(x), _zero_index())
    ax = _one_axis(dim, x.ndim, "topk")
    idx = np.take(_argsort(x._data, ax, builtins.bool(largest)), np.arange(k), axis=ax)
    return return_types.topk(TakeAlong.apply(x, index=idx, axis=ax),
                             Tensor._from_op(idx.astype(np.int64, copy=False), None, 0, False))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> _ValuesIndices:  # noqa: A002
    """The named tuple ``(values, indices)`` of the k-th smallest element along ``dim``
    (k counts from 1)."""
    x = _x(input, "kthvalue")
    if x.ndim == 0:
        return return_types.kthvalue(_copy(x), _zero_index())
    ax = _one_axis(dim, x.ndim, "kthvalue")
    n = x.shape[ax]
    if not 1 <= int(k) <= n:
        raise ArgumentError(f"kthvalue: k={k} is out of range [1, {n}]")
    idx = np.take(_argsort(x._data, ax, False), [int(k) - 1], axis=ax)
    return _select(x, idx, ax, builtins.bool(keepdim), return_types.kthvalue)


def _median_idx(a: np.ndarray, ax: int, ignore_nan: bool) -> np.ndarray:
    n = a.shape[ax]
    order = _argsort(a, ax, False)
    if a.dtype.kind != "f":
        return np.take(order, [(n - 1) // 2], axis=ax)
    nan = np.isnan(a)
    if ignore_nan:
        m = n - nan.sum(axis=ax, keepdims=True)           # non-NaN count per slice
        pos = np.maximum(m - 1, 0) // 2
        return np.take_along_axis(order, pos, axis=ax)
    pick = np.take(order, [(n - 1) // 2], axis=ax)
    if nan.any():
        first_nan = np.expand_dims(np.argmax(nan, axis=ax), ax)
        pick = np.where(np.expand_dims(nan.any(axis=ax), ax), first_nan, pick)
    return pick


def _median(input: object, dim: int | None, keepdim: bool, who: str, ignore_nan: bool,
            rt: Callable[..., Any]) -> Tensor | _ValuesIndices:
    x = _x(input, who)
    if dim is None:
        a = x._data.reshape(-1)
        if a.size == 0:
            return Tensor._from_op(np.asarray(np.nan, dtype=x.dtype), None, 0, False)
        i = _median_idx(a, 0, ignore_nan)[0]
        # gradient shared evenly among elements equal to the median (PyTorch's rule)
        return _MedianAll.apply(x, value=a[i])
    if x.ndim == 0:
        return rt(_copy(x), _zero_index())
    ax = _one_axis(dim, x.ndim, who)
    idx = _median_idx(x._data, ax, ignore_nan)
    return _select(x, idx, ax, builtins.bool(keepdim), rt)


class _MedianAll(Function):
    """z = the median of a (given); the gradient is shared evenly by the elements equal
    to it."""

    def forward(self, a: np.ndarray, value: np.generic) -> np.ndarray:
        self.a, self.v = a, value
        return np.asarray(value, dtype=a.dtype)

    def backward(self, g: np.ndarray) -> np.ndarray:
        mask = (self.a == self.v) if not np.isnan(self.v) else np.isnan(self.a)
        return g * mask / builtins.max(int(mask.sum()), 1)


@overload
def median(input: Tensor) -> Tensor: ...  # noqa: A002
@overload
def median(input: Tensor, dim: int, keepdim: bool = False) -> _ValuesIndices: ...  # noqa: A002
def median(input: Tensor, dim: int | None = None,  # noqa: A002
        keepdim: bool = False) -> Tensor | _ValuesIndices:
    """``median(input)``: the lower median of all elements (NaN if any is NaN);
    ``median(input, dim)``: the named tuple ``(values, indices)`` along ``dim``."""
    return _median(input, dim, keepdim, "median", False, return_types.median)


@overload
def nanmedian(input: Tensor) -> Tensor: ...  # noqa: A002
@overload
def nanmedian(input: Tensor, dim: int, keepdim: bool = False) -> _ValuesIndices: ...  # noqa: A002
def nanmedian(input: Tensor, dim: int | None = None,  # noqa: A002
        keepdim: bool = False) -> Tensor | _ValuesIndices:
    """As :func:`median`, ignoring NaN."""
    return _median(input, dim, keepdim, "nanmedian", True, return_types.nanmedian)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> _ValuesIndices:  # noqa: A002
    """The named tuple ``(values, indices)`` of the most frequent value along ``dim`` (the
    smallest among equally frequent ones) and the index of its last occurrence."""
    x = _x(input, "mode")
    if x.ndim == 0:
        return return_types.mode(_copy(x), _zero_index())
    ax = _one_axis(dim, x.ndim, "mode")
    a = np.moveaxis(x._data, ax, -1)
    n = a.shape[-1]
    # run lengths of equal sorted values: count of each element's value in its row
    eq = a[..., :, None] == a[..., None, :]
    counts = eq.sum(-1)                                     # (..., n)
    best = counts.max(-1, keepdims=True)
    cand = np.where(counts == best, a, np.inf if a.dtype.kind == "f" else
                    np.iinfo(a.dtype).max if a.dtype.kind in "iu" else True)
    val = cand.min(-1, keepdims=True)
    pos = np.where(a == val, np.arange(n), -1).max(-1, keepdims=True)
    idx = np.moveaxis(pos, -1, ax)
    return _select(x, idx, ax, builtins.bool(keepdim), return_types.mode)


# ------------------------------------------------------------------ cumulative
def cumsum(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """Cumulative sum along ``dim`` (integers in int64 unless ``dtype``)."""
    x = _x(input, "cumsum")
    x = _ew.cast(x, _acc_dtype(x, dtype, "cumsum"))
    if x.ndim == 0:
        _wrap(dim, 0, "cumsum")
        return _copy(x)
    return Cumsum.apply(x, axis=_one_axis(dim, x.ndim, "cumsum"))


def cumprod(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """Cumulative product along ``dim`` (integers in int64 unless ``dtype``)."""
    x = _x(input, "cumprod")
    x = _ew.cast(x, _acc_dtype(x, dtype, "cumprod"))
    if x.ndim == 0:
        _wrap(dim, 0, "cumprod")
        return _copy(x)
    return Cumprod.apply(x, axis=_one_axis(dim, x.ndim, "cumprod"))


def _cumext(input: object, dim: int, largest: bool, rt: Callable[..., Any],
            who: str) -> _ValuesIndices:
    x = _x(input, who)
    if x.ndim == 0:
        return rt(_copy(x), _zero_index())
    ax = _one_axis(dim, x.ndim, who)
    a = np.moveaxis(x._data, ax, -1)
    n = a.shape[-1]
    run = (np.maximum if largest else np.minimum).accumulate(a, axis=-1)
    # index of the last position (so far) holding the running extreme
    hit = a == run
    pos = np.where(hit, np.arange(n), -1)
    idx = np.maximum.accumulate(pos, axis=-1)
    idx = np.moveaxis(idx, -1, ax)
    return rt(TakeAlongAny.apply(x, index=idx, axis=ax),
              Tensor._from_op(idx.astype(np.int64), None, 0, False))


class TakeAlongAny(Function):
    """z = a picked along ``axis`` at ``index`` (indices may repeat: the gradient sums)."""

    def forward(self, a: np.ndarray, index: np.ndarray, axis: int = 0) -> np.ndarray:
        self.shape, self.index, self.axis = a.shape, index, axis
        return np.take_along_axis(a, index, axis=axis)

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        ax = self.axis
        idx: list[np.ndarray] = list(np.indices(self.index.shape, sparse=True))
        idx[ax] = self.index
        np.add.at(out, tuple(idx), g)
        return out


def cummax(input: Tensor, dim: int) -> _ValuesIndices:  # noqa: A002
    """The named tuple ``(values, indices)`` of the running maximum along ``dim``."""
    return _cumext(input, dim, True, return_types.cummax, "cummax")


def cummin(input: Tensor, dim: int) -> _ValuesIndices:  # noqa: A002
    """The named tuple ``(values, indices)`` of the running minimum along ``dim``."""
    return _cumext(input, dim, False, return_types.cummin, "cummin")


# ------------------------------------------------------------------ logic
def _bool_reduce(input: object, dim: Dims, keepdim: bool, op: Callable[..., Any], who: str,
                 axis: Dims = None, keepdims: bool | None = None) -> Tensor:
    x = _x(input, who)
    a = x._data
    axes = _axes(_pick(dim, axis, who), a.ndim, who)
    out = np.asarray(op(a != 0 if a.dtype != np.bool_ else a, axis=axes,
                        keepdims=_keep(keepdim, keepdims)))
    if a.dtype == np.uint8:       # PyTorch keeps uint8 for all/any on uint8
        out = out.astype(np.uint8)
    return Tensor._from_op(out, None, 0, False)


def all(input: Tensor, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,  # noqa: A001,A002
        keepdims: bool | None = None) -> Tensor:
    """True where every element (along ``dim``) is nonzero; a bool tensor."""
    return _bool_reduce(input, dim, keepdim, np.all, "all", axis, keepdims)


def any(input: Tensor, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,  # noqa: A001,A002
        keepdims: bool | None = None) -> Tensor:
    """True where some element (along ``dim``) is nonzero; a bool tensor."""
    return _bool_reduce(input, dim, keepdim, np.any, "any", axis, keepdims)


def count_nonzero(input: Tensor, dim: Dims = None) -> Tensor:  # noqa: A002
    """The number of nonzero elements (along ``dim``), int64."""
    x = _x(input, "count_nonzero")
    axes = _axes(dim, x.ndim, "count_nonzero")
    return Tensor._from_op(np.asarray(np.count_nonzero(x._data, axis=axes), dtype=np.int64),
                           None, 0, False)


# ------------------------------------------------------------------ Tensor methods
def _softmax_dim(x: Tensor, dim: int | None, who: str) -> int:
    if dim is None:     # PyTorch's legacy implicit choice (with a warning there)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return _one_axis(dim, x.ndim, who) if x.ndim else -1


def softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """e^x / sum e^x along ``dim`` (``torch.softmax`` / ``Tensor.softmax``), computed in
    ``dtype`` when given; integer input in the default dtype."""
    from .activations import softmax as _s  # noqa: PLC0415  (activations loads later)
    x = _x(input, "softmax")
    x = x if dtype is None else _ew.cast(x, _ew._resolve_dtype(dtype, "softmax"))
    x = _ew._floating(x)
    return _s(x, _softmax_dim(x, dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably."""
    from .activations import log_softmax as _s  # noqa: PLC0415
    x = _x(input, "log_softmax")
    x = x if dtype is None else _ew.cast(x, _ew._resolve_dtype(dtype, "log_softmax"))
    x = _ew._floating(x)
    return _s(x, _softmax_dim(x, dim, "log_softmax"))


def install() -> None:
    """Set the reduction methods on Tensor."""
    T = Tensor
    for name in ("sum", "mean", "nansum", "nanmean", "prod", "std", "var", "norm",
                 "logsumexp", "amax", "amin", "aminmax", "argmax", "argmin", "topk", "sort",
                 "argsort", "msort", "median", "nanmedian", "mode", "kthvalue", "cumsum",
                 "cumprod", "cummax", "cummin", "all", "any", "count_nonzero", "maximum",
                 "minimum", "fmax", "fmin"):
        setattr(T, name, globals()[name])

    def _max(self: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
             axis: int | None = None, keepdims: bool | None = None) -> Tensor | _ValuesIndices:
        return _max_min(self, dim, keepdim, None, True, "max", axis, keepdims)

    def _min(self: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
             axis: int | None = None, keepdims: bool | None = None) -> Tensor | _ValuesIndices:
        return _max_min(self, dim, keepdim, None, False, "min", axis, keepdims)
    _max.__doc__, _min.__doc__ = max.__doc__, min.__doc__
    setattr(T, "max", _max)
    setattr(T, "min", _min)
    setattr(T, "softmax", softmax)
    setattr(T, "log_softmax", log_softmax)
