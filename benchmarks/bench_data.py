"""One epoch of per-sample MNIST data, glassnet against PyTorch, in one process (issue 14:
"per-sample Dataset + transforms + collate do not dominate an epoch").

Three pipelines over the 60000 training images, batch 64, shuffled, no model:

* ``torch``: ``torch.utils.data.DataLoader`` over a torchvision-free per-sample Dataset whose
  ``__getitem__`` does what ToTensor + Normalize do (``from_numpy(img).float().div(255)``,
  add the channel axis, subtract the mean, divide by the std) and returns (image, target);
* ``glassnet (user Dataset)``: the same Dataset written against glassnet, with
  ``glassnet.vision.transforms.Compose([ToTensor(), Normalize(...)])`` applied to each
  image, through ``glassnet.utils.data.DataLoader`` (the torchvision-style loop that a
  ported script runs, image by image);
* ``glassnet (vision.datasets.MNIST)``: glassnet's MNIST with the same transform (its
  DataLoader fetches and transforms a whole batch at once).

Usage: ``PYTHONPATH=src python benchmarks/bench_data.py [--repeats 3] [--profile]``.
Each number is the best of ``--repeats`` epochs; ``--profile`` prints where the user
Dataset epoch's time goes (cProfile, top functions by own time).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.data import find_data_dir  # noqa: E402
from glassnet.data.idx import read_idx  # noqa: E402
from glassnet.utils.data import DataLoader, Dataset  # noqa: E402
from glassnet.vision import datasets, transforms as T  # noqa: E402

MEAN, STD = 0.1307, 0.3081


def mnist_arrays():
    d = find_data_dir("mnist", required=["train-images-idx3-ubyte.gz"])
    return (np.array(read_idx(d / "train-images-idx3-ubyte.gz", 2051)),
            np.array(read_idx(d / "train-labels-idx1-ubyte.gz", 2049)).astype(np.int64), d)


class GlassnetDigits(Dataset):
    """A torchvision-style per-sample Dataset, written as a tutorial writes it."""

    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img, target = self.images[i], int(self.labels[i])
        if self.transform is not None:
            img = self.transform(img)
        return img, target


def epoch(loader):
    t0 = time.perf_counter()
    n = 0
    for x, y in loader:
        n += len(y)
    return time.perf_counter() - t0, n


def best(make, repeats):
    times = []
    for _ in range(repeats):
        dt, n = epoch(make())
        times.append(dt)
    return min(times), n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    images, labels, folder = mnist_arrays()
    bs = args.batch_size
    tf = T.Compose([T.ToTensor(), T.Normalize((MEAN,), (STD,))])
    results = {}

    try:
        import torch
        import torch.utils.data as tud
        torch.set_num_threads(2)

        class TorchDigits(tud.Dataset):
            def __init__(self, images, labels):
                self.images, self.labels = images, labels

            def __len__(self):
                return len(self.images)

            def __getitem__(self, i):
                img = torch.from_numpy(self.images[i]).float().div(255).unsqueeze(0)
                img = (img - MEAN) / STD
                return img, int(self.labels[i])

        tds = TorchDigits(images, labels)
        results["torch (per-sample Dataset)"] = best(
            lambda: tud.DataLoader(tds, batch_size=bs, shuffle=True), args.repeats)
    except ImportError:
        print("torch is not installed: only glassnet's numbers")

    gds = GlassnetDigits(images, labels, tf)
    results["glassnet (user per-sample Dataset)"] = best(
        lambda: DataLoader(gds, batch_size=bs, shuffle=True), args.repeats)
    mn = datasets.MNIST(folder.parent, train=True, transform=tf)
    results["glassnet (vision.datasets.MNIST)"] = best(
        lambda: DataLoader(mn, batch_size=bs, shuffle=True), args.repeats)

    ref = results.get("torch (per-sample Dataset)", (None,))[0]
    print(f"one epoch of MNIST ({len(images)} samples, batch {bs}), best of {args.repeats}:")
    for name, (dt, n) in results.items():
        ratio = f"  {ref / dt:5.2f}x torch's speed" if ref else ""
        print(f"  {name:38s} {dt:7.3f} s  ({n / dt:9.0f} samples/s){ratio}")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        epoch(DataLoader(gds, batch_size=bs, shuffle=True))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
