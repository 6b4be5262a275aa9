"""backend.config: every knob declared once, its default, its parsing, the run-time setters,
the listing, and the master switch that turns all process tuning off."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend, nn
from glassnet.backend import config

SRC = Path(__file__).resolve().parents[2] / "src" / "glassnet"
ALL_ENV = {v for k in config.KNOBS for v in k.env}


@pytest.fixture
def clean_env(monkeypatch):
    """No knob variable set, and no kept values: every knob reads its default."""
    for var in ALL_ENV:
        monkeypatch.delenv(var, raising=False)
    saved = dict(config._values), dict(config._sources)
    config.reset()
    yield monkeypatch
    config.reset()
    config._values.update(saved[0])
    config._sources.update(saved[1])


def test_every_knob_and_variable_is_declared_once():
    names = [k.name for k in config.KNOBS]
    assert len(names) == len(set(names))
    env = [v for k in config.KNOBS for v in k.env]
    assert len(env) == len(set(env))
    for k in config.KNOBS:
        assert k.reason and "\n" not in k.reason, k.name
        assert callable(k.parse), k.name


def test_every_glassnet_variable_in_the_source_is_a_knob():
    used = set()
    for p in SRC.rglob("*.py"):
        used |= set(re.findall(r"\bGLASSNET_[A-Z_]+\b", p.read_text()))
    assert used, "the walk found no GLASSNET_ names"
    assert used <= ALL_ENV, sorted(used - ALL_ENV)
    assert {"GLASSNET_NUM_THREADS", "GLASSNET_JIT", "GLASSNET_MALLOC_TUNING", "GLASSNET_DATA",
            "GLASSNET_TUNE_PROCESS", "OMP_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT"} <= ALL_ENV


def test_defaults(clean_env):
    want = {"tune_process": True, "openblas_thread_timeout": 21, "malloc_tuning": True,
            "malloc_mmap_threshold": 32 << 20, "malloc_trim_threshold": 512 << 20,
            "jit": True, "default_dtype": "float32", "strict_shapes": False, "data": None}
    for name, value in want.items():
        assert config.read(name) == (value, "default"), name
    n, src = config.read("num_threads")
    assert src == "default" and 1 <= n <= 8 and n == config.cpu_threads()


@pytest.mark.parametrize("text, value", [("0", False), ("false", False), ("OFF", False),
                                         ("no", False), ("1", True), ("True", True),
                                         (" on ", True), ("yes", True)])
def test_switches_parse_the_usual_spellings(clean_env, text, value):
    clean_env.setenv("GLASSNET_JIT", text)
    assert config.read("jit") == (value, "GLASSNET_JIT")


def test_the_first_set_variable_wins_and_empty_counts_as_unset(clean_env):
    clean_env.setenv("OMP_NUM_THREADS", "3")
    assert config.read("num_threads") == (3, "OMP_NUM_THREADS")
    clean_env.setenv("GLASSNET_NUM_THREADS", "5")
    assert config.read("num_threads") == (5, "GLASSNET_NUM_THREADS")
    clean_env.setenv("GLASSNET_NUM_THREADS", "  ")
    assert config.read("num_threads") == (3, "OMP_NUM_THREADS")


@pytest.mark.parametrize("var, text", [("GLASSNET_NUM_THREADS", "0"),
                                       ("GLASSNET_NUM_THREADS", "two"),
                                       ("GLASSNET_MALLOC_TUNING", "maybe"),
                                       ("OPENBLAS_THREAD_TIMEOUT", "-1")])
def test_a_malformed_variable_warns_and_is_skipped(clean_env, var, text):
    clean_env.setenv(var, text)
    knob = next(k.name for k in config.KNOBS if var in k.env)
    with pytest.warns(RuntimeWarning, match=f"ignoring {var}={text!r}: expected"):
        value, src = config.read(knob)
    assert src == "default"


def test_once_knobs_are_kept_and_the_data_folder_is_read_at_every_use(clean_env, tmp_path):
    clean_env.setenv("GLASSNET_JIT", "0")
    assert config.get("jit") is False
    clean_env.setenv("GLASSNET_JIT", "1")
    assert config.get("jit") is False and config.source("jit") == "GLASSNET_JIT"
    clean_env.setenv("GLASSNET_DATA", str(tmp_path))
    assert config.get("data") == str(tmp_path)
    clean_env.setenv("GLASSNET_DATA", str(tmp_path / "x"))
    assert config.get("data") == str(tmp_path / "x")


def test_setters_write_the_knob_and_the_listing_shows_it(clean_env):
    backend.set_num_threads(3)
    gn.set_default_dtype("float64")
    nn.set_strict_shapes(True)
    try:
        rows = {r.name: r for r in backend.knobs()}
        assert set(rows) == {k.name for k in config.KNOBS}
        assert (rows["num_threads"].value, rows["num_threads"].source) == (3, "set")
        assert rows["default_dtype"].value == "float64" and rows["strict_shapes"].value is True
        assert gn.get_default_dtype() == np.float64 and nn.get_strict_shapes() is True
        text = config.describe()
        for k in config.KNOBS:
            assert k.name in text
        assert "GLASSNET_NUM_THREADS, OMP_NUM_THREADS" in text
    finally:
        gn.set_default_dtype("float32")
        nn.set_strict_shapes(False)


def test_an_unknown_knob_names_the_known_ones():
    with pytest.raises(KeyError, match="no knob named 'threads'.*num_threads"):
        config.get("threads")


def test_the_data_folder_comes_from_the_knob(clean_env, tmp_path):
    (tmp_path / "mnist").mkdir()
    clean_env.setenv("GLASSNET_DATA", str(tmp_path))
    assert gn.data.paths.find_data_dir("mnist") == tmp_path / "mnist"
