"""What a new user tripped on (issue 16): ``glassnet predict`` says and checks the input
it expects (the preprocessing recorded in the model file), ``--data-dir`` and
``GLASSNET_DATA`` name the same folder, ``glassnet info`` takes a run folder and prints a
layer table, a failed run leaves no empty folder, and the README says what CI runs."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

try:
    import tomllib
except ImportError:   # Python 3.10: glassnet depends on tomli there
    import tomli as tomllib

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, nn, training
from glassnet.cli import runs
from glassnet.cli.main import main
from glassnet.errors import DataFileNotFoundError, ModelFileError

ROOT = Path(__file__).resolve().parents[2]


def _shared():
    """The data folder holding tinyshakespeare/ (None where there is none)."""
    try:
        return data.find_data_dir("tinyshakespeare", required=["input.txt"]).parent
    except DataFileNotFoundError:
        return None


SHARED = _shared()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A digits classifier written by `glassnet train` (2 epochs), raw and scaled samples."""
    d = tmp_path_factory.mktemp("newuser")
    assert main(["train", "--epochs", "2", "--out", str(d / "run"), "--verbose", "0"]) == 0
    X, y = data.load_digits()
    np.save(d / "raw.npy", X[:40])                  # pixel values 0..16, as load_digits gives
    np.save(d / "raw_int.npy", X[:40].astype(np.int64))
    np.save(d / "scaled.npy", X[:40] / 16)          # the model's scale, [0, 1]
    np.save(d / "bytes.npy", X[:40] * 255 / 16)     # 0..255: another dataset's raw scale
    return d


