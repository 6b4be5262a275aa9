"""Every script of examples/course runs and reproduces each worked number it checks.

The scripts print the deck's number beside glassnet's; here each row must agree. A row
that fails names the deck, what was computed, and both values.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course"
SCRIPTS = sorted(p.stem for p in COURSE.glob("[!_]*.py"))


def load(name: str):
    sys.path.insert(0, str(COURSE))
    try:
        spec = importlib.util.spec_from_file_location(f"course_{name}", COURSE / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(COURSE))


def test_there_are_course_scripts():
    assert {"neurons", "backprop", "convolution", "recurrent", "workflow"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_course_script_reproduces_the_decks_numbers(name):
    checks = load(name).run()
    compared = [r for r in checks.rows if r.compared]
    assert len(compared) >= 5, f"{name}: too few worked numbers compared"
    bad = [f"{r.deck} | {r.what} | deck {r.expected!r} | glassnet {r.got!r}" for r in checks.failures]
    assert not bad, "\n".join(bad)


def test_checks_catch_a_wrong_number():
    sys.path.insert(0, str(COURSE))
    try:
        from _course import Checks
    finally:
        sys.path.remove(str(COURSE))
    c = Checks("t")
    assert c.check("x", "close", 0.665, 0.6652, 5e-4)
    assert not c.check("x", "far", 0.665, 0.67, 5e-4)
    assert not c.check("x", "shape", [1, 2], [1, 2, 3])
    assert not c.check("x", "string", "hello", "hellp")
    c.note("x", "printed only", 3.0)
    assert [r.what for r in c.failures] == ["far", "shape", "string"]
    assert c.finish() == 1
