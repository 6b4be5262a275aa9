"""Cost of the Trainer's NaN/Inf gradient check (``Trainer._check_gradients``) per step.

The 784-256-256-10 MLP (ReLU) with Adam, a fixed batch of 128: blocks of 300
``Trainer.train_step`` calls alternate, in one process, between the Trainer as it is and the
Trainer with the check replaced by a no-op; the fastest and the median block of each are
printed, then the check alone on the same gradients (which the load of a shared machine
disturbs least).

    python benchmarks/bench_nonfinite_check.py            # 7 rounds
    python benchmarks/bench_nonfinite_check.py --rounds 15
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.training import Trainer


def main(rounds=7, steps=300) -> None:
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3))
    rng = np.random.default_rng(0)
    X = rng.random((128, 784), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    model.train()
    check = Trainer._check_gradients

    def block(on):
        trainer._check_gradients = (lambda v, s: None) if not on else \
            (lambda v, s: check(trainer, v, s))
        t0 = time.perf_counter()
        for s in range(steps):
            trainer.train_step(X, y, s)
        return (time.perf_counter() - t0) / steps

    block(True), block(False)                       # warm-up
    times = {False: [], True: []}
    for r in range(rounds):
        for on in ((False, True) if r % 2 == 0 else (True, False)):
            times[on].append(block(on))
    t0 = time.perf_counter()
    for s in range(steps):
        check(trainer, 0.0, s)
    alone = (time.perf_counter() - t0) / steps
    off, on = min(times[False]), min(times[True])
    print(f"step without the check: {off * 1e3:.3f} ms (fastest of {rounds} blocks of "
          f"{steps}), median {np.median(times[False]) * 1e3:.3f} ms")
    print(f"step with the check:    {on * 1e3:.3f} ms, median {np.median(times[True]) * 1e3:.3f} ms")
    print(f"overhead: {100 * (on - off) / off:+.2f}% (fastest blocks), "
          f"{100 * (np.median(times[True]) / np.median(times[False]) - 1):+.2f}% (medians); "
          f"the check alone {alone * 1e6:.1f} us = {100 * alone / off:.2f}% of a step")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    main(ap.parse_args().rounds)
