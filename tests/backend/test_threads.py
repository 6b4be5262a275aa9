"""glassnet's own elementwise threads (backend.parallel_chunks): same answers for any number
of threads, errors propagate, nested calls do not deadlock, and the setting is validated."""
import os
import threading
import time

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend, nn


@pytest.fixture
def threads():
    """Run a test body under a given thread count, then restore the previous one."""
    prev = backend.get_num_threads()
    yield backend.set_num_threads
    backend.set_num_threads(prev)


def test_chunks_cover_range_once(threads):
    threads(3)
    hits = np.zeros(10, int)
    seen = set()

    def fn(lo, hi):
        hits[lo:hi] += 1
        seen.add(threading.get_ident())
    backend.parallel_chunks(10, fn, work=1 << 30)
    assert hits.tolist() == [1] * 10
    assert len(seen) >= 2           # really ran on more than one thread


def test_small_work_runs_serially(threads):
    threads(4)
    calls = []
    backend.parallel_chunks(8, lambda lo, hi: calls.append((lo, hi)), work=10)
    assert calls == [(0, 8)]


def test_worker_error_propagates(threads):
    threads(2)

    def fn(lo, hi):
        if lo > 0:
            raise RuntimeError("chunk failed")
    with pytest.raises(RuntimeError, match="chunk failed"):
        backend.parallel_chunks(4, fn, work=1 << 30)


def test_nested_calls_do_not_deadlock(threads):
    threads(2)
    out = np.zeros(16)

    def inner(lo, hi):
        out[lo:hi] += 1

    def outer(lo, hi):
        backend.parallel_chunks(16, inner, work=1 << 30) if lo == 0 else None
    backend.parallel_chunks(2, outer, work=1 << 30)
    assert out.tolist() == [1.0] * 16


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_set_num_threads_validates(bad):
    with pytest.raises(ValueError, match="set_num_threads: n must be a positive integer"):
        backend.set_num_threads(bad)


def test_env_variable_sets_default(monkeypatch):
    monkeypatch.setenv("GLASSNET_NUM_THREADS", "3")
    assert backend.config.read("num_threads")[0] == 3
    monkeypatch.setenv("GLASSNET_NUM_THREADS", "")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert backend.config.read("num_threads")[0] == 1


