"""Adam step time on the MLP 784-256-128-10 parameter set (float32, 235,146 values).

Compares, in one process, with the same fixed gradients:

- glassnet ``optim.Adam`` (flat buffers: one concatenate, a few vectorised passes, write-back),
- glassnet ``optim.Adam(foreach=False)`` (the same rule run per parameter on views of the flat
  state buffers),
- a textbook per-parameter NumPy Adam (new temporaries for every operation),
- ``torch.optim.Adam`` with its CPU default (a loop over parameters), ``foreach=True`` and
  ``fused=True``.

Method (shared/PERF_NOTES.md): 2 threads for everyone; after a warm-up, many short blocks
alternate between the variants of one library (the order rotates each round) and the median
time per step of each is reported. Each library runs in its own fresh process (in the same
process, torch's OpenMP threads and OpenBLAS's spinning threads fight over the two cores and
inflate both by up to 4x); the pair of processes is repeated, alternating which goes first, and
the median ratio to torch's default Adam is printed with its spread over the pairs. Page faults
per step are shown beside the times.

    python benchmarks/bench_optim.py               # 3 fresh processes
    python benchmarks/bench_optim.py --procs 1 --rounds 20
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "2")

import numpy as np  # noqa: E402

SHAPES = [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]


def _arrays(seed=0):
    r = np.random.default_rng(seed)
    ps = [(r.standard_normal(s) * 0.05).astype(np.float32) for s in SHAPES]
    gs = [(r.standard_normal(s) * 1e-3).astype(np.float32) for s in SHAPES]
    return ps, gs


class NaiveAdam:
    """Per-parameter Adam as usually first written: every operation allocates a temporary."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, *betas, eps
        self.m = [np.zeros_like(p.data) for p in params]
        self.v = [np.zeros_like(p.data) for p in params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.b1, self.b2
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad.data
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1 ** self.t)
            vhat = v / (1 - b2 ** self.t)
            p.data -= self.lr * mhat / (np.sqrt(vhat) + self.eps)


def build(library):
    variants = {}
    if library == "torch":
        import torch
        torch.set_num_threads(2)
        ps, gs = _arrays()

        def t_params():
            out = []
            for p, g in zip(ps, gs):
                q = torch.tensor(p.copy(), requires_grad=True)
                q.grad = torch.tensor(g.copy())
                out.append(q)
            return out

        variants["torch Adam (default)"] = torch.optim.Adam(t_params(), lr=1e-4).step
        variants["torch Adam foreach"] = torch.optim.Adam(t_params(), lr=1e-4, foreach=True).step
        variants["torch Adam fused"] = torch.optim.Adam(t_params(), lr=1e-4, fused=True).step
        return variants
    import glassnet as gn
    from glassnet import nn, optim

    ps, gs = _arrays()

    def gn_params():
        out = []
        for p, g in zip(ps, gs):
            q = nn.Parameter(p.copy())
            q.grad = gn.Tensor(g.copy())
            out.append(q)
        return out

    variants["glassnet Adam (flat)"] = optim.Adam(gn_params(), lr=1e-4).step
    variants["glassnet Adam (per-param)"] = optim.Adam(gn_params(), lr=1e-4, foreach=False).step
    variants["naive NumPy Adam"] = NaiveAdam(gn_params(), lr=1e-4).step
    return variants


def measure(library, rounds=30, steps=20):
    variants = build(library)
    names = list(variants)
    for f in variants.values():  # warm-up
        for _ in range(20):
            f()
    times = {n: [] for n in names}
    faults = {n: 0 for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            f = variants[n]
            time.sleep(0.002)  # let BLAS/OpenMP spinning threads settle between libraries
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter()
            for _ in range(steps):
                f()
            times[n].append((time.perf_counter() - t0) / steps)
            faults[n] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    return {n: {"us": statistics.median(times[n]) * 1e6,
                "faults_per_step": faults[n] / (rounds * steps)} for n in names}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--child", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.rounds)))
        return
    runs = []
    libs = ["glassnet", "torch"]
    try:
        import torch  # noqa: F401
    except ImportError:
        libs = ["glassnet"]
    for i in range(args.procs):
        run = {}
        for lib in (libs if i % 2 == 0 else libs[::-1]):
            out = subprocess.run([sys.executable, __file__, "--child", lib, "--rounds",
                                  str(args.rounds)], check=True, capture_output=True,
                                 text=True).stdout
            run.update(json.loads(out.strip().splitlines()[-1]))
        runs.append(run)
    ref = "torch Adam (default)" if "torch Adam (default)" in runs[0] else None
    print(f"Adam step, MLP 784-256-128-10 parameters (235,146 float32), {args.procs} fresh "
          f"processes, median of {args.rounds} blocks each")
    print(f"{'variant':28s} {'µs/step':>9s} {'ratio to torch':>15s} {'spread':>15s} "
          f"{'faults/step':>12s}")
    summary = {}
    for n in runs[0]:
        us = statistics.median(r[n]["us"] for r in runs)
        ratios = [r[n]["us"] / r[ref]["us"] for r in runs] if ref else [float("nan")]
        pf = statistics.median(r[n]["faults_per_step"] for r in runs)
        summary[n] = {"us": us, "ratio_median": statistics.median(ratios),
                      "ratio_min": min(ratios), "ratio_max": max(ratios), "faults": pf}
        print(f"{n:28s} {us:9.1f} {statistics.median(ratios):15.2f} "
              f"{min(ratios):7.2f}-{max(ratios):<7.2f} {pf:12.1f}")
    print("(ratio = time / torch default Adam's time in the paired process; lower is faster)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
