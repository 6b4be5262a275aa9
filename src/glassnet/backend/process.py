"""What ``import glassnet`` does to the process: one call, :func:`tune_process`.

It is made once, by ``glassnet/backend/__init__.py``, before NumPy is first imported, and
does two things (each explained where its knob is declared, in :mod:`.config`):

1. sets ``OPENBLAS_THREAD_TIMEOUT`` (4 unless the user set it) when NumPy is not loaded
   yet: OpenBLAS reads it once, when NumPy loads it;
2. asks glibc to keep freed blocks in the heap (:func:`.memory.tune_malloc`).

``GLASSNET_TUNE_PROCESS=0`` turns both off; ``GLASSNET_MALLOC_TUNING=0`` only the second.
This module imports nothing but the standard library and :mod:`.config`.
"""
from __future__ import annotations

import os
import sys

from . import config

__all__ = ["tune_process"]


def tune_process() -> bool:
    """Tune this process for glassnet (see the module text); True when the master switch
    ``tune_process`` is on. Safe to call again: each part runs once."""
    if not config.get("tune_process"):
        return False
    if "numpy" not in sys.modules and config.source("openblas_thread_timeout") == "default":
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(config.get("openblas_thread_timeout"))
    from .memory import tune_malloc   # imports NumPy: only after the variable above
    tune_malloc()
    return True