def _cnn_step(seed):
    """Outputs and every gradient of a small CNN on a batch big enough to be split."""
    gn.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 8, 3, stride=2, padding=2), nn.ReLU(),
                          nn.MaxPool2d(3), nn.Flatten(), nn.Linear(8 * 2 * 2, 4))
    x = gn.tensor(np.random.default_rng(seed).standard_normal((40, 3, 24, 24)),
                  requires_grad=True)
    out = model(x)
    (out * out).sum().backward()
    return [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


def test_cnn_identical_for_one_and_several_threads(threads, monkeypatch):
    monkeypatch.setattr(backend.threads, "PARALLEL_MIN_ELEMENTS", 1)   # split even small arrays
    monkeypatch.setattr(backend.threads, "ELEMENTWISE_MIN_ELEMENTS", 1)
    threads(1)
    one = _cnn_step(0)
    threads(3)
    many = _cnn_step(0)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_pool_works_in_forked_child(threads, monkeypatch):
    monkeypatch.setattr(backend.threads, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend.threads, "ELEMENTWISE_MIN_ELEMENTS", 1)
    threads(2)
    backend.parallel_chunks(4, lambda lo, hi: None)   # the parent's pool exists
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the pool must be rebuilt, not hang on dead threads
        try:
            out = np.zeros(6)
            backend.parallel_chunks(6, lambda lo, hi: out.__setitem__(slice(lo, hi), 1.0))
            os.write(w, b"ok" if out.sum() == 6 else b"bad")
        finally:
            os._exit(0)
    os.close(w)
    msg = os.read(r, 8)
    os.waitpid(pid, 0)
    assert msg == b"ok"


@pytest.mark.parametrize("pre, env, expected", [
    ("", None, "21"),                      # glassnet first: set before NumPy loads OpenBLAS
    ("", "12", "12"),                      # the user's own value is kept
    ("import numpy; ", None, "21"),        # NumPy first: OpenBLAS is made to read it again
    ("import numpy; ", "12", "12"),
])
def test_openblas_thread_timeout_default(pre, env, expected):
    import subprocess
    import sys
    e = {k: v for k, v in os.environ.items()
         if k not in ("OPENBLAS_THREAD_TIMEOUT", "GLASSNET_TUNE_PROCESS")}
    if env is not None:
        e["OPENBLAS_THREAD_TIMEOUT"] = env
    code = pre + "import os, glassnet; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset'))"
    out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == expected


_TIMEOUTS = """
import json, sys
{pre}
import glassnet, numpy as np
from glassnet.backend import process
from threadpoolctl import threadpool_info
a = np.arange(256 * 256, dtype=np.float64).reshape(256, 256) / 1e4
ok = bool(np.allclose(a @ a, np.einsum("ij,jk->ik", a, a)))    # BLAS still works after it
threads = sorted({{d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}})
print(json.dumps({{"timeouts": sorted(set(process.openblas_timeouts().values())),
                  "n": len(process.openblas_timeouts()), "ok": ok, "threads": threads}}))
"""


@pytest.mark.parametrize("pre, env, expected", [
    ("", {}, [21]),
    ("import numpy", {}, [21]),                          # retimed after NumPy loaded it
    ("import numpy", {"OPENBLAS_THREAD_TIMEOUT": "9"}, [9]),
    ("import numpy", {"GLASSNET_TUNE_PROCESS": "0"}, [0]),  # 0: OpenBLAS's own default
    # a Jupyter kernel's daemon threads (heartbeat, IOPub) do not stop it
    ("import numpy, threading, time\n"
     "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()", {}, [21]),
])
def test_openblas_reads_glassnets_timeout_in_either_import_order(pre, env, expected):
    """What OpenBLAS itself reports (``openblas_thread_timeout()``), not only the variable:
    the same spin whether NumPy or glassnet is imported first; BLAS keeps its thread count
    and its answers after its threads are restarted."""
    import json
    import subprocess
    import sys
    pytest.importorskip("threadpoolctl")
    e = {k: v for k, v in os.environ.items()
         if k not in ("OPENBLAS_THREAD_TIMEOUT", "GLASSNET_TUNE_PROCESS")}
    e.update(env, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", _TIMEOUTS.format(pre=pre)], env=e,
                         capture_output=True, text=True, check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    if got["n"] == 0:
        pytest.skip("no OpenBLAS with the calls glassnet uses is loaded (another BLAS)")
    assert got["timeouts"] == expected and got["ok"] and got["threads"] == [2], got


def test_retime_openblas_leaves_a_threaded_process_alone():
    """With another non-daemon Python thread running (it could be inside a BLAS call),
    nothing is restarted; daemon threads (a Jupyter kernel's) do not stop it."""
    import threading
    from glassnet.backend import process
    if not process.openblas_timeouts():
        pytest.skip("no OpenBLAS with the calls glassnet uses is loaded")
    for daemon, changed in ((False, False), (True, True)):
        stop = threading.Event()
        t = threading.Thread(target=stop.wait, daemon=daemon)
        t.start()
        try:
            # only the pytest main thread and t may run: xdist workers have no other
            others = [x for x in threading.enumerate()
                      if x is not threading.current_thread() and x is not t and not x.daemon]
            if others:
                pytest.skip("another non-daemon thread runs in this process")
            done = process.retime_openblas(21)
            assert bool(done) is changed, (daemon, done)
        finally:
            stop.set()
            t.join()
    assert set(process.openblas_timeouts().values()) == {21}


@pytest.mark.parametrize("lengths", [None, [9, 4, 7, 1, 9, 3]])
def test_lstm_identical_for_one_and_several_threads(threads, monkeypatch, lengths):
    """The LSTM backward's per-step derivatives are computed in chunks of time steps."""
    monkeypatch.setattr(backend.threads, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend.threads, "ELEMENTWISE_MIN_ELEMENTS", 1)

    def run():
        gn.manual_seed(3)
        lstm = nn.LSTM(5, 8, bidirectional=True)
        x = gn.tensor(np.random.default_rng(3).standard_normal((9, 6, 5)), requires_grad=True)
        y, (h, c) = lstm(x, lengths=None if lengths is None else np.array(lengths))
        ((y * y).sum() + (h * c).sum()).backward()
        return [y.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]
    threads(1)
    one = run()
    threads(3)
    many = run()
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


def test_pool_survives_errors_and_concurrent_callers(threads):
    threads(2)

    def bad(lo, hi):
        raise ValueError(f"chunk {lo}")
    for _ in range(3):            # an error in either chunk; the pool keeps working
        with pytest.raises(ValueError, match="chunk"):
            backend.parallel_chunks(4, bad, work=1 << 30)
    outs = [np.zeros(1000) for _ in range(4)]

    def fill(out):
        def fn(lo, hi):
            time.sleep(0.002)
            out[lo:hi] += 1
        for _ in range(20):
            backend.parallel_chunks(len(out), fn, work=1 << 30)
    ts = [threading.Thread(target=fill, args=(o,)) for o in outs]   # callers at once
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all((o == 20).all() for o in outs)


def test_set_num_threads_rebuilds_the_pool(threads):
    seen = set()

    def fn(lo, hi):
        seen.add(threading.get_ident())
        time.sleep(0.02)
    threads(3)
    backend.parallel_chunks(3, fn, work=1 << 30)
    assert len(seen) == 3
    threads(2)
    seen.clear()
    backend.parallel_chunks(3, fn, work=1 << 30)
    assert len(seen) == 2


def test_const_vector_is_cached_and_read_only():
    a = backend.const_vector("ones", 5, np.float32)
    assert a.dtype == np.float32 and a.tolist() == [1.0] * 5
    assert backend.const_vector("ones", 5, "float32") is a
    assert backend.const_vector("ones", 5, np.float64) is not a
    r = backend.const_vector("arange", 4)
    assert r.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        a[0] = 2.0
    with pytest.raises(ValueError, match="const_vector: kind"):
        backend.const_vector("zeros", 3)
