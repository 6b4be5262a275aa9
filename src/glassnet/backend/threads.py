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

The BLAS thread policy (the GEMMs' threads, which NumPy's BLAS runs on its own pool) is at
the end of this module: :func:`blas_threads_for` decides, :func:`blas_threads` applies a
number for a block, :func:`fit_blas_threads` is what ``Trainer.fit`` runs under.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import os
import threading
import time
from typing import Any, Callable, Iterator, Sequence, TypeVar, cast

import numpy as np

from . import config
from ..validation import check_int

__all__ = ["get_num_threads", "set_num_threads", "parallel_chunks", "elementwise", "copy",
           "flat_chunks",
           "PARALLEL_MIN_ELEMENTS", "ELEMENTWISE_MIN_ELEMENTS", "BLAS_MIN_MNK", "idle_cpus",
           "blas_threads_for", "get_blas_threads", "set_blas_threads", "blas_threads",
           "fit_blas_threads", "blas_policy", "blas_available"]

_pool: _Pool | None = None
_pool_lock = threading.Lock()
_in_worker = threading.local()
PARALLEL_MIN_ELEMENTS = 1 << 17   # below this, thread hand-off costs more than it saves
# One ufunc pass or copy is memory-bound (~0.3 ns an element here) and the hand-off to a
# sleeping worker costs ~100 us on these machines (an idle vCPU's wake-up), so elementwise()
# and copy() split only from about 1M elements: a ReLU over 131k floats took 25 us alone
# and 120 us split in two; at 2M elements the split ran 1.2-1.5x faster, at 8M 2.1-2.5x.
ELEMENTWISE_MIN_ELEMENTS = 1 << 20


class _Worker:
    __slots__ = ("go", "done", "job", "error", "thread")
    go: threading.Lock
    done: threading.Lock
    job: tuple[Callable[[int, int], object], int, int] | None
    error: BaseException | None
    thread: threading.Thread


class _Pool:
    """Persistent worker threads, each started by releasing its ``go`` lock and reporting
    through its ``done`` lock: two C-level lock operations per chunk (a
    ThreadPoolExecutor's futures cost several times that in Python). ``busy`` lets one
    caller at a time use the pool; a concurrent caller runs its work serially."""

    def __init__(self, n: int) -> None:
        self.busy = threading.Lock()
        self.workers: list[_Worker] = []
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
    def _loop(w: _Worker) -> None:
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
            # drop the job before waiting for the next: a chunk function's closure holds
            # the caller's arrays (a convolution's output), which would stay alive until
            # the next parallel call
            w.job = job = None
            del fn
            w.done.release()

    def stop(self) -> None:
        for w in self.workers:
            w.job = None
            w.go.release()


