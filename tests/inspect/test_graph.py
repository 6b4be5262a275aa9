import shutil

import numpy as np
import pytest

import glassnet as gn
import glassnet.inspect as ins
from glassnet import nn


def _loss():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    out = model(np.ones((5, 3), dtype=np.float32))
    return model, nn.CrossEntropyLoss()(out, np.array([0, 1, 0, 1, 1]))


def test_graph_dot_text_names_functions_shapes_and_parameters():
    model, loss = _loss()
    dot = ins.graph(loss, params=model)
    assert dot.startswith("digraph glassnet {") and dot.rstrip().endswith("}")
    assert dot.count("Linear\\n(5, 4)") == 1 and "Linear\\n(5, 2)" in dot
    assert "ReLU\\n(5, 4)" in dot and "CrossEntropy\\n()" in dot
    assert "0.weight\\n(4, 3)" in dot and "2.bias\\n(2,)" in dot
    assert "input (5, 3)" in dot
    # 4 function nodes, 4 parameters + 1 input leaf, 3 + 4 + 1 edges
    assert dot.count("shape=box") == 4 and dot.count("shape=ellipse") == 5
    assert dot.count("->") == 8
    loss.backward()
    with pytest.raises(RuntimeError, match="freed"):
        ins.graph(loss)


def test_graph_writes_dot_and_renders_svg(tmp_path):
    model, loss = _loss()
    ins.graph(loss, params=model, path=tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed (apt install graphviz)")
    ins.graph(loss, params=model, path=tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "CrossEntropy" in svg and "0.weight" in svg


def test_graph_of_a_leaf_and_bad_input():
    t = gn.tensor([1.0, 2.0], requires_grad=True)
    assert "leaf (2,)" in ins.graph(t)
    with pytest.raises(TypeError, match="Tensor"):
        ins.graph(np.ones(3))
