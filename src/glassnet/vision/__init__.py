"""``glassnet.vision``: torchvision's shape on glassnet (``import glassnet.vision as
torchvision`` / ``from glassnet.vision import datasets, transforms``).

``datasets``  ``MNIST``, ``FashionMNIST`` from the local IDX files
``transforms`` ``Compose``, ``ToTensor``, ``Normalize``, ``RandomCrop``,
               ``RandomHorizontalFlip``, ``RandomRotation``, ``Resize``, ... and ``functional``
``utils``     ``make_grid``, ``save_image`` (PNG written with zlib, no extra needed)
``color``     ``hwc_to_chw``, ``chw_to_hwc``, ``channel_stats`` (with ``transforms.Grayscale``,
               ``ConvertImageDtype``, ``Normalize``: RGB images end to end)

Example
-------
>>> from glassnet.vision import transforms, utils
>>> grid = utils.make_grid(gn.rand(16, 1, 28, 28), nrow=4)       # doctest: +SKIP
"""
from __future__ import annotations

from . import color, datasets, transforms, utils

__all__ = ["color", "datasets", "transforms", "utils"]
