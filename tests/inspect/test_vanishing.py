import json
import types

import numpy as np
import pytest

import glassnet.inspect as ins


def test_sigmoid_first_layer_gradient_vanishes():
    res = ins.vanishing_gradient_demo(depth=10, width=32, epochs=1, n_samples=256,
                                      batch_size=64)
    assert set(res) == {"sigmoid", "tanh", "relu", "relu+bn"}
    for act, r in res.items():
        assert len(r["per_layer"]) == 10 and np.all(np.isfinite(r["per_layer"])), act
    s, relu = res["sigmoid"], res["relu"]
    # orders of magnitude: at least 1000x smaller than ReLU's and than its own last layer
    assert s["first_layer"] < 1e-3 * relu["first_layer"]
    assert s["first_layer_init"] < 1e-3 * relu["first_layer_init"]
    assert s["ratio_first_to_last"] < 1e-3
    assert relu["ratio_first_to_last"] > 1e-1
    # the sigmoid profile shrinks layer by layer towards the input
    assert np.all(np.diff(np.log(s["per_layer"])) > 0)
    assert "sigmoid" in str(res)
    assert json.loads(res.to_json())["relu"]["first_layer"] == pytest.approx(
        relu["first_layer"])


def test_cli_inspect_vanishing(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from glassnet.cli import inspect_cmd
    from glassnet.inspect import vanishing
    real = vanishing.vanishing_gradient_demo

    def quick(**kw):   # the CLI's own settings, on fewer samples to keep the test short
        return real(n_samples=192, epochs=1, **kw)
    monkeypatch.setattr(ins, "vanishing_gradient_demo", quick)
    args = types.SimpleNamespace(what="vanishing", out=tmp_path, seed=0, verbose=0)
    assert inspect_cmd.run(args) == 0
    for f in ("vanishing.png", "vanishing.json", "vanishing.txt"):
        assert (tmp_path / f).stat().st_size > 100, f
    out = capsys.readouterr().out
    assert "sigmoid" in out and "times smaller than ReLU" in out
    data = json.loads((tmp_path / "vanishing.json").read_text())
    assert data["sigmoid"]["first_layer"] < 1e-3 * data["relu"]["first_layer"]


def test_build_deep_net_validates():
    with pytest.raises(ValueError, match="depth"):
        ins.build_deep_net("relu", depth=1)
    net = ins.build_deep_net("relu+bn", depth=3, width=5, n_in=4, n_out=2)
    names = [type(m).__name__ for m in net]
    assert names == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]


def _result():
    r = ins.VanishingResult()
    r["sigmoid"] = {"per_layer_init": np.array([1e-6, 1e-3, 0.1]),
                    "per_layer": np.array([2e-6, 2e-3, 0.2]), "first_layer_init": 1e-6,
                    "first_layer": 2e-6, "last_layer": 0.2, "ratio_first_to_last": 1e-5,
                    "loss": [2.5, 2.25], "accuracy": [0.1, 0.2], "steps": np.array([0, 1, 2]),
                    "first_layer_steps": np.array([1e-6, 1.5e-6, 2e-6]),
                    "layers": ["0", "2", "4"]}
    r["relu"] = dict(r["sigmoid"], first_layer=0.05, loss=[])
    return r


def test_vanishing_table_and_json_are_pinned(tmp_path):
    r = _result()
    assert r.table().split("\n") == [
        "activation  |dE/dW1| at init  |dE/dW1| trained  |dE/dWL| trained  first/last  "
        "final loss",
        "sigmoid            1.000e-06         2.000e-06         2.000e-01    1.00e-05      2.2500",
        "relu               1.000e-06         5.000e-02         2.000e-01    1.00e-05         nan"]
    text = r.to_json(tmp_path / "v.json")
    assert (tmp_path / "v.json").read_text() == text
    assert text.startswith('{\n "sigmoid": {\n  "per_layer_init": [\n   1e-06,\n')
    back = json.loads(text)
    assert back["relu"]["loss"] == [] and back["sigmoid"]["steps"] == [0, 1, 2]


def test_vanishing_picture_panels_are_pinned():
    pytest.importorskip("matplotlib")
    left, right = ins.plot_vanishing(_result()).axes
    assert (left.get_yscale(), left.get_xlabel(), left.get_ylabel(), left.get_title()) == \
        ("log", "layer (1 = next to the input)", "||dE/dW||",
         "Gradient norm per layer, 3-layer net (dotted: first batch)")
    assert [t.get_text() for t in left.get_legend().get_texts()] == \
        ["sigmoid (trained)", "relu (trained)"]
    assert [t.get_text() for t in left.get_xticklabels()] == ["1", "2", "3"]
    assert (right.get_yscale(), right.get_xlabel(), right.get_ylabel(), right.get_title()) == \
        ("log", "training step", "||dE/dW(1)||", "First-layer gradient norm during training")
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["sigmoid", "relu"]


def test_vanishing_demo_verbose_line(capsys):
    res = ins.vanishing_gradient_demo(depth=3, width=4, activations=("tanh",), epochs=1,
                                      n_samples=64, batch_size=32, verbose=1)
    r = res["tanh"]
    assert capsys.readouterr().out == (f"tanh     first-layer ||dE/dW|| {r['first_layer']:.3e}, "
                                       f"last layer {r['last_layer']:.3e}, loss "
                                       f"{r['loss'][-1]:.4f}\n")
    assert len(r["steps"]) == 2 and len(r["per_layer"]) == 3 and r["layers"] == ["0", "2", "4"]
    assert r["first_layer"] == pytest.approx(np.mean(r["first_layer_steps"][-2:]))
