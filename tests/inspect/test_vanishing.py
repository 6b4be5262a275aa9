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
