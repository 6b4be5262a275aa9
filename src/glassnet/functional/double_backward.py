"""Differentiable backwards (for ``create_graph=True``: second derivatives, Hessian-vector
products, gradient penalties).

The everyday backward of a Function works on raw arrays and is not recorded. With
``create_graph=True`` the engine instead calls the function registered here for the node's
class, ``f(fn, *grad_tensors)``, which computes the same gradients with Tensor operations
(recorded), reading the node's inputs (``fn.inputs``) and what forward saved. A Function
missing from the table raises a clear error naming it. Gradients may be returned
unreduced over broadcast axes: the engine sums them to the input's shape.

>>> x = gn.tensor([0.5], requires_grad=True)
>>> g, = gn.autograd.grad(gn.functional.tanh(x).sum(), x, create_graph=True)
>>> h, = gn.autograd.grad(g.sum(), x)          # d2/dx2 tanh = -2 tanh (1 - tanh^2)
>>> round(float(h), 4)
-0.7269
"""
from __future__ import annotations

import numpy as np

from ..autograd import function as _f
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import activations as _a
from . import inplace as _ip
from . import losses as _l
from . import elementwise as _ew
from . import math as _m
from . import reduce as _red

__all__ = ["register", "supported"]

TABLE = _f.double_backward


def register(cls):
    """Decorator: ``@register(SomeFunction)`` on ``f(fn, *grads) -> tuple``."""
    def deco(f):
        TABLE[cls] = f
        return f
    return deco


def supported():
    """Names of the Functions that can be differentiated twice."""
    return sorted({c.__name__ for c in TABLE})


def _const(a):
    return Tensor._from_op(np.asarray(a), None, 0, False)


def _inp(fn, i, attr=None):
    """Input ``i`` of node ``fn`` as a Tensor (a constant operand from what forward saved)."""
    t = fn.inputs[i]
    if t is not None:
        return t
    return _const(getattr(fn, attr))


def _need(fn, i):
    return fn.needs_input_grad[i]


def _sum_to(g, shape):
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


_f._unbroadcast_tensor = _sum_to


