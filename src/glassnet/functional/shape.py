"""Shape operations with PyTorch's names, arguments and defaults.

Every op here is a :class:`~glassnet.autograd.Function` on raw arrays (or a composition of
them): view / reshape / flatten / unflatten / squeeze / unsqueeze, transpose / permute /
t / mT / movedim, expand / repeat, chunk / split / unbind / narrow, flip / roll, cat /
stack, clone, and matmul / mm / bmm / einsum. They are installed as Tensor methods too.

``dim`` arguments follow torch: negative values count from the end, and a dim outside the
tensor raises :class:`DimensionError` (an ``IndexError``, as torch raises).

>>> x = gn.arange(6.0).reshape(2, 3)
>>> x.transpose(0, 1).shape, x.flatten().shape, x.size(0)
((3, 2), (6,), 2)
"""
from __future__ import annotations

import builtins
import math as _math
import string

import numpy as np

from ..autograd.function import Function, unbroadcast
from ..autograd.factories import as_tensor
from ..autograd.tensor import Size, Tensor
from ..errors import ArgumentError, ArgumentTypeError

from typing import TYPE_CHECKING, Any, cast, overload

if TYPE_CHECKING:  # annotations only
    from collections.abc import Iterable, Sequence

    from glassnet._typing import Dims, TensorLike


__all__ = [
    "Size", "DimensionError", "reshape", "view", "flatten", "unflatten", "squeeze",
    "unsqueeze", "transpose", "swapaxes", "swapdims", "permute", "movedim", "moveaxis", "t",
    "expand", "repeat", "chunk", "split", "unbind", "narrow", "flip", "roll", "cat", "concat",
    "concatenate", "stack", "hstack", "vstack", "clone", "matmul", "mm", "bmm", "einsum",
]


class DimensionError(ArgumentError, IndexError):
    """A ``dim`` outside the tensor's dimensions (an IndexError, as in torch)."""