def background_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a long-lived daemon thread running ``target`` (an application's loop, such
    as the playground's training session), named ``name``: the one place outside the
    pool where glassnet starts a thread. It is not a compute pool: the work it does still
    goes through :func:`parallel_chunks` and the BLAS policy.

    >>> import threading
    >>> done = threading.Event()
    >>> t = background_thread(done.set, "glassnet-doctest"); t.join(); done.is_set()
    True
    """
    t = threading.Thread(target=target, daemon=True, name=str(name))
    t.start()
    return t


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


def _get_pool(workers: int) -> _Pool:
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


def _reset_after_fork() -> None:  # a forked child has no pool threads: start a fresh pool there
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def parallel_chunks(n: int, fn: Callable[[int, int], object], work: int | None = None,
                    *, gemm: bool = False) -> None:
    """Call ``fn(lo, hi)`` over ``[0, n)`` cut into at most :func:`get_num_threads`
    contiguous chunks, the first in this thread and the others on the pool, and wait for
    all. ``work`` (elements touched) below ``PARALLEL_MIN_ELEMENTS`` runs one call
    ``fn(0, n)``. Each chunk must write only its own part of the outputs, so the result
    is the same for any number of threads. Calls from inside a chunk, or while another
    thread is using the pool, run serially.

    ``gemm``: ``fn`` calls BLAS (many small GEMMs, one batch item after another). While
    the chunks run in parallel the BLAS library gets one thread (each chunk is one of the
    threads), and its previous count is restored afterwards; a serial run leaves BLAS as
    it is. A batched ``np.matmul`` of 128 (128 x 64) @ (64 x 128) products ran 1.8x
    faster this way on two cores than as one call with two BLAS threads, which OpenBLAS
    spends on splitting each small product."""
    k = min(get_num_threads(), n)
    if (k <= 1 or (work is not None and work < PARALLEL_MIN_ELEMENTS)
            or getattr(_in_worker, "active", False)):
        fn(0, n)
        return
    pool = _get_pool(k - 1)
    if not pool.busy.acquire(blocking=False):
        fn(0, n)
        return
    blas_prev = get_blas_threads() if gemm else None
    if blas_prev is not None and blas_prev > 1:
        _apply_blas(1)
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
        if blas_prev is not None and blas_prev > 1:
            _apply_blas(blas_prev)
        pool.busy.release()


def elementwise(ufunc: Callable[..., Any] | tuple[Callable[..., Any], ...], *inputs: Any,
                out: Any = None) -> Any:
    """``ufunc(*inputs, out=out)`` (NumPy broadcasting) with the first axis of the result
    cut into chunks run on glassnet's threads; returns ``out`` (allocated when None).

    A tuple of ufuncs computes each of them from the same inputs in one pass over the
    chunks (a chunk is still in cache for the second) and returns a tuple of results;
    ``out`` is then None or a tuple. Inputs that span the whole result (same number of
    axes, same first axis) are cut along with it; broadcast ones (scalars, a bias of shape
    (1, C, 1, 1)) go whole to every chunk. Results under ``ELEMENTWISE_MIN_ELEMENTS``
    elements, and anything that is not a NumPy array first, run as plain ufunc calls.

    >>> z = np.arange(-3.0, 3.0).reshape(3, 2)
    >>> elementwise(np.maximum, z, 0)          # max(0, z)
    array([[0., 0.],
           [0., 0.],
           [1., 2.]])
    >>> a, mask = elementwise((np.maximum, np.greater), z, 0)   # max(0, z) and z > 0
    """
    many = isinstance(ufunc, tuple)
    ufuncs: tuple[Callable[..., Any], ...] = ufunc if isinstance(ufunc, tuple) else (ufunc,)
    outs: tuple[Any, ...] = (out if many else (out,)) if out is not None else (None,) * len(ufuncs)
    lead = inputs[0]
    if (type(lead) is not np.ndarray or lead.ndim == 0 or lead.size < ELEMENTWISE_MIN_ELEMENTS
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

    def run(lo: int, hi: int) -> None:
        args = [a[lo:hi] if c else a for a, c in zip(inputs, cut)]
        for u, o in zip(ufuncs, outs):
            u(*args, out=o[lo:hi])
    parallel_chunks(n, run, outs[0].size)
    return outs if many else outs[0]


def flat_chunks(kernel: Callable[..., object], arrays: Sequence[np.ndarray], *extra: Any,
                min_elements: int | None = None) -> None:
    """``kernel(*flat slices, *extra)`` over the flat views of the C-contiguous ``arrays``
    (one size), cut into chunks of elements run on glassnet's threads: one call below
    ``min_elements`` (default ``ELEMENTWISE_MIN_ELEMENTS``, for one memory-bound pass; a
    heavier kernel passes a smaller one). For compiled elementwise kernels that release
    the GIL (ReLU, GELU)."""
    flat = [a.reshape(-1) for a in arrays]
    n = flat[0].size
    limit = ELEMENTWISE_MIN_ELEMENTS if min_elements is None else min_elements
    if n < limit or get_num_threads() == 1:
        kernel(*flat, *extra)
        return
    parallel_chunks(n, lambda lo, hi: kernel(*(f[lo:hi] for f in flat), *extra), n)


def copy(dst: np.ndarray, src: Any) -> np.ndarray:   # src: an array, or a scalar
    """``dst[...] = src`` with the first axis cut into chunks run on glassnet's threads
    (a layout change such as NCHW -> CNHW is a copy into a transposed view); returns
    ``dst``.

    >>> a = np.empty((2, 3))
    >>> float(copy(a.T, np.ones((3, 2)))[0, 0])
    1.0
    """
    if dst.ndim == 0 or dst.size < ELEMENTWISE_MIN_ELEMENTS or get_num_threads() == 1:
        np.copyto(dst, src)
        return dst
    whole = np.ndim(src) < dst.ndim or np.shape(src)[0] != dst.shape[0]
    parallel_chunks(dst.shape[0],
                    lambda lo, hi: np.copyto(dst[lo:hi], src if whole else src[lo:hi]),
                    dst.size)
    return dst



# ------------------------------------------------------------------ BLAS thread policy
#
# NumPy's BLAS (OpenBLAS) starts as many threads as there are cores and uses them for every
# GEMM above M*N*K = 262144. Two things go wrong on a small machine: a GEMM that takes tens
# of microseconds gains nothing from a second thread and pays its hand-off, and on a busy
# machine a GEMM split over two threads waits for whichever was descheduled, so that a
# training which takes 4.5 s on one thread took 27-43 s (issue 16). glassnet therefore
# decides, per fit, how many BLAS threads its GEMMs deserve:
#
# 1. an explicit number wins: blas_threads(n) around a block, set_blas_threads(n), or
#    GLASSNET_BLAS_THREADS=n (knob ``blas_threads``; "auto" or unset lets the rules decide);
# 2. small GEMMs get one thread: when the largest GEMM of a step (known for models made of
#    Linear layers: batch x in x out) is under BLAS_MIN_MNK multiply-adds;
# 3. never more threads than idle CPUs: at fit start glassnet counts the runnable threads of
#    other processes (/proc/loadavg's instantaneous count, minus this process's running
#    threads, the least of a few reads so that a passing process does not count) and caps
#    the BLAS threads -- and glassnet's own elementwise threads -- to the CPUs left free;
# 4. never more than the BLAS library's own variable: OPENBLAS_NUM_THREADS (else
#    MKL_NUM_THREADS, else OMP_NUM_THREADS) set in the environment is the user's ceiling,
#    as it is for NumPy alone, so OPENBLAS_NUM_THREADS=1 keeps every GEMM on one thread.
#
# threadpoolctl (a small pure-Python package, already required by scikit-learn) sets the
# BLAS library's thread count; without it the policy is a no-op and blas_available() says so.

BLAS_MIN_MNK = 1 << 21   # 2M multiply-adds (~30 us on one core): below, one thread is as fast

_controller: Any = None   # threadpoolctl.ThreadpoolController, built once (it walks the libs)
_controller_lock = threading.Lock()
_explicit: list[int] = []   # stack of the numbers set by blas_threads(n) blocks
_idle_cache: list = [0.0, 0]   # (time, idle cpus) of the last look, kept for 0.25 s


def _blas_libs() -> list:
    global _controller
    if _controller is None:
        with _controller_lock:
            if _controller is None:
                try:
                    from threadpoolctl import ThreadpoolController
                except ImportError:   # optional: without it BLAS keeps its own setting
                    _controller = False
                else:
                    _controller = ThreadpoolController()
    if _controller is False or _controller is None:
        return []
    return [c for c in _controller.lib_controllers if c.user_api == "blas"]


def blas_available() -> bool:
    """True when glassnet can set the BLAS library's threads (threadpoolctl is installed
    and found NumPy's BLAS)."""
    return bool(_blas_libs())


def get_blas_threads() -> int | None:
    """The BLAS library's thread count now (None without threadpoolctl).

    >>> isinstance(get_blas_threads(), (int, type(None)))
    True
    """
    libs = _blas_libs()
    return max(c.get_num_threads() for c in libs) if libs else None


def _apply_blas(n: int) -> None:
    for c in _blas_libs():
        c.set_num_threads(int(n))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _own_running() -> int:
    n = 0
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                    text = f.read()
            except OSError:
                continue
            if text[text.rfind(b")") + 2:][:1] == b"R":
                n += 1
    except OSError:
        return 1
    return max(n, 1)


def _others_running() -> int | None:
    """Runnable threads of other processes now (None where /proc/loadavg is missing)."""
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - _own_running())


