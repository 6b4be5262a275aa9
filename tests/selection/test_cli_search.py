"""``glassnet search CONFIG.toml``: a tiny grid and a tiny random search end to end (results
table, refit model that ``glassnet evaluate`` reads), and the errors of a bad file."""
from __future__ import annotations

import csv
import json

import pytest

from glassnet import io
from glassnet.cli import main as cli

TINY = """
[data]
limit = 200
[train]
epochs = 2
batch_size = 32
[search]
cv = 2
[search.grid]
hidden = [8, 16]
lr = [0.01]
"""


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_grid_search_writes_table_and_refit_model(tmp_path, capsys):
    cfg = _write(tmp_path, TINY)
    out = tmp_path / "run"
    assert cli.main(["search", str(cfg), "--out", str(out), "--verbose", "0"]) == 0
    printed = capsys.readouterr().out
    assert "best {'hidden':" in printed and "test accuracy" in printed
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["rank"] for r in rows] == ["1", "2"] and {r["hidden"] for r in rows} == {"8", "16"}
    assert float(rows[0]["mean_accuracy"]) >= float(rows[1]["mean_accuracy"])
    assert (out / "results.md").read_text().count("\n| ") == 3      # header + 2 rows
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["trials"] == 4 and metrics["best_params"]["hidden"] == int(rows[0]["hidden"])
    model = io.load(out / "model.safetensors")
    assert model.metadata["task"] == "classify" and model.metadata["input_shape"] == [1, 8, 8]
    assert (out / "search.toml").read_text() == cfg.read_text()
    assert cli.main(["evaluate", str(out / "model.safetensors")]) == 0


def test_random_search_with_distributions(tmp_path, capsys):
    cfg = _write(tmp_path, TINY.replace("[search.grid]", '[search.distributions]')
                 .replace("cv = 2", 'cv = 2\nkind = "random"\nn_iter = 2\nrefit = false')
                 .replace("lr = [0.01]", "lr = {log_uniform = [0.001, 0.05]}"))
    out = tmp_path / "run"
    assert cli.main(["search", str(cfg), "--out", str(out), "--verbose", "0",
                     "--executor", "serial"]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 and all(0.001 <= float(r["lr"]) <= 0.05 for r in rows)
    assert not (out / "model.safetensors").exists()


@pytest.mark.parametrize("text, message", [
    ("[search.grid]\nwidth = [1]\n", "cannot search \\['width'\\]"),
    ("[serach]\n", "unknown table\\(s\\) \\['serach'\\]"),
    ("[search]\nkind = 'grid'\n", "needs a non-empty \\[search.grid\\]"),
    ("[executor]\nkind = 'spark'\n[search.grid]\nlr = [0.1]\n", "kind must be one of"),
    ("[search]\nkind = 'random'\n[search.distributions]\nlr = {log_uniform = [0, 1]}\n",
     "log_uniform: low > 0"),
    ("[search.grid\n", "is not valid TOML"),
])
def test_bad_files_are_one_line_errors(tmp_path, capsys, text, message):
    cfg = _write(tmp_path, text)
    assert cli.main(["search", str(cfg), "--out", str(tmp_path / "run"), "--verbose", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet search: error:") and len(err.strip().splitlines()) == 1
    import re
    assert re.search(message, err), err
