"""glassnet keeps freed step temporaries in glibc's heap (no page faults on the next step)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the heap thresholds are a glibc setting")

# A "training step" that allocates, touches and frees 48 MB of 8 MB temporaries; the minor
# page faults of the last 10 steps are printed.
CHILD = r"""
import json, os, resource, sys
import glassnet, numpy as np
from glassnet import backend
def step():
    bufs = [np.ones(2 << 20, dtype=np.float32) for _ in range(6)]
    del bufs
for _ in range(3):
    step()
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(json.dumps({"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0,
                  "tuned": backend.memory.malloc_tuned(),
                  "openblas": os.environ.get("OPENBLAS_THREAD_TIMEOUT", "unset")}))
"""


def _child(**env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    for var in ("GLASSNET_MALLOC_TUNING", "GLASSNET_TUNE_PROCESS", "OPENBLAS_THREAD_TIMEOUT"):
        e.pop(var, None)
    e.update(env)
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                         check=True, env=e)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_freed_temporaries_stay_in_the_heap():
    on = _child()
    off = _child(GLASSNET_MALLOC_TUNING="0")
    assert on["tuned"] is True and off["tuned"] is False
    # 10 steps x 48 MB = 120k pages when glibc returns the memory; none when it keeps it
    assert off["faults"] > 20000, off
    assert on["faults"] < 1000, on


def test_the_users_own_malloc_settings_win():
    # with the user's thresholds glassnet sets neither (and still reports the tuning as on)
    out = _child(MALLOC_TRIM_THRESHOLD_="0", MALLOC_MMAP_THRESHOLD_="65536")
    assert out["faults"] > 20000, out


def test_the_master_switch_turns_all_process_tuning_off():
    on = _child()
    off = _child(GLASSNET_TUNE_PROCESS="0")
    assert on["tuned"] is True and on["openblas"] == "21"
    assert off["tuned"] is False and off["openblas"] == "unset"
    assert off["faults"] > 20000, off
    assert on["faults"] < 1000, on
