"""Arrays: the array module, the default dtype and glassnet's seeded random generator.

Every other layer gets these from here. The array module is NumPy; :func:`xp` and
:func:`get_array_module` are the one seam where another array library would plug in
(a GPU backend comes with its own tests).

>>> _ = manual_seed(0); rng().standard_normal(2).dtype
dtype('float64')
>>> as_float_array([1, 2]).dtype          # the default dtype
dtype('float32')
"""
from __future__ import annotations

import numpy as np

from . import config
from ..validation import check_int

from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike
    from glassnet._typing import TensorLike


__all__ = ["xp", "get_array_module", "get_default_dtype", "set_default_dtype", "manual_seed",
           "rng", "as_float_array", "to_numpy", "const_vector"]

_rng = np.random.default_rng()
_FLOAT_DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def xp() -> ModuleType:
    """The array module new tensors are made with (NumPy)."""
    return np


def get_array_module(*arrays: object) -> ModuleType:
    """The array module that owns ``arrays`` (NumPy)."""
    return np


def get_default_dtype() -> np.dtype[Any]:
    """The floating dtype new tensors and parameters get (float32 unless changed)."""
    return _FLOAT_DTYPES[config.get("default_dtype")]


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the floating dtype for new tensors and parameters (float32 or float64)."""
    d = np.dtype(dtype)
    if d not in (np.float32, np.float64):
        raise ValueError(f"set_default_dtype: dtype must be float32 or float64, got {d}")
    config.set("default_dtype", d.name)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed glassnet's generator (initialisation, dropout, shuffling); returns it."""
    global _rng
    _rng = np.random.default_rng(check_int(seed, "seed", "manual_seed", min=0))
    return _rng


def rng() -> np.random.Generator:
    """glassnet's global random generator (seeded by :func:`manual_seed`)."""
    return _rng


def as_float_array(x: TensorLike, dtype: DTypeLike = None) -> np.ndarray:
    """``x`` as a floating array of ``dtype`` (the default dtype when None), no copy if
    possible."""
    return np.asarray(x, dtype=get_default_dtype() if dtype is None else np.dtype(dtype))


def to_numpy(a: Any) -> np.ndarray:
    """``a`` as a NumPy array."""
    return np.asarray(a)


_const_cache: dict[tuple[str, int, np.dtype[Any] | None], np.ndarray] = {}


def const_vector(kind: str, n: int, dtype: DTypeLike = None) -> np.ndarray:
    """A cached, read-only NumPy vector that hot paths need every step: ``"ones"`` (n ones
    of ``dtype``, e.g. for the bias gradient ``ones @ g``) or ``"arange"`` (``np.arange(n)``,
    row indices of a batch)."""
    key = (kind, n, None if dtype is None else np.dtype(dtype))
    v = _const_cache.get(key)
    if v is None:
        if len(_const_cache) > 128:
            _const_cache.clear()
        if kind == "ones":
            v = np.ones(n, dtype=dtype)
        elif kind == "arange":
            v = np.arange(n) if dtype is None else np.arange(n, dtype=dtype)
        else:
            raise ValueError(f"const_vector: kind must be 'ones' or 'arange', got {kind!r}")
        v.flags.writeable = False
        _const_cache[key] = v
    return v
