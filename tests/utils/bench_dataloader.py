"""One epoch of DataLoader(TensorDataset(X, y), shuffle=True) over 60000 x 784 float32, glassnet
against PyTorch, alternating short blocks in one process (not collected by pytest).

    PYTHONPATH=src python tests/utils/bench_dataloader.py [rounds]

Prints the median epoch time of each and the ratio torch / glassnet (above 1: glassnet is
faster). glassnet gathers each batch with one fancy index per array; torch indexes the
dataset once per sample and stacks the samples in default_collate.
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch

from glassnet.utils.data import DataLoader, TensorDataset


def epoch(loader):
    t = time.perf_counter()
    n = 0
    for xb, yb in loader:
        n += len(yb)
    assert n == 60000
    return time.perf_counter() - t


def main(rounds=5):
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    X = rng.random((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)
    for bs in (64, 256):
        ours = DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=True)
        theirs = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
            batch_size=bs, shuffle=True)
        epoch(ours), epoch(theirs)                     # warm up
        t_ours, t_theirs = [], []
        for r in range(rounds):
            first, second = (ours, theirs) if r % 2 == 0 else (theirs, ours)
            a, b = epoch(first), epoch(second)
            if first is ours:
                t_ours.append(a), t_theirs.append(b)
            else:
                t_theirs.append(a), t_ours.append(b)
        mo, mt = statistics.median(t_ours), statistics.median(t_theirs)
        print(f"batch {bs:4d}: glassnet {mo * 1e3:8.1f} ms/epoch, torch {mt * 1e3:8.1f} ms/epoch, "
              f"torch / glassnet = {mt / mo:5.1f}x  (glassnet {min(t_ours) * 1e3:.1f}-"
              f"{max(t_ours) * 1e3:.1f}, torch {min(t_theirs) * 1e3:.1f}-{max(t_theirs) * 1e3:.1f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
