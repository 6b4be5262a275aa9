"""Padding and distance layers: ``ZeroPad1d/2d``, ``ConstantPad1d/2d``,
``ReflectionPad1d/2d``, ``ReplicationPad1d/2d``, ``CosineSimilarity``, ``PairwiseDistance``
(PyTorch's names and arguments, over ``glassnet.nn.functional``)."""
from __future__ import annotations

from . import functional as F
from .module import Module

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.tensor import Tensor
    from glassnet._typing import IntTuple


__all__ = ["ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CosineSimilarity",
           "PairwiseDistance"]


class _Pad(Module):
    _n = 2
    _mode = "constant"

    def __init__(self, padding: IntTuple, value: float = 0.0) -> None:
        super().__init__()
        self.padding = ((int(padding),) * (2 * self._n) if isinstance(padding, int)
                        else tuple(int(p) for p in padding))
        if len(self.padding) != 2 * self._n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a "
                             f"{2 * self._n}-tuple, got {padding!r}")
        self.value = float(value)

    def forward(self, x: Tensor) -> Tensor:
        if self._mode == "constant":
            return F.pad(x, self.padding, "constant", self.value)
        return F.pad(x, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_Pad):
    """Pad the last dimension with zeros: ``padding`` int or (left, right)."""
    _n = 1

    def __init__(self, padding: IntTuple) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(_Pad):
    """Pad the last two dimensions with zeros: int or (left, right, top, bottom)."""

    def __init__(self, padding: IntTuple) -> None:
        super().__init__(padding, 0.0)


class ConstantPad1d(_Pad):
    """Pad the last dimension with ``value``."""
    _n = 1

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(_Pad):
    """Pad the last two dimensions with ``value``."""

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ReflectionPad1d(_Pad):
    """Pad the last dimension by reflection (the edge not repeated)."""
    _n, _mode = 1, "reflect"

    def __init__(self, padding: IntTuple) -> None:
        super().__init__(padding)


class ReflectionPad2d(_Pad):
    """Pad the last two dimensions by reflection."""
    _mode = "reflect"

    def __init__(self, padding: IntTuple) -> None:
        super().__init__(padding)


class ReplicationPad1d(_Pad):
    """Pad the last dimension by repeating the edge value."""
    _n, _mode = 1, "replicate"

    def __init__(self, padding: IntTuple) -> None:
        super().__init__(padding)


class ReplicationPad2d(_Pad):
    """Pad the last two dimensions by repeating the edge values."""
    _mode = "replicate"

    def __init__(self, padding: IntTuple) -> None:
        super().__init__(padding)


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = int(dim), float(eps)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance of two inputs along the last dimension."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = float(p), float(eps), bool(keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
