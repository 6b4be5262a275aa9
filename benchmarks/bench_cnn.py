"""Train-step throughput of the issue's CNN, glassnet vs PyTorch CPU, as a ratio.

Model: 1x28x28 -> Conv(32, 3x3, pad 1) ReLU MaxPool2 -> Conv(64, 3x3, pad 1) ReLU MaxPool2
-> Linear(3136, 128) ReLU -> Linear(128, 10); batch 64, Adam(lr 1e-3), float32, cross-entropy.

Protocol (see /work/shared/PERF_NOTES.md): each of ``--procs`` fresh processes builds both
models with the same initial weights, runs both under ``--threads`` threads (OpenBLAS's
through OPENBLAS_NUM_THREADS, set before NumPy loads; torch.set_num_threads),
warms up, then times ``--blocks`` short blocks of ``--steps`` steps, alternating which library
goes first, pausing briefly between blocks (OpenBLAS threads spin). Targets come from a fixed
random linear teacher, so the nets learn instead of dying. Reported: samples/s of each, the
per-process median ratio glassnet/torch, the median and spread over processes, and minor page
faults per step (resource.getrusage).

    python benchmarks/bench_cnn.py                 # 5 processes, prints a table
    python benchmarks/bench_cnn.py --profile       # where glassnet's step spends CPU time
    python benchmarks/bench_cnn.py --threads 1 --keep-freed-memory
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

# OPENBLAS_THREAD_TIMEOUT is left to `import glassnet` (21, in either import order; see
# docs/guide.md); PyTorch (MKL / OpenMP) ignores it
import numpy as np  # noqa: E402

B = 64


def make_data(n_batches=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n_batches, B, 1, 28, 28), dtype=np.float32)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    y = (X.reshape(n_batches, B, 784) @ teacher).argmax(-1).astype(np.int64)
    return X, y


def build_glassnet(seed=0):
    import glassnet as gn
    from glassnet import nn, optim
    gn.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return model, step


def build_torch(gmodel, threads=2):
    import torch
    torch.set_num_threads(threads)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    model.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in gmodel.state_dict().items()})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss
    return step


def worker(blocks, steps, warmup, threads):
    import torch
    X, y = make_data()
    gmodel, gstep = build_glassnet()
    tstep = build_torch(gmodel, threads)
    TX, Ty = torch.from_numpy(X), torch.from_numpy(y)
    nb = len(X)

    def run(which, n, start):
        t0 = time.perf_counter()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for i in range(start, start + n):
            j = i % nb
            if which == "gn":
                gstep(X[j], y[j])
            else:
                tstep(TX[j], Ty[j])
        dt = time.perf_counter() - t0
        return dt, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0

    run("gn", warmup, 0)
    run("torch", warmup, 0)
    res = {"gn": [], "torch": [], "gn_faults": [], "torch_faults": []}
    for b in range(blocks):
        order = ("gn", "torch") if b % 2 == 0 else ("torch", "gn")
        for which in order:
            time.sleep(0.05)
            dt, faults = run(which, steps, b * steps)
            res[which].append(B * steps / dt)
            res[which + "_faults"].append(faults / steps)
    ratios = [g / t for g, t in zip(res["gn"], res["torch"])]
    out = {"gn_samples_s": float(np.median(res["gn"])),
           "torch_samples_s": float(np.median(res["torch"])),
           "ratio": float(np.median(ratios)),
           "gn_faults_per_step": float(np.median(res["gn_faults"])),
           "torch_faults_per_step": float(np.median(res["torch_faults"]))}
    print(json.dumps(out), flush=True)


GROUPS = [  # (label, substrings of "file:function" charged to it), first match wins
    ("conv forward (im2col + GEMM)", ["conv.py:forward", "conv.py:_im2col", "conv.py:_zero_border"]),
    ("conv backward dW, db (GEMM)", ["conv.py:backward"]),
    ("conv backward dx (GEMM per offset + adds)", ["conv.py:_conv2d_input_grad"]),
    ("max pool forward", ["pooling.py:forward", "pooling.py:_separable", "pooling.py:_running_max"]),
    ("max pool backward", ["pooling.py:backward", "pooling.py:_separable_backward"]),
    ("ReLU forward + backward", ["activations.py"]),
    ("Linear, flatten, loss", ["math.py", "loss", "linear"]),
    ("Adam step", ["optim/"]),
]


def profile(steps, keep_freed_memory=False):
    """CPU time per step (process time, so other processes on the machine do not count),
    grouped by kernel, and the cProfile table."""
    import cProfile
    import pstats
    if keep_freed_memory:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)   # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)     # M_TRIM_THRESHOLD
    X, y = make_data()
    _, gstep = build_glassnet()
    for i in range(10):
        gstep(X[i % len(X)], y[i % len(y)])
    pr = cProfile.Profile(time.process_time)
    f0 = resource.getrusage(resource.RUSAGE_SELF)
    pr.enable()
    for i in range(steps):
        gstep(X[i % len(X)], y[i % len(y)])
    pr.disable()
    f1 = resource.getrusage(resource.RUSAGE_SELF)
    st = pstats.Stats(pr)
    total = sum(v[2] for v in st.stats.values())   # tottime over all functions
    groups = {label: 0.0 for label, _ in GROUPS}
    groups["other (autograd bookkeeping, ...)"] = 0.0
    for (fname, _, func), v in st.stats.items():
        key = f"{fname}:{func}"
        label = next((lab for lab, subs in GROUPS if any(
            (sub.split(":")[0] in key and key.endswith(sub.split(":")[1])) if ":" in sub
            else sub in key for sub in subs)), "other (autograd bookkeeping, ...)")
        groups[label] += v[2]
    print(f"glassnet CPU time per step: {total / steps * 1e3:.1f} ms (user "
          f"{(f1.ru_utime - f0.ru_utime) / steps * 1e3:.1f}, system "
          f"{(f1.ru_stime - f0.ru_stime) / steps * 1e3:.1f}; minor page faults per step "
          f"{(f1.ru_minflt - f0.ru_minflt) / steps:.0f})")
    for label, t in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {label:44s} {t / steps * 1e3:6.1f} ms  {100 * t / total:5.1f}%")
    st.sort_stats("tottime").print_stats(14)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=5)
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2, help="BLAS/torch threads per library")
    ap.add_argument("--keep-freed-memory", action="store_true",
                    help="run the workers with glibc's mmap/trim thresholds raised (freed "
                         "temporaries stay in the heap: no page faults; applies to both "
                         "libraries)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker(args.blocks, args.steps, args.warmup, args.threads)
        return
    if args.profile:
        profile(50, args.keep_freed_memory)
        return
    rows = []
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads))
    if args.keep_freed_memory:
        env.update(MALLOC_MMAP_THRESHOLD_=str(256 << 20), MALLOC_TRIM_THRESHOLD_=str(1 << 30))
    for p in range(args.procs):
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker",
                            "--blocks", str(args.blocks), "--steps", str(args.steps),
                            "--warmup", str(args.warmup), "--threads", str(args.threads)],
                           capture_output=True, text=True, check=True, env=env)
        row = json.loads(r.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"process {p}: glassnet {row['gn_samples_s']:7.0f} samples/s, torch "
              f"{row['torch_samples_s']:7.0f} samples/s, ratio {row['ratio']:.3f}, minor faults/"
              f"step glassnet {row['gn_faults_per_step']:.0f} torch "
              f"{row['torch_faults_per_step']:.0f}", flush=True)
    ratios = np.array([r["ratio"] for r in rows])
    print(f"ratio glassnet/torch: median {np.median(ratios):.3f} (min {ratios.min():.3f}, "
          f"max {ratios.max():.3f}) over {len(rows)} fresh processes, {args.threads} "
          f"thread(s) each" + (", freed memory kept" if args.keep_freed_memory else ""))


if __name__ == "__main__":
    main()
