"""A fuzz harness for glassnet's file readers: model files, weights, checkpoints, IDX,
digits CSV and text files.

Each case is a seeded mutation of a valid file (byte-level, structure-aware, or re-signed
with glassnet's own writer so its checksum matches), run in a forked child with a memory
cap and a timeout, so crashes, hangs and memory blow-ups are counted, not only
exceptions. ``python -m tools.fuzz --help`` (with ``PYTHONPATH=src`` from the repository
root) runs it; docs/reliability.md explains the outcomes.
"""
import os as _os
import sys as _sys

if "numpy" not in _sys.modules:    # python -m tools.fuzz: cases run in parallel processes,
    _os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # each with one BLAS thread

from .harness import ALL_TARGETS, FAILING, Fuzzer, is_failure  # noqa: E402
from .runner import OUTCOMES, classify_exception, run_many, run_one  # noqa: E402

__all__ = ["Fuzzer", "ALL_TARGETS", "FAILING", "OUTCOMES", "is_failure", "run_many",
           "run_one", "classify_exception"]
