"""Indexing with PyTorch's meaning: ``x[...]``, masked_fill, where, gather, scatter,
scatter_add, index_select, take_along_dim, masked_select, nonzero, tril / triu, diag,
diagonal. The differentiable ones are Functions on raw arrays.

>>> x = gn.arange(6.0).reshape(2, 3)
>>> x[:, [0, 2]].tolist(), x.gather(1, gn.tensor([[2], [0]])).tolist()
([[0.0, 2.0], [3.0, 5.0]], [[2.0], [3.0]])
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function, unbroadcast
from ..autograd.factories import as_tensor
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype
from ..errors import ArgumentError, ArgumentTypeError
from .math import Cast
from .shape import DimensionError, Expand, Slice, _dim

from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike, TensorLike


__all__ = [
    "getitem", "masked_fill", "where", "gather", "scatter", "scatter_add", "index_select",
    "take_along_dim", "masked_select", "nonzero", "tril", "triu", "diag", "diagonal",
]


# ------------------------------------------------------------------ Functions
class Index(Function):
    """z = a[index] with advanced (array / mask) parts; the gradient is scattered back,
    summed where an index repeats."""

    def forward(self, a: np.ndarray, index: Any = None) -> np.ndarray:
        self.shape, self.index = a.shape, index
        return a[index]

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(out, self.index, g)
        return out


class MaskedFill(Function):
    """z = value where mask else a; dz/da = 1 off the mask, dz/dvalue = sum over the mask."""

    def forward(self, a: np.ndarray, value: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.mask, self.sv = mask, np.shape(value)
        return np.where(mask, np.asarray(value, dtype=a.dtype), a)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = np.where(self.mask, 0, g) if self.needs_input_grad[0] else None
        gv = None
        if self.needs_input_grad[1]:
            gv = np.asarray(np.where(self.mask, g, 0).sum()).reshape(self.sv)
        return ga, gv


class Where(Function):
    """z = x where cond else y (broadcast); the gradient flows to the chosen side."""

    def forward(self, x: np.ndarray, y: np.ndarray, cond: np.ndarray,
                dtype: DTypeLike = None) -> np.ndarray:
        self.cond, self.sx, self.sy = cond, np.shape(x), np.shape(y)
        return np.where(cond, x, y).astype(dtype, copy=False)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        gx = unbroadcast(np.where(self.cond, g, 0), self.sx) if self.needs_input_grad[0] \
            else None
        gy = unbroadcast(np.where(self.cond, 0, g), self.sy) if self.needs_input_grad[1] \
            else None
        return gx, gy


def _grid(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """Index tuple addressing, for each entry of ``index``, its position with axis ``dim``
    replaced by the entry's value (the addressing gather and scatter share)."""
    nd = index.ndim
    idx = []
    for d in range(nd):
        if d == dim:
            idx.append(index)
        else:
            idx.append(np.arange(index.shape[d]).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1)))
    return tuple(idx)


class Gather(Function):
    """z[i][j] = a[i][index[i][j]] (for dim 1); the gradient is added back at the index."""

    def forward(self, a: np.ndarray, index: np.ndarray, dim: int = 0) -> np.ndarray:
        self.shape, self.idx = a.shape, _grid(index, dim)
        return a[self.idx]

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(out, self.idx, g)
        return out


class Scatter(Function):
    """z = a with src's entries written at index along dim (``add``: added there).

    dz/da = 1 except where overwritten (plain scatter); dz/dsrc = g read at the index."""

    def forward(self, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int = 0,
                add: bool = False) -> np.ndarray:
        self.idx, self.add, self.ss = _grid(index, dim), add, np.shape(src)
        out = a.copy()
        if np.ndim(src) == 0:
            vals = np.broadcast_to(np.asarray(src, dtype=a.dtype), index.shape)
        else:
            vals = src[tuple(slice(0, n) for n in index.shape)]
        if add:
            np.add.at(out, self.idx, vals)
        else:
            out[self.idx] = vals
        return out

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = gs = None
        if self.needs_input_grad[0]:
            if self.add:
                ga = g
            else:
                ga = g.copy()
                ga[self.idx] = 0
        if self.needs_input_grad[1]:
            part = g[self.idx]
            if len(self.ss) == 0:
                gs = np.asarray(part.sum())
            else:
                gs = np.zeros(self.ss, dtype=g.dtype)
                gs[tuple(slice(0, n) for n in part.shape)] = part
        return ga, gs


