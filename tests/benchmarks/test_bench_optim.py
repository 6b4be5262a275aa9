"""The optimizer benchmark times what it says: the same Adam step in every variant."""
from __future__ import annotations

import importlib.util
import pathlib
import sys

import numpy as np

import glassnet as gn

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_optim.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_optim", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_variants_take_the_same_step_and_against_loads_a_second_copy():
    bo = _bench()
    ps, gs = bo._arrays()
    other = bo.load_glassnet(ROOT / "src", name="glassnet_bench_copy")
    try:
        assert other is not gn and other.optim.Adam is not gn.optim.Adam
        variants = {**bo.glassnet_variants(gn, ps, gs),
                    **bo.glassnet_variants(other, ps, gs, " [against]")}
        assert sorted(variants) == ["glassnet Adam (flat)", "glassnet Adam (per-param)",
                                    "glassnet [against] Adam (flat)",
                                    "glassnet [against] Adam (per-param)"]
        naive = [gn.nn.Parameter(p.copy()) for p in ps]
        for q, g in zip(naive, gs):
            q.grad = gn.Tensor(g.copy())
        variants["naive"] = bo.NaiveAdam(naive, lr=1e-4).step
        for _ in range(3):
            for step in variants.values():
                step()
        results = [[q.numpy() for q in f.__self__.param_groups[0]["params"]] if n != "naive"
                   else [q.numpy() for q in naive] for n, f in variants.items()]
        for res in results[1:]:
            for a, b in zip(res, results[0]):
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        assert not np.allclose(results[0][0], ps[0])
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "glassnet_bench_copy"]:
            del sys.modules[name]
