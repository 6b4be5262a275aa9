"""Every ```python snippet of docs/*.md and README.md runs as written, alone, in a fresh
interpreter (a subprocess in an empty temporary folder, glassnet from this working tree)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .snippets import REPO, all_snippets, snippets

SNIPPETS = all_snippets()
TIMEOUT_S = 240


def _data_dir() -> Path | None:
    env = os.environ.get("GLASSNET_DATA")
    for p in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if p.is_dir():
            return p
    return None


def test_snippets_are_found():
    # the extractor itself: a test that cannot silently collect nothing
    assert len(SNIPPETS) >= 10
    assert any(s.path.name == "guide.md" for s in SNIPPETS)


def test_markers_are_parsed(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("a\n<!-- snippet: skip: trains for an hour -->\n```python\n1/0\n```\n\n"
                  "```python\nx = 1\n```\n<!-- snippet: needs-data -->\n\n```python\npass\n```\n")
    got = snippets(md)
    assert [(s.marker, s.reason, s.code) for s in got] == [
        ("skip", "trains for an hour", "1/0\n"), (None, "", "x = 1\n"), ("needs-data", "", "pass\n")]


def test_every_skip_gives_a_reason():
    bare = [s.id for s in SNIPPETS if s.marker == "skip" and not s.reason]
    assert not bare, f"<!-- snippet: skip: REASON --> without a reason: {bare}"


def _run(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def _env(data: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    if data is not None:
        env["GLASSNET_DATA"] = str(data)
    return env


def test_a_failing_snippet_fails(tmp_path):
    # the runner really reports a failure (so the parametrised test below can fail)
    r = _run("import glassnet as gn\nundefined_name\n", tmp_path, _env(None))
    assert r.returncode != 0 and "NameError" in r.stderr


@pytest.mark.integration
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs_alone(snippet, tmp_path):
    if snippet.marker == "skip":
        pytest.skip(f"illustrative: {snippet.reason}")
    data = _data_dir()
    if snippet.marker == "needs-data" and data is None:
        pytest.skip("needs the real datasets: set GLASSNET_DATA or put them in ../shared/data")
    r = _run(snippet.code, tmp_path, _env(data))
    assert r.returncode == 0, (f"{snippet.id} fails when run alone:\n{snippet.code}\n"
                               f"--- stderr ---\n{r.stderr[-3000:]}")
