"""Interleaved glassnet / PyTorch timings of single hot paths, in one process (issue 14).

Each case builds the same computation in both libraries, warms up, then times ``--blocks``
short blocks alternating which library goes first, and reports the medians and the ratio
torch / glassnet (> 1: glassnet is faster), of wall time and of CPU time (process time of
all threads: on a machine shared with other jobs, with ``--threads 1``, the steadier
measure). Cases:

- ``linear3d``: nn.Linear(384, 384) forward + backward on (64, 256, 384)   (a GPT block)
- ``linear_lm``: nn.Linear(200, 10000) forward + backward on (35, 20, 200) (a word-LM head)
- ``mnist``: one SGD training step (batch 64) of pytorch/examples mnist's Net
  (conv 1->32 3x3, conv 32->64 3x3, unpadded, max_pool 2, dropout, fc 9216->128, fc 128->10,
  log_softmax + nll_loss)

    PYTHONPATH=src python benchmarks/bench_hotpaths.py --threads 2
    PYTHONPATH=src python benchmarks/bench_hotpaths.py mnist --profile   # glassnet's profile
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _threads_env(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "GLASSNET_NUM_THREADS"):
        os.environ[var] = str(n)


def case_linear(shape, out, lib):
    """forward + backward of Linear(in, out) on ``shape``; returns a zero-argument step."""
    import numpy as np
    x0 = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    if lib == "torch":
        import torch
        m = torch.nn.Linear(shape[-1], out)
        x = torch.from_numpy(x0).requires_grad_()
    else:
        import glassnet as gn
        m = gn.nn.Linear(shape[-1], out)
        x = gn.tensor(x0, requires_grad=True)

    def step():
        y = m(x)
        y.sum().backward()
    return step


def _mnist_net(lib):
    """pytorch/examples mnist's Net, written against ``lib`` (torch or glassnet)."""
    if lib == "torch":
        import torch as T
        import torch.nn.functional as F
    else:
        import glassnet as T
        F = T.nn.functional
    nn = T.nn
    try:                                    # torch's spelling; older glassnet: axis=
        F.log_softmax(T.zeros(1, 2), dim=1)
        log_softmax = F.log_softmax
    except TypeError:
        def log_softmax(z, dim):
            return F.log_softmax(z, axis=dim)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = x.reshape(x.shape[0], -1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return log_softmax(self.fc2(x), dim=1)
    return T, F, Net()


def case_mnist(lib):
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = (X.reshape(64, -1) @ rng.standard_normal((784, 10)).astype(np.float32)).argmax(1)
    T, F, net = _mnist_net(lib)
    opt = T.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    if lib == "torch":
        x, t = T.from_numpy(X), T.from_numpy(y.astype(np.int64))
    else:
        x, t = T.tensor(X), T.tensor(y.astype(np.int64))
    net.train()

    def step():
        opt.zero_grad()
        loss = F.nll_loss(net(x), t)
        loss.backward()
        opt.step()
    return step


CASES = {
    "linear3d": lambda lib: case_linear((64, 256, 384), 384, lib),
    "linear_lm": lambda lib: case_linear((35, 20, 200), 10000, lib),
    "mnist": case_mnist,
}


def time_case(name, blocks, reps):
    steps = {lib: CASES[name](lib) for lib in ("torch", "glassnet")}
    for s in steps.values():
        s(); s()
    times = {"torch": [], "glassnet": []}
    cpu = {"torch": [], "glassnet": []}
    for b in range(blocks):
        order = ("torch", "glassnet") if b % 2 == 0 else ("glassnet", "torch")
        for lib in order:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(reps):
                steps[lib]()
            times[lib].append((time.perf_counter() - t0) / reps)
            cpu[lib].append((time.process_time() - c0) / reps)
            time.sleep(0.01)
    med = {k: statistics.median(v) for k, v in times.items()}
    med.update({"cpu_" + k: statistics.median(v) for k, v in cpu.items()})
    ratios = [t / g for t, g in zip(times["torch"], times["glassnet"])]
    med["cpu_ratio"] = statistics.median(t / g for t, g in zip(cpu["torch"], cpu["glassnet"]))
    return med, statistics.median(ratios), (min(ratios), max(ratios))


def profile(name):
    import cProfile
    import pstats
    step = CASES[name]("glassnet")
    step(); step()
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(10):
        step()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(25)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", default=list(CASES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=11)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    _threads_env(args.threads)
    import torch
    import glassnet
    torch.set_num_threads(args.threads)
    if hasattr(glassnet, "set_num_threads"):
        glassnet.set_num_threads(args.threads)
    if args.profile:
        for c in args.cases:
            profile(c)
        return 0
    print(f"load: {os.getloadavg()}")
    print("| case | torch ms | glassnet ms | ratio torch/glassnet (median, range) "
          "| CPU ms torch | CPU ms glassnet | CPU-time ratio |")
    print("|---|---|---|---|---|---|---|")
    for c in args.cases:
        med, r, (lo, hi) = time_case(c, args.blocks, args.reps)
        print(f"| {c} | {med['torch'] * 1e3:.2f} | {med['glassnet'] * 1e3:.2f} | "
              f"{r:.2f} ({lo:.2f}-{hi:.2f}) | {med['cpu_torch'] * 1e3:.2f} | "
              f"{med['cpu_glassnet'] * 1e3:.2f} | {med['cpu_ratio']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
