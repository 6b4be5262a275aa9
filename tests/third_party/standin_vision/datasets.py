"""TEST SCAFFOLDING: MNIST and FashionMNIST read from local IDX files, torchvision-style.

``MNIST(root, train=True, transform=None, target_transform=None, download=False)``
looks for ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (or the same
with ``.gz``), like torchvision after its download. ``download`` never downloads: this
machine has no network, and run_script.py writes the files there before the script runs.
``ds[i]`` is ``(image, target)``: the image a (28, 28) uint8 NumPy array (torchvision
gives a PIL image; ToTensor below accepts either form it is given here), the target an
int. ``ds.data`` (N, 28, 28) and ``ds.targets`` (N,) are backend tensors.
"""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np

from . import _backend

__all__ = ["MNIST", "FashionMNIST"]


def _read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class MNIST:
    folder = "MNIST"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(str(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        split = "train" if train else "t10k"
        raw = os.path.join(self.root, self.folder, "raw")
        images = self._find(raw, f"{split}-images-idx3-ubyte")
        labels = self._find(raw, f"{split}-labels-idx1-ubyte")
        self._images = _read_idx(images)
        self._labels = _read_idx(labels).astype(np.int64)
        self.data = _backend.to_tensor(self._images)
        self.targets = _backend.to_tensor(self._labels)

    @staticmethod
    def _find(raw, name):
        for cand in (name, name + ".gz"):
            p = os.path.join(raw, cand)
            if os.path.isfile(p):
                return p
        raise RuntimeError(f"Dataset not found: {os.path.join(raw, name)} (standin_vision "
                           f"never downloads; tests/third_party/run_script.py writes it)")

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class FashionMNIST(MNIST):
    folder = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
