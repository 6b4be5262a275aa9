"""The char-LSTM benchmark runs, learns, and reports which step code glassnet used."""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from glassnet.backend import kernels as jit

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_lstm.py"


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_lstm", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setenv("GLASSNET_JIT", "1")   # --no-jit sets it: restored after the test
    prev = jit.set_enabled(jit.enabled())
    yield mod
    jit.set_enabled(prev)


@pytest.mark.integration
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_glassnet_step_learns_the_bigram_text(bench, cell):
    data = bench.make_data(4)
    step = bench.glassnet_step_fn(cell)
    losses = [step(data[i % 2]) for i in range(12)]
    assert losses[0] == pytest.approx(np.log(bench.V), rel=0.05)   # uniform at the start
    assert np.mean(losses[-3:]) < losses[0] - 0.3


@pytest.mark.parametrize("no_jit", [False, True])
def test_same_process_run_reports_the_kernels(bench, capsys, no_jit):
    argv = ["--same-process", "--no-torch", "--rounds", "1", "--steps", "1", "--warmup", "1"]
    assert bench.main(argv + (["--no-jit"] if no_jit else [])) == 0
    out = capsys.readouterr().out
    assert "tokens/s" in out
    assert ("glassnet: Numba kernels" in out) is (jit.available() and not no_jit)
