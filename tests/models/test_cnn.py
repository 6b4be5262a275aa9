"""models.cnn: LeNet and SmallVGG shapes, and short real-data trainings (MNIST, and the
examples' protocol on Fashion-MNIST)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.models.cnn import LeNet, SmallVGG

# ------------------------------------------------------------------ models
def test_models_shapes_and_json_args():
    for M in (LeNet, SmallVGG):
        m = M(in_channels=1, num_classes=10)
        assert m(gn.randn(3, 1, 28, 28)).shape == (3, 10)
        json.dumps(m.init_args)
    with pytest.raises(ValueError, match="LeNet"):
        LeNet()(gn.randn(2, 1, 32, 32))


@pytest.mark.integration
def test_lenet_learns_mnist_subset(data_dir, one_blas_thread):
    from glassnet import data, optim
    X, y = data.load_mnist(data_dir / "mnist", split="train")
    Xt, yt = data.load_mnist(data_dir / "mnist", split="test")
    X, y, Xt, yt = X[:5000], y[:5000], Xt[:1000], yt[:1000]
    X, Xt = (X - 0.1307) / 0.3081, (Xt - 0.1307) / 0.3081
    gn.manual_seed(0)
    model = LeNet()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    for _ in range(3):
        idx = rng.permutation(len(X))
        for i in range(0, len(X), 64):
            b = idx[i:i + 64]
            loss = loss_fn(model(X[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with gn.no_grad():
        acc = float((model(Xt).numpy().argmax(1) == yt).mean())
    # 3 seeds gave 0.954, 0.958, 0.936 (LeNet-5 reaches ~0.99 on the full set)
    assert acc >= 0.92, acc


@pytest.mark.integration
def test_example_protocol_learns_fashion_subset(data_dir, one_blas_thread):
    # the examples' protocol (examples/_cnn_common.py: Trainer, validation split from the
    # training images, early stopping on validation accuracy, test set used once), shortened
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        from _cnn_common import load_split, run
    finally:
        sys.path.pop(0)
    folder = data_dir / "fashion-mnist"
    out = run("fashion", "lenet", epochs=3, limit=5000, val=1000, patience=2, seed=0,
              verbose=0, data_dir=folder)
    r, hist = out["result"], out["history"]
    assert (r["train_size"], r["val_size"], r["epochs_run"]) == (5000, 1000, 3)
    assert r["best_val_accuracy"] == pytest.approx(max(hist["val_accuracy"]), abs=1e-6)
    assert hist["lr"][0] > hist["lr"][-1]                   # the cosine schedule ran
    # the model was restored to the best validation epoch
    (Xtr, _), (Xva, yva), (Xte, _) = load_split("fashion", 1000, 5000, 0, folder)
    assert len(Xtr) == 5000 and len(Xte) == 10000
    val = out["trainer"].evaluate(Xva, yva)["accuracy"]
    assert val == pytest.approx(r["best_val_accuracy"], abs=1e-6)
    # 3 seeds gave 0.760, 0.753, 0.755 test accuracy (LeNet on all 55k: ~0.91)
    assert r["test_accuracy"] >= 0.72, r


# ---------------------------------------------------------------- issue 17: any channels, any size
@pytest.mark.parametrize("M,kw,flat", [(LeNet, {}, 16 * 6 * 6),
                                       (SmallVGG, {"widths": (4, 8, 16), "hidden": 12}, 16 * 4 * 4)])
def test_cnn_models_take_rgb_32x32_and_round_trip(M, kw, flat, tmp_path):
    m = M(in_channels=3, num_classes=5, input_size=32, **kw)
    x = gn.randn(2, 3, 32, 32)
    assert m(x).shape == (2, 5)
    fc = [layer for layer in m.classifier if isinstance(layer, nn.Linear)][0]
    assert fc.in_features == flat
    gn.save(m, tmp_path / "m.safetensors")
    back = gn.load(tmp_path / "m.safetensors")
    assert back.input_size == (32, 32) and back.in_channels == 3
    m.eval(), back.eval()
    np.testing.assert_allclose(back(x).numpy(), m(x).numpy(), rtol=1e-6)
    r = M(in_channels=2, input_size=(28, 36), **kw)         # not square
    assert r(gn.randn(1, 2, 28, 36)).shape == (1, 10)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, 32, 32\)"):
        m(gn.randn(2, 3, 28, 28))


def test_cnn_defaults_unchanged_and_too_small_inputs_refused():
    assert sum(p.numel() for p in LeNet().parameters()) == 61_706
    assert LeNet().classifier[1].in_features == 400
    assert SmallVGG().classifier[2].in_features == 1152
    with pytest.raises(ValueError, match="too small"):
        LeNet(input_size=8)
    with pytest.raises(ValueError, match="too small"):
        SmallVGG(input_size=4)
    with pytest.raises(ValueError, match="input_size"):
        LeNet(input_size=0)


def test_smallvgg_default_floors_without_a_shape_warning():
    import warnings
    from glassnet.errors import ShapeWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShapeWarning)
        assert SmallVGG()(gn.randn(1, 1, 28, 28)).shape == (1, 10)   # 7 -> 3 by design
        LeNet(in_channels=3, input_size=32)(gn.randn(1, 3, 32, 32))
