"""Threads: a small pool that runs NumPy's single-threaded elementwise work on every core.

NumPy runs BLAS calls (the GEMMs) on several cores but ufuncs and strided copies on one.
The heavy elementwise kernels (ReLU, pooling, im2col / col2im, layout copies, the
optimizers' flat updates) therefore cut their arrays into contiguous chunks of the first
(batch) axis and run the chunks on a few persistent threads: NumPy releases the GIL inside
those loops, so the chunks run in parallel. Each chunk writes only its own part of the
output, so results are bit-identical for any number of threads.

Three calls, from the most to the least specific:

* :func:`elementwise` -- ``ufunc(*inputs, out=out)`` with the batch axis split;
* :func:`copy` -- ``dst[...] = src`` with the batch axis split;
* :func:`parallel_chunks` -- ``fn(lo, hi)`` over chunks of ``range(n)``, for a kernel
  that is more than one ufunc (im2col, col2im, a separable max pool).

>>> out = elementwise(np.maximum, np.ones((4, 3)), 0)      # np.maximum(x, 0), in chunks
"""
from __future__ import annotations

import os
import threading

import numpy as np

from . import config
from ..validation import check_int

__all__ = ["get_num_threads", "set_num_threads", "parallel_chunks", "elementwise", "copy",
           "PARALLEL_MIN_ELEMENTS"]

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


def get_num_threads() -> int:
    """Threads glassnet's own elementwise kernels use (knob ``num_threads``:
    GLASSNET_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may run on, at
    most 8). BLAS keeps its own setting (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS)."""
    return config.get("num_threads")


def set_num_threads(n: int) -> None:
    """Set the threads of glassnet's elementwise kernels (1 turns the pool off), like
    ``torch.set_num_threads`` for the non-GEMM part of a step."""
    global _pool
    n = check_int(n, "n", "set_num_threads")
    with _pool_lock:
        config.set("num_threads", n)
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


def elementwise(ufunc, *inputs, out=None):
    """``ufunc(*inputs, out=out)`` (NumPy broadcasting) with the first axis of the result
    cut into chunks run on glassnet's threads; returns ``out`` (allocated when None).

    A tuple of ufuncs computes each of them from the same inputs in one pass over the
    chunks (a chunk is still in cache for the second) and returns a tuple of results;
    ``out`` is then None or a tuple. Inputs that span the whole result (same number of
    axes, same first axis) are cut along with it; broadcast ones (scalars, a bias of shape
    (1, C, 1, 1)) go whole to every chunk. Results under ``PARALLEL_MIN_ELEMENTS``
    elements, and anything that is not a NumPy array first, run as plain ufunc calls.

    >>> z = np.arange(-3.0, 3.0).reshape(3, 2)
    >>> elementwise(np.maximum, z, 0)          # max(0, z)
    array([[0., 0.],
           [0., 0.],
           [1., 2.]])
    >>> a, mask = elementwise((np.maximum, np.greater), z, 0)   # max(0, z) and z > 0
    """
    many = isinstance(ufunc, tuple)
    ufuncs = ufunc if many else (ufunc,)
    outs = (out if many else (out,)) if out is not None else (None,) * len(ufuncs)
    lead = inputs[0]
    if (type(lead) is not np.ndarray or lead.ndim == 0 or lead.size < PARALLEL_MIN_ELEMENTS
            or get_num_threads() == 1):
        res = tuple(u(*inputs, out=o) for u, o in zip(ufuncs, outs))
        return res if many else res[0]
    shape = np.broadcast_shapes(*(np.shape(a) for a in inputs))
    n = shape[0]
    cut = [type(a) is np.ndarray and a.ndim == len(shape) and a.shape[0] == n
           for a in inputs]
    empty = [a[:0] if c else a for a, c in zip(inputs, cut)]
    outs = tuple(np.empty(shape, u(*empty).dtype) if o is None else o   # dtype: from 0 rows
                 for u, o in zip(ufuncs, outs))

    def run(lo, hi):
        args = [a[lo:hi] if c else a for a, c in zip(inputs, cut)]
        for u, o in zip(ufuncs, outs):
            u(*args, out=o[lo:hi])
    parallel_chunks(n, run, outs[0].size)
    return outs if many else outs[0]


def copy(dst, src):
    """``dst[...] = src`` with the first axis cut into chunks run on glassnet's threads
    (a layout change such as NCHW -> CNHW is a copy into a transposed view); returns
    ``dst``.

    >>> a = np.empty((2, 3))
    >>> float(copy(a.T, np.ones((3, 2)))[0, 0])
    1.0
    """
    if dst.ndim == 0 or dst.size < PARALLEL_MIN_ELEMENTS or get_num_threads() == 1:
        np.copyto(dst, src)
        return dst
    whole = np.ndim(src) < dst.ndim or np.shape(src)[0] != dst.shape[0]
    parallel_chunks(dst.shape[0],
                    lambda lo, hi: np.copyto(dst[lo:hi], src if whole else src[lo:hi]),
                    dst.size)
    return dst
