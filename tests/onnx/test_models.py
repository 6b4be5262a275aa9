"""ONNX export of models whose forward uses fitted state (not only parameters)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet import onnx as gonnx

pytest.importorskip("onnx")


def test_prototypical_network_exports_with_its_prototypes(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from glassnet.models import PrototypicalNetwork
    gn.manual_seed(0)
    m = PrototypicalNetwork(nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(),
                                          nn.Linear(3 * 4 * 4, 8)))
    X = np.random.default_rng(0).normal(size=(40, 1, 6, 6)).astype(np.float32)
    with pytest.raises(gonnx.ExportError, match="call fit"):
        gonnx.export(m, gn.tensor(X[:2]), tmp_path / "unfit.onnx")
    m.fit(X, np.arange(40) % 5)
    m.eval()
    gonnx.export(m, gn.tensor(X[:2]), tmp_path / "proto.onnx")
    s = ort.InferenceSession(str(tmp_path / "proto.onnx"))
    for n in (1, 17):
        got = s.run(None, {s.get_inputs()[0].name: X[:n]})[0]
        np.testing.assert_allclose(got, m(gn.tensor(X[:n])).numpy(), atol=1e-5)
