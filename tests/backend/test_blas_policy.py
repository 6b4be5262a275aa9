"""The BLAS thread policy (backend.threads): small GEMMs get one thread, a busy machine
caps the threads to the idle CPUs, an explicit setting wins, Trainer.fit runs under it and
restores the setting, and results do not change with the thread count."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend, nn, optim
from glassnet.backend import config, threads
from glassnet.training import Callback, Trainer

pytest.importorskip("threadpoolctl")


@pytest.fixture
def policy(monkeypatch):
    """Automatic policy (no explicit setting), a fresh idle-CPU look, and a known load."""
    saved = dict(config._values), dict(config._sources)
    monkeypatch.delenv("GLASSNET_BLAS_THREADS", raising=False)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # the environment's ceiling
        monkeypatch.delenv(var, raising=False)
    config.reset("blas_threads")
    # the elementwise threads at their default too: a test that ran before in this process
    # (an xdist worker runs many) may have set them back "explicitly" to their old number
    for var in ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    config.reset("num_threads")
    threads._idle_cache[:] = [0.0, 0]
    prev = threads.get_blas_threads()
    monkeypatch.setattr(threads, "_cpus", lambda: 2)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    load = {"others": 0}
    monkeypatch.setattr(threads, "_others_running", lambda: load["others"])
    yield load
    threads._apply_blas(prev)
    threads._idle_cache[:] = [0.0, 0]
    config.reset()
    config._values.update(saved[0])
    config._sources.update(saved[1])


def test_blas_is_controllable():
    assert threads.blas_available()
    with backend.blas_threads(1):
        assert backend.get_blas_threads() == 1


def test_rules(policy):
    assert backend.blas_threads_for(None) == 2                  # idle machine, big GEMM
    assert backend.blas_threads_for(threads.BLAS_MIN_MNK - 1) == 1      # small GEMM
    assert backend.blas_threads_for(1e9, idle=1) == 1
    policy["others"] = 1
    threads._idle_cache[0] = 0.0
    assert backend.idle_cpus() == 1 and backend.blas_threads_for(1e9) == 1
    policy["others"] = 5
    threads._idle_cache[0] = 0.0
    assert backend.idle_cpus() == 1                             # never below one


def test_the_environments_blas_setting_is_a_ceiling(policy, monkeypatch):
    # a user who set OPENBLAS_NUM_THREADS=1 (as the benchmarks do) keeps BLAS on one
    # thread through a fit, even on an idle machine where the policy would give it two
    assert backend.blas_threads_for(1e9) == 2
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert threads.env_blas_cap() == 1 and backend.blas_threads_for(1e9) == 1
    threads._apply_blas(2)
    rec = Record()
    _fit(1024, 2048, [rec])                     # big GEMMs, idle machine: still one
    assert rec.seen[0] == 1 and backend.get_blas_threads() == 2   # restored after
    # the first set variable counts; OMP_NUM_THREADS is the last resort; junk is ignored
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "junk")
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    with pytest.warns(RuntimeWarning, match="OPENBLAS_NUM_THREADS"):
        assert threads.env_blas_cap() == 3 and backend.blas_threads_for(1e9) == 2
    monkeypatch.delenv("MKL_NUM_THREADS")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.env_blas_cap() == 1 and backend.blas_threads_for(1e9) == 1
    # an explicit glassnet setting still wins over the environment
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    with backend.blas_threads(2):
        assert backend.blas_threads_for(1e9) == 2


def test_a_passing_process_does_not_count(policy, monkeypatch):
    reads = iter([1, 0, 1, 1])
    monkeypatch.setattr(threads, "_others_running", lambda: next(reads))
    assert backend.idle_cpus() == 2


def test_explicit_settings_win(policy, monkeypatch):
    with backend.blas_threads(2):
        assert backend.blas_threads_for(10) == 2                # a block's number wins
        with backend.blas_threads(1):
            assert backend.get_blas_threads() == 1
        assert backend.get_blas_threads() == 2                  # nested blocks restore
    backend.set_blas_threads(2)
    assert backend.blas_threads_for(10) == 2 and config.source("blas_threads") == "set"
    backend.set_blas_threads(None)
    assert backend.blas_threads_for(10) == 1
    monkeypatch.setenv("GLASSNET_BLAS_THREADS", "3")
    assert config.read("blas_threads") == (3, "GLASSNET_BLAS_THREADS")
    monkeypatch.setenv("GLASSNET_BLAS_THREADS", "auto")
    assert config.read("blas_threads") == (None, "GLASSNET_BLAS_THREADS")
    monkeypatch.setenv("GLASSNET_BLAS_THREADS", "zero")
    with pytest.warns(RuntimeWarning, match="GLASSNET_BLAS_THREADS"):
        assert config.read("blas_threads") == (None, "default")
    for bad in (0, 1.5, "2"):
        with pytest.raises(ValueError, match="positive integer"):
            backend.set_blas_threads(bad)
        with pytest.raises(ValueError, match="positive integer"), backend.blas_threads(bad):
            pass


class Record(Callback):
    def on_train_begin(self, trainer):
        self.seen = (backend.get_blas_threads(), backend.get_num_threads())


def _fit(hidden, batch_size, callbacks=(), epochs=1, seed=0):
    gn.manual_seed(seed)
    m = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=1e-2))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 64)).astype(np.float32)
    y = (X[:, :10].argmax(1)).astype(np.int64)
    t.fit((X, y), epochs=epochs, batch_size=batch_size, callbacks=list(callbacks), verbose=0)
    return m


def test_fit_runs_under_the_policy_and_restores(policy):
    threads._apply_blas(2)
    rec = Record()
    _fit(16, 32, [rec])                         # 32 x 64 x 16 multiply-adds: small
    assert rec.seen[0] == 1 and backend.get_blas_threads() == 2
    _fit(1024, 2048, [rec])                     # 2048 x 64 x 1024: big, idle machine
    assert rec.seen[0] == 2
    policy["others"] = 1                        # one CPU-bound process elsewhere
    threads._idle_cache[0] = 0.0
    _fit(1024, 2048, [rec])
    assert rec.seen == (1, 1)                   # BLAS and elementwise threads capped
    assert backend.get_blas_threads() == 2
    assert config.source("num_threads") != "set"   # the cap was undone
    with backend.blas_threads(2):               # a search worker's explicit number wins
        _fit(16, 32, [rec])
        assert rec.seen[0] == 2


def test_results_do_not_depend_on_the_blas_threads():
    with backend.blas_threads(1):
        a = _fit(256, 256, epochs=2)
    with backend.blas_threads(2):
        b = _fit(256, 256, epochs=2)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_cpu_bound_process_is_seen(monkeypatch):
    monkeypatch.setattr(threads, "_cpus", lambda: threads.os.cpu_count())
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        threads._idle_cache[0] = 0.0
        assert backend.idle_cpus() <= max(1, threads.os.cpu_count() - 1)
    finally:
        hog.kill()
        hog.wait()
        threads._idle_cache[:] = [0.0, 0]
