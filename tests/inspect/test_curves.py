"""Training curves and reconstruction grids, drawn without pyplot (headless, backend left alone)."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet.inspect as ins
from glassnet.training import History

SRC = Path(__file__).resolve().parents[2] / "src" / "glassnet"
PNG = b"\x89PNG\r\n\x1a\n"


def _history(**cols):
    h = History()
    for e, vals in enumerate(zip(*cols.values())):
        h.append(e, dict(zip(cols, vals)))
    return h


def _lines(ax):
    return {ln.get_label(): ln.get_ydata() for ln in ax.get_lines()
            if not ln.get_label().startswith("_")}


def test_plot_stage_losses_one_panel_per_stage(tmp_path):
    pytest.importorskip("matplotlib")
    stages = [("level 1", _history(loss=[0.5, 0.3], val_loss=[0.6, 0.4])),
              ("fine-tuning", {"loss": [0.2, 0.1, 0.05]})]
    fig = ins.plot_stage_losses(stages, tmp_path / "s.png", train_label="train (corrupted)",
                                val_label="validation (clean)")
    assert [a.get_title() for a in fig.axes] == ["level 1", "fine-tuning"]
    first, second = (_lines(a) for a in fig.axes)
    np.testing.assert_allclose(first["train (corrupted)"], [0.5, 0.3])
    np.testing.assert_allclose(first["validation (clean)"], [0.6, 0.4])
    assert list(second) == ["train (corrupted)"]      # no validation in that stage
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="no stages"):
        ins.plot_stage_losses([])
    with pytest.raises(ValueError, match="stage 'x' has no 'loss'"):
        ins.plot_stage_losses([("x", {"accuracy": [1.0]})])


def test_plot_text_curves_by_step_and_by_epoch(tmp_path):
    pytest.importorskip("matplotlib")
    h = _history(loss=[2.0, 1.5], val_loss=[2.1, 1.7])
    ax = ins.plot_text_curves(h, tmp_path / "e.png").axes[0]
    assert ax.get_xlabel() == "epoch" and "nats" in ax.get_ylabel()
    np.testing.assert_allclose(_lines(ax)["validation"], [2.1, 1.7])
    h.params["steps"] = [{"step": 10, "loss": 2.5, "val_loss": 2.6},
                         {"step": 20, "loss": 2.0, "val_loss": 2.2}]
    ax = ins.plot_text_curves(h, tmp_path / "s.png").axes[0]
    assert ax.get_xlabel() == "step"
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [10, 20])
    np.testing.assert_allclose(_lines(ax)["train"], [2.5, 2.0])
    # the dict a history.json holds works as well
    ax = ins.plot_text_curves(h.to_dict()).axes[0]
    assert ax.get_xlabel() == "step"
    assert (tmp_path / "e.png").read_bytes()[:8] == PNG


def test_plot_reconstructions_grid(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    X = rng.random((12, 64))
    fig = ins.plot_reconstructions([X, X * 2, X - 1], ["in", "out", "shifted"], (1, 8, 8),
                                   tmp_path / "r.png", n=5)
    assert [a.get_ylabel() for a in fig.axes] == ["in", "out", "shifted"]
    img = fig.axes[1].get_images()[0].get_array()
    assert img.shape == (8, 5 * 8 + 4)              # five 8x8 images, 1-pixel gaps
    assert np.nanmax(img) <= 1.0 and np.nanmin(fig.axes[2].get_images()[0].get_array()) >= 0
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array()[:, :8],
                               X[0].reshape(8, 8))
    png = (tmp_path / "r.png").read_bytes()
    assert png[:8] == PNG and len(png) > 2000
    # images with their shape need none; n is capped by the shortest row
    fig = ins.plot_reconstructions([X.reshape(12, 1, 8, 8)[:3]], ["in"])
    assert fig.axes[0].get_images()[0].get_array().shape == (8, 3 * 8 + 2)
    with pytest.raises(ValueError, match="2 rows but 1 labels"):
        ins.plot_reconstructions([X, X], ["in"], (8, 8))
    with pytest.raises(ValueError, match=r"flat images \(shape \(12, 64\)\) need image_shape"):
        ins.plot_reconstructions([X], ["in"])
    with pytest.raises(ValueError, match=r"row 0 \('in'\) has shape \(12, 64\), not images "
                                         "of 7x7"):
        ins.plot_reconstructions([X], ["in"], (7, 7))


@pytest.mark.integration
def test_pictures_leave_the_matplotlib_backend_alone(tmp_path):
    """Every picture function writing a file, in a process whose backend is "template":
    afterwards the backend is unchanged and pyplot was never imported (no global state)."""
    pytest.importorskip("matplotlib")
    code = f"""
import sys, matplotlib, numpy as np
import glassnet as gn
import glassnet.inspect as ins
from glassnet import nn
before = matplotlib.get_backend()
out = {str(tmp_path)!r} + "/"
hist = {{"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}}
X = np.random.default_rng(0).random((6, 64))
ins.plot_learning_curves(hist, out + "lc.png")
ins.plot_stage_losses([("a", hist)], out + "st.png")
ins.plot_text_curves(hist, out + "tx.png")
ins.plot_reconstructions([X, X], ["a", "b"], (8, 8), out + "rc.png")
ins.plot_timestep_gradients({{"rnn": np.exp(-np.arange(5.0))}}, out + "ts.png")
ins.plot_confusion_matrix([[3, 1], [0, 4]], out + "cm.png")
cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
ins.plot_filters(cnn, out + "fi.png")
ins.plot_feature_maps(cnn, X[0].reshape(8, 8), out + "fm.png")
mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
ins.hinton(mlp[0], path=out + "hi.png")
ins.plot_decision_boundary(mlp, X[:, :2], np.arange(6) % 2, path=out + "db.png",
                           resolution=20)
print(before, matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    env = {**os.environ, "MPLBACKEND": "template"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-3:] == ["template", "template", "False"], r.stdout
    for name in ("lc", "st", "tx", "rc", "ts", "cm", "fi", "fm", "hi", "db"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG, name


def _matplotlib_calls(tree):
    """(line, what) for every matplotlib.use(...) call and every pyplot import in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "use" and \
                    isinstance(f.value, ast.Name) and f.value.id in ("matplotlib", "mpl"):
                found.append((node.lineno, "matplotlib.use"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module == "matplotlib" and names & {"use", "pyplot"} or \
                    node.module.startswith("matplotlib.pyplot"):
                found.append((node.lineno, f"from {node.module} import {sorted(names)}"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if a.name.startswith("matplotlib.pyplot")]
    return found


def test_no_library_module_chooses_a_backend_or_imports_pyplot():
    """Library code draws on matplotlib.figure.Figure: ``matplotlib.use`` would switch a
    user's interactive backend, pyplot keeps global figures open (MPLBACKEND=Agg in
    .ci/run is only a safety net)."""
    offenders = [f"{p.relative_to(SRC.parent)}:{line}: {what}"
                 for p in sorted(SRC.rglob("*.py"))
                 for line, what in _matplotlib_calls(ast.parse(p.read_text(), str(p)))]
    assert offenders == []


def test_the_static_check_finds_what_it_looks_for():
    src = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
           "from matplotlib import pyplot\nfrom matplotlib.figure import Figure\n")
    assert sorted(line for line, _ in _matplotlib_calls(ast.parse(src))) == [2, 3, 4]
