"""benchmarks/scaling.py: every family builds the same model in both libraries, a point
runs end to end in fresh processes, and the reports have their schema."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import numpy as np
import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "scaling.py"

TINY = [{"family": "mlp_width", "w": 16, "batch": 4, "size": 16},
        {"family": "mlp_batch", "w": 8, "batch": 2, "size": 2},
        {"family": "cnn", "c": 2, "pad": 1, "k": 3, "img": 8, "blocks": 2, "batch": 3, "size": 2,
         "label": "tiny"},
        {"family": "resnet", "c": 2, "batch": 2, "size": 2, "label": "tiny"},
        {"family": "rnn", "cell": "LSTM", "hidden": 5, "T": 3, "batch": 2, "size": 5,
         "label": "tiny"},
        {"family": "rnn", "cell": "GRU", "hidden": 5, "T": 3, "batch": 2, "size": 5,
         "label": "tiny"},
        {"family": "decoder", "V": 7, "size": 7},
        {"family": "transformer", "w": 8, "T": 5, "batch": 2, "size": 8, "label": "tiny"}]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("scaling", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_family_of_the_sweep_has_a_tiny_case(bench):
    assert {p["family"] for p in TINY} == set(bench.FAMILIES)


@pytest.mark.parametrize("point", TINY, ids=lambda p: f"{p['family']}-{p.get('cell', '')}")
def test_both_libraries_build_the_same_model_and_step(bench, point, torch):
    models = {}
    for lib in ("glassnet", "torch"):
        model, loss_fn, opt, (x, y) = bench.build(lib, point)
        models[lib] = model
        assert tuple(x.shape) and tuple(y.shape)
        r = bench.run_point(lib, point, threads=1, warmup=1, rounds=2, budget=0.05)
        assert len(r["ms"]) == 2 and all(t > 0 for t in r["ms"]) and r["mem_mb"] >= 0
    g = {k: tuple(v.shape) for k, v in models["glassnet"].state_dict().items()}
    t = {k: tuple(v.shape) for k, v in models["torch"].state_dict().items()}
    assert g == t      # same parameter names and layouts: the same work in both


@pytest.mark.integration
def test_a_point_end_to_end_and_the_reports(bench, tmp_path, torch):
    row = bench.measure(TINY[0], threads=1, first="torch", budget=0.05)
    assert row["ratio"] == pytest.approx(row["torch_ms"] / row["glassnet_ms"])
    meta = {"command": "test", "date": "today", "threads": 1, "glassnet": "x", "torch": "y",
            "load_min": 0.0, "load_max": 1.0}
    bench.write_reports([row], tmp_path / "scaling", meta)
    data = json.loads((tmp_path / "scaling.json").read_text())
    assert data["meta"] == meta and data["points"][0]["label"] == row["label"]
    for key in ("glassnet_ms", "torch_ms", "ratio", "glassnet_mem_mb", "torch_mem_mb",
                "mem_ratio", "load"):
        assert key in data["points"][0]
    md = (tmp_path / "scaling.md").read_text()
    assert "## mlp_width" in md and f"{row['ratio']:.2f}" in md
    assert np.isfinite(row["ratio"])
