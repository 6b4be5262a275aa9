"""The playground's numbers are glassnet's: training equals a hand-written glassnet loop with
the same seed, a unit's δ and ∂E/∂w equal autograd on the same weights and batch, the model
file and the script reproduce the run."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.playground import datasets as D
from glassnet.playground.export import model_bytes
from glassnet.playground.session import Session

REPO = Path(__file__).resolve().parents[2]


def hand_written_run(cfg, steps):
    """The run of ``cfg`` written out with glassnet only (no playground code)."""
    X, y = D.make_dataset(cfg["dataset"], cfg["n_samples"], cfg["noise"], cfg["seed"])
    tr, _ = D.split(len(X), cfg["test_ratio"], cfg["seed"])
    F = D.features(X, cfg["features"])
    Xtr, ytr = F[tr], y[tr].astype(np.float32)[:, None]
    gn.manual_seed(cfg["seed"])
    model = nn.Sequential(nn.Linear(len(cfg["features"]), 5), nn.ReLU(), nn.Linear(5, 3),
                          nn.ReLU(), nn.Linear(3, 1), nn.Tanh())
    opt = optim.Adam(model.parameters(), lr=cfg["lr"])
    epoch, pos = 0, 0
    order = np.random.default_rng([cfg["seed"] + 1, 0]).permutation(len(tr))
    for _ in range(steps):
        idx = order[pos:pos + cfg["batch_size"]]
        opt.zero_grad()
        loss = nn.MSELoss()(model(gn.tensor(Xtr[idx])), gn.tensor(ytr[idx]))
        pen = sum(((lin.weight * lin.weight).sum() * 0.5 for lin in model
                   if isinstance(lin, nn.Linear)), gn.tensor(0.0)) * cfg["reg_rate"]
        (loss + pen).backward()
        opt.step()
        pos += len(idx)
        if pos >= len(order):
            epoch, pos = epoch + 1, 0
            order = np.random.default_rng([cfg["seed"] + 1, epoch]).permutation(len(tr))
    return model


CFG = {"dataset": "spiral", "noise": 10, "n_samples": 200, "features": ["x1", "x2", "x1*x2"],
       "hidden": [5, 3], "activation": "relu", "optimizer": "adam", "lr": 0.01, "batch_size": 7,
       "regularization": "l2", "reg_rate": 0.001, "seed": 3, "grid": 10}


def test_training_equals_glassnet_run_directly():
    s = Session(CFG)
    steps = 40      # more than an epoch (100 training points / 7)
    for _ in range(steps):
        s.train_step()
    ref = hand_written_run(s.config, steps)
    for (k, a), (k2, b) in zip(s.model.state_dict().items(), ref.state_dict().items()):
        assert k == k2
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    s.close()


def test_seeded_and_reproducible():
    a, b = Session(CFG), Session(CFG)
    for _ in range(15):
        a.train_step()
        b.train_step()
    for x, y in zip(a.state()["weights"], b.state()["weights"]):
        np.testing.assert_array_equal(x, y)
    a.close(), b.close()


@pytest.mark.parametrize("layer, unit", [(1, 0), (1, 4), (2, 2), (3, 0)])
def test_unit_numbers_equal_autograd(layer, unit):
    s = Session({**CFG, "activation": "tanh", "regularization": "none"})
    for _ in range(9):
        s.train_step()
    u = s.unit(layer, unit)
    X, y = s.current_batch()
    assert u["batch"] == s.last_batch.tolist()
    # the same weights and batch, by plain autograd in float64
    ref = gn.load(io.BytesIO(model_bytes(s)), dtype=np.float64)   # same weights, float64
    zs = []
    h = gn.tensor(X.astype(np.float64))
    for m in ref:
        h = m(h)
        if isinstance(m, nn.Linear):
            h.retain_grad()
            zs.append(h)
    E = nn.MSELoss()(h, gn.tensor(y.astype(np.float64)))
    E.backward()
    lin = [m for m in ref if isinstance(m, nn.Linear)][layer - 1]
    np.testing.assert_allclose(u["delta"], zs[layer - 1].grad.numpy()[:, unit], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(u["dE_dw"], lin.weight.grad.numpy()[unit], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(u["dE_db"], lin.bias.grad.numpy()[unit], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(u["weights"], s.model.state_dict()[f"{2 * (layer - 1)}.weight"].numpy()[unit])
    assert abs(u["loss"] - float(E.item())) < 1e-9
    # and glassnet's own trace gives the same numbers
    t = gn.inspect.trace(s.model, X, y, nn.MSELoss())
    np.testing.assert_allclose(u["delta"], t.layers[layer - 1]["delta"][:, unit])
    s.close()


def test_export_round_trip():
    from glassnet.playground.export import load_model_bytes
    s = Session(CFG)
    for _ in range(12):
        s.train_step()
    data = model_bytes(s)
    assert b"pickle" not in data[:200]
    m = gn.load(io.BytesIO(data))
    assert m.metadata["playground"] == s.config and m.metadata["step"] == 12
    X = D.features(D.grid(10), CFG["features"])
    s.model.eval()
    np.testing.assert_allclose(m(gn.tensor(X)).numpy(), s.model(gn.tensor(X)).numpy(), atol=1e-6)
    t = Session({"dataset": "circle"})
    load_model_bytes(t, data)
    assert t.config == s.config
    for a, b in zip(t.state()["weights"], s.state()["weights"]):
        np.testing.assert_array_equal(a, b)
    assert abs(t.history["test"][-1] - s.losses()[1]) < 1e-6
    s.close(), t.close()


def test_script_reproduces_the_run(tmp_path):
    from glassnet.playground.export import script
    s = Session(CFG)
    for _ in range(20):
        s.train_step()
    (tmp_path / "run.py").write_text(script(s))
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    m = gn.load(tmp_path / "playground-model.safetensors")
    for (k, a), b in zip(s.model.state_dict().items(), m.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    assert f"{s.losses()[1]:.6f}" in r.stdout
    s.close()


def test_datasets_are_bounded_and_labelled():
    for name in D.DATASETS:
        X, y = D.make_dataset(name, 300, 0, seed=0)
        assert X.shape == (300, 2) and np.abs(X).max() <= 6.5, name
        if name in D.CLASSIFICATION:
            assert set(np.unique(y)) == {-1.0, 1.0} and abs(y.mean()) < 0.2, name
        else:
            assert np.abs(y).max() <= 1, name
    with pytest.raises(ValueError, match="dataset must be one of"):
        D.make_dataset("swirl", 10, 0, 0)
