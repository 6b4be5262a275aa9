"""Differentiable backwards (for ``create_graph=True``: second derivatives, Hessian-vector
products, gradient penalties).

The everyday backward of a Function works on raw arrays and is not recorded. With
``create_graph=True`` the engine instead calls the function registered here for the node's
class, ``f(fn, *grad_tensors)``, which computes the same gradients with Tensor operations
(recorded), reading the node's inputs (``input_tensor(fn, i)``) and what forward saved. A Function
missing from the table raises a clear error naming it. Gradients may be returned
unreduced over broadcast axes: the engine sums them to the input's shape.

>>> x = gn.tensor([0.5], requires_grad=True)
>>> g, = gn.autograd.grad(gn.functional.tanh(x).sum(), x, create_graph=True)
>>> h, = gn.autograd.grad(g.sum(), x)          # d2/dx2 tanh = -2 tanh (1 - tanh^2)
>>> round(float(h), 4)
-0.7269
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import function as _f
from ..autograd.function import Function, input_tensor
from ..autograd.tensor import Tensor
from . import activations as _a
from . import inplace as _ip
from . import losses as _l
from . import elementwise as _ew
from . import math as _m
from . import reduce as _red

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from glassnet._typing import DTypeLike

    # f(node, *output gradients) -> the input gradients, as recorded Tensors
    _DoubleBackward = Callable[..., tuple[Tensor | None, ...]]

__all__ = ["register", "supported"]

TABLE = _f.double_backward


def register(cls: type[Function]) -> Callable[[_DoubleBackward], _DoubleBackward]:
    """Decorator: ``@register(SomeFunction)`` on ``f(fn, *grads) -> tuple``."""
    def deco(f: _DoubleBackward) -> _DoubleBackward:
        TABLE[cls] = f
        return f
    return deco


# MSE saves the difference, not its input, for the first backward, and its differentiable
# backward below recomputes from the inputs: its nodes keep the input Tensors (the others
# link to a non-leaf input through an Edge that does not keep it alive, and a node that
# saves its output differentiates through it: see _out; tests/autograd/test_edges.py checks
# every entry that reads an input).
_l.MSE._keep_inputs = True


def supported() -> list[str]:
    """Names of the Functions that can be differentiated twice."""
    return sorted({c.__name__ for c in TABLE})


def _const(a: npt.ArrayLike) -> Tensor:
    return Tensor._from_op(np.asarray(a), None, 0, False)


def _inp(fn: Any, i: int, attr: str | None = None) -> Tensor:
    """Input ``i`` of node ``fn`` as a Tensor (a constant operand from what forward saved)."""
    t = input_tensor(fn, i)
    if t is not None:
        return t
    assert attr is not None, f"input {i} of {type(fn).__name__} is not kept: name its attribute"
    return _const(getattr(fn, attr))


def _out(fn: Any) -> Tensor:
    """The output the node saved (``fn.out``) as a Tensor made by the node itself, so that
    what is differentiated through it goes back through the node's own backward to its
    input (PyTorch's tanh_backward(grad, result) works the same way): the input itself
    need not be kept."""
    return Tensor._from_op(fn.out, fn, 0, True)


def _need(fn: Function, i: int) -> bool:
    return fn.needs_input_grad[i]


def _sum_to(g: Tensor, shape: Sequence[int]) -> Tensor:
    """Sum a Tensor gradient over broadcast axes down to ``shape`` (recorded)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = _red.Sum.apply(g, axis=tuple(range(extra)), keepdims=False)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = _red.Sum.apply(g, axis=axes, keepdims=True)
    if tuple(g.shape) != shape:
        g = _m.Reshape.apply(g, shape=shape)
    return g


setattr(_f, "_unbroadcast_tensor", _sum_to)  # the engine's hook (None until set here)


def _swap_last(t: Tensor) -> Tensor:
    perm = list(range(t.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return _m.Transpose.apply(t, axes=tuple(perm))


# ----------------------------------------------------------------- arithmetic
@register(_m.Add)
def _add(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (g if _need(fn, 0) else None, g if _need(fn, 1) else None)


@register(_m.Sub)
def _sub(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (g if _need(fn, 0) else None, _m.Neg.apply(g) if _need(fn, 1) else None)


@register(_m.Neg)
def _neg(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Neg.apply(g),)


@register(_m.Mul)
def _mul(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    a, b = _inp(fn, 0, "a"), _inp(fn, 1, "b")
    return (_m.Mul.apply(g, b) if _need(fn, 0) else None,
            _m.Mul.apply(g, a) if _need(fn, 1) else None)


@register(_m.Div)
def _div(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    a, b = _inp(fn, 0, "a"), _inp(fn, 1, "b")
    ga = _m.Div.apply(g, b) if _need(fn, 0) else None
    gb = None
    if _need(fn, 1):
        gb = _m.Neg.apply(_m.Div.apply(_m.Mul.apply(g, a), _m.Mul.apply(b, b)))
    return ga, gb


@register(_m.Pow)
def _pow(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    a, b = _inp(fn, 0, "a"), _inp(fn, 1, "b")
    ga = gb = None
    if _need(fn, 0):
        bm1 = _m.Sub.apply(b, _const(np.asarray(1, dtype=b.dtype)))
        ga = _m.Mul.apply(g, _m.Mul.apply(b, _m.Pow.apply(a, bm1)))
    if _need(fn, 1):
        pos = a._data > 0
        safe = _m.Where.apply(pos, a, _const(np.ones((), dtype=a.dtype)))
        la = _m.Where.apply(pos, _m.Log.apply(safe), _const(np.zeros((), dtype=a.dtype)))
        gb = _m.Mul.apply(g, _m.Mul.apply(_m.Pow.apply(a, b), la))
    return ga, gb


@register(_m.MatMul)
def _matmul(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    a, b = _inp(fn, 0, "a"), _inp(fn, 1, "b")
    ga = gb = None
    if a.ndim == 1 and b.ndim == 1:
        return (_m.Mul.apply(g, b) if _need(fn, 0) else None,
                _m.Mul.apply(g, a) if _need(fn, 1) else None)
    if a.ndim >= 2 and b.ndim >= 2:
        if _need(fn, 0):
            ga = _m.MatMul.apply(g, _swap_last(b))
        if _need(fn, 1):
            gb = _m.MatMul.apply(_swap_last(a), g)
        return ga, gb
    if b.ndim == 1:                      # (..., n, k) @ (k,) -> (..., n)
        g2 = _m.Reshape.apply(g, shape=tuple(g.shape) + (1,))
        if _need(fn, 0):
            ga = _m.Mul.apply(g2, b)
        if _need(fn, 1):
            gb = _red.Sum.apply(_m.Mul.apply(g2, a), axis=tuple(range(a.ndim - 1)),
                              keepdims=False)
        return ga, gb
    # (k,) @ (..., k, m) -> (..., m)
    if _need(fn, 0):
        ga = _m.MatMul.apply(b, _m.Reshape.apply(g, shape=tuple(g.shape) + (1,)))
        ga = _m.Reshape.apply(ga, shape=tuple(ga.shape[:-1]))
    if _need(fn, 1):
        gb = _m.Mul.apply(_m.Reshape.apply(a, shape=(a.shape[0], 1)),
                          _m.Reshape.apply(g, shape=tuple(g.shape[:-1]) + (1, g.shape[-1])))
    return ga, gb


@register(_m.Linear)
def _linear(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    # each operand is read only for the other's gradient (what forward saved for it)
    gx = gw = gb = None
    if _need(fn, 0):
        w = input_tensor(fn, 1)
        gx = _m.MatMul.apply(g, w if w is not None else _const(fn.w))
    g2 = _m.Reshape.apply(g, shape=(-1, g.shape[-1])) if g.ndim != 2 else g
    if _need(fn, 1):
        x = input_tensor(fn, 0)
        x = x if x is not None else _const(fn.x)
        x2 = _m.Reshape.apply(x, shape=(-1, x.shape[-1])) if x.ndim != 2 else x
        gw = _m.MatMul.apply(_m.Transpose.apply(g2, axes=None), x2)
    if len(fn.inputs) > 2 and fn.inputs[2] is not None and _need(fn, 2):
        gb = _red.Sum.apply(g2, axis=0, keepdims=False)
    return gx, gw, gb


# ------------------------------------------------------------- elementwise
@register(_m.Exp)
def _exp(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Mul.apply(g, _m.Exp.apply(_inp(fn, 0))),)


@register(_m.Log)
def _log(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Div.apply(g, _inp(fn, 0, "a")),)


@register(_m.Sqrt)
def _sqrt(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    s = _m.Sqrt.apply(_inp(fn, 0))
    return (_m.Div.apply(g, _m.Mul.apply(s, _const(np.asarray(2, dtype=s.dtype)))),)


@register(_m.Abs)
def _abs(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Mul.apply(g, _const(np.sign(fn.a))),)


@register(_ew.Clamp)
def _clip(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    mask = np.ones(fn.a.shape, dtype=bool)
    if fn.lo is not None:
        mask &= fn.a >= fn.lo
    if fn.hi is not None:
        mask &= fn.a <= fn.hi
    return (_m.Mul.apply(g, _const(mask.astype(g.dtype))),)


@register(_m.Maximum)
def _maximum(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    wa = ((fn.a > fn.b) + 0.5 * (fn.a == fn.b)).astype(g.dtype)
    return (_m.Mul.apply(g, _const(wa)) if _need(fn, 0) else None,
            _m.Mul.apply(g, _const(1 - wa)) if _need(fn, 1) else None)


@register(_m.Minimum)
def _minimum(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    wa = ((fn.a < fn.b) + 0.5 * (fn.a == fn.b)).astype(g.dtype)
    return (_m.Mul.apply(g, _const(wa)) if _need(fn, 0) else None,
            _m.Mul.apply(g, _const(1 - wa)) if _need(fn, 1) else None)


@register(_m.Where)
def _where(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    z = _const(np.zeros((), dtype=g.dtype))
    return (None,
            _m.Where.apply(fn.cond, g, z) if _need(fn, 1) else None,
            _m.Where.apply(fn.cond, z, g) if _need(fn, 2) else None)


@register(_m.Cast)
def _cast(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Cast.apply(g, dtype=fn.dt),)


@register(_a.Tanh)
def _tanh(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    t = _out(fn)
    one = _const(np.ones((), dtype=t.dtype))
    return (_m.Mul.apply(g, _m.Sub.apply(one, _m.Mul.apply(t, t))),)


@register(_a.Sigmoid)
def _sigmoid(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    s = _out(fn)
    one = _const(np.ones((), dtype=s.dtype))
    return (_m.Mul.apply(g, _m.Mul.apply(s, _m.Sub.apply(one, s))),)


@register(_a.ReLU)
def _relu(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    mask = fn.mask if fn.mask is not None else _inp(fn, 0)._data > 0   # z > 0, saved
    return (_m.Mul.apply(g, _const(mask.astype(g.dtype))),)


@register(_a.LeakyReLU)
def _leaky(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Mul.apply(g, _const(fn.slope)),)


@register(_a.Softmax)
def _softmax(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    a = _out(fn)
    s = _red.Sum.apply(_m.Mul.apply(g, a), axis=fn.axis, keepdims=True)
    return (_m.Mul.apply(a, _m.Sub.apply(g, s)),)


@register(_a.LogSoftmax)
def _log_softmax(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    p = _m.Exp.apply(_out(fn))
    return (_m.Sub.apply(g, _m.Mul.apply(p, _red.Sum.apply(g, axis=fn.axis, keepdims=True))),)


# -------------------------------------------------------------- reductions
def _expand_back(fn: Any, g: Tensor, scale: float | None = None) -> Tensor:
    axes, shape = fn.axes, fn.shape
    if not fn.keepdims:
        kept = list(g.shape)
        for ax in sorted(axes):
            kept.insert(ax, 1)
        g = _m.Reshape.apply(g, shape=tuple(kept))
    if scale is not None:
        g = _m.Mul.apply(g, _const(np.asarray(scale, dtype=g.dtype)))
    return _m.Add.apply(g, _const(np.zeros(shape, dtype=g.dtype)))


@register(_red.Sum)
def _sum(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_expand_back(fn, g),)


@register(_red.Mean)
def _mean(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_expand_back(fn, g, 1.0 / fn.n),)


def _extreme(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    mask = fn.a == fn.out
    w = (mask / mask.sum(axis=fn.axes, keepdims=True)).astype(g.dtype)
    if not fn.keepdims:
        kept = list(g.shape)
        for ax in sorted(fn.axes):
            kept.insert(ax, 1)
        g = _m.Reshape.apply(g, shape=tuple(kept))
    return (_m.Mul.apply(g, _const(w)),)


TABLE[_red.Extreme] = _extreme
TABLE[_red.Extreme] = _extreme


# ------------------------------------------------------------------ shapes
@register(_m.Reshape)
def _reshape(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Reshape.apply(g, shape=tuple(fn.shape)),)


@register(_m.Transpose)
def _transpose(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    if fn.axes is None:
        return (_m.Transpose.apply(g, axes=None),)
    return (_m.Transpose.apply(g, axes=tuple(int(i) for i in np.argsort(fn.axes))),)


class IndexBackward(Function):
    """z = zeros(shape) with g scattered (summed) at ``index``: GetItem's backward, as a
    Function so that it can be differentiated again (its derivative is GetItem)."""

    _saved_inputs = ()

    def forward(self, g: np.ndarray, shape: Sequence[int], index: Any) -> np.ndarray:
        self.index = index
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out

    def backward(self, gg: np.ndarray) -> np.ndarray:
        return np.asarray(gg[self.index])


@register(_m.GetItem)
def _getitem(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (IndexBackward.apply(g, shape=fn.shape, index=fn.index),)


@register(IndexBackward)
def _index_backward(fn: Any, gg: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.GetItem.apply(gg, index=fn.index),)


@register(_m.Concat)
def _concat(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    out, start = [], 0
    for size, need in zip(fn.sizes, fn.needs_input_grad):
        key = (slice(None),) * (fn.axis % g.ndim) + (slice(start, start + size),)
        out.append(_m.GetItem.apply(g, index=key) if need else None)
        start += size
    return tuple(out)


@register(_m.Stack)
def _stack(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    ax = fn.axis % g.ndim
    return tuple(_m.GetItem.apply(g, index=(slice(None),) * ax + (i,)) if need else None
                 for i, need in enumerate(fn.needs_input_grad))


# one-input elementwise Functions defined elsewhere, found by class name (their Tensor
# methods must exist: x.sin(), x.cos())
def _sin(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Mul.apply(g, _inp(fn, 0).cos()),)


def _cos(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_m.Neg.apply(_m.Mul.apply(g, _inp(fn, 0).sin())),)


_f.double_backward_by_name.update(Sin=_sin, Cos=_cos)


# ---------------------------------------------------------------- losses
@register(_l.MSE)
def _mse(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    y, t = _inp(fn, 0), input_tensor(fn, 1)
    t = t if t is not None else _const(y._data - fn.d)
    d = _m.Sub.apply(y, t)
    scale = fn.k / max(int(np.prod(fn.per_shape)), 1) if fn.reduction == "mean" else fn.k
    gy = _m.Mul.apply(_m.Mul.apply(g, _const(np.asarray(scale, dtype=d.dtype))), d)
    return (gy if _need(fn, 0) else None, _m.Neg.apply(gy) if _need(fn, 1) else None)


# ------------------------------------------------------------- in-place ops
@register(_ip.Fill)
def _fill(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_const(np.zeros(fn.shape, dtype=g.dtype)),)


@register(_ip.CopyFrom)
def _copy(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    ga = _const(np.zeros(fn.shape, dtype=g.dtype)) if _need(fn, 0) else None
    gs = None
    if _need(fn, 1):
        gs = g if fn.sdt == g.dtype or fn.sdt.kind != "f" else _m.Cast.apply(g, dtype=fn.sdt)
    return ga, gs


@register(_ip.SetItem)
def _setitem(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    ga = gv = None
    if _need(fn, 0):
        ga = _ip.SetItem.apply(g, np.zeros((), dtype=g.dtype), index=fn.index)
    if _need(fn, 1):
        gv = _sum_to(_m.GetItem.apply(g, index=fn.index), fn.vshape)
    return ga, gv


@register(_ip.MaskedFill)
def _masked_fill(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    ga = gv = None
    z = _const(np.zeros((), dtype=g.dtype))
    if _need(fn, 0):
        ga = _m.Where.apply(fn.mask, z, g)
    if _need(fn, 1):
        gv = _red.Sum.apply(_m.Where.apply(fn.mask, g, z), axis=None, keepdims=False)
    return ga, gv


# ------------------------------------------- shape.py / indexing.py Functions
# (the Functions behind the Tensor methods: view / permute / cat / @ / x[...] / gather ...)
from . import indexing as _ix  # noqa: E402
from . import shape as _sh  # noqa: E402


def _as_dtype(g: Tensor, dt: DTypeLike) -> Tensor:
    """``g`` cast (recorded) to the input dtype ``dt`` when a float input differs."""
    if dt is None or g.dtype == dt or np.dtype(dt).kind not in "fc":
        return g
    return _m.Cast.apply(g, dtype=dt)


class SliceBackward(Function):
    """z = zeros(shape) with g written at the basic index ``index`` (Slice's backward, as
    a Function so it can be differentiated again: its derivative is Slice)."""

    _saved_inputs = ()

    def forward(self, g: np.ndarray, shape: Sequence[int], index: Any) -> np.ndarray:
        self.index = index
        out = np.zeros(shape, dtype=g.dtype)
        out[index] = g
        return out

    def backward(self, gg: np.ndarray) -> np.ndarray:
        return np.asarray(gg[self.index])


class DiagonalBackward(Function):
    """z = zeros(shape) with g written onto the diagonal ``offset`` of axes ``dims``
    (Diagonal's backward; its derivative is Diagonal)."""

    _saved_inputs = ()

    def forward(self, g: np.ndarray, shape: Sequence[int], offset: int = 0,
                dims: tuple[int, int] = (0, 1)) -> np.ndarray:
        self.offset, self.dims = offset, dims
        out = np.zeros(shape, dtype=g.dtype)
        i = np.arange(g.shape[-1])
        view = np.moveaxis(out, dims, (-2, -1))
        view[..., i + max(-offset, 0), i + max(offset, 0)] = g
        return out

    def backward(self, gg: np.ndarray) -> np.ndarray:
        return np.diagonal(gg, self.offset, *self.dims).copy()


@register(SliceBackward)
def _slice_backward(fn: Any, gg: Tensor) -> tuple[Tensor | None, ...]:
    return (_sh.Slice.apply(gg, index=fn.index),)


@register(DiagonalBackward)
def _diagonal_backward(fn: Any, gg: Tensor) -> tuple[Tensor | None, ...]:
    return (_ix.Diagonal.apply(gg, offset=fn.offset, dim1=fn.dims[0], dim2=fn.dims[1]),)


@register(_sh.View)
def _view(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_sh.View.apply(g, shape=tuple(fn.shape)),)


@register(_sh.Permute)
def _permute(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_sh.Permute.apply(g, dims=tuple(int(i) for i in np.argsort(fn.dims))),)


@register(_sh.Expand)
def _expand(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_sum_to(g, fn.shape),)


@register(_sh.Repeat)
def _repeat(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    inter = []
    for r, s in zip(fn.reps, fn.shape):
        inter += [r, s]
    g = _sh.View.apply(g, shape=tuple(inter))
    g = _red.Sum.apply(g, axis=tuple(range(0, 2 * len(fn.reps), 2)), keepdims=False)
    x = fn.inputs[0]                     # a Tensor or an Edge: only its shape is read
    if x is not None and tuple(g.shape) != tuple(x.shape):
        g = _sh.View.apply(g, shape=tuple(x.shape))
    return (g,)


@register(_sh.Split)
def _split(fn: Any, *gs: Tensor) -> tuple[Tensor | None, ...]:
    if fn.squeeze:
        return (_sh.StackFn.apply(*gs, dim=fn.dim),)
    if not gs:
        return (_const(np.zeros(fn.shape, dtype=fn.dt)),)
    if len(gs) == 1:
        return (gs[0],)
    return (_sh.Cat.apply(*gs, dim=fn.dim),)


@register(_sh.Slice)
def _slice(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (SliceBackward.apply(g, shape=fn.shape, index=fn.index),)


@register(_sh.Flip)
def _flip(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_sh.Flip.apply(g, dims=fn.dims),)


@register(_sh.Roll)
def _roll(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    s = fn.shifts
    neg = tuple(-v for v in s) if isinstance(s, tuple) else -s
    return (_sh.Roll.apply(g, shifts=neg, dims=fn.dims),)


@register(_sh.Cat)
def _cat(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    out: list[Tensor | None] = []
    start = 0
    head = (slice(None),) * fn.dim
    for size, dt, need in zip(fn.sizes, fn.dts, fn.needs_input_grad):
        if need:
            p = _sh.Slice.apply(g, index=head + (slice(start, start + size),))
            out.append(_as_dtype(p, dt))
        else:
            out.append(None)
        start += size
    return tuple(out)


@register(_sh.StackFn)
def _stackfn(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    head = (slice(None),) * fn.dim
    return tuple(_as_dtype(_sh.Slice.apply(g, index=head + (i,)), dt) if need else None
                 for i, (dt, need) in enumerate(zip(fn.dts, fn.needs_input_grad)))


@register(_sh.Clone)
def _clone(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (g,)


@register(_sh.MatMul)
def _sh_matmul(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    # on the 2-D forms (a 1-D a as a row, a 1-D b as a column), then back to the inputs'
    # shapes; batch axes that broadcast are summed
    # each operand is read only for the other's gradient (what forward saved for it)
    def operand(i: int, saved: np.ndarray) -> Tensor:
        t = input_tensor(fn, i)
        if t is None:
            return _const(saved)
        return _sh.View.apply(t, shape=saved.shape) if t.shape != saved.shape else t

    g = _sh.View.apply(g, shape=fn.s2) if tuple(g.shape) != tuple(fn.s2) else g

    def swap(t: Tensor) -> Tensor:
        perm = list(range(t.ndim))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        return _sh.Permute.apply(t, dims=tuple(perm))

    ga = gb = None
    if _need(fn, 0):
        ga = _sum_to(_sh.MatMul.apply(g, swap(operand(1, fn.b2))), fn.a2.shape)
        if tuple(ga.shape) != tuple(fn.sa):
            ga = _sh.View.apply(ga, shape=fn.sa)
    if _need(fn, 1):
        gb = _sum_to(_sh.MatMul.apply(swap(operand(0, fn.a2)), g), fn.b2.shape)
        if tuple(gb.shape) != tuple(fn.sb):
            gb = _sh.View.apply(gb, shape=fn.sb)
    return ga, gb


@register(_sh.Einsum)
def _einsum(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    sizes = {}
    for s, o in zip(fn.subs, fn.ops):
        for c, n in zip(s, o.shape):
            sizes[c] = n
    ops = [t if t is not None else _const(o)
           for t, o in ((input_tensor(fn, i), o) for i, o in zip(range(len(fn.inputs)), fn.ops))]
    grads: list[Tensor | None] = []
    for i, (s, o) in enumerate(zip(fn.subs, fn.ops)):
        if not _need(fn, i):
            grads.append(None)
            continue
        if len(set(s)) != len(s):
            raise RuntimeError(f"create_graph=True: einsum with a repeated subscript in one "
                               f"operand ({s!r}, a diagonal) has no differentiable backward "
                               f"yet")
        others = [(fn.subs[j], ops[j]) for j in range(len(ops)) if j != i]
        avail = set(fn.out).union(*[set(ss) for ss, _ in others])
        present = "".join(c for c in s if c in avail)
        eq = ",".join([fn.out] + [ss for ss, _ in others]) + "->" + present
        r = _sh.Einsum.apply(g, *[t for _, t in others], eq=eq)
        if len(present) != len(s):      # letters only this operand has: broadcast back
            r = _sh.View.apply(r, shape=tuple(sizes[c] if c in avail else 1 for c in s))
            r = _sh.Expand.apply(r, shape=tuple(o.shape))
        grads.append(_as_dtype(r, o.dtype))
    return tuple(grads)


@register(_ix.Index)
def _index(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (IndexBackward.apply(g, shape=fn.shape, index=fn.index),)


@register(_ix.MaskedFill)
def _ix_masked_fill(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    ga = gv = None
    z = _const(np.zeros((), dtype=g.dtype))
    if _need(fn, 0):
        ga = _m.Where.apply(fn.mask, z, g)
    if _need(fn, 1):
        gv = _red.Sum.apply(_m.Where.apply(fn.mask, g, z), axis=None, keepdims=False)
        if tuple(gv.shape) != tuple(fn.sv):
            gv = _sh.View.apply(gv, shape=fn.sv)
    return ga, gv


@register(_ix.Where)
def _ix_where(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    z = _const(np.zeros((), dtype=g.dtype))
    gx = _sum_to(_m.Where.apply(fn.cond, g, z), fn.sx) if _need(fn, 0) else None
    gy = _sum_to(_m.Where.apply(fn.cond, z, g), fn.sy) if _need(fn, 1) else None
    return gx, gy


@register(_ix.Gather)
def _gather(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (IndexBackward.apply(g, shape=fn.shape, index=fn.idx),)


@register(_ix.Scatter)
def _scatter(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    ga = gs = None
    if _need(fn, 0):
        if fn.add:
            ga = g
        else:
            keep = np.ones(g.shape, dtype=g.dtype)
            keep[fn.idx] = 0
            ga = _m.Mul.apply(g, _const(keep))
    if _need(fn, 1):
        part = _m.GetItem.apply(g, index=fn.idx)
        if len(fn.ss) == 0:
            gs = _red.Sum.apply(part, axis=None, keepdims=False)
        else:
            gs = SliceBackward.apply(part, shape=fn.ss,
                                     index=tuple(slice(0, n) for n in part.shape))
    return ga, gs


@register(_ix.IndexSelect)
def _index_select(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    index = (slice(None),) * fn.dim + (fn.index,)
    return (IndexBackward.apply(g, shape=fn.shape, index=index),)


@register(_ix.TriangleFn)
def _triangle(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_ix.TriangleFn.apply(g, k=fn.k, upper=fn.f is np.triu),)


@register(_ix.Diagonal)
def _diagonal(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (DiagonalBackward.apply(g, shape=fn.shape, offset=fn.offset, dims=fn.d),)


@register(_ix.DiagEmbed)
def _diag_embed(fn: Any, g: Tensor) -> tuple[Tensor | None, ...]:
    return (_ix.Diagonal.apply(g, offset=fn.k, dim1=0, dim2=1),)