class IndexSelect(Function):
    """z = a's entries ``index`` along ``dim``; the gradient is added back (repeats sum)."""

    def forward(self, a: np.ndarray, index: np.ndarray, dim: int = 0) -> np.ndarray:
        self.shape, self.index, self.dim = a.shape, index, dim
        return np.take(a, index, axis=dim)

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(np.moveaxis(out, self.dim, 0), self.index, np.moveaxis(g, self.dim, 0))
        return out


class TriangleFn(Function):
    """z = the lower (tril) or upper (triu) triangle of the last two axes; same for dz/da."""

    def forward(self, a: np.ndarray, k: int = 0, upper: bool = False) -> np.ndarray:
        self.k, self.f = k, np.triu if upper else np.tril
        return self.f(a, k)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return self.f(g, self.k)


class Diagonal(Function):
    """z = the diagonal ``offset`` of axes dim1, dim2 (moved last); the gradient is written
    back onto that diagonal."""

    def forward(self, a: np.ndarray, offset: int = 0, dim1: int = 0, dim2: int = 1) -> np.ndarray:
        self.shape, self.offset, self.d = a.shape, offset, (dim1, dim2)
        return np.diagonal(a, offset, dim1, dim2).copy()

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        n = g.shape[-1]
        i = np.arange(n)
        view = np.moveaxis(out, self.d, (-2, -1))
        view[..., i + max(-self.offset, 0), i + max(self.offset, 0)] = g
        return out


class DiagEmbed(Function):
    """z = the square matrix with vector a on diagonal k; dz/da reads that diagonal."""

    def forward(self, a: np.ndarray, k: int = 0) -> np.ndarray:
        self.k = k
        return np.diag(a, k)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.diagonal(g, self.k).copy()


# ------------------------------------------------------------------ indexing
def _is_basic(index: tuple[Any, ...]) -> bool:
    return all(i is None or i is Ellipsis or isinstance(i, slice)
               or (isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)))
               for i in index)


def _convert(i: object) -> object:
    if isinstance(i, Tensor):
        a = i._data
        if a.dtype.kind == "f":
            raise ArgumentError("getitem: tensors used as indices must be long, int, byte or "
                                f"bool tensors, got {a.dtype}")
        if a.ndim == 0 and a.dtype.kind in "iu":
            return int(a)
        return a
    if isinstance(i, list):
        a = np.asarray([x._data if isinstance(x, Tensor) else x for x in i])
        if a.dtype.kind == "f":
            raise ArgumentError(f"getitem: index lists must hold ints or bools, got {i!r}")
        return a
    if isinstance(i, float):
        raise ArgumentTypeError(f"getitem: only integers, slices, None, Ellipsis and "
                                f"integer or bool tensors are valid indices, got {i!r}")
    return i


_BASIC = (int, slice, type(None), type(Ellipsis))


def getitem(input: Tensor, index: Any) -> Tensor:
    """``input[index]`` with torch's meaning: ints, slices, None, Ellipsis, bool masks and
    integer tensors / lists (advanced indexing, the gradient summed over repeats)."""
    if type(index) is not tuple:
        index = (index,)
    if all(type(i) in _BASIC for i in index):      # the common case, without conversion
        try:
            return Slice.apply(input, index=index)
        except IndexError as e:
            raise DimensionError(f"getitem: {e}") from None
    index = tuple(_convert(i) for i in index)
    if _is_basic(index):
        try:
            return Slice.apply(input, index=index)
        except IndexError as e:
            raise DimensionError(f"getitem: {e}") from None
    try:
        return Index.apply(input, index=index)
    except IndexError as e:
        raise DimensionError(f"getitem: {e}") from None


# --------------------------------------------------------------- masked fill
def _mask(mask: TensorLike, who: str) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise ArgumentTypeError(f"{who}: expected a bool mask, got dtype {m.dtype}")
    return m


