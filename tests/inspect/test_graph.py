import re
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


# Printed by the code before its restructuring (issue 13), object ids numbered in order of
# appearance: the walk (depth first from the loss) and every line must stay as they are.
DOT = [
    'digraph glassnet {',
    '  rankdir=BT;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  f0 [label="CrossEntropy\\n()", shape=box, style="rounded,filled", fillcolor="#f5b041"];',
    '  f1 -> f0;',
    '  f1 [label="Linear\\n(5, 2)", shape=box, style="rounded,filled", fillcolor="#e5e8e8"];',
    '  f2 -> f1;',
    '  t3 [label="2.weight\\n(2, 4)", shape=ellipse, style=filled, fillcolor="#aed6f1"];',
    '  t3 -> f1;',
    '  t4 [label="2.bias\\n(2,)", shape=ellipse, style=filled, fillcolor="#aed6f1"];',
    '  t4 -> f1;',
    '  f2 [label="ReLU\\n(5, 4)", shape=box, style="rounded,filled", fillcolor="#e5e8e8"];',
    '  f5 -> f2;',
    '  f5 [label="Linear\\n(5, 4)", shape=box, style="rounded,filled", fillcolor="#e5e8e8"];',
    '  t6 [label="input (5, 3)", shape=ellipse, style=filled, fillcolor="#f2f3f4"];',
    '  t6 -> f5;',
    '  t7 [label="0.weight\\n(4, 3)", shape=ellipse, style=filled, fillcolor="#aed6f1"];',
    '  t7 -> f5;',
    '  t8 [label="0.bias\\n(4,)", shape=ellipse, style=filled, fillcolor="#aed6f1"];',
    '  t8 -> f5;',
    '}',
]
SHARED = [
    'digraph glassnet {',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  f0 [label="Sum\\n()", shape=box, style="rounded,filled", fillcolor="#f5b041"];',
    '  f1 -> f0;',
    '  f1 [label="Add\\n(1, 2)", shape=box, style="rounded,filled", fillcolor="#e5e8e8"];',
    '  f2 -> f1;',
    '  t3 [label="leaf (2,)", shape=ellipse, style=filled, fillcolor="#d5f5e3"];',
    '  t3 -> f1;',
    '  f2 [label="Mul\\n(1, 2)", shape=box, style="rounded,filled", fillcolor="#e5e8e8"];',
    '  t3 -> f2;',
    '  t4 [label="input (1, 2)", shape=ellipse, style=filled, fillcolor="#f2f3f4"];',
    '  t4 -> f2;',
    '}',
]


def _numbered(dot):
    ids = {}
    return re.sub(r"\b([ft])\d+\b",
                  lambda m: ids.setdefault(m.group(0), f"{m.group(1)}{len(ids)}"), dot)


def test_graph_text_is_pinned(tmp_path):
    model, loss = _loss()
    assert _numbered(ins.graph(loss, params=model)).split("\n") == DOT
    pairs = _numbered(ins.graph(loss, params=list(model.named_parameters()),
                                path=tmp_path / "g.dot"))
    assert pairs.split("\n") == DOT
    assert _numbered((tmp_path / "g.dot").read_text()).split("\n") == DOT
    a = gn.tensor([1.0, 2.0], requires_grad=True)
    shared = (a * gn.tensor([[3.0, 4.0]]) + a).sum()   # a leaf used twice is drawn once
    assert _numbered(ins.graph(shared, rankdir="LR")).split("\n") == SHARED


def test_render_dot_checks_the_suffix(tmp_path):
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz's `dot` program was not found"):
            ins.render_dot("digraph {}", tmp_path / "g.svg")
    else:
        with pytest.raises(ValueError, match="must end in .svg, .png or .pdf"):
            ins.render_dot("digraph {}", tmp_path / "g.jpg")