def idle_cpus(samples: int = 4) -> int:
    """CPUs this process may run on that other processes are not busy on now (at least 1).

    The least of ``samples`` reads of the runnable count 1 ms apart, so that a process that
    runs for a moment does not count; a CPU-bound process does. Kept for 0.25 s.

    >>> 1 <= idle_cpus() <= os.cpu_count()
    True
    """
    now = time.monotonic()
    if now - _idle_cache[0] < 0.25:
        return _idle_cache[1]
    cpus = _cpus()
    others: int | None = None
    for i in range(max(1, int(samples))):
        if i:
            time.sleep(0.001)
        o = _others_running()
        if o is None:
            others = 0
            break
        others = o if others is None else min(others, o)
    total = os.cpu_count() or cpus
    idle = max(1, min(cpus, total - (others or 0)))
    _idle_cache[:] = [now, idle]
    return idle


def env_blas_cap() -> int | None:
    """The BLAS threads the environment allows (knob ``blas_env_threads``): the first of
    OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and OMP_NUM_THREADS that is set to a positive
    integer (None: no ceiling). A ``set_blas_threads(n)`` or ``blas_threads(n)`` block
    still wins.

    >>> env_blas_cap() is None or env_blas_cap() >= 1
    True
    """
    cap = config.get("blas_env_threads")
    if cap is None:                    # BLAS libraries fall back on OMP_NUM_THREADS too
        omp, src = config.read("num_threads")
        cap = omp if src == "OMP_NUM_THREADS" else None
    return cap