def _swap_last(t):
    perm = list(range(t.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return _m.Transpose.apply(t, axes=tuple(perm))


# ----------------------------------------------------------------- arithmetic
@register(_m.Add)
def _add(fn, g):
    return (g if _need(fn, 0) else None, g if _need(fn, 1) else None)


@register(_m.Sub)
def _sub(fn, g):
    return (g if _need(fn, 0) else None, _m.Neg.apply(g) if _need(fn, 1) else None)


@register(_m.Neg)
def _neg(fn, g):
    return (_m.Neg.apply(g),)


@register(_m.Mul)
def _mul(fn, g):
    a, b = _inp(fn, 0, "a"), _inp(fn, 1, "b")
    return (_m.Mul.apply(g, b) if _need(fn, 0) else None,
            _m.Mul.apply(g, a) if _need(fn, 1) else None)


@register(_m.Div)
def _div(fn, g):
    a, b = _inp(fn, 0, "a"), _inp(fn, 1, "b")
    ga = _m.Div.apply(g, b) if _need(fn, 0) else None
    gb = None
    if _need(fn, 1):
        gb = _m.Neg.apply(_m.Div.apply(_m.Mul.apply(g, a), _m.Mul.apply(b, b)))
    return ga, gb


@register(_m.Pow)
def _pow(fn, g):
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
def _matmul(fn, g):
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
def _linear(fn, g):
    x, w = fn.inputs[0], fn.inputs[1]
    x = x if x is not None else _const(fn.x)
    w = w if w is not None else _const(fn.w)
    gx = gw = gb = None
    if _need(fn, 0):
        gx = _m.MatMul.apply(g, w)
    g2 = _m.Reshape.apply(g, shape=(-1, g.shape[-1])) if g.ndim != 2 else g
    x2 = _m.Reshape.apply(x, shape=(-1, x.shape[-1])) if x.ndim != 2 else x
    if _need(fn, 1):
        gw = _m.MatMul.apply(_m.Transpose.apply(g2, axes=None), x2)
    if len(fn.inputs) > 2 and fn.inputs[2] is not None and _need(fn, 2):
        gb = _red.Sum.apply(g2, axis=0, keepdims=False)
    return gx, gw, gb


# ------------------------------------------------------------- elementwise
@register(_m.Exp)
def _exp(fn, g):
    return (_m.Mul.apply(g, _m.Exp.apply(_inp(fn, 0))),)


@register(_m.Log)
def _log(fn, g):
    return (_m.Div.apply(g, _inp(fn, 0, "a")),)


@register(_m.Sqrt)
def _sqrt(fn, g):
    s = _m.Sqrt.apply(_inp(fn, 0))
    return (_m.Div.apply(g, _m.Mul.apply(s, _const(np.asarray(2, dtype=s.dtype)))),)


@register(_m.Abs)
def _abs(fn, g):
    return (_m.Mul.apply(g, _const(np.sign(fn.a))),)


@register(_ew.Clamp)
def _clip(fn, g):
    mask = np.ones(fn.a.shape, dtype=bool)
    if fn.lo is not None:
        mask &= fn.a >= fn.lo
    if fn.hi is not None:
        mask &= fn.a <= fn.hi
    return (_m.Mul.apply(g, _const(mask.astype(g.dtype))),)


@register(_m.Maximum)
def _maximum(fn, g):
    wa = ((fn.a > fn.b) + 0.5 * (fn.a == fn.b)).astype(g.dtype)
    return (_m.Mul.apply(g, _const(wa)) if _need(fn, 0) else None,
            _m.Mul.apply(g, _const(1 - wa)) if _need(fn, 1) else None)


@register(_m.Minimum)
def _minimum(fn, g):
    wa = ((fn.a < fn.b) + 0.5 * (fn.a == fn.b)).astype(g.dtype)
    return (_m.Mul.apply(g, _const(wa)) if _need(fn, 0) else None,
            _m.Mul.apply(g, _const(1 - wa)) if _need(fn, 1) else None)


@register(_m.Where)
def _where(fn, g):
    z = _const(np.zeros((), dtype=g.dtype))
    return (None,
            _m.Where.apply(fn.cond, g, z) if _need(fn, 1) else None,
            _m.Where.apply(fn.cond, z, g) if _need(fn, 2) else None)


@register(_m.Cast)
def _cast(fn, g):
    return (_m.Cast.apply(g, dtype=fn.dt),)


@register(_a.Tanh)
def _tanh(fn, g):
    t = _a.Tanh.apply(_inp(fn, 0))
    one = _const(np.ones((), dtype=t.dtype))
    return (_m.Mul.apply(g, _m.Sub.apply(one, _m.Mul.apply(t, t))),)


@register(_a.Sigmoid)
def _sigmoid(fn, g):
    s = _a.Sigmoid.apply(_inp(fn, 0))
    one = _const(np.ones((), dtype=s.dtype))
    return (_m.Mul.apply(g, _m.Mul.apply(s, _m.Sub.apply(one, s))),)


@register(_a.ReLU)
def _relu(fn, g):
    z = _inp(fn, 0)
    return (_m.Mul.apply(g, _const((z._data > 0).astype(g.dtype))),)


@register(_a.LeakyReLU)
def _leaky(fn, g):
    return (_m.Mul.apply(g, _const(fn.slope)),)


@register(_a.Softmax)
def _softmax(fn, g):
    a = _a.Softmax.apply(_inp(fn, 0), axis=fn.axis)
    s = _red.Sum.apply(_m.Mul.apply(g, a), axis=fn.axis, keepdims=True)
    return (_m.Mul.apply(a, _m.Sub.apply(g, s)),)


@register(_a.LogSoftmax)
def _log_softmax(fn, g):
    p = _m.Exp.apply(_a.LogSoftmax.apply(_inp(fn, 0), axis=fn.axis))
    return (_m.Sub.apply(g, _m.Mul.apply(p, _red.Sum.apply(g, axis=fn.axis, keepdims=True))),)


# -------------------------------------------------------------- reductions
def _expand_back(fn, g, scale=None):
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
def _sum(fn, g):
    return (_expand_back(fn, g),)


@register(_red.Mean)
def _mean(fn, g):
    return (_expand_back(fn, g, 1.0 / fn.n),)


def _extreme(fn, g):
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
def _reshape(fn, g):
    return (_m.Reshape.apply(g, shape=tuple(fn.shape)),)


@register(_m.Transpose)
def _transpose(fn, g):
    if fn.axes is None:
        return (_m.Transpose.apply(g, axes=None),)
    return (_m.Transpose.apply(g, axes=tuple(int(i) for i in np.argsort(fn.axes))),)


class IndexBackward(Function):
    """z = zeros(shape) with g scattered (summed) at ``index``: GetItem's backward, as a
    Function so that it can be differentiated again (its derivative is GetItem)."""

    _saved_inputs = ()

    def forward(self, g, shape=None, index=None):
        self.index = index
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out

    def backward(self, gg):
        return np.asarray(gg[self.index])


@register(_m.GetItem)
def _getitem(fn, g):
    return (IndexBackward.apply(g, shape=fn.shape, index=fn.index),)


@register(IndexBackward)
def _index_backward(fn, gg):
    return (_m.GetItem.apply(gg, index=fn.index),)


@register(_m.Concat)
def _concat(fn, g):
    out, start = [], 0
    for size, need in zip(fn.sizes, fn.needs_input_grad):
        key = (slice(None),) * (fn.axis % g.ndim) + (slice(start, start + size),)
        out.append(_m.GetItem.apply(g, index=key) if need else None)
        start += size
    return tuple(out)


@register(_m.Stack)
def _stack(fn, g):
    ax = fn.axis % g.ndim
    return tuple(_m.GetItem.apply(g, index=(slice(None),) * ax + (i,)) if need else None
                 for i, need in enumerate(fn.needs_input_grad))


# one-input elementwise Functions defined elsewhere, found by class name (their Tensor
# methods must exist: x.sin(), x.cos())
def _sin(fn, g):
    return (_m.Mul.apply(g, fn.inputs[0].cos()),)


def _cos(fn, g):
    return (_m.Neg.apply(_m.Mul.apply(g, fn.inputs[0].sin())),)


_f.double_backward_by_name.update(Sin=_sin, Cos=_cos)


# ---------------------------------------------------------------- losses
@register(_l.MSE)
def _mse(fn, g):
    y, t = _inp(fn, 0), fn.inputs[1]
    t = t if t is not None else _const(y._data - fn.d)
    d = _m.Sub.apply(y, t)
    scale = fn.k / max(int(np.prod(fn.per_shape)), 1) if fn.reduction == "mean" else fn.k
    gy = _m.Mul.apply(_m.Mul.apply(g, _const(np.asarray(scale, dtype=d.dtype))), d)
    return (gy if _need(fn, 0) else None, _m.Neg.apply(gy) if _need(fn, 1) else None)


# ------------------------------------------------------------- in-place ops
@register(_ip.Fill)
def _fill(fn, g):
    return (_const(np.zeros(fn.shape, dtype=g.dtype)),)


@register(_ip.CopyFrom)
def _copy(fn, g):
    ga = _const(np.zeros(fn.shape, dtype=g.dtype)) if _need(fn, 0) else None
    gs = None
    if _need(fn, 1):
        gs = g if fn.sdt == g.dtype or fn.sdt.kind != "f" else _m.Cast.apply(g, dtype=fn.sdt)
    return ga, gs


@register(_ip.SetItem)
def _setitem(fn, g):
    ga = gv = None
    if _need(fn, 0):
        ga = _ip.SetItem.apply(g, np.zeros((), dtype=g.dtype), index=fn.index)
    if _need(fn, 1):
        gv = _sum_to(_m.GetItem.apply(g, index=fn.index), fn.vshape)
    return ga, gv


@register(_ip.MaskedFill)
def _masked_fill(fn, g):
    ga = gv = None
    z = _const(np.zeros((), dtype=g.dtype))
    if _need(fn, 0):
        ga = _m.Where.apply(fn.mask, z, g)
    if _need(fn, 1):
        gv = _red.Sum.apply(_m.Where.apply(fn.mask, g, z), axis=None, keepdims=False)
    return ga, gv
