"""The MLP benchmark's hand-written NumPy step is the same computation as glassnet's."""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mlp.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_mlp", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_hand_written_numpy_step_matches_glassnet_autograd():
    bm = _bench()
    X, y = bm.make_data(n=512)
    ref = bm.NumpyRunner(X, y)
    x, t = X[:64], y[:64]
    loss, gW, gb = ref.loss_and_grads(x, t)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    for li, k in enumerate((0, 2, 4)):
        model[k].weight.numpy()[...] = ref.W[li]
        model[k].bias.numpy()[...] = ref.b[li]
    out = nn.CrossEntropyLoss()(model(gn.tensor(x)), t)
    out.backward()
    assert abs(out.item() - loss) < 1e-5
    for li, k in enumerate((0, 2, 4)):
        np.testing.assert_allclose(model[k].weight.grad.numpy(), gW[li], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(model[k].bias.grad.numpy(), gb[li], rtol=1e-4, atol=1e-6)


@pytest.mark.integration
def test_hand_written_numpy_step_learns():
    bm = _bench()
    X, y = bm.make_data(n=2048)
    ref = bm.NumpyRunner(X, y)
    first = ref.steps(1)
    for _ in range(15):
        last = ref.steps(10)
    assert last < 0.8 * first
