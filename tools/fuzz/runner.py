"""Run one callable per case in a forked child with a memory cap and a timeout, and say
what happened to it.

The parent has imported glassnet (and everything a target needs) once; ``os.fork`` gives
each case a copy of that process, so a case costs a fork, not an import. The child

* sets ``RLIMIT_AS`` to its own address space at the fork plus ``cap_bytes`` (an allocation
  beyond it fails with MemoryError instead of taking the machine),
* arms ``SIGALRM`` with its default action (it kills the child even inside C code),
* runs the callable and sends one JSON outcome through a pipe.

The parent kills a child that outlives ``timeout + 2`` seconds and reads the child's peak
resident memory from ``os.wait4``'s rusage. Outcomes:

========== ==============================================================================
ok-same    the callable returned "same": what it loaded equals the seed
ok-changed it returned "changed": it loaded something that differs from the seed
refused    a GlassnetError (its class name is kept)
memory-refused  a MemoryError itself or anywhere in the exception's __cause__ / __context__
           chain: an allocation beyond the cap was attempted (a memory failure)
foreign    any other exception (type and message kept)
crash      the child died by a signal (other than the timeout's)
hang       the child ran past the timeout
memory     the child's peak RSS minus its RSS at the fork exceeded ``bound_bytes``
========== ==============================================================================
"""
from __future__ import annotations

import ctypes
import faulthandler
import json
import os
import resource
import select
import signal
import sys
import time
import traceback

OUTCOMES = ("ok-same", "ok-changed", "ok-unchecked", "refused", "memory-refused", "foreign",
            "crash", "hang", "memory")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _memory_in_chain(e: BaseException) -> bool:
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, MemoryError):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _where(tb) -> str:
    """file:line (function) of the innermost frame in glassnet (else the innermost frame)."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return ""
    pick = frames[-1]
    for fr in reversed(frames):
        if "/glassnet/" in fr.filename.replace(os.sep, "/"):
            pick = fr
            break
    name = pick.filename.replace(os.sep, "/")
    if "/src/" in name:
        name = name.split("/src/", 1)[1]
    return f"{name}:{pick.lineno} ({pick.name})"


def classify_exception(e: BaseException) -> dict:
    """The outcome record of an exception raised by a target."""
    from glassnet.errors import GlassnetError
    msg = str(e)
    rec = {"error": type(e).__name__, "message": msg[:600], "where": _where(e.__traceback__),
           "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))[-3000:]}
    if _memory_in_chain(e):
        rec["outcome"] = "memory-refused"
    elif isinstance(e, GlassnetError):
        rec["outcome"] = "refused"
    else:
        rec["outcome"] = "foreign"
    return rec


def _trim_heap():
    """glibc's ``malloc_trim(0)``: free heap pages go back to the kernel; then the peak RSS
    (what the parent reads as ru_maxrss) is reset to the RSS now (/proc/self/clear_refs),
    so the pages given back do not count as the case's. A no-op where either is missing."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except (OSError, AttributeError):
        pass


