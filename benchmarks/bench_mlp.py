"""MLP 784-256-128-10 (ReLU, Adam, batch 128, float32): glassnet vs PyTorch CPU vs scikit-learn.

Reports training samples/s of each as a ratio to PyTorch (and of the same step written by hand
in NumPy, the floor a NumPy framework adds its overhead to), glassnet's training GFLOP/s as a
fraction of NumPy's own GEMM peak, and single-sample inference latency.

Method (see shared/PERF_NOTES.md): the data has learnable labels (a fixed random linear teacher);
every library gets the same threads (2); timings are many short blocks alternating between the
libraries inside one process, after a warm-up; the whole measurement is repeated in several fresh
processes and the median ratio is reported with its spread. Page faults are reported beside the
times.

    python benchmarks/bench_mlp.py            # 3 fresh processes, prints a table
    python benchmarks/bench_mlp.py --json out.json
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

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

# OPENBLAS_THREAD_TIMEOUT is left to `import glassnet` (21, in either import order; see
# docs/guide.md); PyTorch (MKL / OpenMP) ignores it
import numpy as np  # noqa: E402

SIZES = (784, 256, 128, 10)
BATCH = 128
FLOP_PER_SAMPLE = 6 * sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))  # fwd 2 + bwd 4


def make_data(n=8192, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1])).astype(np.float32)
    y = np.argmax((X - 0.5) @ teacher, axis=1).astype(np.int64)
    return X, y


# ------------------------------------------------------------------ runners
class GlassnetRunner:
    name = "glassnet"

    def __init__(self, X, y):
        import glassnet as gn
        from glassnet import nn, optim
        gn.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                   nn.Linear(128, 10))
        self.opt = optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = nn.CrossEntropyLoss()
        self.X, self.y = X, y
        self.i = 0

    def steps(self, k):
        X, y, n = self.X, self.y, len(self.X)
        for _ in range(k):
            j = self.i
            self.i = (j + BATCH) % (n - BATCH)
            loss = self.loss(self.model(X[j:j + BATCH]), y[j:j + BATCH])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return float(loss.item())

    def predictor(self, x1):
        """A call that runs one single-sample inference (eval mode, no graph)."""
        import glassnet as gn
        model = self.model.eval()
        no_grad = gn.no_grad()

        def f():
            with no_grad:
                return model(x1)
        return f


class TorchRunner:
    name = "pytorch"

    def __init__(self, X, y):
        import torch
        torch.set_num_threads(int(THREADS))
        torch.manual_seed(0)
        self.torch = torch
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                   nn.Linear(128, 10))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = nn.CrossEntropyLoss()
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.i = 0

    def steps(self, k):
        X, y, n = self.X, self.y, len(self.X)
        for _ in range(k):
            j = self.i
            self.i = (j + BATCH) % (n - BATCH)
            loss = self.loss(self.model(X[j:j + BATCH]), y[j:j + BATCH])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return float(loss.item())

    def predictor(self, x1):
        torch = self.torch
        xt = torch.from_numpy(x1)
        model = self.model.eval()
        no_grad = torch.no_grad()

        def f():
            with no_grad:
                return model(xt)
        return f


class SklearnRunner:
    name = "scikit-learn"

    def __init__(self, X, y):
        from sklearn.neural_network import MLPClassifier
        self.clf = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], activation="relu", solver="adam",
                                 batch_size=BATCH, learning_rate_init=1e-3, random_state=0)
        self.X, self.y = X, y
        self.classes = np.arange(SIZES[-1])
        self.i = 0

    def steps(self, k):
        # partial_fit runs one pass of mini-batches of BATCH over the block it is given
        n = len(self.X)
        j = self.i
        self.i = (j + k * BATCH) % (n - k * BATCH)
        self.clf.partial_fit(self.X[j:j + k * BATCH], self.y[j:j + k * BATCH], classes=self.classes)
        return float(self.clf.loss_)


class NumpyRunner:
    """The same training step written by hand in NumPy, as a student would: the floor any
    framework adds its overhead to (forward, softmax cross-entropy, backward, Adam with a
    few temporaries per parameter; PyTorch's initialisation ranges)."""
    name = "hand-written NumPy"

    def __init__(self, X, y):
        rng = np.random.default_rng(0)
        self.W, self.b = [], []
        for i, o in zip(SIZES[:-1], SIZES[1:]):
            bound = 1 / np.sqrt(i)
            self.W.append(rng.uniform(-bound, bound, (o, i)).astype(np.float32))
            self.b.append(rng.uniform(-bound, bound, o).astype(np.float32))
        self.params = self.W + self.b
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.X, self.y = X, y
        self.i = 0

    def loss_and_grads(self, x, t):
        """Softmax cross-entropy of a batch and its gradients [dW...], [db...] by hand."""
        W, b = self.W, self.b
        rows = np.arange(len(x))
        hs = [x]
        h = x
        for li in range(len(W)):
            h = h @ W[li].T
            h += b[li]
            if li < len(W) - 1:
                np.maximum(h, 0, out=h)
            hs.append(h)
        e = np.exp(h - h.max(1, keepdims=True))
        e /= e.sum(1, keepdims=True)
        loss = -np.log(e[rows, t]).mean()
        g = e
        g[rows, t] -= 1
        g /= len(x)
        gW, gb = [None] * len(W), [None] * len(W)
        for li in reversed(range(len(W))):
            gW[li] = g.T @ hs[li]
            gb[li] = g.sum(0)
            if li > 0:
                g = g @ W[li]
                g *= hs[li] > 0
        return loss, gW, gb

    def steps(self, k):
        X, y, n = self.X, self.y, len(self.X)
        for _ in range(k):
            j = self.i
            self.i = (j + BATCH) % (n - BATCH)
            loss, gW, gb = self.loss_and_grads(X[j:j + BATCH], y[j:j + BATCH])
            self.t += 1
            b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
            c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
            for p, gr, m, v in zip(self.params, gW + gb, self.m, self.v):
                m *= b1
                m += (1 - b1) * gr
                v *= b2
                v += (1 - b2) * gr * gr
                p -= lr / c1 * m / (np.sqrt(v / c2) + eps)
        return float(loss)


def numpy_gemm_peak(reps=20):
    """NumPy's float32 GEMM throughput on the training GEMM shapes and on a large square one."""
    rng = np.random.default_rng(0)
    a = rng.random((1024, 1024), dtype=np.float32)
    b = rng.random((1024, 1024), dtype=np.float32)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * 1024 ** 3 * reps / (time.perf_counter() - t) / 1e9


def numpy_predictor(x1):
    """The same network as bare NumPy calls (the floor any framework adds overhead to)."""
    rng = np.random.default_rng(0)
    Ws = [rng.random((o, i), dtype=np.float32) for i, o in zip(SIZES[:-1], SIZES[1:])]
    bs = [rng.random(o, dtype=np.float32) for o in SIZES[1:]]

    def f():
        h = x1
        for k, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W.T
            h += b
            if k < len(Ws) - 1:
                np.maximum(h, 0, out=h)
        return h
    return f


def latencies(predictors, rounds=15, reps=300):
    """Median seconds per call of each predictor: short blocks alternating between them
    (the order reversed every round) after a warm-up, as the training timings are taken."""
    for f in predictors.values():
        for _ in range(200):
            f()
    times = {k: [] for k in predictors}
    items = list(predictors.items())
    for r in range(rounds):
        for name, f in (items if r % 2 == 0 else items[::-1]):
            t = time.perf_counter()
            for _ in range(reps):
                f()
            times[name].append((time.perf_counter() - t) / reps)
    return {k: statistics.median(v) for k, v in times.items()}


def one_process(blocks=12, steps_per_block=10):
    """One fresh process's measurement: alternating short blocks of each library."""
    X, y = make_data()
    runners = [GlassnetRunner(X, y), TorchRunner(X, y)]
    try:
        runners.append(SklearnRunner(X, y))
    except ImportError:
        pass
    runners.append(NumpyRunner(X, y))
    for r in runners:  # warm-up
        r.steps(5)
    times = {r.name: [] for r in runners}
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    faults = {r.name: 0 for r in runners}
    for b in range(blocks):
        order = runners if b % 2 == 0 else runners[::-1]
        for r in order:
            time.sleep(0.02)  # let BLAS threads of the previous library stop spinning
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t = time.perf_counter()
            r.steps(steps_per_block)
            times[r.name].append(time.perf_counter() - t)
            faults[r.name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    del faults0
    sps = {k: steps_per_block * BATCH / statistics.median(v) for k, v in times.items()}
    x1 = X[:1].copy()
    time.sleep(0.05)
    lat = latencies({"glassnet": runners[0].predictor(x1), "pytorch": runners[1].predictor(x1),
                     "numpy": numpy_predictor(x1)})
    peak = numpy_gemm_peak()
    return {"samples_per_s": sps, "latency_s": lat, "gemm_peak_gflops": peak,
            "minor_faults_per_step": {k: v / (blocks * steps_per_block) for k, v in faults.items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--json", help="write all measurements to this file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_process()))
        return
    runs = []
    for _ in range(args.processes):
        out = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True,
                             check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))

    def med(key, sub):
        vals = [r[key][sub] for r in runs]
        return statistics.median(vals), min(vals), max(vals)

    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, Adam, batch {BATCH}, float32, {THREADS} threads, "
          f"{args.processes} fresh processes (median [min, max])")
    torch_sps = [r["samples_per_s"]["pytorch"] for r in runs]
    for name in runs[0]["samples_per_s"]:
        sps = [r["samples_per_s"][name] for r in runs]
        ratios = [s / t for s, t in zip(sps, torch_sps)]
        print(f"  {name:18s} {statistics.median(sps):9.0f} samples/s   ratio to PyTorch "
              f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}, {max(ratios):.2f}]   "
              f"minor faults/step {statistics.median(r['minor_faults_per_step'][name] for r in runs):.1f}")
    r_np = [r["samples_per_s"]["glassnet"] / r["samples_per_s"][NumpyRunner.name] for r in runs]
    print(f"  glassnet / hand-written NumPy: {statistics.median(r_np):.2f}x "
          f"[{min(r_np):.2f}, {max(r_np):.2f}]   (the framework's overhead over the bare "
          f"NumPy calls)")
    if "scikit-learn" in runs[0]["samples_per_s"]:
        r_sk = [r["samples_per_s"]["glassnet"] / r["samples_per_s"]["scikit-learn"] for r in runs]
        print(f"  glassnet / scikit-learn: {statistics.median(r_sk):.2f}x "
              f"[{min(r_sk):.2f}, {max(r_sk):.2f}]")
    gfl = [r["samples_per_s"]["glassnet"] * FLOP_PER_SAMPLE / 1e9 for r in runs]
    peak = [r["gemm_peak_gflops"] for r in runs]
    frac = [g / p for g, p in zip(gfl, peak)]
    print(f"  glassnet training {statistics.median(gfl):.1f} GFLOP/s = {statistics.median(frac):.0%} "
          f"of NumPy's 1024^3 SGEMM peak ({statistics.median(peak):.1f} GFLOP/s)")
    lat = {k: med("latency_s", k) for k in runs[0]["latency_s"]}
    print("  single-sample inference latency: " + ", ".join(
        f"{k} {v[0] * 1e6:.1f} us" for k, v in lat.items()))
    lr = [r["latency_s"]["glassnet"] / r["latency_s"]["pytorch"] for r in runs]
    print(f"  glassnet latency / PyTorch latency: {statistics.median(lr):.2f} "
          f"[{min(lr):.2f}, {max(lr):.2f}]")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
