"""Every knob glassnet reads from the environment, and every global switch, declared once.

A knob has a name, the environment variables it is read from (the first one set wins), a
default, a one-line reason and a parser. ``get(name)`` is its value now: what a setter
such as ``glassnet.set_num_threads`` chose, else the environment, else the default.
Knobs marked ``once`` are read from the environment at their first use and then kept
(the process is tuned once); the others are read again at every use.

>>> from glassnet.backend import config
>>> config.get("num_threads")          # doctest: +SKIP
2
>>> print(config.describe())           # every knob, its value now and where it came from
... # doctest: +SKIP

This module is the only one in glassnet that reads ``os.environ`` for a setting (a test
walks the source to keep it so). It imports nothing but the standard library, because the
BLAS knob must be applied before NumPy is first imported.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Callable, NamedTuple

__all__ = ["Knob", "KNOBS", "get", "set", "reset", "source", "read", "knobs", "describe"]

_FALSE = ("0", "false", "off", "no")
_TRUE = ("1", "true", "on", "yes")


def parse_bool(text: str) -> bool:
    """'1', 'true', 'on', 'yes' -> True; '0', 'false', 'off', 'no' -> False (any case)."""
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueError(f"expected one of {_TRUE + _FALSE}")


def parse_positive_int(text: str) -> int:
    """A whole number >= 1."""
    t = text.strip()
    if not t.isdigit() or int(t) < 1:
        raise ValueError("expected a whole number >= 1")
    return int(t)


def parse_int(text: str) -> int:
    """A whole number >= 0."""
    t = text.strip()
    if not t.isdigit():
        raise ValueError("expected a whole number >= 0")
    return int(t)


def parse_auto_or_positive_int(text: str) -> int | None:
    """'auto' -> None (decided at run time), else a whole number >= 1."""
    return None if text.strip().lower() == "auto" else parse_positive_int(text)


def parse_text(text: str) -> str:
    return text


def cpu_threads() -> int:
    """The CPUs this process may run on, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


class Knob(NamedTuple):
    """One setting: ``env`` variables (first set wins), ``default`` (a callable is called
    at the first read), a one-line ``reason``, ``parse`` (text -> value, ValueError when
    malformed) and ``once`` (read the environment once per process)."""
    name: str
    env: tuple
    default: object
    reason: str
    parse: Callable[[str], object] = parse_bool
    once: bool = True


# The table. Add a knob here and nowhere else; tests/backend/test_config.py checks that
# every GLASSNET_* name in the source is declared in it.
KNOBS = (
    Knob("tune_process", ("GLASSNET_TUNE_PROCESS",), True,
         "let `import glassnet` tune the process (the BLAS and malloc knobs below); "
         "0 leaves the process as Python started it"),
    Knob("openblas_thread_timeout", ("OPENBLAS_THREAD_TIMEOUT",), 21,
         "OpenBLAS threads spin 2^21 cycles (about 1 ms) after a call, not OpenBLAS's "
         "2^28 (~0.1 s): long enough for the next GEMM of an RNN step or an MLP layer, "
         "short enough to leave the core to glassnet's elementwise threads", parse_int),
    Knob("malloc_tuning", ("GLASSNET_MALLOC_TUNING",), True,
         "keep freed step temporaries in glibc's heap instead of faulting them in again "
         "every step (Linux, glibc)"),
    Knob("malloc_mmap_threshold", ("MALLOC_MMAP_THRESHOLD_",), 32 << 20,
         "blocks below this many bytes come from the heap, not mmap (glibc's own variable "
         "wins; 32 MB is glibc's maximum)", parse_int),
    Knob("malloc_trim_threshold", ("MALLOC_TRIM_THRESHOLD_",), 512 << 20,
         "the heap is given back to the OS only above this many free bytes (glibc's own "
         "variable wins)", parse_int),
    Knob("num_threads", ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS"), cpu_threads,
         "threads of glassnet's elementwise kernels (BLAS keeps its own setting); "
         "glassnet.set_num_threads changes it", parse_positive_int),
    Knob("blas_threads", ("GLASSNET_BLAS_THREADS",), None,
         "BLAS threads of a fit: a number fixes it, unset or 'auto' lets backend.threads "
         "decide per fit (1 for small GEMMs, no more than the idle cores); "
         "backend.set_blas_threads changes it", parse_auto_or_positive_int),
    Knob("blas_env_threads", ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), None,
         "the user's own BLAS thread setting (else OMP_NUM_THREADS, read by num_threads): "
         "a ceiling on the BLAS threads of the fit policy (unset: no ceiling)",
         parse_positive_int, once=False),
    Knob("jit", ("GLASSNET_JIT",), True,
         "use the compiled (Numba) LSTM / GRU step kernels when Numba is installed; "
         "backend.kernels.set_enabled changes it"),
    Knob("default_dtype", (), "float32",
         "floating dtype of new tensors and parameters; glassnet.set_default_dtype "
         "changes it", parse_text),
    Knob("strict_shapes", (), False,
         "conv and pooling layers reject kernels that do not tile the input exactly; "
         "nn.set_strict_shapes changes it"),
    Knob("data", ("GLASSNET_DATA",), None,
         "folder searched first for datasets (<folder>/<name>)", parse_text, once=False),
    Knob("debug", ("GLASSNET_DEBUG",), False,
         "the glassnet command prints an error's traceback above its one-line message",
         once=False),
)

