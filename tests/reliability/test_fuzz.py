"""A short fuzz run of every file reader (fixed seed, bounded time): no mutated model file,
weights file, checkpoint, IDX, digits or text file may crash, hang, raise an exception
outside the GlassnetError hierarchy, take memory beyond 4x the largest valid file (plus
64 MB), attempt an allocation the memory cap refuses, load without its checksum, or
(checksummed files not re-signed) load with changed weights, architecture or state.

The long run is ``python -m tools.fuzz --target all --cases 10000`` (docs/reliability.md).
"""
import pytest

from . import _fuzz_path  # noqa: F401
from tools.fuzz import Fuzzer
from tools.fuzz.report import findings

CASES = {"model": 80, "weights": 40, "checkpoint": 40, "idx": 24, "digits": 18, "text": 18}


@pytest.fixture(scope="module")
def fuzzer():
    fz = Fuzzer(seed=1, max_bomb=256 * 2**20)
    yield fz
    fz.close()


@pytest.mark.parametrize("target", list(CASES))
def test_short_fuzz_run(fuzzer, target, tmp_path):
    report = fuzzer.run([target], cases=CASES[target], jobs=2, timeout=5.0,
                        keep=tmp_path / "failures")
    assert not [n for n in report["notes"] if "CONTROL" in n], report["notes"]
    t = report["targets"][target]
    assert sum(t["outcomes"].values()) == CASES[target]
    assert t["failures"] == 0, findings(report, f"fuzz failures of {target}")


def test_a_large_valid_model_loads_within_4x_its_size(fuzzer):
    """The issue's memory bound on a valid 76 MB model file: peak RSS of gn.load and of
    io.load_weights below 4x the file's size (plus 16 MB for the interpreter)."""
    got = fuzzer.valid_memory()
    for call, v in got.items():
        assert v["outcome"] == "ok-same", (call, v)
