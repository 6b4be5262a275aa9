"""TEST SCAFFOLDING: the transforms the cited scripts use, with torchvision's meaning.

ToTensor: an (H, W) or (H, W, C) uint8 image -> a float32 (C, H, W) tensor in [0, 1].
Normalize(mean, std): per channel, (x - mean[c]) / std[c].
"""
from __future__ import annotations

import numpy as np

from . import _backend

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class ToTensor:
    def __call__(self, pic):
        a = np.asarray(pic)
        if a.ndim == 2:
            a = a[:, :, None]
        a = a.transpose(2, 0, 1)
        if a.dtype == np.uint8:
            a = a.astype(np.float32) / 255.0
        return _backend.to_tensor(np.ascontiguousarray(a, dtype=np.float32))


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)

    def __call__(self, tensor):
        a = _backend.to_numpy(tensor)
        return _backend.to_tensor(((a - self.mean) / self.std).astype(np.float32))


class Lambda:
    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)
