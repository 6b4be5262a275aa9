"""The walk over a module tree that writes the ONNX graph, and ``export``.

Each supported module class has a converter ``convert(ex, module, path, x) -> Value`` (or a
tuple of Values for the recurrent layers) registered with :func:`converts`. The walk looks a
module's class up in that registry; a class that is not there, a subclass that overrides
``forward`` (it computes something the converter does not know), a module with forward hooks
or an instance-level ``forward`` all raise :class:`ExportError` naming the module's path in
the model and its class, never an ONNX file that computes something else.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, GlassnetError
from .graph import Graph, Value

__all__ = ["ExportError", "export", "converts", "supported_layers", "DEFAULT_OPSET",
           "MIN_OPSET"]

DEFAULT_OPSET = 17
MIN_OPSET = 17

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


def supported_layers() -> list[str]:
    """The names of the module classes :func:`export` can write, sorted."""
    _load_converters()
    return sorted({c.__name__ for c in _CONVERTERS})


def _load_converters() -> None:
    from . import layers, models  # noqa: F401  (they register themselves)


def _require_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("glassnet.onnx needs the 'onnx' package: pip install "
                          "'glassnet[onnx]' (or pip install onnx onnxruntime)") from e
    return onnx


def _label(path: str) -> str:
    return path or "<model>"


class Exporter:
    """The state of one export: the graph, and helpers that add common patterns."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph

    # -------------------------------------------------------------- dispatch
    def fail(self, module, path: str, why: str):
        raise ExportError(f"glassnet.onnx.export: cannot export layer '{_label(path)}' "
                          f"({type(module).__name__}): {why}")

    def converter_for(self, module, path: str) -> Callable:
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
        self.fail(module, path, "no ONNX converter for this layer (a custom forward cannot "
                  "be traced; supported: see glassnet.onnx.supported_layers())")

    def module(self, module, path: str, x):
        """Convert ``module`` applied to ``x`` (a Value, or what the previous layer gave)."""
        fn = self.converter_for(module, path)
        return fn(self, module, path, x)

    def child(self, parent_path: str, name: str) -> str:
        return f"{parent_path}.{name}" if parent_path else name

    def tensor(self, x, module, path: str) -> Value:
        """``x`` as one Value (the recurrent layers give tuples, which a next layer refuses,
        as glassnet itself would)."""
        if not isinstance(x, Value):
            self.fail(module, path, "its input is a tuple (the output of a recurrent layer); "
                      "glassnet would refuse it too")
        return x

    # --------------------------------------------------------------- helpers
    def hint(self, path: str, what: str) -> str:
        return f"{path}/{what}" if path else what

    def same(self, x: Value, name: str) -> Value:
        return Value(name, x.shape, x.dtype)

    def unary(self, op_type: str, x: Value, path: str, **attrs) -> Value:
        return self.same(x, self.g.op(op_type, [x.name], self.hint(path, op_type.lower()),
                                      **attrs))

    def binary(self, op_type: str, a: str, b: str, path: str, hint: str | None = None) -> str:
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
        perm = [int(p) for p in perm]
        name = self.g.op("Transpose", [x.name], self.hint(path, "transpose"), perm=perm)
        return Value(name, tuple(x.shape[p] for p in perm), x.dtype)

    def slice(self, x: Value, axis: int, start: int, end: int, path: str) -> Value:
        axis %= x.rank
        name = self.g.op("Slice", [x.name, self.g.ints([start]), self.g.ints([end]),
                                   self.g.ints([axis])], self.hint(path, "slice"))
        shape = list(x.shape)
        shape[axis] = len(range(x.shape[axis])[start:end])
        return Value(name, tuple(shape), x.dtype)

    def concat(self, values: Sequence[Value], axis: int, path: str) -> Value:
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
        g = self.g
        h = self.hint(path, "threshold")
        cond = g.op("GreaterOrEqual", [x.name, g.scalar(threshold)], h)
        return self.same(x, g.op("Where", [cond, g.scalar(high), g.scalar(low)], h))

    def channel_param(self, x: Value, p: np.ndarray, path: str, what: str) -> str:
        """A per-channel vector (axis 1 of x) as a constant that broadcasts against x."""
        p = np.asarray(p)
        shape = (p.size,) + (1,) * (x.rank - 2) if x.rank >= 2 else (p.size,)
        return self.g.const(p.reshape(shape), self.hint(path, what))


