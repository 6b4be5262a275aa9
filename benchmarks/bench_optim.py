"""Adam step time on the MLP 784-256-128-10 parameter set (float32, 235,146 values).

Compares, in one process, with the same fixed gradients:

- glassnet ``optim.Adam`` (the flat engine, optim/_flat.py: contiguous state buffers, the
  small parameters gathered into one run, a few vectorised passes with ``out=``, write-back),
- glassnet ``optim.Adam(foreach=False)`` (the readable rule, ``Adam._update``, run per
  parameter: the formula in NumPy, new temporaries for every operation),
- a textbook per-parameter NumPy Adam (the same, outside glassnet),
- ``torch.optim.Adam`` with its CPU default (a loop over parameters), ``foreach=True`` and
  ``fused=True``,
- with ``--against SRC``, the same glassnet variants from another source tree (e.g. the
  commit before a change), loaded into the same process under another package name, so the
  two versions alternate block by block.

Method (shared/PERF_NOTES.md): 2 threads for everyone; after a warm-up, many short blocks
alternate between the variants of one library (the order rotates each round) and the median
time per step of each is reported. Each library runs in its own fresh process (in the same
process, torch's OpenMP threads and OpenBLAS's spinning threads fight over the two cores and
inflate both by up to 4x); the pair of processes is repeated, alternating which goes first, and
the median ratio to torch's default Adam is printed with its spread over the pairs. Page faults
per step are shown beside the times.

    python benchmarks/bench_optim.py               # 3 fresh processes
    python benchmarks/bench_optim.py --procs 1 --rounds 20
    python benchmarks/bench_optim.py --against ../base/src   # before / after, in one process
"""
from __future__ import annotations

import argparse
import importlib.util
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
        self.m = [np.zeros_like(p.numpy()) for p in params]
        self.v = [np.zeros_like(p.numpy()) for p in params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.b1, self.b2
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad.numpy()
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1 ** self.t)
            vhat = v / (1 - b2 ** self.t)
            p.numpy()[...] -= self.lr * mhat / (np.sqrt(vhat) + self.eps)


def load_glassnet(src, name="glassnet_against"):
    """The glassnet package under ``src`` (a folder holding ``glassnet/``) imported as ``name``,
    beside the ordinary ``glassnet`` (glassnet's own imports are relative)."""
    root = os.path.join(os.path.abspath(src), "glassnet")
    spec = importlib.util.spec_from_file_location(name, os.path.join(root, "__init__.py"),
                                                  submodule_search_locations=[root])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def glassnet_variants(gn, ps, gs, tag=""):
    nn, optim = gn.nn, gn.optim

    def gn_params():
        out = []
        for p, g in zip(ps, gs):
            q = nn.Parameter(p.copy())
            q.grad = gn.Tensor(g.copy())
            out.append(q)
        return out

    return {f"glassnet{tag} Adam (flat)": optim.Adam(gn_params(), lr=1e-4).step,
            f"glassnet{tag} Adam (per-param)": optim.Adam(gn_params(), lr=1e-4,
                                                         foreach=False).step}


def build(library, against=None):
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

    ps, gs = _arrays()
    variants.update(glassnet_variants(gn, ps, gs))
    if against:
        variants.update(glassnet_variants(load_glassnet(against), ps, gs, " [against]"))
    params = [gn.nn.Parameter(p.copy()) for p in ps]
    for q, g in zip(params, gs):
        q.grad = gn.Tensor(g.copy())
    variants["naive NumPy Adam"] = NaiveAdam(params, lr=1e-4).step
    return variants


def measure(library, rounds=30, steps=20, against=None):
    variants = build(library, against)
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
    ap.add_argument("--against", metavar="SRC", help="also time the glassnet under SRC (a "
                    "folder holding glassnet/, e.g. another worktree's src), in the same process")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.rounds, against=args.against)))
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
            extra = ["--against", args.against] if args.against and lib == "glassnet" else []
            out = subprocess.run([sys.executable, __file__, "--child", lib, "--rounds",
                                  str(args.rounds)] + extra, check=True, capture_output=True,
                                 text=True).stdout
            run.update(json.loads(out.strip().splitlines()[-1]))
        runs.append(run)
    ref = "torch Adam (default)" if "torch Adam (default)" in runs[0] else None
    print(f"Adam step, MLP 784-256-128-10 parameters (235,146 float32), {args.procs} fresh "
          f"processes, median of {args.rounds} blocks each")
    print(f"{'variant':38s} {'µs/step':>9s} {'ratio to torch':>15s} {'spread':>15s} "
          f"{'faults/step':>12s}")
    summary = {}
    for n in runs[0]:
        us = statistics.median(r[n]["us"] for r in runs)
        ratios = [r[n]["us"] / r[ref]["us"] for r in runs] if ref else [float("nan")]
        pf = statistics.median(r[n]["faults_per_step"] for r in runs)
        summary[n] = {"us": us, "ratio_median": statistics.median(ratios),
                      "ratio_min": min(ratios), "ratio_max": max(ratios), "faults": pf}
        print(f"{n:38s} {us:9.1f} {statistics.median(ratios):15.2f} "
              f"{min(ratios):7.2f}-{max(ratios):<7.2f} {pf:12.1f}")
    print("(ratio = time / torch default Adam's time in the paired process; lower is faster)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
