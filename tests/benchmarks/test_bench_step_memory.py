"""benchmarks/bench_step_memory.py measures what the autograd edges promise: a CNN step's
peak of NumPy allocations stays well under what keeping every intermediate would take
(25.9 MiB before the edges, 13.6 MiB with them, for the 4-block CNN at batch 64)."""
from __future__ import annotations

import importlib.util
import pathlib

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_step_memory.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_step_memory", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cnn_step_peak_is_that_of_the_saved_activations():
    mod = _bench()
    build, shape, loss = mod.MODELS["4-block CNN, batch 64"]
    peak = mod.step_peak_mib(build, shape, loss)
    # saved for backward: the inputs of the four convolutions, four ReLU masks and the
    # pools' indices, about 11 MiB; every intermediate kept (the old graph) made it 25.9
    assert 8 < peak < 18, peak


def test_tiny_ops_timing_runs():
    assert _bench().tiny_ops_ms() > 0
