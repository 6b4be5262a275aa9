"""The fuzz harness itself: its runner must see a crash, a hang, a memory blow-up and a
foreign exception for what they are (synthetic targets), its mutations must be
reproducible, and its seeds and re-signing must be sound."""
import ctypes
import gzip
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError, ModelFileError

from . import _fuzz_path  # noqa: F401
from tools.fuzz import Fuzzer, is_failure, run_many, run_one
from tools.fuzz import mutators as M

MB = 2**20


def _alloc_2gb():
    np.ones(2**31 // 8)
    return "same"


def _touch_200mb():
    a = np.ones(200 * MB // 8)
    return "same" if a[-1] == 1 else "changed"


def _wrapped_memory_error():
    try:
        np.ones(2**31 // 8)
    except MemoryError as e:
        raise ModelFileError("load: too big") from e


def _ignore_alarm_and_sleep():
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(60)


def _raise(exc):
    def f():
        raise exc
    return f


def test_abort_is_a_crash():
    rec = run_one(os.abort, timeout=10)
    assert rec["outcome"] == "crash" and rec["signal"] == "SIGABRT"


def test_segfault_is_a_crash():
    rec = run_one(lambda: ctypes.string_at(0), timeout=10)
    assert rec["outcome"] == "crash" and rec["signal"] == "SIGSEGV"


def test_exit_without_outcome_is_a_crash():
    rec = run_one(lambda: os._exit(5), timeout=10)
    assert rec["outcome"] == "crash" and "status 5" in rec["message"]


def test_sleep_is_a_hang_and_is_stopped_at_the_timeout():
    t0 = time.monotonic()
    rec = run_one(lambda: time.sleep(60), timeout=0.5)
    assert rec["outcome"] == "hang"
    assert time.monotonic() - t0 < 5


def test_a_child_that_ignores_the_alarm_is_killed_by_the_parent():
    t0 = time.monotonic()
    rec = run_one(_ignore_alarm_and_sleep, timeout=0.3)
    assert rec["outcome"] == "hang"
    assert 2.0 < time.monotonic() - t0 < 8


def test_an_allocation_beyond_the_cap_is_a_memory_refusal():
    rec = run_one(_alloc_2gb, timeout=10, cap_bytes=256 * MB)
    assert rec["outcome"] == "memory-refused" and rec["error"] == "MemoryError"


def test_a_memory_error_under_a_glassnet_error_is_still_a_memory_refusal():
    rec = run_one(_wrapped_memory_error, timeout=10, cap_bytes=256 * MB)
    assert rec["outcome"] == "memory-refused" and rec["error"] == "ModelFileError"


def test_resident_memory_above_the_bound_is_a_memory_failure():
    rec = run_one(_touch_200mb, timeout=20, cap_bytes=1024 * MB, bound_bytes=64 * MB)
    assert rec["outcome"] == "memory" and rec["outcome_before_memory"] == "ok-same"
    assert rec["peak_rss_kb"] > 190 * 1024
    small = run_one(lambda: "same", timeout=10, cap_bytes=256 * MB, bound_bytes=64 * MB)
    assert small["outcome"] == "ok-same" and small["peak_rss_kb"] < 16 * 1024


def test_a_case_is_measured_even_when_the_parent_kept_freed_heap_memory():
    """The parent freed 336 MB of heap-sized blocks (under glibc's 32 MB mmap threshold),
    which glassnet's malloc tuning keeps resident: the child's 200 MB must still count
    (before the child trimmed its heap it reused those pages and reported ~1 MB)."""
    keep = [np.ones(28 * MB // 4, np.float32) for _ in range(12)]
    del keep
    rec = run_one(_touch_200mb, timeout=20, cap_bytes=1024 * MB, bound_bytes=64 * MB)
    assert rec["outcome"] == "memory" and rec["peak_rss_kb"] > 190 * 1024, rec
    small = run_one(lambda: "same", timeout=10, cap_bytes=256 * MB, bound_bytes=64 * MB)
    assert small["outcome"] == "ok-same" and small["peak_rss_kb"] < 16 * 1024, small


def test_a_foreign_exception_keeps_its_type_and_message():
    rec = run_one(_raise(KeyError("class")), timeout=10)
    assert rec["outcome"] == "foreign" and rec["error"] == "KeyError"
    assert "class" in rec["message"] and "KeyError" in rec["traceback"]


def test_a_glassnet_error_is_a_refusal_with_its_class():
    rec = run_one(_raise(ArgumentError("f: x must be positive, got -1")), timeout=10)
    assert rec["outcome"] == "refused" and rec["error"] == "ArgumentError"


def test_same_and_changed():
    assert run_one(lambda: "same")["outcome"] == "ok-same"
    assert run_one(lambda: ("changed", "detail"))["outcome"] == "ok-changed"


def test_parallel_jobs_report_every_case_once():
    fns = [lambda: "same", os.abort, _raise(KeyError("k")), lambda: time.sleep(30),
           lambda: ("changed", ""), _raise(ArgumentError("a"))]
    want = ["ok-same", "crash", "foreign", "hang", "ok-changed", "refused"]
    got = dict(run_many([(i, f) for i, f in enumerate(fns)], n_jobs=3, timeout=1.0))
    assert sorted(got) == list(range(len(fns)))
    assert [got[i]["outcome"] for i in range(len(fns))] == want


def test_gzip_bomb_is_valid_gzip_of_the_promised_size():
    head = M.idx_header([64, 28, 28])
    bomb = M.gzip_zeros(8 * MB + 5, head)
    assert len(bomb) < 64 * 1024
    raw = gzip.decompress(bomb)
    assert len(raw) == 8 * MB + 5 and raw[:len(head)] == head and not any(raw[len(head):])


@pytest.fixture(scope="module")
def fuzzer():
    fz = Fuzzer(seed=3, max_bomb=64 * MB)
    yield fz
    fz.close()


def test_cases_are_reproducible(fuzzer):
    for target in ("model", "weights", "checkpoint", "idx", "digits", "text"):
        for i in (0, 1, 7, 23):
            a, b = fuzzer.case(target, i), fuzzer.case(target, i)
            assert a[1] == b[1] and a[2] == b[2] and a[0].kind == b[0].kind, (target, i)
        assert fuzzer.case(target, 1)[1] != fuzzer.case(target, 2)[1]


def test_seeds_are_the_same_bytes_in_every_run(fuzzer, tmp_path):
    other = Fuzzer(workdir=tmp_path, seed=3)
    for name in ("model", "checkpoint", "idx", "digits", "text"):
        for s1, s2 in zip(fuzzer.targets[name].seeds, other.targets[name].seeds):
            assert s1.path.read_bytes() == s2.path.read_bytes(), s1.kind


def test_resigning_an_unchanged_seed_gives_a_file_glassnet_verifies(fuzzer, tmp_path):
    assert fuzzer.resigner.available, fuzzer.resigner.why
    seed = fuzzer.targets["model"].seeds[0]
    raw = seed.path.read_bytes()
    doc = M.SafetensorsDoc(raw)
    from safetensors.numpy import load
    p = tmp_path / "resigned.safetensors"
    p.write_bytes(fuzzer.resigner.sign(load(raw), doc.meta, tmp_path))
    model = gn.load(p)
    assert type(model).__name__ == seed.expect["class"]


def test_structural_mutation_keeps_a_parseable_layout(fuzzer):
    import random
    seed = fuzzer.targets["model"].seeds[1]
    raw = seed.path.read_bytes()
    n_ok = 0
    for i in range(40):
        try:
            out, name = M.struct_mutate(random.Random(i), raw)
        except M.Skip:
            continue
        assert name.startswith("struct-")
        if "deep" not in name:
            header, data = M.parse_safetensors(out)
            assert isinstance(header, dict)
            n_ok += 1
    assert n_ok > 20


def test_every_seed_loads_back_the_same_as_a_control(fuzzer):
    report = fuzzer.run(cases=0, jobs=2, timeout=20)
    assert report["controls"] and not [n for n in report["notes"] if "CONTROL" in n]
    assert all(c["outcome"] == "ok-same" for c in report["controls"]), report["controls"]


def test_replay_of_an_unmutated_file_is_not_a_failure(fuzzer, tmp_path):
    seed = fuzzer.targets["checkpoint"].seeds[0]
    f = tmp_path / f"checkpoint-s3-c00001-{seed.kind}-copy.safetensors"
    shutil.copyfile(seed.path, f)
    case = fuzzer.replay(f, "checkpoint", timeout=20)
    assert case["kind"] == seed.kind and case["outcome"] == "ok-same" and not case["failure"]


def test_what_counts_as_a_failure(fuzzer):
    model, idx = fuzzer.targets["model"], fuzzer.targets["idx"]
    assert is_failure(model, {"outcome": "ok-changed", "resigned": False})
    assert not is_failure(model, {"outcome": "ok-changed", "resigned": True})
    assert not is_failure(idx, {"outcome": "ok-changed"})
    for out in ("crash", "hang", "foreign", "memory", "memory-refused", "ok-unchecked"):
        assert is_failure(model, {"outcome": out, "resigned": True})
        assert is_failure(idx, {"outcome": out})
    assert not is_failure(model, {"outcome": "refused"})


def test_report_rendering():
    from tools.fuzz.report import by_mutator, findings, table
    case = {"target": "model", "case": 4, "kind": "mlp", "mutator": "struct-meta-number",
            "outcome": "foreign", "error": "KeyError", "message": "'class'",
            "where": "glassnet/io/serialize.py:1 (build)", "file": "/tmp/x.safetensors"}
    report = {"targets": {"model": {"cases": 2, "outcomes": {"foreign": 1, "refused": 1},
                                    "failures": 1, "cases_per_s": 10.0, "peak_rss_mb_ok": 1.0,
                                    "memory_bound_mb": 64.0,
                                    "by_mutator": {"struct-meta-number": {
                                        "foreign KeyError": {"count": 1, "example": "'class'"}}}}},
              "failures": [case], "notes": []}
    t = table(report)
    assert "| model | 2 |" in t and "**1**" in t and "foreign" in t.splitlines()[0]
    f = findings(report)
    assert "KeyError" in f and "x1" in f and "--replay /tmp/x.safetensors --target model" in f
    assert "struct-meta-number" in by_mutator(report)


def test_command_line(tmp_path):
    import json
    import subprocess
    import sys
    from tests.reliability._fuzz_path import ROOT
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(ROOT) / "src"), ROOT]))
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "tools.fuzz", "--target", "text", "--cases", "4",
                        "--quiet", "--report", str(out), "--keep", str(tmp_path / "k")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(out.read_text())
    assert r.returncode == (1 if report["total_failures"] else 0), r.stderr
    assert sum(report["targets"]["text"]["outcomes"].values()) == 4
    assert "| text | 4 |" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "tools.fuzz", "--target", "pickle"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown" in bad.stderr
