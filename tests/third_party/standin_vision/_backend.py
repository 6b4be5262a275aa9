"""TEST SCAFFOLDING: the tensor library the stand-in hands tensors to."""
from __future__ import annotations

import importlib
import os

import numpy as np


def lib():
    """torch or glassnet, as $THIRD_PARTY_BACKEND says (default torch)."""
    return importlib.import_module(os.environ.get("THIRD_PARTY_BACKEND", "torch"))


def to_tensor(arr: np.ndarray):
    """A backend tensor holding ``arr`` (no gradient)."""
    t = lib()
    if hasattr(t, "from_numpy"):
        return t.from_numpy(np.ascontiguousarray(arr))
    return t.tensor(arr)


def to_numpy(x) -> np.ndarray:
    """The values of a backend tensor (or array) as NumPy."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    return np.asarray(x.numpy())
