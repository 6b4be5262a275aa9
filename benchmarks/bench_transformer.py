"""Training step of a Transformer encoder: glassnet vs PyTorch CPU, the same model.

Model (issue 18's speed point, both libraries): ``nn.TransformerEncoder`` of 2
``TransformerEncoderLayer(256, 4 heads, dim_feedforward=1024, dropout=0, batch_first)``
layers on a (32, 128, 256) float32 input, a Linear(256, 1) head and a mean-squared-error
loss, Adam. (The character model's step time is in bench_char_transformer.py's result.)

Method (as bench_lstm.py): each library in a fresh process of its own with the same
number of BLAS / OpenMP threads (PyTorch's OpenMP threads and OpenBLAS's fight over the
cores in one process), a warm-up, short timing blocks with a pause between them;
process pairs alternate which library goes first; the median ratio torch time / glassnet
time over the pairs is printed (> 1: glassnet faster). ``--profile`` prints where
glassnet's time goes (cProfile, by function).

    python benchmarks/bench_transformer.py                  # 3 process pairs
    python benchmarks/bench_transformer.py --procs 1 --profile
    python benchmarks/bench_transformer.py --no-jit         # glassnet without Numba kernels
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

if "--threads" in sys.argv:   # before NumPy / torch are imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = _n
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "2")

import numpy as np  # noqa: E402

N, T, D, H, FF, LAYERS = 32, 128, 256, 4, 1024, 2


def data(args: argparse.Namespace, n: int = 8) -> list[Any]:
    r = np.random.default_rng(0)
    return [(r.standard_normal((N, T, D)).astype(np.float32),
             r.standard_normal((N, T, 1)).astype(np.float32)) for _ in range(n)]


def glassnet_step(args: argparse.Namespace) -> Callable[[Any], float]:
    import glassnet as gn
    from glassnet import nn, optim
    gn.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, LAYERS)
    head = nn.Linear(D, 1)
    params = list(enc.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=1e-4)

    def step(b: tuple[np.ndarray, np.ndarray]) -> float:
        opt.zero_grad()
        loss = nn.functional.mse_loss(head(enc(gn.tensor(b[0]))), gn.tensor(b[1]))
        loss.backward()
        opt.step()
        return float(loss.item())
    return step


def torch_step(args: argparse.Namespace) -> Callable[[Any], float]:
    import torch
    from torch import nn
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
    head = nn.Linear(D, 1)
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=1e-4)

    def step(b: tuple[np.ndarray, np.ndarray]) -> float:
        opt.zero_grad()
        loss = nn.functional.mse_loss(head(enc(torch.from_numpy(b[0]))), torch.from_numpy(b[1]))
        loss.backward()
        opt.step()
        return float(loss.item())
    return step


def run_worker(name: str, args: argparse.Namespace) -> list[float]:
    step = glassnet_step(args) if name == "glassnet" else torch_step(args)
    batches = data(args)
    for i in range(args.warmup):
        step(batches[i % len(batches)])
    out = []
    for _ in range(args.rounds):
        time.sleep(args.pause)
        t0 = time.perf_counter()
        for i in range(args.steps):
            step(batches[i % len(batches)])
        out.append((time.perf_counter() - t0) / args.steps)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=3, help="fresh process pairs")
    ap.add_argument("--rounds", type=int, default=5, help="timing blocks per process")
    ap.add_argument("--steps", type=int, default=3, help="steps per timing block")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="BLAS / torch threads (default 2)")
    ap.add_argument("--pause", type=float, default=0.1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-jit", action="store_true", help="GLASSNET_JIT=0 for glassnet")
    ap.add_argument("--out", default=None, help="write the result as JSON here")
    ap.add_argument("--worker", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.no_jit:
        os.environ["GLASSNET_JIT"] = "0"
    if args.worker:
        print(json.dumps(run_worker(args.worker, args)))
        return 0
    cmd = [sys.executable, __file__, "--rounds", str(args.rounds), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--pause", str(args.pause)]
    times: dict[str, list[float]] = {"glassnet": [], "torch": []}
    ratios = []
    for p in range(args.procs):
        res = {}
        for name in (["glassnet", "torch"] if p % 2 == 0 else ["torch", "glassnet"]):
            out = subprocess.run(cmd + ["--worker", name], capture_output=True, text=True,
                                 check=True).stdout
            res[name] = json.loads(out.strip().splitlines()[-1])
            times[name] += res[name]
        ratios.append(statistics.median(res["torch"]) / statistics.median(res["glassnet"]))
    what = (f"TransformerEncoder ({LAYERS} layers, d {D}, {H} heads, ff {FF}, T {T}, batch {N}, "
            "Adam)")
    print(f"{what}, float32, {os.environ['OMP_NUM_THREADS']} threads, {args.procs} process "
          f"pair(s) x {args.rounds} blocks x {args.steps} steps; load {os.getloadavg()[0]:.2f}")
    for name, ts in times.items():
        print(f"  {name:9s} {statistics.median(ts) * 1e3:8.1f} ms/step (best {min(ts) * 1e3:.1f})")
    med = statistics.median(ratios)
    best = min(times["torch"]) / min(times["glassnet"])
    print(f"  glassnet / torch throughput: median {med:.3f}x (min {min(ratios):.3f}, max "
          f"{max(ratios):.3f}); best block vs best block {best:.3f}x; goal >= 0.8x")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"model": what, "ms_per_step": {k: statistics.median(v) * 1e3
                                                      for k, v in times.items()},
                       "ratio_median": med, "ratio_best": best, "ratios": ratios,
                       "load": os.getloadavg()[0]}, f, indent=1)
    if args.profile:
        import cProfile
        import pstats
        step, batches = glassnet_step(args), data(args)
        for i in range(3):
            step(batches[i])
        pr = cProfile.Profile()
        pr.enable()
        for i in range(5):
            step(batches[i % len(batches)])
        pr.disable()
        st = pstats.Stats(pr); st.sort_stats("tottime").print_stats(16)
        if os.environ.get("BENCH_CALLERS"):
            st.print_callers(os.environ["BENCH_CALLERS"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
