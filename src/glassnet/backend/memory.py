"""Memory: glibc's heap thresholds, and a pool of scratch buffers reused between steps.

Heap. glibc hands freed blocks above a dynamic threshold back to the OS (munmap, heap
trim) and faults them in again, page by page, at the next step: thousands of minor page
faults per training step for the megabyte-sized temporaries of a CNN or LSTM step (an
LSTM step was 14% faster without them here). :func:`tune_malloc` therefore asks glibc to
keep freed memory up to the sizes of the ``malloc_*`` knobs in the heap, as
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` would (those variables, when
set, win). The process keeps its peak heap size instead of shrinking.

Scratch buffers. A layer's large work arrays (a convolution's padded input and column
matrix) are taken from :data:`scratch` in forward and given back once backward has used
them, so the same pages serve every step:

>>> buf = take("cols", (64, 1024), np.float32)   # a free buffer of that key, or a new one
>>> give("cols", buf)                             # free for the next take of that key
"""
from __future__ import annotations

import sys

import numpy as np

from . import config

__all__ = ["tune_malloc", "malloc_tuned", "ScratchPool", "scratch", "take", "give"]

_malloc_tuned = None    # None: not tried yet; then whether the thresholds were applied


def tune_malloc() -> bool:
    """Apply the heap thresholds to this process (glibc only, once); True when applied.

    Off (False) with ``GLASSNET_MALLOC_TUNING=0``. A threshold whose glibc variable is set
    is left to glibc, which has read it already.
    """
    global _malloc_tuned
    if _malloc_tuned is not None:
        return _malloc_tuned
    _malloc_tuned = False
    if not config.get("malloc_tuning") or not sys.platform.startswith("linux"):
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
    for knob, param in (("malloc_mmap_threshold", M_MMAP_THRESHOLD),
                        ("malloc_trim_threshold", M_TRIM_THRESHOLD)):
        if config.source(knob) == "default":
            ok &= bool(mallopt(param, config.get(knob)))
    _malloc_tuned = ok
    return ok


def malloc_tuned() -> bool:
    """Whether :func:`tune_malloc` has applied the heap thresholds in this process."""
    return _malloc_tuned is True


class ScratchPool:
    """A few scratch arrays keyed by (tag, shape, dtype), handed out and given back.

    ``take`` returns a free buffer of the key (or a new one); ``give`` makes it free
    again. Memory that is out is never handed out a second time until it is given back
    (giving it twice, or through another view, keeps one copy), so two layers, or two
    calls of one layer, waiting for backward never share memory. Safe to use from
    several threads.
    """

    def __init__(self, max_per_key: int = 4):
        self.free = {}
        self.max_per_key = max_per_key

    def take(self, tag, shape, dtype, zero: bool = False):
        """A (C-contiguous) buffer of ``shape`` and ``dtype``, zeroed when ``zero``."""
        lst = self.free.get((tag, tuple(shape), np.dtype(dtype).str))
        if lst:
            try:
                a = lst.pop()          # atomic: a racing take gets another one or none
            except IndexError:
                a = None
            if a is not None:
                if zero:
                    a.fill(0)
                return a
        return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)

    def give(self, tag, a) -> None:
        """Make ``a`` (taken with ``tag``) free for the next ``take`` of its key; None is
        ignored."""
        if a is None:
            return
        lst = self.free.setdefault((tag, a.shape, a.dtype.str), [])
        if len(lst) < self.max_per_key and not any(np.may_share_memory(a, b) for b in lst):
            lst.append(a)

    def clear(self) -> None:
        """Drop every free buffer."""
        self.free.clear()


scratch = ScratchPool()
take = scratch.take
give = scratch.give
