"""Array backend, dtype policy and the seeded random-number generator.

Every other layer gets its array module, default dtype and random numbers from
here, so the same code runs on NumPy (always) and CuPy (when installed and asked
for with ``set_backend("cupy")``).
"""
from __future__ import annotations

import os
import sys
import threading

import numpy as np

_xp = np
_default_dtype = np.dtype(np.float32)
_rng = np.random.default_rng()

__all__ = [
    "xp", "get_array_module", "set_backend", "get_default_dtype", "set_default_dtype",
    "manual_seed", "rng", "as_float_array", "to_numpy", "get_num_threads", "set_num_threads",
    "parallel_chunks",
]


def xp():
    """The active array module (``numpy`` or ``cupy``)."""
    return _xp


def get_array_module(*arrays):
    """The array module that owns ``arrays`` (CuPy arrays give ``cupy``)."""
    for a in arrays:
        mod = type(a).__module__
        if mod.startswith("cupy"):
            import cupy  # noqa: PLC0415  (optional dependency)
            return cupy
    return np


def set_backend(name: str) -> None:
    """Select ``"numpy"`` or ``"cupy"`` as the array module for new tensors."""
    global _xp
    if name == "numpy":
        _xp = np
    elif name == "cupy":
        try:
            import cupy  # noqa: PLC0415
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise ImportError("set_backend('cupy') needs CuPy: pip install cupy-cuda12x") from e
        _xp = cupy
    else:
        raise ValueError(f"set_backend: name must be 'numpy' or 'cupy', got {name!r}")


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors and parameters get (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the floating dtype for new tensors and parameters (float32 or float64)."""
    global _default_dtype
    d = np.dtype(dtype)
    if d not in (np.float32, np.float64):
        raise ValueError(f"set_default_dtype: dtype must be float32 or float64, got {d}")
    _default_dtype = d


def manual_seed(seed: int) -> np.random.Generator:
    """Seed glassnet's generator (initialisation, dropout, shuffling); returns it."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def rng() -> np.random.Generator:
    """glassnet's global random generator (seeded by :func:`manual_seed`)."""
    return _rng


def as_float_array(x, dtype=None):
    """``x`` as a floating array of ``dtype`` (the default dtype when None), no copy if possible."""
    d = np.dtype(dtype) if dtype is not None else _default_dtype
    return _xp.asarray(x, dtype=d)


def to_numpy(a):
    """A NumPy array from a NumPy or CuPy array."""
    if hasattr(a, "get") and type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


# ------------------------------------------------------------------ constants
_const_cache = {}


def const_vector(kind: str, n: int, dtype=None):
    """A cached, read-only NumPy vector that hot paths need every step: ``"ones"`` (n ones
    of ``dtype``, e.g. for the bias gradient ``ones @ g``) or ``"arange"`` (``np.arange(n)``,
    row indices of a batch)."""
    key = (kind, n, None if dtype is None else np.dtype(dtype))
    v = _const_cache.get(key)
    if v is None:
        if len(_const_cache) > 128:
            _const_cache.clear()
        if kind == "ones":
            v = np.ones(n, dtype=dtype)
        elif kind == "arange":
            v = np.arange(n) if dtype is None else np.arange(n, dtype=dtype)
        else:
            raise ValueError(f"const_vector: kind must be 'ones' or 'arange', got {kind!r}")
        v.flags.writeable = False
        _const_cache[key] = v
    return v


# ------------------------------------------------------------------ memory
# glibc hands freed blocks above a dynamic threshold back to the OS (munmap, heap trim) and
# faults them in again, page by page, at the next step: thousands of minor page faults per
# training step for the megabyte-sized temporaries of a CNN or LSTM step (an LSTM step was
# 14% faster without them here). glassnet therefore asks glibc, once at import, to keep freed
# memory up to these sizes in the heap, as ``MALLOC_MMAP_THRESHOLD_`` and
# ``MALLOC_TRIM_THRESHOLD_`` would. The process keeps its peak heap size instead of shrinking.
# Variables the user set win; GLASSNET_MALLOC_TUNING=0 turns this off.
MALLOC_MMAP_THRESHOLD = 32 << 20    # glibc's largest allowed value on 64-bit systems
MALLOC_TRIM_THRESHOLD = 512 << 20
_malloc_tuned = None


def tune_malloc() -> bool:
    """Apply the heap thresholds above to this process (glibc only); True when applied."""
    global _malloc_tuned
    if _malloc_tuned is not None:
        return _malloc_tuned
    _malloc_tuned = False
    if os.environ.get("GLASSNET_MALLOC_TUNING", "1").strip() == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # noqa: PLC0415
        import platform  # noqa: PLC0415
        if platform.libc_ver()[0] != "glibc":
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, ValueError):  # pragma: no cover - exotic platforms
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    ok = True
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        ok &= bool(mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD))
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        ok &= bool(mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))
    _malloc_tuned = ok
    return ok


