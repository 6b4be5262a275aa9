"""What ``import glassnet`` does to the process: one call, :func:`tune_process`.

It is made once, by ``glassnet/backend/__init__.py``, before NumPy is first imported, and
does two things (each explained where its knob is declared, in :mod:`.config`):

1. sets ``OPENBLAS_THREAD_TIMEOUT`` (21 unless the user set it): OpenBLAS reads it when
   NumPy loads it; when NumPy (so OpenBLAS) is loaded already, as after the usual
   ``import numpy as np`` first line, :func:`retime_openblas` makes OpenBLAS read it again
   and restarts its idle threads, so both import orders give the same process;
2. asks glibc to keep freed blocks in the heap (:func:`.memory.tune_malloc`).

``GLASSNET_TUNE_PROCESS=0`` turns both off; ``GLASSNET_MALLOC_TUNING=0`` only the second.
This module imports nothing but the standard library and :mod:`.config`.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading

from . import config

__all__ = ["tune_process", "retime_openblas", "openblas_timeouts"]

# OpenBLAS's exported calls used here (present in every OpenBLAS since 0.3.x, and in the
# scipy-openblas builds that NumPy and SciPy ship): re-read the environment, stop the
# thread server (it restarts, reading the timeout, at the next threaded call), and report
# the timeout read.
_OPENBLAS_CALLS = ("openblas_read_env", "blas_thread_shutdown_", "openblas_thread_timeout")


def tune_process() -> bool:
    """Tune this process for glassnet (see the module text); True when the master switch
    ``tune_process`` is on. Safe to call again: each part runs once."""
    if not config.get("tune_process"):
        return False
    if config.source("openblas_thread_timeout") == "default":
        timeout = int(config.get("openblas_thread_timeout"))
        if "numpy" not in sys.modules:
            os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(timeout)
        else:
            retime_openblas(timeout)
    from .memory import tune_malloc   # imports NumPy: only after the variable above
    tune_malloc()
    return True


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux; [] elsewhere)."""
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                name = os.path.basename(path)
                if "openblas" in name and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        return []
    return paths


def _openblas(path: str) -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL(path)          # already mapped: this only takes a handle
    except OSError:
        return None
    return lib if all(hasattr(lib, name) for name in _OPENBLAS_CALLS) else None


def retime_openblas(timeout: int) -> list[str]:
    """Make the OpenBLAS libraries already loaded spin ``2**timeout`` cycles after a call
    (``OPENBLAS_THREAD_TIMEOUT``, 4..30) instead of what they read at load; returns the
    paths of those changed.

    It sets the variable, asks each library to read its environment again and stops its
    idle worker threads, which OpenBLAS starts again, with the new timeout, at its next
    multi-threaded call. Done only while no other non-daemon Python thread runs (one could be
    inside a BLAS call; the daemon threads of a Jupyter kernel, which talk to the notebook,
    do not stop it) and only for libraries exporting the calls it needs; anything else is
    left as it was.
    """
    timeout = max(4, min(30, int(timeout)))
    me = threading.current_thread()
    if any(t is not me and not t.daemon for t in threading.enumerate()):
        return []
    libs = [(p, lib) for p in _loaded_openblas() if (lib := _openblas(p)) is not None]
    if not libs:
        return []
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(timeout)
    done = []
    for path, lib in libs:
        lib.openblas_read_env()
        if lib.openblas_thread_timeout() == timeout:
            lib.blas_thread_shutdown_()
            done.append(path)
    return done


def openblas_timeouts() -> dict[str, int]:
    """``{path: timeout}`` for every OpenBLAS loaded: the ``OPENBLAS_THREAD_TIMEOUT`` each
    read (0 when it read none: OpenBLAS's own default, 28, about 0.1 s of spinning)."""
    return {p: int(lib.openblas_thread_timeout())
            for p in _loaded_openblas() if (lib := _openblas(p)) is not None}