# ------------------------------------------------------------------ the export
def _as_example(example_input, model) -> list[np.ndarray]:
    from ..autograd.tensor import Tensor
    items = example_input if isinstance(example_input, (tuple, list)) else [example_input]
    if len(items) != 1:
        raise ArgumentError(f"glassnet.onnx.export: example_input must be one array or "
                            f"Tensor (glassnet's exportable models take one input), got "
                            f"{len(items)} inputs")
    out = []
    for a in items:
        if isinstance(a, Tensor):
            a = a._data
        try:
            a = np.asarray(a)
        except Exception as e:   # noqa: BLE001
            raise ArgumentTypeError(f"glassnet.onnx.export: example_input must be an array "
                                    f"or Tensor, got {type(a).__name__}") from e
        if a.dtype.kind not in "fiu" or a.ndim == 0:
            raise ArgumentError(f"glassnet.onnx.export: example_input must be a numeric "
                                f"array with a batch axis, got dtype {a.dtype}, shape "
                                f"{a.shape}")
        if a.dtype.kind == "f":
            a = a.astype(model.dtype)
        elif a.dtype not in (np.int32, np.int64):
            a = a.astype(np.int64)
        out.append(np.ascontiguousarray(a))
    return out


def _batch_axis(model) -> int:
    """Axis 1 for time-major recurrent input (T, N, ...), axis 0 otherwise."""
    from ..nn.container import Sequential
    from ..nn.embedding import Embedding
    from ..nn.recurrent import RNNBase
    m = model
    while type(m) is Sequential and len(m):
        first = list(m)
        m = first[1] if isinstance(first[0], Embedding) and len(first) > 1 else first[0]
    if isinstance(m, RNNBase) and not m.batch_first:
        return 1
    return 0


def _flatten(out) -> list:
    if isinstance(out, (tuple, list)):
        return [v for o in out for v in _flatten(o)]
    return [out]


def _run_glassnet(model, x: np.ndarray) -> list[np.ndarray]:
    from ..autograd.function import no_grad
    from ..autograd.tensor import Tensor
    with no_grad():
        y = model(Tensor(x))
    return [np.asarray(t._data if isinstance(t, Tensor) else t) for t in _flatten(y)]


_ELEM = {np.dtype(np.float32): 1, np.dtype(np.float64): 11, np.dtype(np.int64): 7,
         np.dtype(np.int32): 6, np.dtype(np.float16): 10}


def export(model, example_input, path, *, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, dynamic_batch: bool = True,
           opset: int | None = None) -> Path:
    """Write ``model`` (in evaluation mode) as an ONNX file.

    The graph is built with ``onnx.helper`` by walking the module tree: every layer becomes
    the ONNX operators that compute what glassnet computes in evaluation mode (dropout is
    the identity, batch norm uses its running statistics, RReLU its mean slope). A layer
    that cannot be expressed raises :class:`ExportError` naming it.

    Parameters
    ----------
    model : glassnet.nn.Module
        The model; it is put in evaluation mode for the export and given back in the mode
        it had.
    example_input : array or Tensor
        One input batch; it fixes every dimension but the batch axis (axis 0, or 1 for a
        time-major recurrent layer). Integer arrays are token ids (Embedding, CharLM).
    path : str or PathLike
        Where to write the ``.onnx`` file (folders are created).
    input_names, output_names : list of str, optional
        Names of the graph's input (default ``["input"]``) and outputs (default
        ``["output"]``, or ``output``, ``h_n``, ``c_n`` for recurrent layers and CharLM).
    dynamic_batch : bool
        Leave the batch axis symbolic (``"batch"``), so that one file runs any batch size;
        False fixes it to the example's.
    opset : int, optional
        The ai.onnx opset (>= 17); default 17.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> glassnet.onnx.export(model, np.zeros((1, 4), np.float32), "mlp.onnx")  # doctest: +SKIP
    PosixPath('mlp.onnx')
    """
    from ..nn.module import Module
    if not isinstance(model, Module):
        raise ArgumentTypeError(f"glassnet.onnx.export: model must be a glassnet.nn.Module, "
                                f"got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"glassnet.onnx.export: path must be a str or PathLike, got "
                                f"{type(path).__name__}")
    opset = DEFAULT_OPSET if opset is None else opset
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or opset < MIN_OPSET:
        raise ArgumentError(f"glassnet.onnx.export: opset must be an int >= {MIN_OPSET}, got "
                            f"{opset!r}")
    onnx = _require_onnx()
    if opset > onnx.defs.onnx_opset_version():
        raise ArgumentError(f"glassnet.onnx.export: opset {opset} is newer than the installed "
                            f"onnx supports ({onnx.defs.onnx_opset_version()})")
    _load_converters()
    was_training = model.training
    model.eval()
    try:
        return _export(model, example_input, Path(path), input_names, output_names,
                       bool(dynamic_batch), int(opset), onnx)
    finally:
        model.train(was_training)