def masked_fill(input: Tensor, mask: Tensor, value: Tensor | float) -> Tensor:
    """``input`` with ``value`` wherever ``mask`` (bool, broadcast to input) is True, as
    ``Tensor.masked_fill``; ``value`` is a number or a 0-d tensor (which gets a gradient).

    >>> gn.zeros(2, 2).masked_fill(gn.tensor([[True, False], [False, True]]), 1.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    m = _mask(mask, "masked_fill")
    try:
        shape = np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        shape = None
    if shape != input._data.shape:
        raise ArgumentError(f"masked_fill: the mask of shape {list(m.shape)} must broadcast "
                            f"to the input's shape {list(input._data.shape)}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise ArgumentError(f"masked_fill: only supports a 0-dimensional value tensor, "
                                f"but got one with {value._data.ndim} dimension(s)")
        if input._data.dtype.kind in "iub" and value._data.dtype.kind == "f":
            raise ArgumentTypeError("masked_fill: a float value cannot fill an integer tensor")
        if value._data.dtype != input._data.dtype:
            value = Cast.apply(value, dtype=input._data.dtype)
        return MaskedFill.apply(input, value, mask=m)
    return MaskedFill.apply(input, np.asarray(value).astype(input._data.dtype), mask=m)


def _scalar_dtype(v: object) -> tuple[int, np.dtype[Any]]:
    if isinstance(v, bool):
        return 0, np.dtype(bool)
    if isinstance(v, int):
        return 1, np.dtype(np.int64)
    if isinstance(v, float):
        return 2, get_default_dtype()
    return 3, np.dtype(np.complex64)


_KIND = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _promote(x: TensorLike, y: TensorLike) -> np.dtype[Any]:
    """torch's result dtype for two operands: across categories (bool < int < float) the
    higher category's dtype wins (int64 with float32 is float32); a Python scalar counts
    only when its category is higher than every tensor's (a float with an int tensor gives
    the default float dtype)."""
    tx = [v._data.dtype for v in (x, y) if isinstance(v, Tensor)]
    sx = [_scalar_dtype(v) for v in (x, y) if not isinstance(v, Tensor)]
    if len(tx) == 2:
        a, b = tx
        ka, kb = _KIND[a.kind], _KIND[b.kind]
        tdt = np.result_type(a, b) if ka == kb else (a if ka > kb else b)
    elif tx:
        tdt = tx[0]
    else:
        rank = max(r for r, _ in sx)
        return [d for r, d in sx if r == rank][0]
    for rank, sdt in sx:
        if rank > _KIND[tdt.kind]:
            tdt = sdt
    return tdt


@overload
def where(condition: TensorLike) -> tuple[Tensor, ...]: ...
@overload
def where(condition: TensorLike, input: TensorLike, other: TensorLike) -> Tensor: ...
def where(condition: TensorLike, input: TensorLike | None = None,
          other: TensorLike | None = None) -> Tensor | tuple[Tensor, ...]:
    """``input`` where ``condition`` else ``other``, broadcast together, as ``torch.where``;
    either side may be a Python number. ``where(condition)`` is
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise ArgumentTypeError("where: give condition, input and other (or only condition)")
    c = _mask(condition, "where")
    dt = _promote(input, other)
    x = input if isinstance(input, Tensor) else np.asarray(input, dtype=dt)
    y = other if isinstance(other, Tensor) else np.asarray(other, dtype=dt)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        x = Tensor(x)
    return Where.apply(x, y, cond=c, dtype=dt)


def _method_where(self: Tensor, condition: TensorLike, other: TensorLike) -> Tensor:
    return where(condition, self, other)


# ------------------------------------------------------------ gather/scatter
def _index(index: TensorLike, who: str) -> np.ndarray:
    a = index._data if isinstance(index, Tensor) else np.asarray(index)
    if a.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{who}: expected an int64 index tensor, got dtype {a.dtype}")
    return a