def _predict(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ preprocessing
def test_train_records_the_preprocessing_under_the_checksum(run, tmp_path):
    model = run / "run" / "model.safetensors"
    pre = io.read_metadata(model)["extra"]["preprocessing"]
    assert pre == {"input_shape": [1, 8, 8], "flatten": True, "dtype": "float32",
                   "raw": "pixel values 0..16, as glassnet.data.load_digits returns them",
                   "raw_range": [0.0, 16.0], "raw_integer": True, "mean": 0.0, "std": 16.0,
                   "range": [0.0, 1.0]}
    # the record is covered by the file's SHA-256: an edited scale is refused
    raw = model.read_bytes()
    assert raw.count(b'\\"std\\": 16.0') == 1
    edited = tmp_path / "edited.safetensors"
    edited.write_bytes(raw.replace(b'\\"std\\": 16.0', b'\\"std\\": 17.0'))
    with pytest.raises(ModelFileError, match="corrupt or was edited"):
        io.read_metadata(edited)


def test_wrongly_scaled_input_is_refused_with_the_expected_shape_and_range(run, capsys):
    model = run / "run" / "model.safetensors"
    code, out, err = _predict(capsys, model, run / "raw.npy")          # raw, no --raw
    assert code == 2 and not out
    assert "holds values in [0, 16], outside [0, 1], the range the model was trained on" in err
    assert "pass --raw" in err and "64 values per sample (1x8x8 images" in err
    code, out, err = _predict(capsys, model, run / "scaled.npy", "--raw")   # scaled as raw
    assert code == 2 and not out
    assert "holds fractional values" in err and "drop --raw" in err
    code, out, err = _predict(capsys, model, run / "bytes.npy", "--raw")    # 0..255 as raw
    assert code == 2 and "outside the raw range [0, 16] of the model" in err
    code, out, err = _predict(capsys, model, run / "bytes.npy")
    assert code == 2 and "outside [0, 1]" in err and "pass --raw" not in err


def test_raw_input_gives_the_python_apis_predictions(run, capsys):
    path = run / "run" / "model.safetensors"
    X, _ = data.load_digits()
    trainer = training.Trainer(gn.load(path), nn.CrossEntropyLoss())
    want = trainer.predict_classes(X[:40] / 16)
    for argv in ([run / "raw.npy", "--raw"], [run / "raw_int.npy", "--raw"],
                 [run / "scaled.npy"]):
        code, out, err = _predict(capsys, path, *argv)
        assert code == 0 and not err
        np.testing.assert_array_equal(np.array(out.split(), dtype=int), want)
    code, out, _ = _predict(capsys, run / "run", run / "raw.npy", "--raw", "--proba")
    assert code == 0      # a run folder names its model file
    got = np.loadtxt(out.splitlines(), delimiter=",")
    np.testing.assert_allclose(got, trainer.predict_proba(X[:40] / 16), atol=1e-6)


def test_a_file_without_the_record_takes_input_as_given(run, tmp_path, capsys):
    """Model files written before the record: predict as before; --raw cannot scale."""
    model = gn.load(run / "run" / "model.safetensors")
    meta = {k: v for k, v in model.metadata.items() if k != "preprocessing"}
    old = tmp_path / "old.safetensors"
    io.save(model, old, metadata=meta)
    code, out, _ = _predict(capsys, old, run / "scaled.npy")
    assert code == 0 and len(out.split()) == 40
    code, _, err = _predict(capsys, old, run / "raw.npy", "--raw")
    assert code == 2 and "records no preprocessing, so --raw cannot scale" in err


def test_predict_help_says_what_input_it_expects(capsys):
    assert main(["predict", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "values in [0, 1] (digits: pixel values 0..16 divided by 16" in text
    assert "--raw" in text and "glassnet info MODEL" in text


# ------------------------------------------------------------------ glassnet info
def test_info_of_a_run_folder_is_a_layer_table_input_and_metrics(run, capsys):
    assert main(["info", str(run / "run")]) == 0
    out = capsys.readouterr().out
    assert "glassnet.models.mlp.MLP([64, 256, 10], activation='relu', dropout=0.2)" in out
    assert not out.lstrip().startswith("{")
    model = gn.load(run / "run" / "model.safetensors")
    # one row per Linear layer with its parameter count (glassnet.summary's table, or the
    # fallback's where it is missing), the total
    rows = {n: line for line in out.splitlines() for n in ("net.0", "net.3")
            if re.match(rf"\s*{re.escape(n)}\b", line) and "Linear" in line}
    assert set(rows) == {"net.0", "net.3"}, out
    assert f"{64 * 256 + 256:,}" in rows["net.0"] and f"{256 * 10 + 10:,}" in rows["net.3"]
    assert f"{model.num_parameters():,}" in out
    assert "input         64 values per sample (1x8x8 images, one row each), float32, in " \
           "[0, 1]: pixel values 0..16" in out
    m = json.loads((run / "run" / "metrics.json").read_text())
    assert f"test_accuracy {m['test_accuracy']:.4g}" in out and "confusion_matrix" not in out
    # the model file itself gives the same
    assert main(["info", str(run / "run" / "model.safetensors")]) == 0
    assert capsys.readouterr().out == out.replace(str(run / "run" / "model.safetensors"),
                                                  str(run / "run" / "model.safetensors"))


def test_info_json_is_the_raw_metadata(run, capsys):
    assert main(["info", str(run / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == \
        io.read_metadata(run / "run" / "model.safetensors")


def test_info_of_a_folder_without_or_with_several_model_files(tmp_path, run, capsys):
    assert main(["info", str(tmp_path)]) == 2
    assert "no model file in the folder" in capsys.readouterr().err
    for name in ("a.safetensors", "b.safetensors"):
        (tmp_path / name).write_bytes((run / "run" / "model.safetensors").read_bytes())
    assert main(["info", str(tmp_path)]) == 2
    assert "holds 2 model files (a.safetensors, b.safetensors)" in capsys.readouterr().err
    (tmp_path / "b.safetensors").unlink()
    assert main(["info", str(tmp_path)]) == 0
    assert "a.safetensors" in capsys.readouterr().out


def test_info_without_glassnet_summary_falls_back_to_its_own_table(run, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_summary(name, *a, **k):
        if name.endswith("summary"):
            raise ImportError("no summary")
        return real(name, *a, **k)
    from glassnet.cli import info
    monkeypatch.setattr(builtins, "__import__", no_summary)
    table = info.layer_table(gn.load(run / "run" / "model.safetensors"), (64,))
    assert re.search(r"net\.0\s+Linear\s+16,640\s+yes", table), table
    assert "total parameters 19,210 (trainable 19,210)" in table


# ------------------------------------------------------------------ data folders
def _fake(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"x")
    return folder


FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_data_dir_takes_the_data_folder_or_the_datasets_own(tmp_path, monkeypatch):
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    mnist = _fake(tmp_path / "data" / "mnist", *FILES)
    # the data folder (what GLASSNET_DATA names) and the dataset's own folder both work
    assert data.find_data_dir("mnist", tmp_path / "data", required=FILES) == mnist
    assert data.find_data_dir("mnist", mnist, required=FILES) == mnist
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "data"))
    assert data.find_data_dir("mnist", required=FILES) == mnist
    monkeypatch.setenv("GLASSNET_DATA", str(mnist))      # named after the dataset: itself
    assert data.find_data_dir("mnist", required=FILES) == mnist
    # neither layout: the error names both
    _fake(tmp_path / "other", "README")
    with pytest.raises(DataFileNotFoundError, match=r"holds neither mnist/ with .* nor .* "
                                                    r"itself \(the dataset's own folder\)"):
        data.find_data_dir("mnist", tmp_path / "other", required=FILES)
    with pytest.raises(DataFileNotFoundError, match="set GLASSNET_DATA to the folder holding "
                                                    "no-such-set/"):
        data.find_data_dir("no-such-set", required=FILES)


@pytest.mark.skipif(SHARED is None or not (SHARED / "mnist").is_dir(),
                    reason="real datasets not found: set GLASSNET_DATA or put them in "
                    "../shared/data")
def test_data_dir_and_glassnet_data_name_the_same_folder_end_to_end(tmp_path, monkeypatch,
                                                                    capsys):
    """`glassnet evaluate` of an MNIST classifier: --data-dir FOLDER, GLASSNET_DATA=FOLDER
    (FOLDER holding mnist/) and --data-dir FOLDER/mnist read the same test set."""
    from glassnet.cli import classify
    gn.manual_seed(0)
    model = classify.build_model("mlp", (1, 28, 28), 10, hidden=[16])
    path = tmp_path / "mnist.safetensors"
    io.save(model, path, metadata={"task": "classify", "dataset": "mnist",
                                   "input_shape": [1, 28, 28], "flatten": True,
                                   "preprocessing": runs.preprocessing("mnist", (1, 28, 28),
                                                                       True, "float32")})
    outs = []
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.chdir(tmp_path)          # no ../shared/data from here
    for argv in (["--data-dir", str(SHARED)], ["--data-dir", str(SHARED / "mnist")]):
        assert main(["evaluate", str(path), *argv]) == 0
        outs.append(capsys.readouterr().out)
    monkeypatch.setenv("GLASSNET_DATA", str(SHARED))
    assert main(["evaluate", str(path)]) == 0
    outs.append(capsys.readouterr().out)
    assert outs[0].startswith("mnist test: accuracy ") and "(10000 samples)" in outs[0]
    assert outs[0] == outs[1] == outs[2]
    assert main(["evaluate", str(path), "--data-dir", str(tmp_path)]) == 2
    assert "holds neither mnist/ with" in capsys.readouterr().err


# ------------------------------------------------------------------ failed runs
def test_a_run_that_fails_before_writing_removes_its_folders(tmp_path, monkeypatch, capsys):
    def broken(*a, **k):
        raise ValueError("no data today")
    monkeypatch.setattr(runs, "load_images", broken)
    out = tmp_path / "a" / "b" / "c"
    assert main(["train", "--out", str(out), "--verbose", "0"]) == 2
    assert "no data today" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []               # c, b and a, all made by the run
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--verbose", "0"]) == 2       # the default runs/<stamp>
    assert list((tmp_path / "runs").iterdir()) == []
    keep = tmp_path / "mine"
    keep.mkdir()
    assert main(["train", "--out", str(keep / "x"), "--verbose", "0"]) == 2
    assert keep.is_dir() and list(keep.iterdir()) == []  # only what the run made goes


def test_ctrl_c_before_anything_is_written_removes_the_folder(tmp_path, monkeypatch, capsys):
    def interrupted(self, *a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(training.Trainer, "fit", interrupted)
    assert main(["train", "--out", str(tmp_path / "o" / "run"), "--verbose", "0"]) == 130
    assert "interrupted" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_a_run_that_saved_its_model_keeps_it(tmp_path, monkeypatch, capsys):
    def broken(*a, **k):
        raise RuntimeError("plotting broke")
    monkeypatch.setattr(runs, "draw", broken)
    out = tmp_path / "o" / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--verbose", "0"]) == 2
    assert "plotting broke" in capsys.readouterr().err
    assert (out / "model.safetensors").is_file()
    gn.load(out / "model.safetensors")


def test_sigterm_unwinds_like_ctrl_c_and_removes_the_folder(tmp_path):
    out = tmp_path / "o" / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    p = subprocess.Popen([sys.executable, "-m", "glassnet", "train", "--epochs", "100000",
                          "--patience", "0", "--out", str(out), "--verbose", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while not out.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143 and err.strip() == "glassnet train: terminated", err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ help and README
def test_train_help_says_early_stopping_is_on_and_how_to_turn_it_off(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Classifiers stop early by default" in text and "--patience 0 turns it off" in text


def test_readme_runs_what_ci_runs_and_lists_every_example():
    readme = (ROOT / "README.md").read_text()
    first = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(first) == 2 and first[0] == "pip install . && glassnet train"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["test"]
    ci = (ROOT / ".ci" / "run").read_text()
    torch_pin = re.search(r'"torch==([\d.]+)"', ci).group(1)
    assert f"torch=={torch_pin}" in extras      # the README's `.[test]` installs it
    assert "pytest -q" in first[1] and '".[test]"' in first[1]
    # CI runs the README's pytest command with the same arguments (pytest-xdist's -n auto)
    readme_args = first[1].split("pytest", 1)[1].split()
    ci_args = re.search(r"^python3 -m pytest(.*)$", ci, re.M).group(1).split()
    assert readme_args == ci_args, (readme_args, ci_args)
    assert any(e.startswith("pytest-xdist") for e in extras)     # -n needs it
    assert "Early stopping" in readme and "--patience 0" in readme
    for example in sorted((ROOT / "examples").glob("[!_]*.py")):
        assert f"python examples/{example.name}" in readme, example.name
