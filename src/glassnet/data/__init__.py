"""Data: datasets, the DataLoader, splits, encoders and scalers, and dataset loaders.

>>> from glassnet import data
>>> X, y = data.load_digits()                       # embedded, 1797 x 64
>>> Xtr, Xva, Xte, ytr, yva, yte = data.train_val_test_split(X, y, stratify=True)
>>> for xb, yb in data.DataLoader((Xtr, ytr), batch_size=32, shuffle=True, seed=0): pass
"""
from __future__ import annotations

from .dataset import Dataset, TensorDataset
from .datasets import load_digits, load_text, make_blobs, make_moons, make_xor
from .idx import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx
from .loader import DataLoader
from ..errors import DataChecksumError
from .paths import find_data_dir, sha256_file
from .preprocessing import (BinaryEncoder, MinMaxScaler, OneHotEncoder, StandardScaler,
                            binary_decode, binary_encode, one_hot)
from .split import KFold, StratifiedKFold, train_val_test_split

__all__ = ["Dataset", "TensorDataset", "DataLoader", "train_val_test_split", "KFold",
           "StratifiedKFold", "one_hot", "binary_encode", "binary_decode", "StandardScaler",
           "MinMaxScaler", "OneHotEncoder", "BinaryEncoder", "load_digits", "load_text",
           "load_mnist", "load_fashion_mnist",
           "read_idx", "make_xor", "make_moons", "make_blobs", "find_data_dir", "sha256_file",
           "DataChecksumError", "FASHION_MNIST_CLASSES"]
