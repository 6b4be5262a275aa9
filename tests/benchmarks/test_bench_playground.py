"""benchmarks/bench_playground.py runs and reports what it says (not its timings)."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_server_only_run_reports_updates(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_playground",
                                                  ROOT / "benchmarks" / "bench_playground.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
        assert mod.main(["--no-browser", "--seconds", "1", "--out",
                         str(tmp_path / "p.json")]) == 0
    finally:
        sys.modules.pop(spec.name, None)
    res = json.loads(capsys.readouterr().out)
    assert res["config"]["hidden"] == [8] * 6
    s = res["server_only"]
    assert s["steps_per_s"] > 0 and s["updates_per_s"] > 0
    assert not (tmp_path / "p.json").exists()     # only the browser run writes the file
