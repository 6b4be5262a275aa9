"""Before / after: the training steps of bench_mlp, bench_cnn and bench_lstm, timed for this
tree's glassnet and another tree's in one process, in short alternating blocks.

A refactor is judged by this ratio rather than by two runs of the peer benchmarks, whose
ratios to PyTorch move 10-30% between runs on a shared machine (PyTorch's own throughput
moves as much). Both copies get the same data, seeds and threads; the order of the two
alternates every block, with a short pause between blocks (OpenBLAS threads spin briefly
after a call).

    python benchmarks/compare_trees.py --against ../old-checkout/src           # all three
    python benchmarks/compare_trees.py --against ../old/src --only cnn --blocks 30

Prints, per workload, each tree's median step time and the median over blocks of
time(other) / time(this): above 1 this tree is faster.
"""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)
# Numba's on-disk cache names the module a kernel was compiled in; the other tree is
# imported under another package name, so both compile afresh into a cache of their own
if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="glassnet-compare-")
    atexit.register(shutil.rmtree, os.environ["NUMBA_CACHE_DIR"], True)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

import numpy as np  # noqa: E402

from bench_optim import load_glassnet  # noqa: E402


def mlp_step(gn, rng):
    """bench_mlp's model: 784-256-128-10, ReLU, Adam, batch 128, learnable labels."""
    X = rng.random((4096, 784), dtype=np.float32)
    y = np.argmax((X - 0.5) @ rng.standard_normal((784, 10)).astype(np.float32), 1)
    nn = gn.nn
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt, loss_fn, at = gn.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), [0]

    def step():
        j = at[0] = (at[0] + 128) % (len(X) - 128)
        loss = loss_fn(model(X[j:j + 128]), y[j:j + 128])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def cnn_step(gn, rng):
    """bench_cnn's model: conv3x3(32)-pool-conv3x3(64)-pool-fc128-fc10, batch 64."""
    X = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = (X.reshape(64, -1) @ rng.standard_normal((784, 10))).argmax(1)
    nn = gn.nn
    gn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt, loss_fn = gn.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    x = gn.tensor(X)

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def lstm_step(gn, rng):
    """bench_lstm's model: char LSTM, vocabulary 65, embedding 64, hidden 256, T 64, B 32."""
    ids = rng.integers(65, size=(65, 32))
    gn.manual_seed(0)
    model = gn.models.CharLM(65, embedding_dim=64, hidden_size=256, cell="lstm")
    opt = gn.optim.Adam(model.parameters(), lr=2e-3)

    def step():
        loss, _ = model.loss(ids[:-1], ids[1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


WORKLOADS = {"mlp": (mlp_step, 10), "cnn": (cnn_step, 1), "lstm": (lstm_step, 1)}


def compare(name, this, other, blocks, pause):
    build, reps = WORKLOADS[name]
    steps = {"this": build(this, np.random.default_rng(0)),
             "other": build(other, np.random.default_rng(0))}
    for f in steps.values():      # warm-up (and first-call compilation of the kernels)
        for _ in range(3):
            f()
    times = {"this": [], "other": []}
    for b in range(blocks):
        for key in (("this", "other") if b % 2 == 0 else ("other", "this")):
            time.sleep(pause)
            t0 = time.perf_counter()
            for _ in range(reps):
                steps[key]()
            times[key].append((time.perf_counter() - t0) / reps)
    ratios = [o / t for o, t in zip(times["other"], times["this"])]
    q1, q3 = np.percentile(ratios, [25, 75])
    print(f"{name:5s} this {statistics.median(times['this']) * 1e3:8.2f} ms   other "
          f"{statistics.median(times['other']) * 1e3:8.2f} ms   other/this median "
          f"{statistics.median(ratios):.3f} (quartiles {q1:.2f}-{q3:.2f})", flush=True)
    return statistics.median(ratios)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", required=True, help="the other tree's src/ folder")
    ap.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    ap.add_argument("--blocks", type=int, default=20)
    ap.add_argument("--pause", type=float, default=0.05, help="seconds between blocks")
    args = ap.parse_args(argv)
    import glassnet as this  # noqa: PLC0415
    other = load_glassnet(args.against, "glassnet_other")
    print(f"this: {os.path.dirname(this.__file__)}   other: {os.path.dirname(other.__file__)}   "
          f"threads {os.environ['OMP_NUM_THREADS']}")
    return {n: compare(n, this, other, args.blocks, args.pause)
            for n in (args.only or sorted(WORKLOADS))}


if __name__ == "__main__":
    main()
