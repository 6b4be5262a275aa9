"""Training throughput of the character LSTM: glassnet vs PyTorch ``nn.LSTM`` on CPU.

Model (both libraries): Embedding(65, 64) -> LSTM(64, 256) -> Linear(256, 65), softmax
cross-entropy, Adam (lr 2e-3), float32, sequence length 64, batch 32 (2,048 tokens a step).
Targets are the next characters of a fixed pseudo-text drawn from a random bigram table
(learnable, so the timed work stays realistic).

Method (shared/PERF_NOTES.md): torch threads set to NumPy's BLAS thread count. Each
library runs in a fresh process of its own (timed in one process together, PyTorch's
OpenMP threads and OpenBLAS's spinning threads fought over the 2 cores and both ran
several times slower; ``--same-process`` still does that, alternating blocks); after a
warm-up, short timing blocks with a pause between them; pairs of processes alternate
which library goes first, and the median ratio torch_time / glassnet_time over the pairs
(the throughput ratio, > 1: glassnet faster) is printed with its spread. ``--profile``
prints where glassnet's step time goes (cProfile, by function) and the page faults per step.

    python benchmarks/bench_lstm.py                 # 3 process pairs
    python benchmarks/bench_lstm.py --same-process  # alternating blocks in one process
    python benchmarks/bench_lstm.py --procs 5 --profile
    python benchmarks/bench_lstm.py --no-jit        # glassnet without its Numba kernels
    python benchmarks/bench_lstm.py --cell gru      # the same model with GRU layers
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

if "--threads" in sys.argv:   # must be set before NumPy is imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = _n
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "2")

# OPENBLAS_THREAD_TIMEOUT is left to `import glassnet` (21, in either import order; see
# docs/guide.md); PyTorch (MKL / OpenMP) ignores it
import numpy as np  # noqa: E402

V, E, H, T, B, LR = 65, 64, 256, 64, 32, 2e-3


def make_data(steps, seed=0):
    """(steps, T+1, B) ids of a Markov chain with a random sparse bigram table."""
    r = np.random.default_rng(seed)
    P = r.dirichlet(np.full(V, 0.1), size=V)
    cdf = np.cumsum(P, axis=1)
    out = np.empty((steps, T + 1, B), dtype=np.int64)
    cur = r.integers(V, size=B)
    for s in range(steps):          # generation only, not timed
        for t in range(T + 1):
            out[s, t] = cur
            cur = np.minimum((cdf[cur] < r.random(B)[:, None]).sum(1), V - 1)
    return out


def glassnet_step_fn(cell="lstm"):
    import glassnet as gn
    from glassnet import optim
    from glassnet.models import CharLM
    gn.manual_seed(0)
    model = CharLM(V, embedding_dim=E, hidden_size=H, cell=cell)
    opt = optim.Adam(model.parameters(), lr=LR)

    def step(batch):
        x, y = batch[:-1], batch[1:]
        loss, _ = model.loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.numpy())
    return step


def torch_step_fn(threads, cell="lstm"):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, E)
            self.lstm = getattr(torch.nn, cell.upper())(E, H)
            self.fc = torch.nn.Linear(H, V)

        def forward(self, x):
            y, _ = self.lstm(self.emb(x))
            return self.fc(y)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def step(batch):
        b = torch.from_numpy(batch)
        x, y = b[:-1], b[1:]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()
    return step


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return int(info["num_threads"])
    except ImportError:
        pass
    return int(os.environ.get("OPENBLAS_NUM_THREADS", "2"))


def time_block(step, data, n):
    t0 = time.perf_counter()
    for i in range(n):
        step(data[i % len(data)])
    return (time.perf_counter() - t0) / n


def profile(step, data, n=10):
    import cProfile
    import pstats
    for i in range(3):
        step(data[i])
    flt0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    pr = cProfile.Profile()
    pr.enable()
    for i in range(n):
        step(data[i % len(data)])
    pr.disable()
    flt = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - flt0) / n
    print(f"\nglassnet profile over {n} steps ({flt:.0f} minor page faults per step):")
    pstats.Stats(pr).sort_stats("tottime").print_stats(14)


def run_worker(name, args, data, threads):
    """Time one library in this process: warm-up, then ``rounds`` blocks of ``steps``."""
    step = glassnet_step_fn(args.cell) if name == "glassnet" else torch_step_fn(threads, args.cell)
    for i in range(args.warmup):
        step(data[i % len(data)])
    out = []
    for _ in range(args.rounds):
        time.sleep(args.pause)
        out.append(time_block(step, data, args.steps))
    return out


def report(times, threads, args):
    tok = T * B
    from glassnet.backend import kernels as K
    kernels = ("Numba kernels" if K.enabled() else
               "NumPy only" + ("" if K.available() else " (Numba not installed)"))
    print(f"char {args.cell.upper()} V{V} E{E} H{H} T{T} B{B}, Adam, float32, {threads} threads, "
          f"{args.procs} process pair(s) x {args.rounds} blocks x {args.steps} steps; "
          f"glassnet: {kernels}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:9s} {med * 1e3:7.2f} ms/step  {tok / med:9.0f} tokens/s  "
              f"(best {min(ts) * 1e3:.2f} ms)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=3, help="fresh process pairs")
    ap.add_argument("--rounds", type=int, default=6, help="timing blocks per process")
    ap.add_argument("--steps", type=int, default=5, help="steps per timing block")
    ap.add_argument("--warmup", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS / torch threads for both (default: $OPENBLAS_NUM_THREADS or 2)")
    ap.add_argument("--pause", type=float, default=0.1, help="seconds between blocks")
    ap.add_argument("--same-process", action="store_true",
                    help="both libraries in one process, alternating blocks")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm",
                    help="recurrent cell of both models (the goal is set for lstm)")
    ap.add_argument("--no-jit", action="store_true",
                    help="NumPy only: turn off glassnet's Numba kernels (GLASSNET_JIT=0)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--worker", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.no_jit:
        os.environ["GLASSNET_JIT"] = "0"      # the knob `jit`, for the worker processes
        from glassnet.backend import kernels
        kernels.set_enabled(False)            # and this process
    data = make_data(16)
    threads = blas_threads()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args, data, threads)))
        return 0
    names = ["glassnet"]
    if not args.no_torch:
        try:
            import torch  # noqa: F401
            names.append("torch")
        except ImportError:
            print("(torch not installed: timing glassnet alone)", file=sys.stderr)
    times = {k: [] for k in names}
    ratios = []
    if args.same_process:
        runners = {"glassnet": glassnet_step_fn(args.cell)}
        if "torch" in names:
            runners["torch"] = torch_step_fn(threads, args.cell)
        for step in runners.values():
            for i in range(args.warmup):
                step(data[i % len(data)])
        for r in range(args.rounds):
            for name in (names if r % 2 == 0 else names[::-1]):
                time.sleep(args.pause)
                times[name].append(time_block(runners[name], data, args.steps))
        if "torch" in times:
            ratios = [tt / tg for tt, tg in zip(times["torch"], times["glassnet"])]
    else:
        # PyTorch's OpenMP threads and OpenBLAS's spinning threads fight over the cores
        # when both live in one process (both slow down several-fold), so each library
        # runs in its own fresh process; pairs alternate which goes first.
        cmd = [sys.executable, __file__, "--cell", args.cell, "--rounds", str(args.rounds),
               "--steps", str(args.steps), "--warmup", str(args.warmup), "--pause", str(args.pause)]
        for p in range(args.procs):
            res = {}
            for name in (names if p % 2 == 0 else names[::-1]):
                out = subprocess.run(cmd + ["--worker", name], capture_output=True, text=True,
                                     check=True).stdout
                res[name] = json.loads(out.strip().splitlines()[-1])
                times[name] += res[name]
            if "torch" in res:
                ratios.append(statistics.median(res["torch"]) /
                              statistics.median(res["glassnet"]))
    report(times, threads, args)
    if ratios:
        print(f"  glassnet / torch throughput: median {statistics.median(ratios):.3f}x "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f} over "
              f"{len(ratios)} {'blocks' if args.same_process else 'process pairs'}; "
              f"goal >= 0.8x)")
    if "torch" in times:
        # the fastest block of each: least disturbed by other work on a shared machine
        print(f"  best block vs best block: {min(times['torch']) / min(times['glassnet']):.3f}x")
    if args.profile:
        profile(glassnet_step_fn(args.cell), data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
