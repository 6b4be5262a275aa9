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
