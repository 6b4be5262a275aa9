"""``glassnet.utils.data``: PyTorch's ``torch.utils.data`` on glassnet Tensors.

``from glassnet.utils.data import DataLoader, TensorDataset, random_split`` is the line
a PyTorch script changes; the rest runs as written: ``Dataset`` / ``IterableDataset``
subclasses, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``ChainDataset``,
``random_split`` (counts or fractions), the samplers, ``default_collate`` /
``default_convert``, and ``DataLoader`` with batching, shuffling, ``collate_fn``,
``drop_last`` and worker processes (``get_worker_info``). Batches are glassnet Tensors.

``glassnet.data`` stays glassnet's own data layer (NumPy batches for ``Trainer``,
splits, encoders, dataset files); see :mod:`.dataloader` for how the two relate.

Example
-------
>>> ds = TensorDataset(np.random.rand(100, 4).astype(np.float32), np.arange(100))
>>> xb, yb = next(iter(DataLoader(ds, batch_size=32, shuffle=True)))
>>> xb.shape, yb.dtype
((32, 4), dtype('int64'))
"""
from __future__ import annotations

import numpy as np  # noqa: F401  (the example above)

from ..generator import Generator
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset,
                      TensorDataset, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .worker import WorkerInfo, get_worker_info

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "default_collate",
           "default_convert", "DataLoader", "get_worker_info", "WorkerInfo", "Generator"]
