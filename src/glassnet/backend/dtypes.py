"""The dtype names PyTorch code spells (``glassnet.float32``, ``glassnet.long``, ...).

glassnet's dtypes *are* NumPy dtypes: ``glassnet.float32 is np.dtype("float32")``, so a
tensor's ``dtype`` compares equal to them, ``np.zeros(3, dtype=glassnet.long)`` works and
nothing in the library needs a second dtype type. PyTorch's aliases map as PyTorch maps
them (``float`` is float32, ``double`` float64, ``long`` int64, ``int`` int32, ``half``
float16). One difference stays, and the porting page lists it: a dtype prints as NumPy
prints it (``float32``, not ``torch.float32``).

>>> from glassnet.backend.dtypes import resolve
>>> resolve("long"), resolve("float"), resolve(float)
(dtype('int64'), dtype('float32'), dtype('float64'))
"""
from __future__ import annotations

import builtins

import numpy as np

from ..errors import ArgumentTypeError

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DTypeLike


float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
int16 = short = np.dtype("int16")
int32 = np.dtype("int32")
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")
complex64 = cfloat = np.dtype("complex64")
complex128 = cdouble = np.dtype("complex128")

# name (as glassnet / torch spell it) -> dtype; "float" and "int" follow PyTorch
NAMES: dict[str, np.dtype[Any]] = {
    "float16": float16, "half": half, "float32": float32, "float": float32,
    "float64": float64, "double": float64, "int8": int8, "int16": int16, "short": int16,
    "int32": int32, "int": int32, "int64": int64, "long": int64, "uint8": uint8,
    "bool": bool_, "complex64": complex64, "cfloat": complex64, "complex128": complex128,
    "cdouble": complex128,
}

# the module-level names glassnet/__init__.py exports (``glassnet.bool`` shadows the
# builtin only as an attribute of the module, as ``torch.bool`` does)
EXPORTS = {name: dt for name, dt in NAMES.items()}


def resolve(dtype: DTypeLike, arg: str = "dtype", where: str = "") -> np.dtype:
    """The NumPy dtype for a glassnet/torch dtype name, a NumPy dtype or scalar type, or a
    Python type (``float`` is float64, ``int`` int64 and ``bool`` bool, as PyTorch reads
    ``dtype=float``; the *name* ``"float"`` is float32, as ``torch.float`` is).

    Raises :class:`~glassnet.errors.ArgumentTypeError` naming ``arg`` for anything else.
    """
    if isinstance(dtype, np.dtype):
        return dtype
    if dtype is builtins.float:
        return float64
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool_
    if isinstance(dtype, str):
        key = dtype[len("torch."):] if dtype.startswith("torch.") else dtype
        if key in NAMES:
            return NAMES[key]
    try:
        if isinstance(dtype, type) and issubclass(dtype, np.generic):
            return np.dtype(dtype)
        if isinstance(dtype, str):
            return np.dtype(dtype)
    except TypeError:
        pass
    name = f"{where}: " if where else ""
    raise ArgumentTypeError(f"{name}{arg} must be a dtype such as glassnet.float32 or "
                            f"glassnet.long, got {dtype!r}")


def is_floating_point(dtype: DTypeLike) -> bool:
    """True for float16, float32 and float64."""
    return np.dtype(dtype).kind == "f"
