"""``glassnet.vision.transforms``: torchvision's transforms on glassnet images.

Images are glassnet Tensors (..., C, H, W), NumPy arrays (H, W) / (H, W, C) standing in for
PIL images (glassnet needs no Pillow), or PIL images when Pillow is installed.
``transforms.functional`` holds the operations with torchvision's names.

Example
-------
>>> from glassnet.vision import transforms
>>> t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
"""
from __future__ import annotations

from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, Compose, ConvertImageDtype, Grayscale, Lambda, Normalize,
                         Pad, RandomCrop, RandomHorizontalFlip, RandomRotation,
                         RandomVerticalFlip, Resize, ToTensor, Transform, batched)

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "Resize", "CenterCrop", "Pad", "Grayscale",
           "ConvertImageDtype", "InterpolationMode", "functional", "Transform", "batched"]