# ------------------------------------------------------------------ helpers
def _ints(args: Sequence[object], who: str, name: str = "shape") -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` / ``f([2, 3])`` / ``f(Size)`` as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = int(a)
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ArgumentTypeError(f"{who}: {name} must be ints, got {type(a).__name__} "
                                    f"({a!r})")
        out.append(int(a))
    return tuple(out)


def _dim(dim: object, ndim: int, who: str, extra: int = 0) -> int:
    """``dim`` wrapped into range(ndim + extra); a 0-d tensor accepts 0 and -1."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise ArgumentTypeError(f"{who}: dim must be an int, got {type(dim).__name__}")
    n = builtins.max(ndim + extra, 1)
    if not -n <= dim < n:
        raise DimensionError(f"{who}: dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


def _dims(dims: int | Iterable[object], ndim: int, who: str) -> tuple[int, ...]:
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(_dim(d, ndim, who) for d in dims)
    if len(set(out)) != len(out):
        raise ArgumentError(f"{who}: dim {list(dims)} appears multiple times in the list of "
                            f"dims")
    return out


@overload
def _pick_dim(dim: int | None, axis: int | None, default: int = 0) -> int: ...
@overload
def _pick_dim(dim: int | None, axis: int | None, default: None) -> int | None: ...
@overload
def _pick_dim(dim: Dims, axis: Dims, default: None) -> Dims: ...
def _pick_dim(dim: Dims, axis: Dims, default: int | None = 0) -> Dims:
    if axis is not None:
        if dim is not None and dim != axis:
            raise ArgumentError("give dim or its alias axis, not both")
        return axis
    return default if dim is None else dim


# ------------------------------------------------------------------ Functions
class View(Function):
    """z = a with another shape (same elements in the same order); dz/da reshapes back."""

    def forward(self, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g.reshape(self.shape)


class Permute(Function):
    """z = a with its axes reordered by ``dims``; the gradient is permuted back."""

    def forward(self, a: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        self.dims = dims
        return np.transpose(a, dims)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.transpose(g, np.argsort(self.dims))


class Expand(Function):
    """z = a broadcast to ``shape`` (a view); the gradient is summed over the new axes."""

    def forward(self, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g: np.ndarray) -> np.ndarray:
        return unbroadcast(g, self.shape)


class Repeat(Function):
    """z = a tiled ``reps`` times per axis (torch's repeat); the gradient sums the tiles."""

    def forward(self, a: np.ndarray, reps: tuple[int, ...]) -> np.ndarray:
        self.shape = (1,) * (len(reps) - a.ndim) + a.shape
        self.reps = reps
        return np.tile(a.reshape(self.shape), reps)

    def backward(self, g: np.ndarray) -> np.ndarray:
        inter = []
        for r, s in zip(self.reps, self.shape):
            inter += [r, s]
        g = g.reshape(inter).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return g


class Split(Function):
    """Pieces of a along ``dim`` at ``bounds``; the gradients are joined back."""

    def forward(self, a: np.ndarray, dim: int = 0, bounds: Sequence[tuple[int, int]] = (),
                squeeze: bool = False) -> tuple[np.ndarray, ...]:
        self.dim, self.squeeze = dim, squeeze
        self.shape, self.dt = a.shape, a.dtype
        head = (slice(None),) * dim
        if squeeze:
            return tuple(a[head + (i,)] for i in range(a.shape[dim]))
        return tuple(a[head + (slice(lo, hi),)] for lo, hi in bounds)

    def backward(self, *gs: np.ndarray) -> np.ndarray:
        if self.squeeze:
            return np.stack(gs, axis=self.dim)
        if len(gs) == 0:
            return np.zeros(self.shape, self.dt)
        return np.concatenate(gs, axis=self.dim)


class Slice(Function):
    """z = a[index] for a basic index (ints, slices, None, Ellipsis): a view; the gradient
    is written into zeros at the same place."""

    def forward(self, a: np.ndarray, index: Any = None) -> np.ndarray:
        self.shape, self.index = a.shape, index
        return a[index]

    def backward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape, dtype=g.dtype)
        out[self.index] = g
        return out


class Flip(Function):
    """z = a reversed along ``dims``; the gradient is reversed back."""

    def forward(self, a: np.ndarray, dims: tuple[int, ...] = ()) -> np.ndarray:
        self.dims = dims
        return np.flip(a, dims).copy()

    def backward(self, g: np.ndarray) -> np.ndarray:
        return np.flip(g, self.dims)


class Roll(Function):
    """z = a rolled by ``shifts`` along ``dims`` (None: flattened); rolled back for dz/da."""

    def forward(self, a: np.ndarray, shifts: int | tuple[int, ...] = 0,
                dims: tuple[int, ...] | None = None) -> np.ndarray:
        self.shifts, self.dims = shifts, dims
        return np.roll(a, shifts, dims)

    def backward(self, g: np.ndarray) -> np.ndarray:
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return np.roll(g, neg, self.dims)


class Cat(Function):
    """z = inputs joined along ``dim``; the gradient is cut back into the pieces."""

    def forward(self, *arrays: np.ndarray, dim: int = 0,
                dtype: np.dtype[Any] | None = None) -> np.ndarray:
        self.dim = dim
        self.sizes = [a.shape[dim] for a in arrays]
        self.dts = [a.dtype for a in arrays]
        return np.concatenate(arrays, axis=dim, dtype=dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        idx = np.cumsum(self.sizes)[:-1]
        parts = np.split(g, idx, axis=self.dim)
        return tuple(p.astype(d, copy=False) if need else None
                     for p, d, need in zip(parts, self.dts, self.needs_input_grad))


class StackFn(Function):
    """z = inputs stacked along a new axis ``dim``; the gradient is unstacked."""

    def forward(self, *arrays: np.ndarray, dim: int = 0,
                dtype: np.dtype[Any] | None = None) -> np.ndarray:
        self.dim = dim
        self.dts = [a.dtype for a in arrays]
        return np.stack(arrays, axis=dim, dtype=dtype)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return tuple(np.take(g, i, axis=self.dim).astype(d, copy=False) if need else None
                     for i, (d, need) in enumerate(zip(self.dts, self.needs_input_grad)))


class Clone(Function):
    """z = a copy of a (stays in the graph); dz/da = 1."""

    def forward(self, a: np.ndarray) -> np.ndarray:
        return a.copy()

    def backward(self, g: np.ndarray) -> np.ndarray:
        return g


class MatMul(Function):
    """Z = A @ B with torch.matmul's rules: a 1-D operand is a row (left) or column (right)
    vector whose added axis is dropped again; leading batch axes broadcast.

    dA = G B^T, dB = A^T G, on the 2-D forms, summed over broadcast batch axes."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.sa, self.sb = a.shape, b.shape
        self.a2 = a[None, :] if a.ndim == 1 else a
        self.b2 = b[:, None] if b.ndim == 1 else b
        out = self.a2 @ self.b2
        self.s2 = out.shape
        if a.ndim == 1:
            out = out[..., 0, :]
        if b.ndim == 1:
            out = out[..., 0]
        return out

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        g = g.reshape(self.s2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g @ np.swapaxes(self.b2, -1, -2), self.a2.shape).reshape(self.sa)
        if self.needs_input_grad[1]:
            gb = unbroadcast(np.swapaxes(self.a2, -1, -2) @ g, self.b2.shape).reshape(self.sb)
        return ga, gb


def _einsum_parse(eq: str, shapes: Sequence[Sequence[int]]) -> tuple[list[str], str]:
    """Operand subscripts and output subscripts of ``eq``, ellipses spelled out as letters."""
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ArgumentError(f"einsum: the equation names {len(ins)} operands, "
                            f"{len(shapes)} were given")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            n_ell = builtins.max(n_ell, len(shp) - (len(s) - 3))
    ell = "".join(free[:n_ell])
    subs = []
    for s, shp in zip(ins, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != len(shp):
            raise ArgumentError(f"einsum: subscripts {s!r} do not match an operand with "
                                f"{len(shp)} dimensions")
        subs.append(s)
    if out is None:
        counts: dict[str, int] = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return subs, out


class Einsum(Function):
    """z = einsum(eq, *ops). The gradient of operand i is the einsum of the output gradient
    with the other operands onto operand i's subscripts; letters only operand i has are
    broadcast back, and repeated letters (a diagonal) are written onto the diagonal."""

    def forward(self, *ops: np.ndarray, eq: str = "") -> np.ndarray:
        self.ops = ops
        self.subs, self.out = _einsum_parse(eq, [o.shape for o in ops])
        return np.asarray(np.einsum(",".join(self.subs) + "->" + self.out, *ops,
                                    optimize=len(ops) > 2))

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        grads: list[np.ndarray | None] = []
        sizes = {}
        for s, o in zip(self.subs, self.ops):
            for c, n in zip(s, o.shape):
                sizes[c] = n
        for i, (s, o) in enumerate(zip(self.subs, self.ops)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(ss, oo) for j, (ss, oo) in enumerate(zip(self.subs, self.ops)) if j != i]
            avail = set(self.out).union(*[set(ss) for ss, _ in others])
            uniq = "".join(dict.fromkeys(s))
            present = "".join(c for c in uniq if c in avail)
            eq = ",".join([self.out] + [ss for ss, _ in others]) + "->" + present
            r = np.einsum(eq, g, *[oo for _, oo in others], optimize=len(others) > 1)
            # letters only this operand has: the output does not depend on them
            shape_u = tuple(sizes[c] for c in uniq)
            r = r.reshape(tuple(sizes[c] if c in avail else 1 for c in uniq))
            r = np.broadcast_to(r, shape_u)
            if len(uniq) == len(s):
                grads.append(np.ascontiguousarray(r).astype(o.dtype, copy=False))
                continue
            full = np.zeros(o.shape, dtype=o.dtype)
            k = len(uniq)
            idx = tuple(np.arange(sizes[c]).reshape((1,) * uniq.index(c) + (-1,)
                                                    + (1,) * (k - 1 - uniq.index(c)))
                        for c in s)
            full[idx] = r
            grads.append(full)
        return tuple(grads)


# ------------------------------------------------------------- reshaping
def _infer(shape: tuple[int, ...], numel: int, who: str) -> tuple[int, ...]:
    if builtins.sum(1 for s in shape if s == -1) > 1:
        raise ArgumentError(f"{who}: only one dimension can be inferred (-1), got "
                            f"{list(shape)}")
    if any(s < -1 for s in shape):
        raise ArgumentError(f"{who}: invalid shape dimension in {list(shape)}")
    known = _math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise ArgumentError(f"{who}: shape {list(shape)} is invalid for input of size "
                                f"{numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise ArgumentError(f"{who}: shape {list(shape)} is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """``input`` with shape ``shape`` (ints or one tuple; one entry may be -1), as
    ``torch.reshape`` / ``Tensor.reshape`` / ``Tensor.view``.

    >>> gn.arange(6).reshape(-1, 2).shape
    (3, 2)
    """
    shape = _infer(_ints(shape, "reshape"), input._data.size, "reshape")
    if shape == input._data.shape:
        return input
    return View.apply(input, shape=shape)


def view(input: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """``Tensor.view(*shape)``: the same as :func:`reshape` here (NumPy reshapes without
    copying whenever torch could view); ``view(dtype)`` is not supported."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer, Tensor)):
        raise ArgumentTypeError(f"view: reinterpreting the bytes as another dtype "
                                f"({shape[0]!r}) is not supported; use .to(dtype)")
    return reshape(input, *shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim`` .. ``end_dim`` (default: all) into one, as
    ``torch.flatten``. A 0-d tensor becomes 1-D.

    >>> gn.zeros(2, 3, 4).flatten().shape, gn.zeros(2, 3, 4).flatten(1).shape
    ((24,), (2, 12))
    """
    shape = input._data.shape
    if not shape:
        _dim(start_dim, 0, "flatten"), _dim(end_dim, 0, "flatten")
        return View.apply(input, shape=(1,))
    s = _dim(start_dim, len(shape), "flatten")
    e = _dim(end_dim, len(shape), "flatten")
    if s > e:
        raise ArgumentError("flatten: start_dim cannot come after end_dim")
    if s == e:
        return input
    new = shape[:s] + (_math.prod(shape[s:e + 1]),) + shape[e + 1:]
    return View.apply(input, shape=new)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split axis ``dim`` into ``sizes`` (one entry may be -1), as ``torch.unflatten``.

    >>> gn.zeros(2, 12).unflatten(1, (3, -1)).shape
    (2, 3, 4)
    """
    shape = input._data.shape
    d = _dim(dim, len(shape), "unflatten")
    sizes = _ints((sizes,), "unflatten", "sizes")
    if not sizes:
        raise ArgumentError("unflatten: sizes must be non-empty")
    sizes = _infer(sizes, shape[d], "unflatten")
    return View.apply(input, shape=shape[:d] + sizes + shape[d + 1:])


def squeeze(input: Tensor, dim: Dims = None, axis: Dims = None) -> Tensor:
    """Drop axes of length 1: all of them (``dim=None``), or those among ``dim`` (an int or
    a tuple); naming an axis whose length is not 1 leaves it, as torch does.

    >>> gn.zeros(2, 1, 3).squeeze().shape, gn.zeros(2, 1, 3).squeeze(0).shape
    ((2, 3), (2, 1, 3))
    """
    dim = _pick_dim(dim, axis, None)
    shape = input._data.shape
    if dim is None:
        dims: Sequence[int] = range(len(shape))
    else:
        dims = _dims(dim, len(shape), "squeeze")
    drop = {d for d in dims if d < len(shape) and shape[d] == 1}
    if not drop:
        return input
    return View.apply(input, shape=tuple(n for i, n in enumerate(shape) if i not in drop))


def unsqueeze(input: Tensor, dim: int | None = None, axis: int | None = None) -> Tensor:
    """Insert an axis of length 1 at ``dim`` (in ``[-ndim-1, ndim]``), as torch.

    >>> gn.zeros(2, 3).unsqueeze(-1).shape
    (2, 3, 1)
    """
    dim = _pick_dim(dim, axis, None)
    if dim is None:
        raise ArgumentTypeError("unsqueeze: missing the required argument dim")
    shape = input._data.shape
    d = _dim(dim, len(shape), "unsqueeze", extra=1)
    return View.apply(input, shape=shape[:d] + (1,) + shape[d:])


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` reshaped to ``other``'s shape."""
    return reshape(input, tuple(other.shape))


