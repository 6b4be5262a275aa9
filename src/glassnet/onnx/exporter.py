"""``export``: the example run, the walk, the graph's inputs and outputs, the checks and
the file."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, GlassnetError
from .converter import _CONVERTERS, ExportError, Exporter
from .graph import Graph, Value

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike, TensorLike
    from glassnet.nn.module import Module

__all__ = ["export", "supported_layers", "OnnxNotInstalledError", "DEFAULT_OPSET",
           "MIN_OPSET"]

DEFAULT_OPSET = 17
MIN_OPSET = 17


def supported_layers() -> list[str]:
    """The names of the module classes :func:`export` can write, sorted."""
    _load_converters()
    return sorted({c.__name__ for c in _CONVERTERS})


def _load_converters() -> None:
    from . import layers, models, transformer  # noqa: F401  (they register themselves)


class OnnxNotInstalledError(GlassnetError, ImportError):
    """The ``onnx`` package, which :func:`export` writes with, is not installed."""


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError as e:
        raise OnnxNotInstalledError("glassnet.onnx needs the 'onnx' package: pip install "
                                    "'glassnet[onnx]' (or pip install onnx onnxruntime)") from e
    return onnx


def _as_example(example_input: Any, model: Module) -> list[np.ndarray]:
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


def export(model: Module, example_input: TensorLike, path: PathLike, *,
           input_names: Sequence[str] | None = None,
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
    g = Graph(opset, model.dtype)
    ex = Exporter(g)
    g.keep_free(["output", "h_n", "c_n"] + list(output_names or []))
    in_name = g.reserve(_names(input_names, 1, ["input"], "input_names")[0])
    shape = list(x.shape)
    shape[axis] = None
    out = ex.module(model, "", Value(in_name, tuple(shape), x.dtype))
    outs = _flatten(out)
    expected = _run_glassnet(model, x)      # after the walk: a refused layer is named first
    if len(expected) != len(outs):
        raise ExportError(f"glassnet.onnx.export: the exported graph has {len(outs)} outputs, "
                          f"glassnet's model {len(expected)}")
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


def _dims(shape: Sequence[int | None], batch: int, dynamic: bool) -> list[str | int]:
    return [("batch" if dynamic else batch) if s is None else int(s) for s in shape]


def _names(given: Sequence[str] | None, n: int, default: list[str], what: str) -> list[str]:
    if given is None:
        return default
    if isinstance(given, str) or len(given) != n or \
            not all(isinstance(s, str) and s for s in given):
        raise ArgumentError(f"glassnet.onnx.export: {what} must be a list of {n} non-empty "
                            f"str, got {given!r}")
    if len(set(given)) != len(given):
        raise ArgumentError(f"glassnet.onnx.export: {what} has repeated names: {given!r}")
    return list(given)
