import numpy as np
import pytest

import glassnet as gn
import glassnet.inspect as ins
from glassnet import nn

pytest.importorskip("matplotlib")


def _xor_net():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
    # a hand-set XOR solution: h1 = OR, h2 = AND, out = h1 and not h2
    m[0].weight.numpy()[...] = [[20, 20], [20, 20]]
    m[0].bias.numpy()[...] = [-10, -30]
    m[2].weight.numpy()[...] = [[20, -20]]
    m[2].bias.numpy()[...] = [-10]
    return m


def test_decision_boundary_xor_with_hyperplanes(tmp_path):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    fig = ins.plot_decision_boundary(_xor_net(), X, y, path=tmp_path / "xor.png",
                                     resolution=120)
    ax = fig.axes[0]
    assert (tmp_path / "xor.png").stat().st_size > 5000
    segs = [c for c in ax.collections if type(c).__name__ == "LineCollection"
            and len(c.get_segments()) == 2]
    assert segs, "the two first-layer hyperplanes are drawn"
    # the OR unit's line x1 + x2 = 0.5 passes through (0.5, 0)
    s = np.array(segs[0].get_segments()[0])
    d = np.abs(20 * s[:, 0] + 20 * s[:, 1] - 10)
    assert d.max() < 1e-6
    # the predicted regions are right at the four corners
    img = ax.images[0].get_array()
    assert img.shape == (120, 120, 3)


def test_decision_boundary_multiclass_and_bad_input():
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.arange(30) % 3
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 3))
    fig = ins.plot_decision_boundary(model, X, y, hyperplanes=False, resolution=50)
    assert fig.axes[0].get_title() == "Decision regions"
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        ins.plot_decision_boundary(model, np.ones((3, 3)), y[:3])


def test_hinton(tmp_path):
    lin = nn.Linear(4, 3)
    lin.weight.numpy()[...] = [[1, -1, 0.25, 0], [0.5, 0, 0, -0.5], [0, 0, 0, 1]]
    fig = ins.hinton(lin, tmp_path / "h.png")
    coll = fig.axes[0].collections[0]
    assert len(coll.get_paths()) == 12
    assert (tmp_path / "h.png").exists()
    with pytest.raises(ValueError, match="2-D"):
        ins.hinton(np.ones(3))


def test_montage_layout():
    tiles = np.arange(5 * 2 * 2, dtype=float).reshape(5, 2, 2)
    img = ins.montage(tiles, ncols=3, pad=1)
    assert img.shape == (2 * 3 - 1, 3 * 3 - 1)
    assert img[0, 0] == 0 and img[0, 3] == tiles[1, 0, 0] and img[3, 0] == tiles[3, 0, 0]
    assert np.isnan(img[2, 0]) and np.isnan(img[3, 6])


def test_filters_and_feature_maps(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(6 * 4 * 4, 10))
    ins.plot_filters(model, tmp_path / "f.png")
    img = np.random.default_rng(0).random((1, 8, 8))
    fig = ins.plot_feature_maps(model, img, tmp_path / "m.png")
    assert "Conv2d '0' + ReLU" in fig.axes[1].get_title()
    assert (tmp_path / "f.png").stat().st_size > 2000
    assert (tmp_path / "m.png").stat().st_size > 2000
    with pytest.raises(ValueError, match="no Conv"):
        ins.plot_filters(nn.Linear(2, 2))


def test_learning_curves_and_confusion(tmp_path):
    hist = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8], "accuracy": [0.5, 0.7, 0.8],
            "val_accuracy": [0.4, 0.6, 0.55], "lr": [0.1] * 3}
    fig = ins.plot_learning_curves(hist, tmp_path / "c.png")
    assert [a.get_title() for a in fig.axes] == ["loss", "accuracy"]
    assert (tmp_path / "c.png").exists()
    fig = ins.plot_confusion_matrix([[5, 1], [2, 7]], tmp_path / "cm.png")
    assert "0.800" in fig.axes[0].get_title()
    with pytest.raises(TypeError, match="History"):
        ins.plot_learning_curves([1, 2])
