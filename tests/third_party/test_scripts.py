"""Real PyTorch scripts written by others (cited in each folder's README.md), run on
glassnet with only their import lines changed (issue 14, "Must show").

Each script's short version runs in a fresh interpreter (tests/third_party/run_script.py)
and must finish and learn: its own printed loss goes down (or, for the two scripts that do
not train, it runs to the end and its own checks pass). A script that does not run on
glassnet yet is marked ``xfail(strict=True)`` with its first blocking gap: the file passes
today, and the day a script starts working its test XPASSes, which strict mode turns into a
failure, so the entry below is removed and the test becomes a real one.

FINDINGS.md lists every failure behind the first (found with probes.py / probe_chain.py).
The same scripts under real PyTorch (the comparison runs) are opt-in, as they take about a
minute of CPU: ``THIRD_PARTY_TORCH=1 pytest tests/third_party``.
"""
from __future__ import annotations

import ast
import hashlib
import os
import struct
import sys
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run_script  # noqa: E402
from run_script import SCRIPTS, apply_patches, rewrite_imports, run_subprocess  # noqa: E402

# seconds allowed per short run: each takes < 30 s on 2 idle cores; the rest is headroom
# for a machine shared with other jobs
TIMEOUT = float(os.environ.get("THIRD_PARTY_TIMEOUT", "180"))
THREADS = int(os.environ.get("THIRD_PARTY_THREADS", "1"))

# The first failure of a script on glassnet (script line: what is missing), for a script
# added before it runs; remove its entry when its test XPASSes.
BLOCKED: dict[str, str] = {}   # every script runs unchanged since issue 14's merges


def _params():
    out = []
    for name in SCRIPTS:
        marks = [pytest.mark.xfail(strict=True, reason=BLOCKED[name])] if name in BLOCKED else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def _describe(res: dict) -> str:
    err = res.get("error") or {}
    where = f" at {err.get('script_file')}:{err.get('script_line')} `{err.get('script_code')}`" \
        if err.get("script_line") else ""
    tail = (res.get("stderr") or res.get("stdout") or "")[-1500:]
    return f"{err.get('type')}: {err.get('message')}{where}\n--- output tail ---\n{tail}"


def _skip_without_data(name):
    if SCRIPTS[name].data == "shakespeare":
        src = run_script.SHARED_DATA / "tinyshakespeare" / "input.txt"
        if not src.exists():
            pytest.skip(f"{name} reads tinyshakespeare/input.txt, not found at {src} "
                        f"(set THIRD_PARTY_SHARED_DATA to the folder holding tinyshakespeare/)")
    elif SCRIPTS[name].data == "idx":
        src = run_script.SHARED_DATA / "mnist"
        if not src.is_dir():
            pytest.skip(f"{name} reads the MNIST IDX files, not found in {src} "
                        f"(set THIRD_PARTY_SHARED_DATA to the folder holding mnist/)")


# "integration" (main's marker for tests that run whole programs or take over ~5 s): a
# short run takes 1-5 s once a script works
@pytest.mark.integration
@pytest.mark.parametrize("name", _params())
def test_short_version_runs_and_learns_on_glassnet(name):
    _skip_without_data(name)
    res = run_subprocess(name, "glassnet", "auto", threads=THREADS, timeout=TIMEOUT)
    assert res["ok"], f"{name} failed on glassnet: {_describe(res)}"
    assert res.get("learned"), f"{name} ran but did not learn: {res.get('check')}"


@pytest.mark.torch
@pytest.mark.integration
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_short_version_runs_and_learns_on_torch(name):
    """The comparison run: the same short version under PyTorch 2.13 (opt-in)."""
    if os.environ.get("THIRD_PARTY_TORCH") != "1":
        pytest.skip("opt-in: set THIRD_PARTY_TORCH=1 to run the scripts under PyTorch (~1 min CPU)")
    pytest.importorskip("torch")
    _skip_without_data(name)
    res = run_subprocess(name, "torch", "auto", threads=THREADS, timeout=TIMEOUT)
    assert res["ok"], f"{name} failed under torch: {_describe(res)}"
    assert res.get("learned"), f"{name} did not learn under torch: {res.get('check')}"