def blas_threads_for(mnk: float | None = None, *, idle: int | None = None) -> int:
    """How many BLAS threads a GEMM of ``mnk`` multiply-adds (M*N*K; None: unknown) deserves
    now: an explicit setting when there is one (:func:`blas_threads` block,
    :func:`set_blas_threads`, GLASSNET_BLAS_THREADS); else 1 below :data:`BLAS_MIN_MNK`,
    and never more than the idle CPUs (``idle``, default :func:`idle_cpus`) nor the
    environment's BLAS setting (:func:`env_blas_cap`).

    >>> blas_threads_for(64 * 64 * 32, idle=2)     # a small GEMM: one thread  # doctest: +SKIP
    1
    """
    if _explicit:
        return _explicit[-1]
    fixed = config.get("blas_threads")
    if fixed is not None:
        return fixed
    if mnk is not None and mnk < BLAS_MIN_MNK:
        return 1
    n = max(1, min(_cpus(), idle_cpus() if idle is None else int(idle)))
    cap = env_blas_cap()
    return n if cap is None else min(n, cap)


def set_blas_threads(n: int | None) -> None:
    """Fix the BLAS threads of every later fit to ``n`` (and set them now); ``None`` lets
    the policy decide again (:func:`blas_threads_for`). Like ``torch.set_num_threads`` for
    the GEMMs.

    >>> set_blas_threads(1); set_blas_threads(None)   # doctest: +SKIP
    """
    if n is not None:
        n = check_int(n, "n", "set_blas_threads")
        _apply_blas(n)
        config.set("blas_threads", n)
    else:
        config.set("blas_threads", None)


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[int]:
    """Run the block with ``n`` BLAS threads (fits inside it keep ``n`` too), then restore
    the previous setting.

    >>> import numpy as np
    >>> with blas_threads(1):
    ...     _ = np.ones((64, 64)) @ np.ones((64, 64))
    """
    n = check_int(n, "n", "blas_threads")
    prev = get_blas_threads()
    _explicit.append(n)
    _apply_blas(n)
    try:
        yield n
    finally:
        _explicit.pop()
        if prev is not None:
            _apply_blas(_explicit[-1] if _explicit else prev)


@contextlib.contextmanager
def fit_blas_threads(mnk: float | None = None) -> Iterator[int]:
    """The threads of one fit: BLAS gets :func:`blas_threads_for` ``(mnk)`` threads and,
    when other processes keep CPUs busy, glassnet's elementwise threads are capped to the
    idle ones too (unless set explicitly); both are restored afterwards. Yields the BLAS
    thread count."""
    explicit = bool(_explicit) or config.get("blas_threads") is not None
    small = mnk is not None and mnk < BLAS_MIN_MNK   # one thread whatever the load
    idle = idle_cpus() if not (explicit or small) else _cpus()
    n = blas_threads_for(mnk, idle=idle)
    prev = get_blas_threads()
    cap_pool = config.source("num_threads") == "default" and idle < get_num_threads()
    prev_pool = get_num_threads()
    if prev is not None and prev != n:
        _apply_blas(n)
    if cap_pool:
        config.set("num_threads", idle)
    try:
        yield n
    finally:
        if cap_pool:
            config.reset("num_threads")
            if get_num_threads() != prev_pool:   # the environment changed meanwhile
                config.set("num_threads", prev_pool)
        if prev is not None and prev != n:
            _apply_blas(prev)


def _largest_gemm(model: Any, batch_size: object) -> float | None:
    """batch x in x out of the largest Linear GEMM of ``model``, or None when the model has
    layers whose GEMM size does not follow from their weights (convolutions, recurrences)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        return None
    largest = 0
    for p in model.parameters():
        shape = tuple(getattr(p, "shape", ()))
        if len(shape) > 2:
            return None
        if len(shape) == 2:
            largest = max(largest, shape[0] * shape[1])
    kinds = {type(m).__name__ for m in model.modules()} if hasattr(model, "modules") else set()
    if any(k.startswith(("Conv", "LSTM", "GRU", "RNN", "Multihead", "Transformer"))
           for k in kinds):
        return None
    return float(largest * batch_size) if largest else None


_Fit = TypeVar("_Fit", bound=Callable[..., Any])


def blas_policy(fit: _Fit) -> _Fit:
    """Decorator of ``Trainer.fit``: the fit runs under :func:`fit_blas_threads`, sized by
    the model's largest Linear GEMM at the fit's ``batch_size``."""
    sig = inspect.signature(fit)

    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = sig.bind_partial(self, *args, **kwargs)
            bs = bound.arguments.get("batch_size", sig.parameters["batch_size"].default
                                     if "batch_size" in sig.parameters else None)
            mnk = _largest_gemm(self.model, bs)
        except (TypeError, AttributeError):
            mnk = None
        with fit_blas_threads(mnk):
            return fit(self, *args, **kwargs)
    return cast(_Fit, wrapper)
