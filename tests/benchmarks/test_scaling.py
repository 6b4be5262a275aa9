"""The scaling sweep runs end to end: one tiny point of every family through the script's own
functions, the same model and first loss in both libraries, and the JSON / table / plot."""
from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import sys

import pytest

torch = pytest.importorskip("torch")

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "scaling.py"

POINT_KEYS = {"family", "name", "label", "params", "n_parameters", "ms_per_step", "ratio",
              "ratios", "cpu_ms_per_step", "cpu_ratio", "mem_inc_mb", "mem_warmup_inc_mb",
              "mem_base_mb", "mem_ratio", "loss_first", "loss_last", "minor_faults_per_step",
              "steps_per_block", "load_avg", "others_running", "order"}


@pytest.fixture(scope="module")
def sc():
    spec = importlib.util.spec_from_file_location("scaling_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["scaling_bench"] = mod          # dataclasses look the module up
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        del sys.modules["scaling_bench"]


def test_the_sweep_has_the_issue_points(sc):
    names = {p.name for p in sc.all_points()}
    for n in ("mlp-w2048-b128", "mlp-w256-b8", "cnn-c64-p0", "cnn-c32-k5", "cnn-c32-img56",
              "cnn-depth4", "resnet-3x32x32", "lstm-h512-t128", "gru-h128-t32",
              "decoder-v33278", "embedding-v10000", "transformer-d512-t256"):
        assert n in names
    assert len(names) == len(sc.all_points())                 # names are unique
    assert {p.family for p in sc.all_points()} == set(sc.FAMILIES)
    assert {p.name for p in sc.select("lstm,gru", quick=False)} == {
        p.name for p in sc.all_points() if p.family in ("lstm", "gru")}
    assert set(sc.QUICK) <= names
    with pytest.raises(SystemExit, match="--only: unknown family or point 'rnn'"):
        sc.select("mlp,rnn", quick=False)
    # point names select single points, beside whole families
    assert [p.name for p in sc.select("cnn-c16-p1,lstm-h128-t32", quick=False)] == [
        "cnn-c16-p1", "lstm-h128-t32"]
    assert {p.name for p in sc.select("mlp,gru-h128-t32", quick=False)} == {
        p.name for p in sc.all_points() if p.family == "mlp"} | {"gru-h128-t32"}


def test_one_tiny_point_of_each_family_end_to_end(sc, tmp_path):
    threads = torch.get_num_threads()
    records = []
    try:
        for pt in [sc.tiny_point(f) for f in sc.FAMILIES] + [sc.resnet_tiny()]:
            w = tmp_path / f"{pt.name}.npz"
            n_params = sc.init_weights(pt, w)
            run = {lib: sc.run_worker(lib, pt, w, blocks=2, block_s=0.0, warmup_s=0.0,
                                      min_warmup=1, pause=0.0)
                   for lib in ("glassnet", "torch")}
            # the same model with the same weights and data: the same first loss
            assert run["glassnet"]["loss_first"] == pytest.approx(run["torch"]["loss_first"],
                                                                  rel=1e-4), pt.name
            for r in run.values():
                assert r["steps_per_block"] >= 1 and r["ms_per_step"] > 0
                assert r["mem_inc_mb"] >= 0
            rec = sc.summarise(pt, [run], n_params, [0.5, 0.7], [["glassnet", "torch"]])
            assert set(rec) == POINT_KEYS
            assert rec["ratio"] == pytest.approx(run["torch"]["ms_per_step"]
                                                 / run["glassnet"]["ms_per_step"])
            records.append(rec)
    finally:
        torch.set_num_threads(threads)
    meta = {"command": "python benchmarks/scaling.py --test", "date": "today", "threads": 1,
            "pairs": 1, "blocks": 2, "block_s": 0.0, "machine": sc.machine(), "errors": {}}
    sc.write_outputs(records, tmp_path / "out", meta)
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["schema"] == sc.SCHEMA and len(doc["points"]) == 8
    for rec in doc["points"]:
        assert set(rec) == POINT_KEYS
        assert set(rec["ms_per_step"]) == set(rec["mem_inc_mb"]) == {"glassnet", "torch"}
        assert isinstance(rec["load_avg"]["mean"], float)
    md = (tmp_path / "out.md").read_text()
    for fam in sc.FAMILIES:
        assert f"## {fam}\n" in md
    assert "python benchmarks/scaling.py --test" in md and "![" in md
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


def test_peak_memory_is_the_process_own(sc):
    # ru_maxrss of a child starts at its parent's RSS; VmHWM after a reset is the child's own
    if not sc._reset_peak():
        pytest.skip("no /proc/self/clear_refs here")
    import numpy as np
    base = sc._rss_mb()
    a = np.ones(40 << 20 >> 3)          # 40 MB touched
    assert sc._maxrss_mb() - base > 30
    del a
    sc._reset_peak()
    assert sc._maxrss_mb() - sc._rss_mb() < 5


def test_the_driver_spawns_workers(sc, tmp_path):
    pt = sc.tiny_point("mlp")
    w = tmp_path / "w.npz"
    sc.init_weights(pt, w)
    args = argparse.Namespace(threads=1, blocks=1, block_s=0.0, timeout=120, passive_wait=True,
                              no_jit=False)
    res = sc._spawn("glassnet", pt, str(w), args)
    assert res["lib"] == "glassnet" and res["point"] == "mlp-tiny"
    assert res["mem_base_mb"] < 400      # not its parent's (this test process's) memory
