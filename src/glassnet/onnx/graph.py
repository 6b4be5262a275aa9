"""The ONNX graph under construction: nodes, initializers and the shapes of the values.

A :class:`Value` is the name of a tensor in the graph and its shape, in which the batch axis
is ``None`` (the one dimension left dynamic); every other dimension is known, because the
exporter walks the model for one example input. :class:`Graph` adds nodes with
``onnx.helper`` and hands out unique names; :meth:`Graph.reduce` hides the one difference
between opsets 17 and 18+ that the exporter meets (``axes`` of the reductions became an
input in opset 18).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any, Literal, Sequence, overload

import numpy as np

__all__ = ["Value", "Graph"]


@dataclass(frozen=True)
class Value:
    """A tensor of the graph: its ``name`` and ``shape`` (``None`` marks the batch axis)."""

    name: str
    shape: tuple
    dtype: Any = np.float32

    @property
    def rank(self) -> int:
        return len(self.shape)


class Graph:
    """Nodes and initializers of one ONNX graph, built with ``onnx.helper``.

    Parameters
    ----------
    opset : int
        The ai.onnx opset the nodes are written for.
    dtype : numpy dtype
        The floating-point type of the model (constants are made in it).
    """

    def __init__(self, opset: int, dtype: Any = np.float32) -> None:
        import onnx
        self.onnx = onnx
        self.opset = int(opset)
        self.dtype = np.dtype(dtype)
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = set()
        self._public: set[str] = set()   # graph input / output names: never given to nodes
        self._consts: dict = {}

    def fresh(self, hint: str) -> str:
        """A name not used before, built from ``hint``."""
        base = "".join(c if c.isalnum() or c in "._/" else "_" for c in hint) or "t"
        name, k = base, 1
        while name in self._used or name in self._public:
            name = f"{base}_{k}"
            k += 1
        self._used.add(name)
        return name

    def keep_free(self, names: Iterable[str]) -> None:
        """Keep ``names`` for the graph's inputs and outputs (:meth:`fresh` avoids them)."""
        self._public.update(names)

    def reserve(self, name: str) -> str:
        """Claim ``name`` exactly (graph inputs and outputs)."""
        if name in self._used:
            raise ValueError(f"glassnet.onnx.export: the name {name!r} is used twice")
        self._used.add(name)
        return name

    def const(self, array: Any, hint: str = "const", dtype: Any = None) -> str:
        """An initializer holding ``array`` (in ``dtype``, default the model's float type
        for floating arrays); equal small constants are shared."""
        a = np.asarray(array)
        if dtype is not None:
            a = a.astype(dtype)
        elif a.dtype.kind == "f":
            a = a.astype(self.dtype)
        a = np.ascontiguousarray(a)
        key = None
        if a.size <= 16:
            key = (a.dtype.str, a.shape, a.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(a, name))
        if key is not None:
            self._consts[key] = name
        return name

    def scalar(self, value: float, hint: str = "c") -> str:
        """A 0-d constant of the model's float type."""
        return self.const(np.asarray(value, dtype=self.dtype), hint)

    def ints(self, values: Sequence[int], hint: str = "shape") -> str:
        """A 1-d int64 constant (shapes, axes, slice bounds)."""
        return self.const(np.asarray(list(values), dtype=np.int64), hint, np.int64)

    @overload
    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = ...,
           outputs: Literal[1] = ..., **attrs: Any) -> str:
        ...

    @overload
    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = ...,
           outputs: int = ..., **attrs: Any) -> str | list[str]:
        ...

    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = None,
           outputs: int = 1, **attrs: Any) -> str | list[str]:
        """Add one node; returns its output name (a list of names when ``outputs > 1``)."""
        hint = hint or op_type.lower()
        outs = [self.fresh(f"{hint}_{i}" if outputs > 1 else hint) for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs,
                                                     name=self.fresh(f"{hint}/{op_type}"),
                                                     **attrs))
        return outs[0] if outputs == 1 else outs

    def reduce(self, op_type: str, x: str, axes: Sequence[int], keepdims: bool = True,
               hint: str | None = None) -> str:
        """ReduceMean / ReduceMax / ReduceSum over ``axes`` in the form the opset wants."""
        if self.opset >= 18 or op_type == "ReduceSum":
            return self.op(op_type, [x, self.ints(axes, "axes")], hint, keepdims=int(keepdims))
        return self.op(op_type, [x], hint, axes=list(axes), keepdims=int(keepdims))
