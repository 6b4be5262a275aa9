"""The Function contract and the reverse-mode engine.

A :class:`Function` sees raw arrays: ``forward(*arrays)`` returns an array (or a
tuple of arrays for several outputs) and ``backward(*grads_out)`` returns one
gradient per input (``None`` where the input needs none). Whatever backward
needs is saved on ``self`` during forward. ``Function.apply`` wraps this in
Tensors and records the node on the tape when some input requires a gradient.

The engine (:func:`run_backward`) sorts the recorded Functions topologically
and walks them in reverse, summing gradients of tensors used more than once,
then frees each node's saved buffers unless ``retain_graph`` is set.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

__all__ = ["Function", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "backward_hooks", "unbroadcast"]


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()
# Callables called as hook(fn, grads_out, grads_in) after each node's backward
# (used by glassnet.inspect to trace every step of backprop).
_backward_hooks: list = []


def is_grad_enabled() -> bool:
    """True when operations are being recorded for backward."""
    return _grad_mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self.prev
        return False


class no_grad(set_grad_enabled):
    """Do not record operations (inference, parameter updates)::

        with gn.no_grad():
            y = model(x)
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record operations even inside ``no_grad``."""

    def __init__(self):
        super().__init__(True)


@contextlib.contextmanager
def backward_hooks(hook):
    """Call ``hook(fn, grads_out, grads_in)`` after every node's backward while active."""
    _backward_hooks.append(hook)
    try:
        yield hook
    finally:
        _backward_hooks.remove(hook)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    ndim_extra = grad.ndim - len(shape)
    if ndim_extra > 0:
        grad = grad.sum(axis=tuple(range(ndim_extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(self, *arrays, **kwargs)`` and
    ``backward(self, *grads_out)``. ``self.needs_input_grad[i]`` tells backward
    which gradients are wanted, so it can skip work for the others.
    """

    # number of outputs; subclasses returning tuples set this to > 1
    n_outputs = 1
    _freed = False        # set on a node whose saved buffers backward released
    _retained = None      # [(output index, Tensor)] for outputs that called retain_grad()

    def forward(self, *arrays, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads_out):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run forward on the inputs' arrays and record the node when needed."""
        T = _tensor_type[0]
        fn = cls.__new__(cls)
        arrays = []
        needs = []
        record = False
        for x in inputs:
            if isinstance(x, T):
                arrays.append(x._data)
                r = x.requires_grad
                needs.append(r)
                record = record or r
            else:
                arrays.append(x)
                needs.append(False)
        if not (record and _grad_mode.enabled):
            # inference path: no bookkeeping beyond the forward itself
            fn.needs_input_grad = _all_false(len(inputs))
            out = fn.forward(*arrays, **kwargs)
            if isinstance(out, tuple):
                return tuple(T._from_op(o, None, 0, False) for o in out)
            return T._from_op(out, None, 0, False)
        fn.needs_input_grad = tuple(needs)
        out = fn.forward(*arrays, **kwargs)
        fn.inputs = [x if isinstance(x, T) else None for x in inputs]
        if isinstance(out, tuple):
            fn.n_outputs = len(out)
            results = tuple(T._from_op(o, fn, i, True) for i, o in enumerate(out))
            fn.output_shapes = tuple(o.shape for o in out)
            fn.output_dtypes = tuple(o.dtype for o in out)
            return results
        fn.output_shapes = (out.shape,)
        fn.output_dtypes = (out.dtype,)
        return T._from_op(out, fn, 0, True)


_tensor_type = [None]  # set by glassnet.autograd.tensor (it imports this module)
_false_tuples = {}


def _all_false(n):
    t = _false_tuples.get(n)
    if t is None:
        t = _false_tuples[n] = (False,) * n
    return t


def _root_base(a):
    while getattr(a, "base", None) is not None:
        a = a.base
    return id(a)


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` from tensor ``root`` to every leaf that requires it."""
    fn0 = root._ctx
    if fn0 is None:
        # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, grad, set())
        return
    if fn0._freed:
        raise RuntimeError(
            "backward: the graph of this tensor was already freed by a previous backward; "
            "call backward(retain_graph=True) the first time to walk it twice")

    # topological order of Functions (iterative DFS, post-order)
    order = []
    visited = {id(fn0)}
    stack = [(fn0, iter(fn0.inputs))]
    while stack:
        fn, it = stack[-1]
        for t in it:
            if t is None:
                continue
            ctx = t._ctx
            if ctx is not None and id(ctx) not in visited:
                if ctx._freed:
                    raise RuntimeError(
                        "backward: part of the graph was already freed by a previous backward; "
                        "use retain_graph=True on the first call")
                visited.add(id(ctx))
                stack.append((ctx, iter(ctx.inputs)))
                break
        else:
            stack.pop()
            order.append(fn)

    grads = {id(fn0): [None] * fn0.n_outputs}
    grads[id(fn0)][root._out_index] = grad
    leaf_bases = set()
    hooks = list(_backward_hooks)
    for fn in reversed(order):
        gouts = grads.pop(id(fn), None)
        if gouts is None:
            continue
        if fn.n_outputs == 1:
            gins = fn.backward(gouts[0])
        else:
            full = [g if g is not None else np.zeros(s, dtype=d)
                    for g, s, d in zip(gouts, fn.output_shapes, fn.output_dtypes)]
            gins = fn.backward(*full)
        if not isinstance(gins, tuple):
            gins = (gins,)
        inputs = fn.inputs
        if len(gins) != len(inputs):
            raise RuntimeError(f"{fn.name}.backward returned {len(gins)} gradients for "
                               f"{len(inputs)} inputs")
        if hooks:
            for hook in hooks:
                hook(fn, gouts, gins)
        retained = fn._retained
        if retained:
            for idx, t in retained:
                g = gouts[idx]
                if g is not None:
                    _accumulate_leaf(t, g, leaf_bases)
        for t, g in zip(inputs, gins):
            if g is None or t is None or not t.requires_grad:
                continue
            shape = t._data.shape
            if g.shape != shape:
                g = unbroadcast(g, shape)
            ctx = t._ctx
            if ctx is None:
                _accumulate_leaf(t, g, leaf_bases)
            else:
                slot = grads.get(id(ctx))
                if slot is None:
                    slot = grads[id(ctx)] = [None] * ctx.n_outputs
                prev = slot[t._out_index]
                slot[t._out_index] = g if prev is None else prev + g
        if not retain_graph:
            d = fn.__dict__
            d.clear()
            d["_freed"] = True
            d["inputs"] = ()
            if retained:
                d["_retained"] = retained


def _accumulate_leaf(t, g, leaf_bases):
    Tensor = _tensor_type[0]
    if t._grad_hooks:
        for h in t._grad_hooks:
            r = h(g)
            if r is not None:
                g = r
    td = t._data.dtype
    if g.dtype != td and td.kind == "f":
        g = g.astype(td)
    if t.grad is None:
        b = _root_base(g)
        if b in leaf_bases or not g.flags.writeable:
            g = g.copy()
            b = id(g)
        leaf_bases.add(b)
        t.grad = Tensor._from_op(g, None, 0, False)
    else:
        t.grad._data += g