_BY_NAME = {k.name: k for k in KNOBS}
_values: dict[str, Any] = {}     # name -> value: kept reads of `once` knobs and values set at run time
_sources: dict[str, str] = {}    # name -> where the kept value came from


def _knob(name: str) -> Knob:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"glassnet.backend.config: no knob named {name!r}; the knobs are "
                       f"{sorted(_BY_NAME)}") from None


def read(name: str) -> tuple[Any, str]:
    """(value, source) of knob ``name`` from the environment now, ignoring set values:
    the first of its variables that is set and parses, else the default. A malformed
    variable warns (naming it, its value and what was expected) and is skipped."""
    k = _knob(name)
    for var in k.env:
        text = os.environ.get(var, "")
        if not text.strip():
            continue
        try:
            return k.parse(text), var
        except ValueError as e:
            warnings.warn(f"glassnet: ignoring {var}={text!r}: {e}", RuntimeWarning,
                          stacklevel=3)
    return (k.default() if callable(k.default) else k.default), "default"


def get(name: str) -> Any:
    """The value of knob ``name`` now (set at run time, else the environment, else the
    default)."""
    try:
        return _values[name]
    except KeyError:
        pass
    value, src = read(name)
    if _knob(name).once:
        _values[name], _sources[name] = value, src
    return value


def source(name: str) -> str:
    """Where ``get(name)`` comes from: an environment variable's name, ``"default"`` or
    ``"set"`` (by a setter at run time)."""
    if name in _sources:
        return _sources[name]
    return read(name)[1]


def set(name: str, value: object) -> None:  # noqa: A001 - config.set reads as intended
    """Set knob ``name`` for the rest of the process (the setters validate first)."""
    _knob(name)
    _values[name], _sources[name] = value, "set"


def reset(name: str | None = None) -> None:
    """Forget set and kept values (of ``name``, or all), so the next ``get`` reads the
    environment again. For tests; the tuning done at import is not undone."""
    for n in ([name] if name is not None else list(_values)):
        _knob(n)
        _values.pop(n, None)
        _sources.pop(n, None)


class KnobValue(NamedTuple):
    name: str
    env: tuple
    value: object
    source: str
    default: object
    reason: str


def knobs() -> list[KnobValue]:
    """Every knob with its value now: a list of (name, env, value, source, default, reason)."""
    out = []
    for k in KNOBS:
        default = k.default() if callable(k.default) else k.default
        out.append(KnobValue(k.name, k.env, get(k.name), source(k.name), default, k.reason))
    return out


def describe() -> str:
    """The knobs as a table: name, value now, where it came from, variables, reason."""
    rows = [(r.name, repr(r.value), r.source, ", ".join(r.env) or "-", r.reason)
            for r in knobs()]
    head = ("knob", "value", "from", "environment", "why")
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(4)]
    lines = []
    for r in [head] + rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
    return "\n".join(lines)
