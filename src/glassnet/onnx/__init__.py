"""ONNX export: ``glassnet.onnx.export(model, example_input, path)`` writes a model as an
ONNX graph, built with ``onnx.helper`` by walking the module tree (no tracing, no torch), so
that onnxruntime and every other ONNX runtime can run it.

The graph computes what the model computes in evaluation mode; its batch axis is dynamic.
A layer that cannot be expressed (a custom forward, Monte-Carlo dropout, an Embedding with
``max_norm``, ...) raises :class:`ExportError` naming its path in the model and its class.
``supported_layers()`` lists the module classes that export. Needs the ``onnx`` package
(``pip install 'glassnet[onnx]'``); it is imported when ``export`` runs.

>>> model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
>>> glassnet.onnx.export(model, np.zeros((1, 4), np.float32), "tiny.onnx")  # doctest: +SKIP
PosixPath('tiny.onnx')
"""
from __future__ import annotations

from .converter import ExportError
from .exporter import DEFAULT_OPSET, OnnxNotInstalledError, export, supported_layers

__all__ = ["export", "ExportError", "OnnxNotInstalledError", "supported_layers", "DEFAULT_OPSET"]