# ---------------------------------------------------------- permutations
def permute(input: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """``input`` with its axes reordered: ``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))``;
    result axis i is input axis ``dims[i]``.

    >>> gn.zeros(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    dims = _ints(dims, "permute", "dims")
    n = input._data.ndim
    if len(dims) != n:
        raise ArgumentError(f"permute: number of dims ({len(dims)}) does not match the "
                            f"tensor's number of dimensions ({n})")
    dims = _dims(dims, n, "permute")
    if dims == tuple(range(n)):
        return Permute.apply(input, dims=dims) if n else input
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap axes ``dim0`` and ``dim1`` for any number of dimensions, as ``torch.transpose``
    (on a matrix ``transpose(0, 1)`` is the transposed matrix).

    >>> gn.zeros(2, 3).transpose(0, 1).shape
    (3, 2)
    """
    n = input._data.ndim
    i, j = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    if n == 0:
        return input
    perm = list(range(n))
    perm[i], perm[j] = perm[j], perm[i]
    return Permute.apply(input, dims=tuple(perm))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dimensions (0-d and 1-d come back as they are)."""
    if input._data.ndim > 2:
        raise ArgumentError(f"t: expects a tensor with <= 2 dimensions, but self is "
                            f"{input._data.ndim}D")
    return transpose(input, 0, -1) if input._data.ndim == 2 else input


def _T(self: Tensor) -> Tensor:
    n = self._data.ndim
    if n < 2:
        return self
    return Permute.apply(self, dims=tuple(range(n - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise ArgumentError("mT: tensor.mT is only supported on matrices or batches of "
                            f"matrices; got a {self._data.ndim}-D tensor")
    return transpose(self, -2, -1)


def movedim(input: Tensor, source: int | Sequence[int],
            destination: int | Sequence[int]) -> Tensor:
    """Move axes ``source`` to positions ``destination`` (ints or tuples), the other axes
    keeping their order, as ``torch.movedim``."""
    n = input._data.ndim
    src = _dims(source, n, "movedim")
    dst = _dims(destination, n, "movedim")
    if len(src) != len(dst):
        raise ArgumentError(f"movedim: source ({len(src)} dims) and destination "
                            f"({len(dst)} dims) must have the same number of dims")
    slots: list[int | None] = [None] * n
    for s, d in zip(src, dst):
        slots[d] = s
    rest = iter(i for i in range(n) if i not in src)
    perm = tuple(p if p is not None else next(rest) for p in slots)
    return Permute.apply(input, dims=perm)


moveaxis = movedim


# --------------------------------------------------------- expand / repeat
def expand(input: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """``input`` broadcast to ``sizes`` (-1 keeps an axis; new axes go in front), as
    ``Tensor.expand``: no copy; the gradient sums over the expanded axes."""
    sizes = _ints(sizes, "expand", "sizes")
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise ArgumentError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                            f"greater or equal to the number of dimensions in the tensor "
                            f"({len(shape)})")
    lead = len(sizes) - len(shape)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise ArgumentError(f"expand: -1 is not allowed in a leading, non-existing "
                                    f"dimension {i}")
            out.append(s)
            continue
        n = shape[i - lead]
        if s == -1:
            out.append(n)
        elif n == s or n == 1:
            out.append(s)
        else:
            raise ArgumentError(f"expand: the expanded size of the tensor ({s}) must match "
                                f"the existing size ({n}) at non-singleton dimension {i}. "
                                f"Target sizes: {list(sizes)}. Tensor sizes: {list(shape)}")
    target = tuple(out)
    if target == shape:
        return input
    return Expand.apply(input, shape=target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` expanded to ``other``'s shape."""
    return expand(input, tuple(other.shape))


def repeat(input: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """``input`` tiled ``sizes[i]`` times along each axis (extra sizes add leading axes),
    as ``Tensor.repeat`` (NumPy's ``tile``, not NumPy's ``repeat``)."""
    sizes = _ints(sizes, "repeat", "sizes")
    if len(sizes) < input._data.ndim:
        raise ArgumentError(f"repeat: number of dimensions of repeat dims ({len(sizes)}) "
                            f"can not be smaller than number of dimensions of tensor "
                            f"({input._data.ndim})")
    if any(s < 0 for s in sizes):
        raise ArgumentError(f"repeat: sizes must be non-negative, got {list(sizes)}")
    return Repeat.apply(input, reps=sizes)


# ------------------------------------------------------------- splitting
def _split_at(input: Tensor, dim: int, bounds: Iterable[tuple[int, int]]) -> tuple[Tensor, ...]:
    out = Split.apply(input, dim=dim, bounds=tuple(bounds))
    return out if isinstance(out, tuple) else (out,)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int],
          dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along ``dim``: of ``split_size`` each (the last may be shorter), or of the
    listed sizes, as ``torch.split``. Returns a tuple."""
    n = tensor._data.ndim
    d = _dim(dim, n, "split")
    length = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes: Sequence[int] = _ints((split_size_or_sections,), "split",
                                     "split_size_or_sections")
        if builtins.sum(sizes) != length or any(s < 0 for s in sizes):
            raise ArgumentError(f"split: split_with_sizes expects split_sizes to sum exactly "
                                f"to {length} (input tensor's size at dimension {d}), but "
                                f"got split_sizes={list(sizes)}")
    else:
        s = _ints((split_size_or_sections,), "split", "split_size")[0]
        if s < 0 or (s == 0 and length):
            raise ArgumentError(f"split: split_size must be positive, got {s}")
        sizes = [s] * (length // s) + ([length % s] if length % s else []) if s else [0]
    cuts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return _split_at(tensor, d, zip(cuts[:-1].tolist(), cuts[1:].tolist()))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces along ``dim``, each ``ceil(n / chunks)`` long (the last
    shorter; fewer pieces when they run out), as ``torch.chunk``."""
    chunks = _ints((chunks,), "chunk", "chunks")[0]
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be greater than 0, got {chunks}")
    d = _dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[d]
    size = -(-n // chunks)
    return split(input, builtins.max(size, 1) if n else 0, d) if n else \
        split(input, [0] * chunks, d)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim`` as a tuple (each without that axis), as ``torch.unbind``."""
    d = _dim(dim, input._data.ndim, "unbind")
    if input._data.shape[d] == 0:
        return ()
    out = Split.apply(input, dim=d, squeeze=True)
    return out if isinstance(out, tuple) else (out,)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries of axis ``dim`` from ``start`` (negative counts from the end)."""
    d = _dim(dim, input._data.ndim, "narrow")
    n = input._data.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise DimensionError(f"narrow: start ({start}) is out of bounds for dimension {d} "
                             f"of size {n}")
    start %= builtins.max(n, 1) if start < 0 else n + 1
    if length < 0 or start + length > n:
        raise ArgumentError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                            f"size ({n})")
    return Slice.apply(input, index=(slice(None),) * d + (slice(start, start + length),))


# ----------------------------------------------------------- flip / roll
def flip(input: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """``input`` reversed along ``dims`` (a list, or several ints on the method)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    dims = _dims(dims, input._data.ndim, "flip")
    if input._data.ndim == 0:
        return Clone.apply(input)
    return Flip.apply(input, dims=dims)


def roll(input: Tensor, shifts: int | Sequence[int],
         dims: int | Sequence[int] | None = None) -> Tensor:
    """``input`` rolled by ``shifts`` along ``dims`` (without dims: flattened, rolled and
    restored), as ``torch.roll``."""
    if isinstance(shifts, (list, tuple)):
        shifts = tuple(int(s) for s in shifts)
    else:
        shifts = int(cast(int, shifts))
    if dims is not None:
        dims = _dims(dims, input._data.ndim, "roll")
        if isinstance(shifts, int):
            shifts = (shifts,)
        if len(shifts) != len(dims):
            raise ArgumentError(f"roll: shifts and dimensions must align. shifts: "
                                f"{len(shifts)}, dims: {len(dims)}")
    elif isinstance(shifts, tuple):
        if len(shifts) != 1:
            raise ArgumentError("roll: with dims=None, shifts must be a single number")
        shifts = shifts[0]
    return Roll.apply(input, shifts=shifts, dims=dims)


# -------------------------------------------------------------- joining
def _result_dtype(arrays: Sequence[np.ndarray]) -> np.dtype[Any]:
    """torch's promotion for cat/stack: float beats integer (keeping the float dtype),
    otherwise the wider type."""
    dts = [a.dtype for a in arrays]
    floats = [d for d in dts if d.kind in "fc"]
    if floats and len(floats) != len(dts):
        return np.result_type(*floats)
    return np.result_type(*dts)


def _tensors(tensors: object, who: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise ArgumentTypeError(f"{who}: expected a tuple or list of Tensors, got "
                                f"{type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{who}: expected a non-empty list of Tensors")
    return [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]


def cat(tensors: Sequence[TensorLike], dim: int = 0, axis: int | None = None, *,
        out: Tensor | None = None) -> Tensor:
    """Join tensors along an existing axis ``dim`` (alias ``axis``), as ``torch.cat``.
    Mixed dtypes promote as torch does (float wins over integer).

    >>> gn.cat([gn.zeros(2, 3), gn.ones(1, 3)]).shape
    (3, 3)
    """
    if out is not None:
        raise ArgumentError("cat: out= is not supported")
    ts = _tensors(tensors, "cat")
    dim = _pick_dim(dim if dim != 0 or axis is None else None, axis, 0)
    # torch skips legacy empty 1-D tensors of shape (0,)
    keep = [x for x in ts if not (x._data.ndim == 1 and x._data.shape[0] == 0)] or ts[:1]
    d = _dim(dim, keep[0]._data.ndim, "cat")
    ref = keep[0]._data.shape
    for i, x in enumerate(keep):
        s = x._data.shape
        if len(s) != len(ref) or any(a != b for j, (a, b) in enumerate(zip(s, ref)) if j != d):
            raise ArgumentError(f"cat: sizes of tensors must match except in dimension {d}; "
                                f"tensor 0 has shape {list(ref)}, tensor {i} has shape "
                                f"{list(s)}")
    if len(keep) == 1:
        return Clone.apply(keep[0])
    dt = _result_dtype([x._data for x in keep])
    return Cat.apply(*keep, dim=d, dtype=dt)


concat = concatenate = cat


def stack(tensors: Sequence[TensorLike], dim: int = 0, axis: int | None = None, *,
          out: Tensor | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis ``dim`` (alias ``axis``), as
    ``torch.stack``.

    >>> gn.stack([gn.zeros(2, 3), gn.ones(2, 3)], dim=1).shape
    (2, 2, 3)
    """
    if out is not None:
        raise ArgumentError("stack: out= is not supported")
    ts = _tensors(tensors, "stack")
    dim = _pick_dim(dim if dim != 0 or axis is None else None, axis, 0)
    ref = ts[0]._data.shape
    for i, x in enumerate(ts):
        if x._data.shape != ref:
            raise ArgumentError(f"stack: expects each tensor to be equal size, but got "
                                f"{list(ref)} at entry 0 and {list(x._data.shape)} at entry "
                                f"{i}")
    d = _dim(dim, len(ref), "stack", extra=1)
    return StackFn.apply(*ts, dim=d, dtype=_result_dtype([x._data for x in ts]))


def hstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Join along axis 1 (axis 0 for 1-D tensors), as ``torch.hstack``."""
    ts = [x if x._data.ndim else reshape(x, 1) for x in _tensors(tensors, "hstack")]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Join along axis 0, 1-D tensors as rows, as ``torch.vstack``."""
    ts = [x if x._data.ndim >= 2 else reshape(x, 1, -1) for x in _tensors(tensors, "vstack")]
    return cat(ts, 0)


def clone(input: Tensor, *, memory_format: object | None = None) -> Tensor:
    """A copy of ``input`` that stays in the graph (its gradient flows back to ``input``)."""
    return Clone.apply(input)


def _contiguous(self: Tensor, memory_format: object = None) -> Tensor:
    return self


# ---------------------------------------------------------------- products
def matmul(input: TensorLike, other: TensorLike) -> Tensor:
    """The matrix product with ``torch.matmul``'s rules: 1-D . 1-D is a dot product, a
    1-D operand is a vector (its axis dropped from the result), and batch axes broadcast.

    >>> gn.matmul(gn.ones(5, 2, 3), gn.ones(3)).shape
    (5, 2)
    """
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    if not isinstance(other, Tensor):
        other = as_tensor(other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise ArgumentError(f"matmul: both arguments need at least 1 dimension, got "
                            f"{a.ndim}D and {b.ndim}D tensors")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ArgumentError(f"matmul: shapes {list(a.shape)} and {list(b.shape)} cannot be "
                            f"multiplied ({ka} vs {kb})")
    if a.dtype != b.dtype:
        raise ArgumentTypeError(f"matmul: expected both arguments to have the same dtype, "
                                f"got {a.dtype} and {b.dtype}")
    return MatMul.apply(input, other)


def _rmatmul(self: Tensor, other: TensorLike) -> Tensor:
    return matmul(other, self)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (2-D only; see :func:`matmul` for the rest)."""
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise ArgumentError(f"mm: both arguments must be matrices, got "
                            f"{input._data.ndim}-D and {mat2._data.ndim}-D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size (no broadcasting)."""
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise ArgumentError(f"bmm: both arguments must be 3-D, got {a.ndim}-D and {b.ndim}-D")
    if a.shape[0] != b.shape[0]:
        raise ArgumentError(f"bmm: batch sizes differ: {a.shape[0]} and {b.shape[0]}")
    return matmul(input, mat2)


def einsum(equation: str, *operands: TensorLike | Sequence[TensorLike]) -> Tensor:
    """Einstein summation, as ``torch.einsum(equation, *operands)`` (or a list of operands);
    differentiable in every operand.

    >>> a, b = gn.ones(2, 3), gn.ones(3, 4)
    >>> gn.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise ArgumentTypeError(f"einsum: equation must be a str, got "
                                f"{type(equation).__name__}")
    ops = [x if isinstance(x, Tensor) else as_tensor(cast("TensorLike", x)) for x in operands]
    return Einsum.apply(*ops, eq=equation)


# -------------------------------------------------------------- methods
def _method_flip(self: Tensor, *dims: int | Sequence[int]) -> Tensor:
    return flip(self, *dims)


def _install() -> None:
    T = Tensor
    setattr(T, "reshape", reshape)
    setattr(T, "view", view)
    setattr(T, "view_as", view_as)
    setattr(T, "reshape_as", view_as)
    setattr(T, "flatten", flatten)
    setattr(T, "unflatten", unflatten)
    setattr(T, "squeeze", squeeze)
    setattr(T, "unsqueeze", unsqueeze)
    setattr(T, "permute", permute)
    setattr(T, "transpose", transpose)
    setattr(T, "swapaxes", transpose)
    setattr(T, "swapdims", transpose)
    setattr(T, "t", t)
    setattr(T, "T", property(_T, doc="The axes reversed (torch's Tensor.T)."))
    setattr(T, "mT", property(_mT, doc="The last two axes swapped (a batch of transposed matrices)."))
    setattr(T, "mH", property(_mT, doc="The conjugate transpose of the last two axes (real: mT)."))
    setattr(T, "H", property(t, doc="The conjugate transpose of a matrix (real: t())."))
    setattr(T, "movedim", movedim)
    setattr(T, "moveaxis", movedim)
    setattr(T, "expand", expand)
    setattr(T, "expand_as", expand_as)
    setattr(T, "repeat", repeat)
    setattr(T, "chunk", chunk)
    setattr(T, "split", split)
    setattr(T, "unbind", unbind)
    setattr(T, "narrow", narrow)
    setattr(T, "flip", _method_flip)
    setattr(T, "roll", roll)
    setattr(T, "clone", clone)
    setattr(T, "contiguous", _contiguous)
    setattr(T, "matmul", matmul)
    setattr(T, "__matmul__", matmul)
    setattr(T, "__rmatmul__", _rmatmul)
    setattr(T, "mm", mm)
    setattr(T, "bmm", bmm)


_install()
