import re

import numpy as np
import pytest

import glassnet.inspect as ins
from glassnet import nn
from glassnet.autograd import Function


def test_gradcheck_model_passes_for_a_correct_model():
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    X = np.random.default_rng(0).normal(size=(6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    rep = ins.gradcheck_model(model, nn.CrossEntropyLoss(), X, y)
    assert rep.ok, rep
    assert set(rep.as_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert rep.worst < 1e-5
    assert rep["0.weight"]["checked"] == 20
    assert "backprop agrees" in str(rep)
    assert model[0].weight.dtype == np.float32   # the user's model is untouched


class WrongSquare(Function):
    """A deliberately wrong custom layer: forward z^2, backward claims 3 z."""

    def forward(self, z):
        self.z = z
        return z * z

    def backward(self, g):
        return g * 3 * self.z


class Square(nn.Module):
    def forward(self, x):
        return WrongSquare.apply(x)


def test_gradcheck_model_finds_a_wrong_custom_layer():
    model = nn.Sequential(nn.Linear(3, 4), Square(), nn.Linear(4, 1))
    X = np.random.default_rng(1).normal(size=(5, 3))
    y = np.random.default_rng(2).normal(size=(5, 1))
    rep = ins.gradcheck_model(model, nn.MSELoss(), X, y)
    assert not rep.ok
    assert rep["0.weight"]["max_rel_error"] > 0.1      # below the bad layer: wrong
    assert rep["2.weight"]["max_rel_error"] < 1e-5     # above it: right
    assert "MISMATCH" in str(rep)


def test_gradcheck_model_samples_large_parameters():
    model = nn.Sequential(nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 2))
    X = np.random.default_rng(0).normal(size=(4, 30))
    rep = ins.gradcheck_model(model, nn.CrossEntropyLoss(), X, np.array([0, 1, 1, 0]),
                              max_per_param=25)
    assert rep["0.weight"]["checked"] == 25
    assert rep.ok, rep
    with pytest.raises(KeyError, match="no parameter"):
        rep["nope"]


def _linear():
    model = nn.Sequential(nn.Linear(3, 2)).double()
    model[0].weight.numpy()[...] = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]
    model[0].bias.numpy()[...] = [0.05, -0.05]
    return model


def test_gradcheck_rows_and_table_are_pinned():
    model = _linear()
    X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    y = np.array([[0.5, 0.0], [1.0, -1.0]])
    rep = ins.gradcheck_model(model, nn.MSELoss(reduction="sum", half=True), X, y,
                              max_per_param=4, seed=0)
    w, b = rep.rows
    assert list(w) == ["name", "shape", "checked", "max_rel_error", "max_abs_error",
                       "worst_index", "analytic", "numeric", "ok"]
    assert (w["name"], w["shape"], w["checked"]) == ("0.weight", (2, 3), 4)
    assert (b["name"], b["shape"], b["checked"]) == ("0.bias", (2,), 2)
    # four of the six weights, drawn by default_rng(seed) and sorted
    chosen = np.sort(np.random.default_rng(0).choice(6, size=4, replace=False))
    assert np.ravel_multi_index(w["worst_index"], (2, 3)) in chosen
    # E = 1/2 sum (W x + b - y)^2: dE/dW = (out - y)^T X, dE/db = sum of (out - y)
    r = X @ model[0].weight.numpy().T + model[0].bias.numpy() - y
    assert w["analytic"] == pytest.approx((r.T @ X)[w["worst_index"]], abs=1e-12)
    assert b["analytic"] == pytest.approx(r.sum(0)[b["worst_index"]], abs=1e-12)
    for row in rep.rows:
        assert abs(row["analytic"] - row["numeric"]) == pytest.approx(row["max_abs_error"])
        assert row["ok"] and row["max_rel_error"] < 1e-6
    lines = str(rep).split("\n")
    assert lines[0] == ("parameter                shape           checked  max rel err  "
                        "max abs err  ok")
    assert re.fullmatch(r"0\.weight {17}\(2, 3\) {16}4 {4}\d\.\d{3}e-\d\d {4}\d\.\d{3}e-\d\d  yes",
                        lines[1])
    assert re.fullmatch(r"0\.bias {19}\(2,\) {18}2 {4}\d\.\d{3}e-\d\d {4}\d\.\d{3}e-\d\d  yes",
                        lines[2])
    assert re.fullmatch(r"worst relative error \d\.\d{3}e-\d\d: backprop agrees", lines[3])
    assert repr(rep) == str(rep)
    assert rep.as_dict() == {"0.weight": w["max_rel_error"], "0.bias": b["max_rel_error"]}


def test_gradcheck_skips_frozen_parameters_and_checks_its_arguments():
    model = _linear()
    model[0].weight.requires_grad = False
    rep = ins.gradcheck_model(model, "mse", np.ones((2, 3)), np.zeros((2, 2)))
    assert [r["name"] for r in rep.rows] == ["0.bias"] and rep.ok
    with pytest.raises(ValueError, match="gradcheck_model: the loss must be a scalar, got "
                                         r"shape \(2, 2\)"):
        ins.gradcheck_model(model, nn.MSELoss(reduction="none"), np.ones((2, 3)),
                            np.zeros((2, 2)))
    with pytest.raises(TypeError, match="gradcheck_model: loss must be a loss module, a "
                                        "callable or a name, got int"):
        ins.gradcheck_model(model, 3, np.ones((2, 3)), np.zeros((2, 2)))