# --- the harness itself ---------------------------------------------------------------

def test_rewrite_imports_changes_only_import_lines_and_keeps_line_numbers():
    src = ("import torch\nimport torch.nn as nn\nfrom torch.nn import functional as F\n"
           "import torch.utils.data\nfrom torchvision import datasets, transforms\n"
           "import torchvision\nimport numpy as np; x = 1\nfrom torch.utils.data import (\n"
           "    DataLoader,\n    Dataset)\ny = torch.zeros(2)  # import torch stays\n"
           "def f():\n    import torch.optim as optim\n    return optim\n")
    new, changes = rewrite_imports(src, "glassnet", "glassnet.vision")
    lines = new.splitlines()
    assert len(lines) == len(src.splitlines())
    assert lines[0] == "import glassnet as torch"
    assert lines[1] == "import glassnet.nn as nn"
    assert lines[2] == "from glassnet.nn import functional as F"
    assert lines[3] == "import glassnet.utils.data, glassnet as torch"
    assert lines[4] == "from glassnet.vision import datasets, transforms"
    assert lines[5] == "import glassnet.vision as torchvision"
    assert lines[6] == "import numpy as np; x = 1"
    assert lines[7] == "from glassnet.utils.data import DataLoader, Dataset"
    assert lines[8] == lines[9] == ""
    assert lines[10] == "y = torch.zeros(2)  # import torch stays"
    assert lines[12] == "    import glassnet.optim as optim"
    assert len(changes) == 8
    ast.parse(new)
    # under torch only torchvision moves (to the stand-in)
    new_t, _ = rewrite_imports(src, "torch", "standin_vision")
    assert new_t.splitlines()[0] == "import torch"
    assert new_t.splitlines()[4] == "from standin_vision import datasets, transforms"


def test_short_version_patches_match_their_scripts_exactly_once():
    for spec in SCRIPTS.values():
        for step in spec.steps:
            src = (HERE / spec.name / step.file).read_text(encoding="utf-8")
            out = apply_patches(src, [p[:2] for p in step.always_patches] + step.patches,
                                f"{spec.name}/{step.file}")
            assert out.count("\n") == src.count("\n")
            with warnings.catch_warnings():   # the tutorials' own "\s" in docstrings
                warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
                compile(out, step.file, "exec")


def test_stored_scripts_are_verbatim():
    """SHA256SUMS pins every stored third-party file: they are data, not to be edited."""
    sums = (HERE / "SHA256SUMS").read_text().split("\n")
    checked = 0
    for line in filter(None, sums):
        digest, rel = line.split(maxsplit=1)
        data = (HERE / rel.strip()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{rel} differs from its cited copy"
        checked += 1
    originals = {p.relative_to(HERE).as_posix() for p in HERE.glob("*/original.py")}
    listed = {line.split(maxsplit=1)[1].strip() for line in filter(None, sums)}
    assert originals <= listed and checked >= len(SCRIPTS)


def test_idx_cut_keeps_the_header_consistent():
    images = struct.pack(">IIII", 2051, 3, 2, 2) + bytes(range(12))
    cut = run_script._cut_idx(images, 2)
    assert struct.unpack(">IIII", cut[:16]) == (2051, 2, 2, 2)
    assert cut[16:] == bytes(range(8))
    labels = struct.pack(">II", 2049, 3) + bytes([7, 8, 9])
    assert run_script._cut_idx(labels, 1) == struct.pack(">II", 2049, 1) + bytes([7])
    assert run_script._cut_idx(labels, None) == labels


def test_every_script_has_its_readme_and_licence():
    for name in SCRIPTS:
        folder = HERE / name
        readme = (folder / "README.md").read_text()
        assert "Licence" in readme and "commit" in readme.lower(), name
        assert (folder / "LICENSE").read_text().strip(), name
