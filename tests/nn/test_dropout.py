"""nn.Dropout, Dropout2d, DropConnect and Monte-Carlo dropout prediction (the Functions'
checks are in tests/functional/test_dropout.py)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet import nn
from glassnet.nn.dropout import enable_mc_dropout, mc_predict


R = np.random.default_rng(2)


def test_dropout_module_train_eval():
    m = nn.Dropout(0.5)
    x = gn.Tensor(np.ones((100, 100), np.float32))
    assert np.mean(m(x).numpy() == 0) > 0.4
    m.eval()
    assert m(x) is x
    m.mc = True
    assert np.mean(m(x).numpy() == 0) > 0.4
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"   # torch's repr


def test_dropout2d_drops_whole_channels():
    x = gn.Tensor(np.ones((20, 30, 4, 4), np.float32))
    out = nn.Dropout2d(0.5)(x).numpy()
    per_map = out.reshape(20, 30, 16)
    assert np.all(per_map.min(axis=2) == per_map.max(axis=2))  # each map all 0 or all 2
    assert set(np.unique(out)) == {0.0, 2.0}
    assert 0.35 < np.mean(out == 0) < 0.65


def test_dropconnect_eval_is_linear_and_training_drops_weights():
    gn.manual_seed(0)
    dc = nn.DropConnectLinear(6, 3, p=0.5)
    lin = nn.Linear(6, 3)
    lin.load_state_dict(dc.state_dict())
    assert list(dc.state_dict()) == ["weight", "bias"]
    x = gn.Tensor(R.standard_normal((8, 6)).astype(np.float32))
    dc.eval()
    np.testing.assert_array_equal(dc(x).numpy(), lin(x).numpy())
    dc.train()
    gn.manual_seed(4)
    out = dc(x)
    gn.manual_seed(4)
    mask = F.dropout(gn.Tensor(np.ones((3, 6), np.float32)), 0.5).numpy()
    w, b = dc.weight.numpy(), dc.bias.numpy()
    np.testing.assert_allclose(out.numpy(), x.numpy() @ (w * mask).T + b, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(dc.weight.grad.numpy()[mask == 0], 0.0)
    assert np.all(dc.weight.grad.numpy()[mask != 0] != 0)
    np.testing.assert_allclose(dc.bias.grad.numpy(), 8.0)
    dc2 = nn.DropConnectLinear.from_linear(lin, p=0.2)
    np.testing.assert_array_equal(dc2.weight.numpy(), lin.weight.numpy())
    with pytest.raises(ValueError, match=r"DropConnectLinear\(6, 3\)"):
        dc(gn.randn(2, 5))


def _mc_model(p):
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Dropout(p), nn.Linear(32, 2))


def test_enable_mc_dropout_keeps_sampling_in_eval():
    m = nn.Sequential(nn.Linear(3, 16), nn.Dropout(0.5), nn.DropConnectLinear(16, 2, p=0.5))
    x = R.standard_normal((4, 3)).astype(np.float32)
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), m(x).numpy())
    mods = enable_mc_dropout(m)
    assert len(mods) == 2 and all(mod.mc for mod in mods)
    assert not np.array_equal(m(x).numpy(), m(x).numpy())
    enable_mc_dropout(m, False)
    np.testing.assert_array_equal(m(x).numpy(), m(x).numpy())


def test_mc_predict_interval_contains_mean_and_narrows_as_p_goes_to_0():
    x = R.standard_normal((10, 3)).astype(np.float32)
    widths = []
    for p in (0.5, 0.1, 0.0):
        m = _mc_model(p)
        m.train()
        mean, lo, hi = mc_predict(m, x, samples=40, ci=0.9)
        assert mean.shape == lo.shape == hi.shape == (10, 2)
        assert np.all(lo <= mean + 1e-6) and np.all(mean <= hi + 1e-6)
        widths.append(float(np.mean(hi - lo)))
        assert m.training and not m[2].mc  # modes restored
    assert widths[0] > widths[1] > widths[2] == 0.0


def test_mc_predict_errors_and_determinism():
    m = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="mc_predict: the model has no Dropout"):
        mc_predict(m, np.zeros((2, 3)))
    m = _mc_model(0.3)
    with pytest.raises(ValueError, match="samples must be an integer >= 2"):
        mc_predict(m, np.zeros((2, 3)), samples=1)
    gn.manual_seed(9)
    a = mc_predict(m, np.ones((2, 3)), samples=5)
    gn.manual_seed(9)
    b = mc_predict(m, np.ones((2, 3)), samples=5)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_mc_predict_std_and_a_custom_predict():
    m = _mc_model(0.3)
    x = R.standard_normal((6, 3)).astype(np.float32)
    gn.manual_seed(3)
    mean, lo, hi, std = mc_predict(m, x, samples=30, ci=0.8, return_std=True)
    gn.manual_seed(3)
    m.eval()
    enable_mc_dropout(m)
    with gn.no_grad():
        draws = np.stack([m(x).numpy() for _ in range(30)])
    enable_mc_dropout(m, False)
    np.testing.assert_allclose(mean, draws.mean(0), rtol=1e-6)
    np.testing.assert_allclose(std, draws.std(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(lo, np.percentile(draws, 10, axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hi, np.percentile(draws, 90, axis=0), rtol=1e-5, atol=1e-6)
    assert std.shape == (6, 2) and np.all(std > 0)
    # predict= computes one draw (here: halves of the batch, then a softmax)
    gn.manual_seed(3)

    def halves(a):
        z = np.concatenate([m(a[:3]).numpy(), m(a[3:]).numpy()])
        return np.exp(z) / np.exp(z).sum(1, keepdims=True)
    pm, plo, phi = mc_predict(m, x, samples=30, predict=halves)
    np.testing.assert_allclose(pm.sum(1), 1.0, rtol=1e-5)
    assert not m[2].mc and m.training is False


def test_trainer_predict_mc_is_mc_predict():
    from glassnet.training import Trainer
    m = _mc_model(0.4)
    t = Trainer(m, nn.CrossEntropyLoss())
    m.eval()
    x = R.standard_normal((9, 3)).astype(np.float32)
    gn.manual_seed(5)
    a = t.predict_proba(x, batch_size=4, mc_samples=12, ci=0.9)
    gn.manual_seed(5)
    b = mc_predict(m, x, samples=12, ci=0.9,
                   predict=lambda v: t._proba(t.predict(v, batch_size=4)))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    gn.manual_seed(6)
    c = t.predict(x, batch_size=None, mc_samples=12)
    gn.manual_seed(6)
    d = mc_predict(m, x, samples=12)                   # one batch: the same draws
    for u, v in zip(c, d):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(ValueError, match="samples must be an integer >= 2"):
        t.predict(x, mc_samples=1)
