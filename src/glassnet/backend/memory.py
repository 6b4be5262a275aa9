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

Allocation budget. Building a model from a file must not allocate more than the file can
fill: :func:`allocation_budget` sets a byte budget (per thread / task, a context
variable) that every parameter and buffer allocation of a layer's constructor draws from
through :func:`allocate`, which checks the request, computed with Python integers, before
anything is allocated. :func:`init_skipped` tells ``nn.init`` to leave the values alone
while a load builds a model whose values the file overwrites anyway.

>>> with allocation_budget(1024, "load: m.safetensors"):
...     w = allocate((16, 16), np.float32, "Linear(16, 16).weight")   # 1024 bytes: fits
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import threading

import numpy as np

from ..errors import ModelFileError
from . import config

from collections.abc import Hashable, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike


__all__ = ["tune_malloc", "malloc_tuned", "ScratchPool", "scratch", "take", "give",
           "allocation_budget", "allocate", "reserve", "init_skipped", "BudgetExceeded"]

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

    def __init__(self, max_per_key: int = 4) -> None:
        self.free: dict[tuple[Hashable, tuple[int, ...], Any], list[np.ndarray]] = {}
        self.max_per_key = max_per_key

    def take(self, tag: Hashable, shape: Sequence[int], dtype: DTypeLike,
             zero: bool = False) -> np.ndarray:
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

    def give(self, tag: Hashable, a: np.ndarray | None) -> None:
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


class BudgetExceeded(ModelFileError):
    """An allocation asked for more than the :func:`allocation_budget` in force has left;
    nothing was allocated (so this is a refusal, not a MemoryError). The budgets are those
    of model-file loads, hence a :class:`~glassnet.errors.ModelFileError`. ``who``,
    ``shape``, ``nbytes``, ``budget`` and ``left`` say what was asked and what remained."""

    def __init__(self, msg: str, who: str, shape: tuple[int, ...], nbytes: int, budget: int,
                 left: int) -> None:
        super().__init__(msg)
        self.who, self.shape, self.nbytes, self.budget, self.left = (
            who, shape, nbytes, budget, left)


class _Budget:
    def __init__(self, nbytes: int, who: str, skip_init: bool) -> None:
        self.total = int(nbytes)
        self.left = int(nbytes)
        self.who = who
        self.skip_init = skip_init
        self.lock = threading.Lock()

    def draw(self, nbytes: int, what: str, shape: tuple[int, ...]) -> None:
        with self.lock:
            if nbytes > self.left:
                raise BudgetExceeded(
                    f"{self.who}: {what} asks for shape {shape} ({nbytes:,} bytes), but "
                    f"only {self.left:,} of the {self.total:,} bytes this load may allocate "
                    "are left", what, shape, nbytes, self.total, self.left)
            self.left -= nbytes


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("glassnet_allocation_budget",
                                                         default=None)


@contextlib.contextmanager
def allocation_budget(nbytes: int, who: str, skip_init: bool = True) -> Iterator[_Budget]:
    """Within the block, :func:`allocate` hands out at most ``nbytes`` bytes in all and
    raises :class:`BudgetExceeded` (naming ``who`` and the layer) instead of allocating
    more; with ``skip_init`` the ``nn.init`` schemes do nothing (the caller overwrites
    every value). Nested budgets: the innermost applies. Yields the budget (``.left``)."""
    b = _Budget(nbytes, who, skip_init)
    token = _budget.set(b)
    try:
        yield b
    finally:
        _budget.reset(token)


def init_skipped() -> bool:
    """Whether an :func:`allocation_budget` with ``skip_init`` is in force."""
    b = _budget.get()
    return b is not None and b.skip_init


def reserve(shape: int | Sequence[int], dtype: DTypeLike, who: str) -> None:
    """Draw an array's bytes from the :func:`allocation_budget` in force without allocating
    it (for a constructor that builds the array with other NumPy calls)."""
    b = _budget.get()
    if b is not None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        b.draw(math.prod(int(s) for s in shape) * np.dtype(dtype).itemsize, who, shape)


def allocate(shape: int | Sequence[int], dtype: DTypeLike, who: str, fill: complex | None = None,
             xp: ModuleType = np) -> np.ndarray:
    """A new array of ``shape`` and ``dtype`` (``fill``: None = uninitialised, else the
    value), drawn from the :func:`allocation_budget` in force: its size is computed with
    Python integers and checked before ``xp`` allocates anything."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    reserve(shape, dtype, who)
    if fill is None:
        return xp.empty(shape, dtype)
    if fill == 0:
        return xp.zeros(shape, dtype)
    if fill == 1:
        return xp.ones(shape, dtype)
    return xp.full(shape, fill, dtype)
