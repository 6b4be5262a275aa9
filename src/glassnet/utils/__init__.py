"""``glassnet.utils``: where PyTorch keeps ``torch.utils.data``.

``glassnet.utils.data`` is PyTorch's data API (Dataset, DataLoader, samplers, collate) on
glassnet Tensors; :class:`Generator` is a seeded generator that draws the numbers
``torch.Generator`` draws, for ``random_split`` and shuffling.

Example
-------
>>> from glassnet.utils.data import DataLoader, TensorDataset
>>> g = Generator().manual_seed(42)
"""
from __future__ import annotations

from . import data
from .generator import Generator

__all__ = ["data", "Generator"]
