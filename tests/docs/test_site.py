"""The documentation site builds in MkDocs' strict mode (any warning fails: a broken link, a
docstring griffe cannot parse, a page left out of the nav), and the API reference lists every
public module."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

needs_mkdocs = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("mkdocs", "material", "mkdocstrings",
                                                         "mkdocstrings_handlers.python")),
    reason="mkdocs, mkdocs-material or mkdocstrings[python] is not installed "
           "(pip install '.[docs]'; the test extra installs them too)")


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_api_pages_list_every_public_module():
    gen = _tool("gen_api_pages")
    pages = gen.render()
    for module, _ in gen.public_modules():
        assert any(f"::: {module}\n" in text for text in pages.values()), module
    stale = [f for f, text in pages.items()
             if (REPO / "docs" / "api" / f).read_text(encoding="utf-8") != text]
    assert not stale, f"docs/api/{stale} out of date: run python tools/gen_api_pages.py"


def test_doctest_blocks_are_fenced():
    ext = _tool("griffe_doctest")
    got = ext.fence_doctests("A :class:`~glassnet.nn.Linear` list.\n\n>>> [1, 2]\n[1, 2]\n\n"
                             "Example\n-------\n>>> 1\n1\n")
    assert got == ("A `Linear` list.\n\n```pycon\n>>> [1, 2]\n[1, 2]\n```\n\nExamples\n"
                   "--------\n>>> 1\n1\n")


@needs_mkdocs
@pytest.mark.integration
def test_site_builds_strict(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(site)], cwd=REPO, capture_output=True, text=True, timeout=600,
                       env=env)
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout[-4000:]}\n{r.stderr[-8000:]}"
    warnings = re.findall(r"^(?:WARNING|ERROR)\b.*$", r.stderr, re.M)
    assert not warnings, "\n".join(warnings)
    api = (site / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    # the reference is generated from the docstrings: a class, its signature, its example
    assert 'id="glassnet.nn.linear.Linear"' in api
    assert "in_features" in api
    assert (site / "guide" / "index.html").is_file()


def test_a_broken_link_fails_the_strict_build(tmp_path):
    # the strict build above can fail: a page with a dead link is refused
    if any(importlib.util.find_spec(m) is None for m in ("mkdocs",)):
        pytest.skip("mkdocs is not installed (pip install '.[docs]')")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n\n[dead](missing.md)\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nstrict: true\n")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(tmp_path / "site")], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "missing.md" in r.stderr
