"""The ``glassnet`` command: the main job (train on the embedded digits) end to end."""
import json
import subprocess
import sys

import numpy as np
import pytest

from glassnet import data, io
from glassnet.cli.main import main


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--out", str(out), "--verbose", "0"]) == 0
    return out


@pytest.mark.integration
def test_default_train_reaches_97_percent_on_digits(digits_run):
    files = {p.name for p in digits_run.iterdir()}
    assert {"model.safetensors", "history.json", "metrics.json", "config.json",
            "learning_curve.png"} <= files
    m = json.loads((digits_run / "metrics.json").read_text())
    assert m["test_accuracy"] >= 0.97
    cm = np.array(m["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == m["test_samples"]
    h = json.loads((digits_run / "history.json").read_text())
    assert len(h["history"]["val_accuracy"]) == m["epochs"]
    png = (digits_run / "learning_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


@pytest.mark.integration
def test_evaluate_predict_info(digits_run, tmp_path, capsys):
    model = digits_run / "model.safetensors"
    assert main(["evaluate", str(model)]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("accuracy ")[1].split()[0])
    assert acc == pytest.approx(json.loads((digits_run / "metrics.json").read_text())
                                ["test_accuracy"], abs=1e-4)
    X, y = data.load_digits()
    np.save(tmp_path / "x.npy", X[:20] / 16)
    assert main(["predict", str(model), str(tmp_path / "x.npy")]) == 0
    pred = np.array(capsys.readouterr().out.split(), dtype=int)
    assert np.mean(pred == y[:20]) >= 0.9
    assert main(["info", str(model)]) == 0
    assert "glassnet.models.mlp.MLP" in capsys.readouterr().out
    assert io.read_metadata(model)["extra"]["dataset"] == "digits"


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.safetensors")]) == 2
    assert "no model file" in capsys.readouterr().err
    # a usage error is reported like any other (one line, 2), not raised as SystemExit
    assert main(["train", "--dataset", "cifar"]) == 2
    assert "argument --dataset: invalid choice: 'cifar'" in capsys.readouterr().err


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "glassnet.cli.main", "--help"],
                       capture_output=True, text=True, check=True)
    assert "train" in r.stdout and "evaluate" in r.stdout


@pytest.mark.integration
def test_cnn_run_with_report_and_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cnn"
    assert main(["train", "--model", "cnn", "--epochs", "2", "--limit", "400", "--report",
                 "--out", str(out), "--verbose", "0"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"filters.png", "feature_maps.png", "learning_curve.png", "report.html"} <= names
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html.split("<body")[1][:20000]
    assert "glassnet: cnn on digits" in html
    m = gn_load(out / "model.safetensors")
    assert m(np.zeros((1, 1, 8, 8), np.float32)).shape == (1, 10)


def gn_load(p):
    import glassnet as gn
    return gn.load(p)


def test_inspect_vanishing_command(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["inspect", "vanishing", "--out", str(tmp_path / "v")]) == 0
    assert (tmp_path / "v" / "vanishing.png").exists()
    assert "sigmoid" in capsys.readouterr().out
