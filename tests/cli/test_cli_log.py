"""``glassnet train --log csv,jsonl,tensorboard``: the per-epoch logs in the run folder."""
import csv
import json

import pytest

from glassnet.cli.main import main
from tests.training.test_loggers import hide_tensorboardx

pytest.importorskip("tensorboardX")   # in the test extra: CI runs these
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def test_train_log_writes_every_kind_into_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)            # the default run folder: runs/<timestamp>/
    assert main(["train", "--epochs", "3", "--limit", "300", "--verbose", "0",
                 "--log", "csv,tensorboard,jsonl"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    history = json.loads((run / "history.json").read_text())["history"]
    with open(run / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    lines = [json.loads(s) for s in (run / "log.jsonl").read_text().splitlines()]
    assert [int(r["epoch"]) for r in rows] == [r["epoch"] for r in lines] == [0, 1, 2]
    for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr"):
        assert [float(r[k]) for r in rows] == [r[k] for r in lines] == history[k], k
    ea = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0})
    ea.Reload()
    assert [e.step for e in ea.Scalars("val_loss")] == [0, 1, 2]
    names = ["net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias"]   # the MLP's
    assert sorted(ea.Tags()["histograms"]) == sorted(
        [f"weights/{n}" for n in names] + [f"gradients/{n}" for n in names])


def test_an_unknown_log_kind_is_a_usage_error(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--epochs", "1",
                 "--log", "csv,wandb"]) == 2
    err = capsys.readouterr().err
    assert "--log" in err and "'wandb'" in err and "csv, jsonl, tensorboard" in err
    assert not (tmp_path / "r" / "log.csv").exists()
    assert main(["train", "--task", "autoencoder", "--out", str(tmp_path / "a"),
                 "--epochs", "1", "--log", "csv"]) == 2
    assert "--log does not apply to an autoencoder" in capsys.readouterr().err


def test_without_tensorboardx_the_cli_says_what_to_install(tmp_path, capsys, monkeypatch):
    hide_tensorboardx(monkeypatch)
    assert main(["train", "--out", str(tmp_path / "r"), "--epochs", "1", "--verbose", "0",
                 "--log", "tensorboard"]) == 2
    err = capsys.readouterr().err
    assert "glassnet train: error: --log: TensorBoardLogger needs tensorboardX: pip install " \
           "glassnet[tensorboard]" in err and "unexpected" not in err