def _child(fn, wfd, timeout, cap_bytes):
    """Body of the forked child: never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        faulthandler.disable()   # pytest's handler writes a crash's stack to the terminal
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        # the parent's freed heap memory, kept resident (glassnet keeps up to 512 MB of it,
        # backend.memory.tune_malloc), would serve the case's allocations without raising
        # the RSS: give it back first, so what the case touches is counted
        _trim_heap()
        # room to format and send the outcome after the case has used up the address space
        # (touched, and before the baseline, so it is not counted as the case's memory)
        ballast = bytearray(b"\x01") * (8 << 20)
        baseline_rss = _status_kb("VmRSS")
        if cap_bytes:
            vm = _status_kb("VmSize") * 1024
            limit = vm + int(cap_bytes)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        signal.setitimer(signal.ITIMER_REAL, float(timeout))
        try:
            result = fn()
            if isinstance(result, tuple):
                kind, detail = result
            else:
                kind, detail = result, ""
            rec = {"outcome": {"same": "ok-same", "changed": "ok-changed",
                               "unchecked": "ok-unchecked"}.get(kind, kind),
                   "detail": str(detail)[:600]}
        except BaseException as e:  # noqa: BLE001 - everything is an outcome here
            del ballast
            try:
                rec = classify_exception(e)
            except BaseException as e2:  # noqa: BLE001 - e.g. MemoryError while formatting
                rec = {"outcome": "memory-refused" if _memory_in_chain(e) else "foreign",
                       "error": type(e).__name__, "message": f"(unformattable: {e2!r})"}
        signal.setitimer(signal.ITIMER_REAL, 0)
        rec["baseline_rss_kb"] = baseline_rss
        data = json.dumps(rec).encode()
        view = memoryview(data)
        while view:
            n = os.write(wfd, view)
            view = view[n:]
    except BaseException:  # noqa: BLE001 - the outcome could not be sent: the parent
        code = 3           # reports "crash" with "exited with status 3 without an outcome"
    finally:
        os._exit(code)


class _Running:
    """A child in flight: its pipe, start time, bytes read so far, RSS at the fork."""

    def __init__(self, key, pid, rfd, baseline_kb, bound):
        self.key, self.pid, self.rfd, self.start = key, pid, rfd, time.monotonic()
        self.buf = bytearray()
        self.baseline_kb, self.bound, self.killed = baseline_kb, bound, False


def run_many(jobs_iter, n_jobs=2, timeout=10.0, cap_bytes=None, bound_bytes=None,
             on_result=None):
    """Run ``(key, fn[, bound_bytes[, cap_bytes]])`` items from ``jobs_iter``, ``n_jobs`` at a time,
    each in a forked child. ``on_result(key, record)`` is called in the parent as each case
    ends (in completion order); returns the list of ``(key, record)``.

    ``record`` has "outcome", "seconds", "peak_rss_kb" (peak RSS above the RSS at the fork),
    and for exceptions "error", "message", "where", "traceback"; for a crash "signal".
    """
    it = iter(jobs_iter)
    running: dict[int, _Running] = {}
    results = []
    exhausted = False
    sys.stdout.flush()
    sys.stderr.flush()

    def start(item):
        key, fn = item[0], item[1]
        bound = item[2] if len(item) > 2 else None
        cap = item[3] if len(item) > 3 and item[3] else cap_bytes
        rfd, wfd = os.pipe()
        baseline_kb = _status_kb("VmRSS")
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            _child(fn, wfd, timeout, cap)
        os.close(wfd)
        running[rfd] = _Running(key, pid, rfd, baseline_kb, bound)
    while True:
        while not exhausted and len(running) < n_jobs:
            try:
                item = next(it)
            except StopIteration:
                exhausted = True
                break
            start(item)
        if not running:
            break
        ready, _, _ = select.select(list(running), [], [], 0.05)
        for fd in ready:
            r = running[fd]
            chunk = os.read(fd, 1 << 16)
            if chunk:
                r.buf.extend(chunk)
                continue
            # EOF: the child closed its end (exited or died); reap it
            _, status, ru = os.wait4(r.pid, 0)
            os.close(fd)
            del running[fd]
            results.append(_finish(r, status, ru, timeout, bound_bytes, on_result))
        now = time.monotonic()
        for fd, r in list(running.items()):
            if now - r.start > timeout + 2.0:
                try:
                    os.kill(r.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                r.killed = True
    return results


def _finish(r, status, ru, timeout, bound_bytes, on_result):
    seconds = time.monotonic() - r.start
    rec = None
    if r.buf:
        try:
            rec = json.loads(r.buf.decode())
        except (ValueError, UnicodeDecodeError):
            rec = None
    baseline = (rec or {}).get("baseline_rss_kb", r.baseline_kb)
    peak_kb = max(0, int(ru.ru_maxrss) - int(baseline))
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGALRM or (sig == signal.SIGKILL and r.killed):
            rec = {"outcome": "hang", "message": f"still running after {timeout:g} s"}
        else:
            rec = {"outcome": "crash", "signal": signal.Signals(sig).name,
                   "message": f"killed by {signal.Signals(sig).name}"}
    elif rec is None:
        rec = {"outcome": "crash", "message": f"child exited with status "
                                               f"{os.WEXITSTATUS(status)} without an outcome"}
    bound = r.bound or bound_bytes
    if bound and peak_kb * 1024 > bound and rec["outcome"] not in ("crash", "hang"):
        rec["outcome_before_memory"] = rec["outcome"]
        rec["outcome"] = "memory"
        rec["message"] = (f"peak RSS {peak_kb / 1024:.1f} MB above the fork's, bound "
                          f"{bound / 2**20:.1f} MB; " + str(rec.get("message", "")))[:600]
    rec["seconds"] = round(seconds, 4)
    rec["peak_rss_kb"] = peak_kb
    rec.pop("baseline_rss_kb", None)
    if on_result is not None:
        on_result(r.key, rec)
    return r.key, rec


def run_one(fn, timeout=10.0, cap_bytes=None, bound_bytes=None) -> dict:
    """The outcome record of ``fn()`` run in one forked child (see :func:`run_many`)."""
    return run_many([(0, fn)], 1, timeout, cap_bytes, bound_bytes)[0][1]
