"""Array backend, dtype policy and the seeded random-number generator.

Every other layer gets its array module, default dtype and random numbers from
here, so the same code runs on NumPy (always) and CuPy (when installed and asked
for with ``set_backend("cupy")``).
"""
from __future__ import annotations

import numpy as np

_xp = np
_default_dtype = np.dtype(np.float32)
_rng = np.random.default_rng()

__all__ = [
    "xp", "get_array_module", "set_backend", "get_default_dtype", "set_default_dtype",
    "manual_seed", "rng", "as_float_array", "to_numpy",
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
