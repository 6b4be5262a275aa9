"""benchmarks/compare_trees.py builds the same training step in both trees: run against this
tree's own src, every workload's two copies compute the same losses and the script reports
a positive ratio for each."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "compare_trees.py"


def test_both_copies_take_the_same_steps():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import compare_trees as ct
        import glassnet as gn
        other = ct.load_glassnet(ROOT / "src", "glassnet_compare_copy")
        assert other is not gn
        for name, (build, _) in ct.WORKLOADS.items():
            a, b = build(gn, np.random.default_rng(0)), build(other, np.random.default_rng(0))
            for _ in range(2):
                assert a().item() == b().item(), name
    finally:
        sys.path.remove(str(SCRIPT.parent))
        sys.modules.pop("glassnet_compare_copy", None)


@pytest.mark.integration
def test_the_script_reports_a_ratio_per_workload():
    out = subprocess.run([sys.executable, str(SCRIPT), "--against", str(ROOT / "src"),
                          "--blocks", "2", "--pause", "0"], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    rows = [l for l in out.stdout.splitlines() if "other/this median" in l]
    assert [r.split()[0] for r in rows] == ["cnn", "lstm", "mlp"]
    assert all(float(r.split("median")[1].split()[0]) > 0 for r in rows)
