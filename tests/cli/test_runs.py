"""glassnet.cli.runs: the run folder, its JSON files and the datasets every command shares."""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import io, nn, training
from glassnet.cli import runs
from glassnet.cli.main import main

NOON = datetime.datetime(2025, 1, 2, 12, 0, 5)


# ------------------------------------------------------------------ run folder
def test_run_dir_names_by_the_clock_and_never_reuses_a_folder(tmp_path):
    root = tmp_path / "runs"
    first = runs.run_dir(None, root=root, now=NOON)
    assert first == root / "20250102-120005" and first.is_dir()
    (first / "metrics.json").write_text("{\"kept\": 1}")
    second = runs.run_dir(None, root=root, now=NOON)
    third = runs.run_dir(None, root=root, now=NOON)
    assert (second.name, third.name) == ("20250102-120005-1", "20250102-120005-2")
    assert second.is_dir() and third.is_dir() and not any(second.iterdir())
    assert json.loads((first / "metrics.json").read_text()) == {"kept": 1}
    # the default clock gives the same YYYYmmdd-HHMMSS form
    now = runs.run_dir(None, root=root)
    assert re.fullmatch(r"\d{8}-\d{6}(-\d+)?", now.name) and now.parent == root


def test_run_dir_with_out_creates_parents_and_writes_into_an_existing_folder(tmp_path):
    out = runs.run_dir(tmp_path / "a" / "b")
    assert out == tmp_path / "a" / "b" and out.is_dir()
    (out / "x.txt").write_text("x")
    assert runs.run_dir(str(out)) == out and (out / "x.txt").read_text() == "x"


def test_default_train_twice_in_the_same_second_makes_two_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runs, "_now", lambda: NOON)
    for _ in range(2):
        assert main(["train", "--epochs", "1", "--limit", "200", "--verbose", "0"]) == 0
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert folders == ["20250102-120005", "20250102-120005-1"]
    for name in folders:
        cfg = json.loads((tmp_path / "runs" / name / "config.json").read_text())
        assert cfg["out"] == str(Path("runs") / name)
        assert cfg["command"] == "train" and cfg["epochs"] == 1 and cfg["limit"] == 200


# ------------------------------------------------------------------ JSON files
def test_write_json_converts_paths_and_numpy_values(tmp_path):
    obj = {"out": Path("runs/x"), "acc": np.float32(0.5), "n": np.int64(3),
           "cm": np.eye(2, dtype=np.int64), "nested": [Path("a"), None, "s"]}
    path = runs.write_json(tmp_path / "m.json", obj)
    assert json.loads(path.read_text()) == {"out": "runs/x", "acc": 0.5, "n": 3,
                                            "cm": [[1, 0], [0, 1]], "nested": ["a", None, "s"]}
    with pytest.raises(TypeError, match="cannot write a object"):
        runs.write_json(tmp_path / "bad.json", {"x": object()})


def test_write_run_writes_model_history_metrics_and_config(tmp_path):
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    history = training.History()
    history.append(0, {"loss": 1.5, "val_loss": 1.25})
    args = argparse.Namespace(command="train", out=tmp_path, epochs=1, hidden=[4], lr=None)
    metrics = {"test_accuracy": np.float64(0.75), "confusion_matrix": [[1, 0], [1, 2]]}
    runs.write_run(tmp_path, args, model, history, metrics, {"task": "classify", "seed": 0})
    assert {p.name for p in tmp_path.iterdir()} == {"model.safetensors", "history.json",
                                                    "metrics.json", "config.json"}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "test_accuracy": 0.75, "confusion_matrix": [[1, 0], [1, 2]]}
    assert json.loads((tmp_path / "config.json").read_text()) == {
        "command": "train", "out": str(tmp_path), "epochs": 1, "hidden": [4], "lr": None}
    assert json.loads((tmp_path / "history.json").read_text())["history"]["loss"] == [1.5]
    loaded = io.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded[0].weight.numpy(), model[0].weight.numpy())
    assert io.read_metadata(tmp_path / "model.safetensors")["extra"]["task"] == "classify"


# ------------------------------------------------------------------ arguments
def test_option_and_one_width():
    ns = argparse.Namespace(a=None, b=0, c="x")
    assert runs.option(ns, "a", 5) == 5 and runs.option(ns, "missing", 7) == 7
    assert runs.option(ns, "b", 5) == 0 and runs.option(ns, "c") == "x"
    assert runs.one_width(None) is None and runs.one_width([]) is None
    assert runs.one_width([128]) == 128 and runs.one_width(64) == 64
    with pytest.raises(ValueError, match=r"--hidden: this model takes one width, got \[8, 4\]"):
        runs.one_width([8, 4])