def _export(model, example_input, path, input_names, output_names, dynamic_batch, opset,
            onnx):
    from onnx import helper
    (x,) = _as_example(example_input, model)
    axis = _batch_axis(model)
    if x.ndim <= axis:
        raise ArgumentError(f"glassnet.onnx.export: example_input of shape {x.shape} has no "
                            f"batch axis {axis}")
    expected = _run_glassnet(model, x)
    g = Graph(opset, model.dtype)
    ex = Exporter(g)
    g.keep_free(["output", "h_n", "c_n"] + list(output_names or []))
    in_name = g.reserve(_names(input_names, 1, ["input"], "input_names")[0])
    shape = list(x.shape)
    shape[axis] = None
    out = ex.module(model, "", Value(in_name, tuple(shape), x.dtype))
    outs = _flatten(out)
    default_out = ["output"] if len(outs) == 1 else (
        ["output", "h_n"] if len(outs) == 2 else ["output", "h_n", "c_n"][:len(outs)] +
        [f"output_{i}" for i in range(3, len(outs))])
    names = _names(output_names, len(outs), default_out, "output_names")
    batch = x.shape[axis]
    graph_outputs = []
    for v, name, want in zip(outs, names, expected):
        got = tuple(batch if s is None else s for s in v.shape)
        if got != tuple(want.shape):    # the walk and glassnet disagree: never write that
            raise ExportError(f"glassnet.onnx.export: the exported graph's output "
                              f"{name!r} would have shape {got}, glassnet's has "
                              f"{tuple(want.shape)}")
        g.reserve(name)
        g.nodes.append(helper.make_node("Identity", [v.name], [name],
                                        name=g.fresh(f"{name}/Identity")))
        graph_outputs.append(helper.make_tensor_value_info(
            name, _ELEM[np.dtype(want.dtype)], _dims(v.shape, batch, dynamic_batch)))
    graph_inputs = [helper.make_tensor_value_info(in_name, _ELEM[x.dtype],
                                                  _dims(shape, batch, dynamic_batch))]
    graph = helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs,
                              g.initializers)
    from .._version import __version__
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="glassnet", producer_version=__version__)
    proto.ir_version = min(proto.ir_version, _ir_version(opset))
    onnx.checker.check_model(proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(proto, str(path))
    return path


def _ir_version(opset: int) -> int:
    # the IR version that came with each opset (onnx/helper.py's VERSION_TABLE), so that a
    # runtime that knows the opset can read the file
    table = {17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 11, 25: 12}
    return table.get(opset, 12)


def _dims(shape, batch, dynamic):
    return [("batch" if dynamic else batch) if s is None else int(s) for s in shape]


def _names(given, n, default, what):
    if given is None:
        return default
    if isinstance(given, str) or len(given) != n or \
            not all(isinstance(s, str) and s for s in given):
        raise ArgumentError(f"glassnet.onnx.export: {what} must be a list of {n} non-empty "
                            f"str, got {given!r}")
    if len(set(given)) != len(given):
        raise ArgumentError(f"glassnet.onnx.export: {what} has repeated names: {given!r}")
    return list(given)