# ------------------------------------------------------------------ threads
# NumPy runs elementwise work (ufuncs, strided copies) on one core; only BLAS calls use
# several. The heavy elementwise kernels (ReLU, pooling, im2col / col2im, layout copies)
# therefore split their arrays into contiguous chunks run by a small pool of threads:
# NumPy releases the GIL inside those loops, so the chunks run in parallel.
_num_threads = None
_pool = None
_pool_lock = threading.Lock()
_in_worker = threading.local()
PARALLEL_MIN_ELEMENTS = 1 << 17   # below this, thread hand-off costs more than it saves


class _Worker:
    __slots__ = ("go", "done", "job", "error", "thread")


class _Pool:
    """Persistent worker threads, each started by releasing its ``go`` lock and reporting
    through its ``done`` lock: two C-level lock operations per chunk (a
    ThreadPoolExecutor's futures cost several times that in Python). ``busy`` lets one
    caller at a time use the pool; a concurrent caller runs its work serially."""

    def __init__(self, n):
        self.busy = threading.Lock()
        self.workers = []
        for i in range(n):
            w = _Worker()
            w.go, w.done = threading.Lock(), threading.Lock()
            w.go.acquire()
            w.done.acquire()
            w.job = w.error = None
            w.thread = threading.Thread(target=_Pool._loop, args=(w,), daemon=True,
                                        name=f"glassnet-{i + 1}")
            w.thread.start()
            self.workers.append(w)

    @staticmethod
    def _loop(w):
        _in_worker.active = True
        while True:
            w.go.acquire()
            job = w.job
            if job is None:          # stop()
                return
            fn, lo, hi = job
            try:
                fn(lo, hi)
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                w.error = e
            w.job = None
            w.done.release()

    def stop(self):
        for w in self.workers:
            w.job = None
            w.go.release()


def _default_threads() -> int:
    for var in ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS"):
        v = os.environ.get(var, "").strip()
        if v.isdigit() and int(v) > 0:
            return int(v)
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def get_num_threads() -> int:
    """Threads glassnet's own elementwise kernels use (GLASSNET_NUM_THREADS, else
    OMP_NUM_THREADS, else the CPUs this process may run on, at most 8). BLAS keeps its
    own setting (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Set the threads of glassnet's elementwise kernels (1 turns the pool off), like
    ``torch.set_num_threads`` for the non-GEMM part of a step."""
    global _num_threads, _pool
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    with _pool_lock:
        _num_threads = int(n)
        if _pool is not None:
            _pool.stop()
            _pool = None


def _get_pool(workers):
    global _pool
    p = _pool
    if p is not None and len(p.workers) >= workers:
        return p
    with _pool_lock:
        if _pool is None or len(_pool.workers) < workers:
            if _pool is not None:
                _pool.stop()
            _pool = _Pool(max(workers, get_num_threads() - 1))
        return _pool


def _reset_after_fork():  # a forked child has no pool threads: start a fresh pool there
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def parallel_chunks(n: int, fn, work: int | None = None) -> None:
    """Call ``fn(lo, hi)`` over ``[0, n)`` cut into at most :func:`get_num_threads`
    contiguous chunks, the first in this thread and the others on the pool, and wait for
    all. ``work`` (elements touched) below ``PARALLEL_MIN_ELEMENTS`` runs one call
    ``fn(0, n)``. Each chunk must write only its own part of the outputs, so the result
    is the same for any number of threads. Calls from inside a chunk, or while another
    thread is using the pool, run serially."""
    k = min(get_num_threads(), n)
    if (k <= 1 or (work is not None and work < PARALLEL_MIN_ELEMENTS)
            or getattr(_in_worker, "active", False)):
        fn(0, n)
        return
    pool = _get_pool(k - 1)
    if not pool.busy.acquire(blocking=False):
        fn(0, n)
        return
    try:
        bounds = [n * i // k for i in range(k + 1)]
        ws = pool.workers[:k - 1]
        for i, w in enumerate(ws, 1):
            w.job = (fn, bounds[i], bounds[i + 1])
            w.go.release()
        err = None
        _in_worker.active = True
        try:
            fn(bounds[0], bounds[1])
        except BaseException as e:  # noqa: BLE001 - raised below, after the workers
            err = e
        finally:
            _in_worker.active = False
            for w in ws:
                w.done.acquire()
                if w.error is not None:
                    err = err if err is not None else w.error
                    w.error = None
        if err is not None:
            raise err
    finally:
        pool.busy.release()
