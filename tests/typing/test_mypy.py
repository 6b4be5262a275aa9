"""mypy passes on glassnet (the configuration in pyproject.toml) and on a user-style training
script, and fails on a script with a type error in its use of glassnet (so these checks can
fail). mypy runs in-process through its API, with its cache in pytest's temporary folder."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is not installed (pip install '.[test]')")

REPO = Path(__file__).resolve().parents[2]
USER_SCRIPT = Path(__file__).with_name("user_script.py")


def _mypy(args: list[str], cache: Path) -> tuple[str, int, float]:
    t0 = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(REPO)            # pyproject.toml's [tool.mypy] is found from the repository root
    try:
        out, err, rc = api.run(["--cache-dir", str(cache), *args])
    finally:
        os.chdir(cwd)
    return out + err, rc, time.perf_counter() - t0


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy_cache")


@pytest.mark.integration
def test_package_passes_mypy(cache):
    out, rc, secs = _mypy([], cache)          # files = src/glassnet, from pyproject.toml
    assert rc == 0, out
    assert "Success" in out
    print(f"mypy on the package: {secs:.1f} s")


@pytest.mark.integration
def test_user_script_passes_mypy(cache):
    out, rc, _ = _mypy([str(USER_SCRIPT)], cache)
    assert rc == 0, out


def test_user_script_runs():
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, str(USER_SCRIPT)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "final loss" in r.stdout


BAD = '''
import glassnet as gn
from glassnet import nn

layer = nn.Linear("64", 10)          # in_features is an int
t: gn.Tensor = gn.tensor([1.0, 2.0])
n: int = t                           # a Tensor is not an int
'''


@pytest.mark.integration
def test_a_type_error_fails_mypy(cache, tmp_path):
    bad = tmp_path / "bad_script.py"
    bad.write_text(BAD)
    out, rc, _ = _mypy([str(bad)], cache)
    assert rc == 1, out
    assert 'Argument 1 to "Linear" has incompatible type "str"; expected "int"' in out, out
    assert 'Incompatible types in assignment (expression has type "Tensor", variable has type "int")' in out, out
