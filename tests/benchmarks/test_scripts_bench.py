"""benchmarks/scripts.py's machinery (not its timings): the edit plan, the report, and one
real alternating pair of fresh-interpreter runs of a small script."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "scripts.py"


@pytest.fixture(scope="module")
def sb():
    spec = importlib.util.spec_from_file_location("bench_scripts", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up there
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop(spec.name, None)


def test_every_benchmarked_script_exists_and_its_edits_match_once(sb):
    for name, cfg in sb.RUNS.items():
        folder = ROOT / "tests" / "third_party" / name
        assert (folder / "original.py").is_file(), name
        src = (folder / "original.py").read_text(encoding="utf-8")
        for old, new, why in cfg.edits:
            assert src.count(old) == 1, (name, old)
            assert old.count("\n") == new.count("\n") and why
    assert set(sb.TRAINING) >= {"pytorch_examples_mnist", "pytorch_examples_vae",
                                "tutorials_quickstart", "ngvl_bigram", "ngvl_gpt"}


def test_workarounds_drop_the_vision_standin(sb):
    for name in sb.TRAINING:
        assert all(w[2] != "@vision-standin" for w in sb.workarounds(name))


def test_summarize_and_render_report_ratio_memory_and_edits(sb):
    runs = {"torch": [{"ok": True, "seconds": 2.0, "maxrss_mib": 300.0, "losses": [1.0]},
                      {"ok": True, "seconds": 4.0, "maxrss_mib": 310.0, "losses": [1.0]}],
            "glassnet": [{"ok": True, "seconds": 1.0, "maxrss_mib": 50.0, "probes": 1,
                          "losses": [0.9]},
                         {"ok": True, "seconds": 4.0, "maxrss_mib": 55.0, "probes": 1}]}
    row = sb.summarize("ngvl_bigram", runs)
    assert row["torch_s"] == 3.0 and row["glassnet_s"] == 2.5
    assert row["ratio"] == 1.5 and row["ratio_range"] == (1.0, 2.0)
    assert row["torch_mib"] == 310.0 and row["glassnet_mib"] == 55.0
    assert len(row["edits"]) == 1
    md = sb.render([row], {"when": "now", "commit": "abc", "threads": 2, "repeats": 2,
                           "machine": "m", "load_before": "1", "load_after": "2"})
    assert "| ngvl_bigram | 3.0 | 2.5 | 1.50 (1.00-2.00) | - | - | - | 310 | 55 | 1 |" in md
    assert "ngvl_bigram: line 11" in md


def test_failed_glassnet_run_is_reported_not_timed(sb):
    runs = {"torch": [{"ok": True, "seconds": 2.0, "maxrss_mib": 300.0}],
            "glassnet": [{"ok": False, "seconds": 0.5, "probes": 0,
                          "error": {"type": "AttributeError", "message": "no x",
                                    "script_line": 7}}]}
    row = sb.summarize("tutorials_word_embeddings", runs)
    assert row["glassnet_s"] is None and row["ratio"] is None
    md = sb.render([row], {"when": "", "commit": "", "threads": 2, "repeats": 1,
                           "machine": "", "load_before": "", "load_after": ""})
    assert "glassnet fails: AttributeError: no x (line 7)" in md


@pytest.mark.integration
def test_one_alternating_pair_end_to_end(sb, tmp_path):
    pytest.importorskip("torch", reason="the comparison runs PyTorch")
    out = tmp_path / "scripts.md"
    assert sb.main(["tutorials_polynomial_nn", "--threads", "1", "--out", str(out)]) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    (row,) = data["rows"]
    assert row["name"] == "tutorials_polynomial_nn"
    for lib in ("torch", "glassnet"):
        (run,) = row["runs"][lib]
        assert run["ok"], run
        assert run["maxrss_mib"] > 10 and run["seconds"] > 0
    assert row["ratio"] > 0
    assert "| tutorials_polynomial_nn |" in out.read_text()


def test_cpu_times_and_render_from_json(sb, tmp_path, capsys):
    runs = {"torch": [{"ok": True, "seconds": 2.0, "cpu_seconds": 3.0, "maxrss_mib": 1.0}],
            "glassnet": [{"ok": True, "seconds": 1.0, "cpu_seconds": 1.5, "maxrss_mib": 1.0,
                          "probes": 0}]}
    row = sb.summarize("ngvl_bigram", runs)
    assert row["torch_cpu_s"] == 3.0 and row["cpu_ratio"] == 2.0
    meta = {"when": "", "commit": "", "threads": 2, "repeats": 1, "machine": "",
            "load_before": "", "load_after": ""}
    src = tmp_path / "a.json"
    src.write_text(json.dumps({"meta": meta, "rows": [row]}))
    out = tmp_path / "b.md"
    assert sb.main(["--render", str(src), "--out", str(out)]) == 0
    assert "| ngvl_bigram | 2.0 | 1.0 | 2.00 | 3.0 | 1.5 | 2.00 |" in out.read_text()
