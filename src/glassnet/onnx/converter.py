"""The walk over a module tree that writes the ONNX graph: the registry of converters and
:class:`Exporter`, which dispatches a module to its converter and holds the helpers the
converters share.

Each supported module class has a converter ``convert(ex, module, path, x) -> Value`` (or a
tuple of Values for the recurrent layers) registered with :func:`converts`. The walk looks a
module's class up in that registry; a class that is not there, a subclass that overrides
``forward`` (it computes something the converter does not know), a module with forward hooks
or an instance-level ``forward`` all raise :class:`ExportError` naming the module's path in
the model and its class, never an ONNX file that computes something else.
"""
from __future__ import annotations

from typing import Any, Callable, NoReturn, Sequence, Union

import numpy as np

from ..errors import GlassnetError
from .graph import Graph, Value

__all__ = ["ExportError", "Exporter", "converts"]

_CONVERTERS: dict[type, Callable] = {}


class ExportError(GlassnetError, RuntimeError):
    """A model (or one layer of it) that glassnet cannot write as ONNX; the message names
    the layer's path in the model and its class."""


def converts(*classes: type) -> Callable:
    """Register the decorated function as the ONNX converter of ``classes``."""
    def register(fn: Callable) -> Callable:
        for c in classes:
            _CONVERTERS[c] = fn
        return fn
    return register


# what a converter returns: one Value, or (for the recurrent layers) a nesting of tuples
Output = Union[Value, tuple]


def _label(path: str) -> str:
    return path or "<model>"


