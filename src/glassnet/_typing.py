"""Type aliases of glassnet's annotations (used by the annotations only, under
``TYPE_CHECKING``; nothing here runs at import time of the layers that use it).

``TensorLike``  what a tensor function accepts: a Tensor, or anything NumPy makes an array of
``DTypeLike``   a dtype: glassnet's / NumPy's dtype objects, their names ("float32"), types
``DeviceLike``  PyTorch's device argument ("cpu", a ``glassnet.device``)
``Dims``        one axis, several, or None (all)
``IntTuple``    a size given as one int for every dimension, or one per dimension
``PathLike``    a file-system path
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from typing import TypeAlias

    from .autograd.tensor import Tensor
    from .backend.devices import device

TensorLike: TypeAlias = Union["Tensor", npt.ArrayLike]
DTypeLike: TypeAlias = Union[str, "np.dtype[Any]", type, None]
DeviceLike: TypeAlias = Union[str, "device", None]
Dims: TypeAlias = Union[int, Sequence[int], None]
IntTuple: TypeAlias = Union[int, Sequence[int]]
PathLike: TypeAlias = Union[str, "os.PathLike[str]"]

__all__ = ["TensorLike", "DTypeLike", "DeviceLike", "Dims", "IntTuple", "PathLike"]