def test_load_images_digits_and_unknown_names():
    Xtr, ytr, Xte, yte, shape = runs.load_images("digits")
    assert shape == (1, 8, 8) and Xtr.shape[1] == Xte.shape[1] == 64
    assert len(Xtr) + len(Xte) == 1797 and abs(len(Xte) - 0.2 * 1797) <= 10
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0
    np.testing.assert_allclose(np.bincount(yte) / len(yte), np.bincount(ytr) / len(ytr),
                               atol=0.01)   # stratified
    with pytest.raises(ValueError, match="--dataset: expected one of digits, mnist, "
                                         "fashion-mnist, got 'cifar'"):
        runs.load_images("cifar")


def test_draw_turns_a_missing_matplotlib_into_a_note(capsys):
    def plot_something(x, path=None):
        raise ImportError("No module named 'matplotlib'")
    assert runs.draw(plot_something, 1, path="p.png") is None
    err = capsys.readouterr().err
    assert "(no plot_something: No module named 'matplotlib'; pip install glassnet[plot])" in err
    assert runs.draw(lambda x, y=0: x + y, 1, y=2) == 3


# ------------------------------------------------------------------ commands
def test_train_without_matplotlib_still_writes_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib now fails
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--verbose", "0"]) == 0
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "history.json",
                                               "metrics.json", "config.json"}
    err = capsys.readouterr().err
    assert "(no plot_learning_curves:" in err and "pip install glassnet[plot]" in err


def test_command_errors_name_the_problem(tmp_path, capsys):
    ae = tmp_path / "ae"
    assert main(["train", "--task", "autoencoder", "--epochs", "1", "--limit", "100",
                 "--out", str(ae), "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(ae / "model.safetensors")]) == 2
    assert "is not a classifier written by `glassnet train` (its task is 'autoencoder')" in \
        capsys.readouterr().err
    assert main(["train", "--dataset", "mnist", "--model", "lstm"]) == 2
    assert "recurrent models train on --dataset text, not mnist" in capsys.readouterr().err
    assert main(["train", "--task", "autoencoder", "--hidden", "8,4", "--out",
                 str(tmp_path / "x"), "--verbose", "0"]) == 2
    assert "--hidden: this model takes one width" in capsys.readouterr().err


@pytest.mark.integration
def test_commands_leave_the_matplotlib_backend_alone(tmp_path):
    """Every picture of every command is drawn without pyplot: a user's backend (here the
    non-interactive "template") is never switched and pyplot is never even imported."""
    pytest.importorskip("matplotlib")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question.\n" * 20)
    code = f"""
import sys, matplotlib
from glassnet.cli.main import main
before = matplotlib.get_backend()
out = {str(tmp_path)!r}
for argv in (["train", "--model", "cnn", "--epochs", "1", "--limit", "100", "--report"],
             ["train", "--task", "autoencoder", "--stacked", "16,8", "--epochs", "1"],
             ["train", "--dataset", "text", "--text", {str(corpus)!r}, "--epochs", "1",
              "--hidden", "8"]):
    assert main(argv + ["--out", out + "/" + argv[2], "--verbose", "0"]) == 0, argv
print(before, matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    env = {**os.environ, "MPLBACKEND": "template"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       check=True)
    assert r.stdout.split()[-3:] == ["template", "template", "False"], r.stdout + r.stderr
    for folder, png in (("cnn", "feature_maps.png"), ("autoencoder", "reconstructions.png"),
                        ("text", "learning_curve.png")):
        assert (tmp_path / folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_and_sample_a_character_transformer(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question.\n" * 40)
    out = tmp_path / "gpt"
    assert main(["train", "--model", "transformer", "--text", str(corpus), "--epochs", "2",
                 "--hidden", "16", "--out", str(out), "--verbose", "0"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert metrics["units"] == "nats per character" and metrics["epochs"] == 2
    assert len(history["history"]["val_loss"]) == 2
    model = gn.load(out / "model.safetensors")
    assert type(model).__name__ == "CharTransformer" and model.d_model == 16
    capsys.readouterr()
    assert main(["sample", str(out), "--prime", "to be", "--length", "30", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("to be") and len(text.rstrip("\n")) == 35
    assert main(["train", "--model", "transformer", "--hidden", "18", "--text", str(corpus),
                 "--out", str(tmp_path / "bad"), "--verbose", "0"]) == 2
    assert "multiple of the 4 attention heads" in capsys.readouterr().err
    assert main(["train", "--dataset", "mnist", "--model", "transformer"]) == 2
    assert "the transformer language model trains on --dataset text" in capsys.readouterr().err