class Exporter:
    """The state of one export: the graph, and helpers that add common patterns."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph

    # -------------------------------------------------------------- dispatch
    def fail(self, module: Any, path: str, why: str) -> NoReturn:
        """Raise ExportError naming the layer at ``path`` and its class."""
        raise ExportError(f"glassnet.onnx.export: cannot export layer '{_label(path)}' "
                          f"({type(module).__name__}): {why}")

    def converter_for(self, module: Any, path: str) -> Callable:
        """The converter of ``module``'s class; ExportError when there is none, or when
        the module may compute something else (hooks, an overridden forward)."""
        cls = type(module)
        d = module.__dict__
        if d.get("_forward_hooks") or d.get("_forward_pre_hooks"):
            self.fail(module, path, "it has forward hooks, which may change what it computes")
        if "forward" in d:
            self.fail(module, path, "its forward was replaced on the instance")
        for base in cls.__mro__:
            fn = _CONVERTERS.get(base)
            if fn is None:
                continue
            if base is not cls:
                # a subclass is the base only if it computes what the base computes
                for k in cls.__mro__[:cls.__mro__.index(base)]:
                    if "forward" in k.__dict__ or "__call__" in k.__dict__:
                        self.fail(module, path, f"it subclasses {base.__name__} but overrides "
                                  f"{'forward' if 'forward' in k.__dict__ else '__call__'}, "
                                  "which the exporter cannot follow")
            return fn
        return self.fail(module, path, "no ONNX converter for this layer (a custom forward "
                         "cannot be traced; supported: see glassnet.onnx.supported_layers())")

    def module(self, module: Any, path: str, x: Output) -> Output:
        """Convert ``module`` applied to ``x`` (a Value, or what the previous layer gave)."""
        fn = self.converter_for(module, path)
        return fn(self, module, path, x)

    def child(self, parent_path: str, name: str) -> str:
        """The path of child ``name`` of the module at ``parent_path``."""
        return f"{parent_path}.{name}" if parent_path else name

    def tensor(self, x: Output, module: Any, path: str) -> Value:
        """``x`` as one Value (the recurrent layers give tuples, which a next layer refuses,
        as glassnet itself would)."""
        if not isinstance(x, Value):
            self.fail(module, path, "its input is a tuple (the output of a recurrent layer); "
                      "glassnet would refuse it too")
        return x

    # --------------------------------------------------------------- helpers
    def hint(self, path: str, what: str) -> str:
        """A node-name hint: the layer's path, then what the node does."""
        return f"{path}/{what}" if path else what

    def same(self, x: Value, name: str) -> Value:
        """The Value called ``name`` with ``x``'s shape and dtype."""
        return Value(name, x.shape, x.dtype)

    def unary(self, op_type: str, x: Value, path: str, **attrs: Any) -> Value:
        """One elementwise node on ``x``."""
        return self.same(x, self.g.op(op_type, [x.name], self.hint(path, op_type.lower()),
                                      **attrs))

    def binary(self, op_type: str, a: str, b: str, path: str, hint: str | None = None) -> str:
        """One two-input node; returns its output's name."""
        return self.g.op(op_type, [a, b], self.hint(path, hint or op_type.lower()))

    def reshape(self, x: Value, shape: Sequence, path: str) -> Value:
        """Reshape to ``shape`` (at most one None: the batch axis, written -1)."""
        shape = tuple(None if s is None else int(s) for s in shape)
        if shape == tuple(x.shape):
            return x
        if sum(s is None for s in shape) > 1:
            raise ExportError(f"glassnet.onnx.export: layer '{_label(path)}': a reshape to "
                              f"{shape} has two dynamic axes")
        target = [-1 if s is None else s for s in shape]
        name = self.g.op("Reshape", [x.name, self.g.ints(target)], self.hint(path, "reshape"))
        return Value(name, shape, x.dtype)

    def transpose(self, x: Value, perm: Sequence[int], path: str) -> Value:
        """``x`` with its axes permuted."""
        perm = [int(p) for p in perm]
        name = self.g.op("Transpose", [x.name], self.hint(path, "transpose"), perm=perm)
        return Value(name, tuple(x.shape[p] for p in perm), x.dtype)

    def slice(self, x: Value, axis: int, start: int, end: int, path: str) -> Value:
        """``x[start:end]`` along ``axis`` (a static axis)."""
        axis %= x.rank
        name = self.g.op("Slice", [x.name, self.g.ints([start]), self.g.ints([end]),
                                   self.g.ints([axis])], self.hint(path, "slice"))
        shape = list(x.shape)
        shape[axis] = len(range(x.shape[axis])[start:end])
        return Value(name, tuple(shape), x.dtype)

    def concat(self, values: Sequence[Value], axis: int, path: str) -> Value:
        """The values joined along ``axis``."""
        axis %= values[0].rank
        name = self.g.op("Concat", [v.name for v in values], self.hint(path, "concat"),
                         axis=axis)
        shape = list(values[0].shape)
        if shape[axis] is not None:
            shape[axis] = sum(v.shape[axis] for v in values)
        return Value(name, tuple(shape), values[0].dtype)

    def linear(self, x: Value, weight: np.ndarray, bias: np.ndarray | None, path: str) -> Value:
        """y = x W^T + b (W (out, in), as nn.Linear)."""
        out = int(weight.shape[0])
        if x.rank == 2:
            ins = [x.name, self.g.const(weight, self.hint(path, "weight"))]
            if bias is not None:
                ins.append(self.g.const(bias, self.hint(path, "bias")))
            name = self.g.op("Gemm", ins, self.hint(path, "gemm"), transB=1)
        else:
            name = self.g.op("MatMul", [x.name, self.g.const(np.ascontiguousarray(weight.T),
                                                             self.hint(path, "weight_t"))],
                             self.hint(path, "matmul"))
            if bias is not None:
                name = self.binary("Add", name, self.g.const(bias, self.hint(path, "bias")),
                                   path)
        return Value(name, tuple(x.shape[:-1]) + (out,), x.dtype)

    def softplus(self, x: Value, path: str, beta: float = 1.0, threshold: float = 20.0) -> str:
        """glassnet's softplus: (1/beta) ln(1 + e^{beta x}) in the stable form
        max(t, 0) + ln(1 + e^{-|t|}), and x itself where beta x > threshold."""
        g = self.g
        h = self.hint(path, "softplus")
        t = x.name if beta == 1.0 else g.op("Mul", [x.name, g.scalar(beta)], h)
        e = g.op("Exp", [g.op("Neg", [g.op("Abs", [t], h)], h)], h)
        sp = g.op("Add", [g.op("Relu", [t], h),
                          g.op("Log", [g.op("Add", [e, g.scalar(1.0)], h)], h)], h)
        if beta != 1.0:
            sp = g.op("Div", [sp, g.scalar(beta)], h)
        lin = g.op("Greater", [t, g.scalar(threshold)], h)
        return g.op("Where", [lin, x.name, sp], h)

    def where_ge(self, x: Value, threshold: float, high: float, low: float, path: str) -> Value:
        """``high`` where x >= threshold, ``low`` elsewhere (the threshold units)."""
        g = self.g
        h = self.hint(path, "threshold")
        cond = g.op("GreaterOrEqual", [x.name, g.scalar(threshold)], h)
        return self.same(x, g.op("Where", [cond, g.scalar(high), g.scalar(low)], h))

    def channel_param(self, x: Value, p: np.ndarray, path: str, what: str) -> str:
        """A per-channel vector (axis 1 of x) as a constant that broadcasts against x."""
        p = np.asarray(p)
        shape = (p.size,) + (1,) * (x.rank - 2) if x.rank >= 2 else (p.size,)
        return self.g.const(p.reshape(shape), self.hint(path, what))