def _check_index(a: np.ndarray, idx: np.ndarray, dim: int, who: str,
                 src: np.ndarray | None = None) -> None:
    if idx.ndim != a.ndim and not (idx.ndim <= 1 and a.ndim <= 1):
        raise ArgumentError(f"{who}: index tensor must have the same number of dimensions "
                            f"as the input tensor ({a.ndim}), got {idx.ndim}")
    for d in range(idx.ndim):
        if d != dim and idx.shape[d] > a.shape[d]:
            raise ArgumentError(f"{who}: size of index {list(idx.shape)} must not exceed the "
                                f"input's {list(a.shape)} at dimension {d}")
        if src is not None and idx.shape[d] > src.shape[d]:
            raise ArgumentError(f"{who}: size of index {list(idx.shape)} must not exceed the "
                                f"src's {list(src.shape)} at dimension {d}")
    n = a.shape[dim] if a.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise DimensionError(f"{who}: index {int(idx.max())} is out of bounds for dimension "
                             f"{dim} with size {n}")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` (for dim 1), as ``torch.gather``; the
    index may be smaller than the input in the other axes."""
    idx = _index(index, "gather")
    a = input._data
    d = _dim(dim, a.ndim, "gather")
    _check_index(a, idx, d, "gather")
    if a.ndim == 0:
        return Gather.apply(input.reshape(1), index=idx.reshape(1), dim=0).reshape(idx.shape)
    return Gather.apply(input, index=idx, dim=d)


def _scatter(input: Tensor, dim: int, index: TensorLike, src: TensorLike | None,
             value: TensorLike | None, who: str, add: bool) -> Tensor:
    idx = _index(index, who)
    a = input._data
    d = _dim(dim, a.ndim, who)
    if src is None:
        if value is None:
            raise ArgumentTypeError(f"{who}: give src (a tensor) or value (a number)")
        src = np.asarray(value, dtype=a.dtype)
        _check_index(a, idx, d, who)
    else:
        if not isinstance(src, Tensor):
            if np.ndim(src) == 0:
                src = np.asarray(src, dtype=a.dtype)
            else:
                src = as_tensor(src)
        if isinstance(src, Tensor):
            if src._data.dtype != a.dtype:
                raise ArgumentTypeError(f"{who}: expected self.dtype to be equal to "
                                        f"src.dtype ({a.dtype} vs {src._data.dtype})")
            _check_index(a, idx, d, who, src._data)
        else:
            _check_index(a, idx, d, who)
    return Scatter.apply(input, src, index=idx, dim=d, add=add)


def scatter(input: Tensor, dim: int, index: Tensor, src: TensorLike | None = None,
            value: float | None = None, *, reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src``'s entries (or ``value``) written where ``index``
    points along ``dim``, as ``torch.scatter`` (repeated indices: one of them wins)."""
    if reduce is not None:
        if reduce != "add":
            raise ArgumentError(f"scatter: reduce={reduce!r} is not supported (only 'add')")
        return _scatter(input, dim, index, src, value, "scatter", True)
    if src is not None and not isinstance(src, Tensor) and np.ndim(src) == 0:
        return _scatter(input, dim, index, None, src, "scatter", False)
    return _scatter(input, dim, index, src, value, "scatter", False)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: TensorLike) -> Tensor:
    """A copy of ``input`` with ``src``'s entries added where ``index`` points along
    ``dim`` (repeats add up), as ``torch.scatter_add``."""
    return _scatter(input, dim, index, src, None, "scatter_add", True)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries ``index`` (a 1-D integer tensor) along ``dim``, as torch."""
    idx = _index(index, "index_select")
    if idx.ndim > 1:
        raise ArgumentError(f"index_select: index must be 0-D or 1-D, got {idx.ndim}-D")
    a = input._data
    d = _dim(dim, a.ndim, "index_select")
    n = a.shape[d] if a.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise DimensionError(f"index_select: index out of range for dimension {d} of size {n}")
    idx = idx.reshape(-1)
    if a.ndim == 0:
        return IndexSelect.apply(input.reshape(1), index=idx, dim=0).reshape(idx.shape[:0]
                                                                              or ())
    return IndexSelect.apply(input, index=idx, dim=d)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``input`` read at ``indices`` along ``dim`` (broadcasting the other axes), as
    ``torch.take_along_dim``; without ``dim`` both are flattened first."""
    idx = _index(indices, "take_along_dim")
    if dim is None:
        return gather(input.reshape(-1), 0, Tensor(idx.reshape(-1)))
    a = input._data
    d = _dim(dim, a.ndim, "take_along_dim")
    if idx.ndim != a.ndim:
        raise ArgumentError("take_along_dim: input and indices should have the same number "
                            "of dimensions")
    sa = list(a.shape)
    si = list(idx.shape)
    sa[d] = si[d] = 1
    b = list(np.broadcast_shapes(tuple(sa), tuple(si)))
    ta, ti = b.copy(), b.copy()
    ta[d], ti[d] = a.shape[d], idx.shape[d]
    x = input if tuple(ta) == a.shape else Expand.apply(input, shape=tuple(ta))
    return gather(x, d, Tensor(np.broadcast_to(idx, tuple(ti))))


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries where ``mask`` (broadcast with input) is True, as a 1-D tensor."""
    m = _mask(mask, "masked_select")
    shape = np.broadcast_shapes(m.shape, input._data.shape)
    x = input if shape == input._data.shape else Expand.apply(input, shape=shape)
    return Index.apply(x, index=(np.broadcast_to(m, shape),))


@overload
def nonzero(input: TensorLike, *, as_tuple: Literal[False] = False) -> Tensor: ...
@overload
def nonzero(input: TensorLike, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
@overload
def nonzero(input: TensorLike, *, as_tuple: bool) -> Tensor | tuple[Tensor, ...]: ...
def nonzero(input: TensorLike, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one 1-D int64 tensor per axis, as ``torch.nonzero``."""
    a = input._data if isinstance(input, Tensor) else np.asarray(input)
    if as_tuple:
        if a.ndim == 0:
            return (Tensor(np.flatnonzero(a.reshape(1)).astype(np.int64)),)
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(a))
    if a.ndim == 0:
        return Tensor(np.zeros((int(bool(a)), 0), dtype=np.int64))
    return Tensor(np.argwhere(a).astype(np.int64))


# ------------------------------------------------------------ triangles, diag
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes (entries j <= i + diagonal), as torch."""
    if input._data.ndim < 2:
        raise ArgumentError("tril: input tensor must have at least 2 dimensions")
    return TriangleFn.apply(input, k=int(diagonal), upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes (entries j >= i + diagonal), as torch."""
    if input._data.ndim < 2:
        raise ArgumentError("triu: input tensor must have at least 2 dimensions")
    return TriangleFn.apply(input, k=int(diagonal), upper=True)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: the square matrix with it on diagonal ``diagonal``; 2-D input: that
    diagonal as a 1-D tensor, as ``torch.diag``."""
    n = input._data.ndim
    if n == 1:
        return DiagEmbed.apply(input, k=int(diagonal))
    if n == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise ArgumentError(f"diag: expected a 1-D or 2-D tensor, got {n}-D")


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` of axes ``dim1``, ``dim2``, appended as the last axis, as
    ``torch.diagonal``."""
    n = input._data.ndim
    d1, d2 = _dim(dim1, n, "diagonal"), _dim(dim2, n, "diagonal")
    if d1 == d2:
        raise ArgumentError(f"diagonal: dim1 and dim2 cannot be the same ({dim1}, {dim2})")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def _install() -> None:
    T = Tensor
    setattr(T, "__getitem__", getitem)
    setattr(T, "masked_fill", masked_fill)
    setattr(T, "where", _method_where)
    setattr(T, "gather", gather)
    setattr(T, "scatter", scatter)
    setattr(T, "scatter_add", scatter_add)
    setattr(T, "index_select", index_select)
    setattr(T, "take_along_dim", take_along_dim)
    setattr(T, "masked_select", masked_select)
    setattr(T, "nonzero", nonzero)
    setattr(T, "tril", tril)
    setattr(T, "triu", triu)
    setattr(T, "diag", diag)
    setattr(T, "diagonal", diagonal)


_install()
