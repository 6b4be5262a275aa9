"""``glassnet train --task dqn`` with a tiny step budget: the run folder; ``glassnet play``."""
import json

import pytest

pytest.importorskip("gymnasium", reason='needs Gymnasium: pip install "glassnet[rl]"')

from glassnet.cli.main import main  # noqa: E402
from glassnet.rl import DQNAgent  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("dqn") / "run"
    argv = ["train", "--task", "dqn", "--env", "CartPole-v1", "--steps", "600",
            "--hidden", "32", "--out", str(out), "--verbose", "0"]
    assert main(argv) == 0
    return out


def test_run_folder(run_folder, capsys):
    out = run_folder
    files = {p.name for p in out.iterdir()}
    assert {"policy.safetensors", "history.json", "metrics.json", "config.json",
            "returns.png"} <= files
    png = (out / "returns.png").read_bytes()
    assert png[:8] == PNG and 5000 < len(png) < 300_000
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "dqn" and m["env"] == "CartPole-v1" and m["env_steps"] == 600
    assert m["eval_episodes"] == 100 and 8 <= m["mean_return"] <= 500
    assert m["solved_threshold"] == 475 and m["solved"] is (m["mean_return"] >= 475)
    h = json.loads((out / "history.json").read_text())
    assert len(h["history"]["return"]) == m["episodes"] >= 5
    assert [e["env_steps"] for e in h["params"]["evaluations"]] == list(range(60, 601, 60))
    agent = DQNAgent.load(out / "policy.safetensors")
    assert agent.env_id == "CartPole-v1" and agent.hidden == (32,)
    assert json.loads((out / "config.json").read_text())["steps"] == 600


def test_play_evaluates_and_watches(run_folder, capsys):
    assert main(["play", str(run_folder), "--episodes", "3", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("episode 1: return ")
    assert "greedy mean return" in lines[-1] and "over 3 episodes" in lines[-1]
    assert main(["play", str(run_folder / "policy.safetensors"), "--watch",
                 "--max-steps", "4", "--seed", "0"]) == 0
    text = capsys.readouterr().out
    assert text.count("angle=") == 4 and "push" in text and "[#]" in text


def test_options_dqn_does_not_read_are_refused(tmp_path, capsys):
    for extra, flag in ((["--epochs", "3"], "--epochs"), (["--dropout", "0.2"], "--dropout"),
                        (["--dataset", "mnist"], "--dataset"), (["--optimizer", "sgd"], "--optimizer")):
        assert main(["train", "--task", "dqn", "--out", str(tmp_path / "x")] + extra) == 2
        assert flag in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["train", "--steps", "10"]) == 2
    assert "--steps does not apply" in capsys.readouterr().err
    assert main(["play", str(tmp_path)]) == 2
    assert "policy.safetensors" in capsys.readouterr().err


def test_missing_gymnasium_is_one_line(monkeypatch, tmp_path, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    assert main(["train", "--task", "dqn", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("glassnet train: error: ") and 'pip install "glassnet[rl]"' in err
    assert "unexpected" not in err and len(err.splitlines()) == 1
