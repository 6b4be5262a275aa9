"""``glassnet.vision.datasets``: torchvision's dataset classes, read from local files.

Example
-------
>>> from glassnet.vision import datasets
>>> test = datasets.MNIST("data", train=False, download=True)    # doctest: +SKIP
"""
from __future__ import annotations

from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["MNIST", "FashionMNIST", "VisionDataset", "StandardTransform"]
