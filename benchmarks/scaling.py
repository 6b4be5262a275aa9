"""Scaling sweep: glassnet's training step against PyTorch CPU across model sizes (issue 21).

Families (every point: one full training step, forward + backward + Adam, float32, learnable
targets from a fixed random teacher, the same initial weights in both libraries):

* ``mlp``: 784-w-w-10 (ReLU) with w = 128 / 512 / 2048 at batch 128, and 784-256-256-10 at
  batch 8 / 32 / 512;
* ``cnn``: conv(1->c, 3x3) ReLU conv(c->2c) ReLU MaxPool2 Flatten Linear(->10) at batch 64 for
  c = 16 pad 1, 32 pad 1, 32 pad 0, 64 pad 0; kernel size 5 (pad 2); a 56x56 image; 3 and 4
  blocks of conv-ReLU-pool; a small ResNet (BasicBlock with BatchNorm2d, 3 stages of 16 / 32 /
  64 channels, one block each) on 3x32x32 inputs;
* ``lstm`` and ``gru``: hidden 128 / 256 / 512 and sequence length 32 / 128, batch 32, input
  64, a many-to-one Linear head on the last output;
* ``decoder``: Linear(200 -> V) on a (35, 20, 200) input, cross-entropy, V = 1,000 / 10,000 /
  33,278; ``embedding``: Embedding(V, 200) + Linear(200 -> V) on (35, 20) ids, cross-entropy;
* ``transformer``: one TransformerEncoderLayer (d / 64 heads, feed-forward 4d, no dropout,
  batch_first) + Linear(d -> 1) head, MSE, batch 8, d = 128 / 256 / 512, sequence 64 / 128 / 256.

Method (as bench_lstm.py / bench_transformer.py, shared/PERF_NOTES.md): per point, each
library runs in a fresh process of its own with the same threads (OMP / OPENBLAS / MKL
variables set before import, torch.set_num_threads); the initial weights are made once by
PyTorch and loaded into both through state_dict; after a warm-up, several short timing blocks
(the steps per block sized from the warm-up so a block lasts about ``--block-s``) with a pause
between them; the order of the two processes alternates from point to point (and from pair to
pair with ``--pairs``). Reported: the median ms/step of each, ratio = torch time / glassnet
time (> 1: glassnet faster; the median over pairs), and the peak memory of each: the resident memory
after the imports, the data and the model build (the baseline) and its peak (VmHWM, the
process's own ru_maxrss) after the timed steps; the
increment over the baseline of each and their ratio glassnet / torch (goal <= 1.2); the peak
is reset after the build and after the warm-up (/proc/self/clear_refs), so transients of the
imports and one-off compilations in the first steps do not count (the warm-up's own peak is
kept as mem_warmup_inc_mb). CPU time per step (user + system) is recorded beside the wall time.

    python benchmarks/scaling.py                       # the whole sweep, 2 threads
    python benchmarks/scaling.py --quick               # a few points
    python benchmarks/scaling.py --only mlp,cnn --threads 1 --out /tmp/scaling
    python benchmarks/scaling.py --list                # the points' names
    python benchmarks/scaling.py --profile cnn-c64-p0  # cProfile of glassnet's step

Writes ``<out>.json`` (every point), ``<out>.md`` (a table per family) and ``<out>.png``
(ratio against the size of the work, one line per family); the default ``--out`` is
docs/results/scaling. The results are rewritten after every point, so a sweep that is
stopped keeps what it measured.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

if __name__ == "__main__":    # thread variables before NumPy is imported (a --profile run)
    _n = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _n)

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("mlp", "cnn", "lstm", "gru", "decoder", "embedding", "transformer")
N_BATCHES = 4          # distinct batches cycled through during the timing
SCHEMA = 1


@dataclass
class Point:
    family: str
    name: str
    label: str          # short, for the table
    params: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------ the sweep
def all_points() -> list[Point]:
    p: list[Point] = []
    for w in (128, 512, 2048):
        p.append(Point("mlp", f"mlp-w{w}-b128", f"784-{w}-{w}-10, batch 128",
                       dict(width=w, batch=128)))
    for b in (8, 32, 512):
        p.append(Point("mlp", f"mlp-w256-b{b}", f"784-256-256-10, batch {b}",
                       dict(width=256, batch=b)))
    for c, pad in ((16, 1), (32, 1), (32, 0), (64, 0)):
        p.append(Point("cnn", f"cnn-c{c}-p{pad}", f"c={c}, 3x3, pad {pad}, 28x28",
                       dict(kind="two", c=c, k=3, pad=pad, image=28, batch=64)))
    p.append(Point("cnn", "cnn-c32-k5", "c=32, 5x5, pad 2, 28x28",
                   dict(kind="two", c=32, k=5, pad=2, image=28, batch=64)))
    p.append(Point("cnn", "cnn-c32-img56", "c=32, 3x3, pad 1, 56x56",
                   dict(kind="two", c=32, k=3, pad=1, image=56, batch=64)))
    for d in (3, 4):
        p.append(Point("cnn", f"cnn-depth{d}", f"{d} conv-ReLU-pool blocks, 16..{16 << (d - 1)} ch",
                       dict(kind="deep", c=16, depth=d, image=28, batch=64)))
    p.append(Point("cnn", "resnet-3x32x32", "ResNet 3 stages 16/32/64, BN, 3x32x32",
                   dict(kind="resnet", widths=[16, 32, 64], image=32, batch=64)))
    for cell in ("lstm", "gru"):
        for h in (128, 256, 512):
            for t in (32, 128):
                p.append(Point(cell, f"{cell}-h{h}-t{t}", f"hidden {h}, seq {t}",
                               dict(cell=cell.upper(), hidden=h, seq=t, batch=32, input=64)))
    for v in (1000, 10000, 33278):
        p.append(Point("decoder", f"decoder-v{v}", f"Linear(200->{v:,}) on (35, 20, 200)",
                       dict(vocab=v, seq=35, batch=20, dim=200)))
    for v in (1000, 10000, 33278):
        p.append(Point("embedding", f"embedding-v{v}", f"Embedding({v:,}, 200) + Linear(200->{v:,})",
                       dict(vocab=v, seq=35, batch=20, dim=200)))
    for d in (128, 256, 512):
        for t in (64, 128, 256):
            p.append(Point("transformer", f"transformer-d{d}-t{t}", f"d {d}, seq {t}",
                           dict(d=d, seq=t, batch=8, heads=max(1, d // 64), ff=4 * d)))
    return p


QUICK = ("mlp-w512-b128", "cnn-c32-p1", "lstm-h256-t32", "gru-h128-t32", "decoder-v10000",
         "embedding-v1000", "transformer-d128-t64")


def tiny_point(family: str) -> Point:
    """A point of ``family`` small enough for a test (well under a second a step)."""
    tiny = {
        "mlp": dict(width=16, batch=8),
        "cnn": dict(kind="two", c=4, k=3, pad=1, image=12, batch=4),
        "lstm": dict(cell="LSTM", hidden=8, seq=5, batch=4, input=64),
        "gru": dict(cell="GRU", hidden=8, seq=5, batch=4, input=64),
        "decoder": dict(vocab=50, seq=5, batch=3, dim=200),
        "embedding": dict(vocab=50, seq=5, batch=3, dim=200),
        "transformer": dict(d=16, seq=6, batch=2, heads=2, ff=32),
    }[family]
    return Point(family, f"{family}-tiny", f"{family} (tiny)", tiny)


def resnet_tiny() -> Point:
    return Point("cnn", "resnet-tiny", "ResNet (tiny)",
                 dict(kind="resnet", widths=[4, 8, 8], image=8, batch=4))


# ------------------------------------------------------------------------ data
def make_data(pt: Point, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """N_BATCHES (input, target) pairs with targets from a fixed random teacher (learnable)."""
    r = np.random.default_rng(seed)
    c = pt.params
    out = []
    if pt.family == "mlp":
        teacher = r.standard_normal((784, 10)).astype(np.float32)
        for _ in range(N_BATCHES):
            x = r.random((c["batch"], 784), dtype=np.float32)
            out.append((x, np.argmax((x - 0.5) @ teacher, 1).astype(np.int64)))
    elif pt.family == "cnn":
        ch = 3 if c["kind"] == "resnet" else 1
        n_in = ch * c["image"] ** 2
        teacher = r.standard_normal((n_in, 10)).astype(np.float32)
        for _ in range(N_BATCHES):
            x = r.random((c["batch"], ch, c["image"], c["image"]), dtype=np.float32)
            y = np.argmax((x.reshape(len(x), -1) - 0.5) @ teacher, 1).astype(np.int64)
            out.append((x, y))
    elif pt.family in ("lstm", "gru"):
        teacher = r.standard_normal((c["input"], 10)).astype(np.float32)
        for _ in range(N_BATCHES):
            x = r.standard_normal((c["batch"], c["seq"], c["input"])).astype(np.float32)
            w = np.linspace(0.2, 1.0, c["seq"], dtype=np.float32)   # later steps weigh more
            y = np.argmax(np.einsum("btf,t->bf", x, w) @ teacher, 1).astype(np.int64)
            out.append((x, y))
    elif pt.family == "decoder":
        teacher = r.standard_normal((c["dim"], c["vocab"])).astype(np.float32)
        for _ in range(N_BATCHES):
            x = r.standard_normal((c["seq"], c["batch"], c["dim"])).astype(np.float32)
            y = np.argmax(x.reshape(-1, c["dim"]) @ teacher, 1).astype(np.int64)
            out.append((x, y))
    elif pt.family == "embedding":
        perm = r.permutation(c["vocab"])          # target token = a fixed map of the input one
        for _ in range(N_BATCHES):
            ids = r.integers(0, c["vocab"], (c["seq"], c["batch"]), dtype=np.int64)
            out.append((ids, perm[ids].reshape(-1).astype(np.int64)))
    elif pt.family == "transformer":
        teacher = (r.standard_normal((c["d"], 1)) / np.sqrt(c["d"])).astype(np.float32)
        for _ in range(N_BATCHES):
            x = r.standard_normal((c["batch"], c["seq"], c["d"])).astype(np.float32)
            out.append((x, x @ teacher))
    else:
        raise ValueError(f"family: unknown family {pt.family!r}")
    return out


# ------------------------------------------------------------------------ models
def library(name: str, threads: int | None = None) -> SimpleNamespace:
    """The pieces of one library the builders use, under PyTorch's names in both."""
    if name == "glassnet":
        import glassnet as gn
        from glassnet import nn, optim
        return SimpleNamespace(name=name, nn=nn, F=nn.functional, optim=optim,
                               tensor=gn.tensor, seed=gn.manual_seed)
    if name == "torch":
        import torch
        if threads is not None:
            torch.set_num_threads(threads)
        return SimpleNamespace(name=name, nn=torch.nn, F=torch.nn.functional, optim=torch.optim,
                               tensor=torch.from_numpy, seed=torch.manual_seed)
    raise ValueError(f"lib: expected 'glassnet' or 'torch', got {name!r}")


def preload_glassnet() -> bool:
    """Import the Numba kernels glassnet would import lazily at its first step, so that their
    libraries count in the baseline, as PyTorch's own libraries (all loaded by ``import
    torch``) do; True when they are on. Their compiled code, loaded at the first call, still
    counts in the steps' memory."""
    from glassnet.backend import kernels
    if not kernels.enabled():
        return False
    import importlib
    for mod in ("_numba_kernels", "_numba_rows"):
        importlib.import_module(f"glassnet.backend.kernels.{mod}")
    return True


def warm_code(L: SimpleNamespace, family: str) -> None:
    """Two training steps of ``family``'s tiny point, thrown away, before the baseline: code
    that either library loads at its first call (glassnet's compiled Numba kernels, about
    50 MB of machine code whatever the model's size; PyTorch's lazily made kernels) then
    counts in the baseline, as the libraries loaded by ``import`` do, not in the steps'
    memory. The measured model is built, seeded and loaded afterwards."""
    tiny = tiny_point(family)
    L.seed(1)
    model = build_model(L, tiny)
    model.train()
    opt = L.optim.Adam(model.parameters(), lr=1e-3)
    lf = loss_fn(L, tiny)
    for x, y in make_data(tiny)[:2]:
        opt.zero_grad()
        lf(model(L.tensor(x)), L.tensor(y)).backward()
        opt.step()
    del model, opt
    gc.collect()


def _conv_out(n: int, k: int, pad: int) -> int:
    return n + 2 * pad - k + 1


def build_model(L: SimpleNamespace, pt: Point) -> Any:
    nn, F, c = L.nn, L.F, pt.params
    if pt.family == "mlp":
        w = c["width"]
        return nn.Sequential(nn.Linear(784, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                             nn.Linear(w, 10))
    if pt.family == "cnn" and c["kind"] == "two":
        ch, k, pad = c["c"], c["k"], c["pad"]
        side = _conv_out(_conv_out(c["image"], k, pad), k, pad) // 2
        return nn.Sequential(nn.Conv2d(1, ch, k, padding=pad), nn.ReLU(),
                             nn.Conv2d(ch, 2 * ch, k, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(2 * ch * side * side, 10))
    if pt.family == "cnn" and c["kind"] == "deep":
        layers: list[Any] = []
        cin, side = 1, c["image"]
        for i in range(c["depth"]):
            cout = c["c"] << i
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            cin, side = cout, side // 2
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * side * side, 10))
    if pt.family == "cnn" and c["kind"] == "resnet":
        class BasicBlock(nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self, cin: int, cout: int, stride: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(cout)
                self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                               nn.BatchNorm2d(cout))
                                 if stride != 1 or cin != cout else nn.Identity())

            def forward(self, x: Any) -> Any:
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                return F.relu(out + self.shortcut(x))

        w = c["widths"]
        blocks = [BasicBlock(w[0], w[0], 1)] + [BasicBlock(w[i - 1], w[i], 2)
                                                 for i in range(1, len(w))]
        return nn.Sequential(nn.Conv2d(3, w[0], 3, padding=1, bias=False), nn.BatchNorm2d(w[0]),
                             nn.ReLU(), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(w[-1], 10))
    if pt.family in ("lstm", "gru"):
        class RNNNet(nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self) -> None:
                super().__init__()
                self.rnn = getattr(nn, c["cell"])(c["input"], c["hidden"], batch_first=True)
                self.head = nn.Linear(c["hidden"], 10)

            def forward(self, x: Any) -> Any:
                out, _ = self.rnn(x)
                return self.head(out[:, -1])
        return RNNNet()
    if pt.family == "decoder":
        class Decoder(nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(c["dim"], c["vocab"])

            def forward(self, x: Any) -> Any:
                return self.fc(x).reshape(-1, c["vocab"])
        return Decoder()
    if pt.family == "embedding":
        class EmbDecoder(nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self) -> None:
                super().__init__()
                self.emb = nn.Embedding(c["vocab"], c["dim"])
                self.fc = nn.Linear(c["dim"], c["vocab"])

            def forward(self, x: Any) -> Any:
                return self.fc(self.emb(x)).reshape(-1, c["vocab"])
        return EmbDecoder()
    if pt.family == "transformer":
        class Encoder(nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self) -> None:
                super().__init__()
                self.layer = nn.TransformerEncoderLayer(c["d"], c["heads"], c["ff"], dropout=0.0,
                                                        batch_first=True)
                self.head = nn.Linear(c["d"], 1)

            def forward(self, x: Any) -> Any:
                return self.head(self.layer(x))
        return Encoder()
    raise ValueError(f"point: no model for {pt.name!r}")


def loss_fn(L: SimpleNamespace, pt: Point) -> Any:
    return L.F.mse_loss if pt.family == "transformer" else L.F.cross_entropy


def init_weights(pt: Point, path: str | os.PathLike[str]) -> int:
    """PyTorch's initial weights of ``pt`` (seed 0) saved to an .npz; returns the parameter
    count. Both workers load them, so both libraries start from the same model."""
    import torch
    torch.manual_seed(0)
    model = build_model(library("torch"), pt)
    sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    np.savez(path, **sd)
    return int(sum(p.numel() for p in model.parameters()))


def build(lib: str, pt: Point, weights: str | os.PathLike[str] | None,
          threads: int | None = None) -> tuple[Any, list[tuple[Any, Any]], Any]:
    """(step function, batches as the library's tensors, model) of ``pt`` in ``lib``."""
    L = library(lib, threads)
    if lib == "glassnet":
        preload_glassnet()
    warm_code(L, pt.family)
    L.seed(0)
    model = build_model(L, pt)
    if weights is not None:
        with np.load(weights) as z:
            sd = {k: z[k] for k in z.files}
        if lib == "torch":
            import torch
            model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
        else:
            model.load_state_dict(sd)
    model.train()
    opt = L.optim.Adam(model.parameters(), lr=1e-3)
    lf = loss_fn(L, pt)
    batches = [(L.tensor(x), L.tensor(y)) for x, y in make_data(pt)]

    def step(xb: Any, yb: Any) -> Any:
        opt.zero_grad()
        loss = lf(model(xb), yb)
        loss.backward()
        opt.step()
        return loss
    return step, batches, model


# ------------------------------------------------------------------------ one library, one process
def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for ln in f:
                if ln.startswith(field + ":"):
                    return int(ln.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _maxrss_mb() -> float:
    """The peak resident memory of this process (MB): VmHWM from /proc, not ru_maxrss, which
    in a child process starts at the parent's RSS at fork time (Linux keeps it across exec:
    a 70 MB glassnet worker of a parent that imported torch read 218 MB)."""
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    """The resident set size now (MB), from /proc; the high-water mark where /proc is absent."""
    rss = _status_mb("VmRSS")
    return rss if rss is not None else _maxrss_mb()


def _reset_peak() -> bool:
    """Reset the process's peak RSS (ru_maxrss) to its RSS now (Linux >= 4.0), so the peak
    measured after the steps is the steps' own, not a transient of the imports or the
    build (Numba's compiler, a teacher matrix of the data). False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_worker(lib: str, pt: Point, weights: str | os.PathLike[str] | None, *, blocks: int = 5,
               block_s: float = 0.4, warmup_s: float = 0.5, min_warmup: int = 2,
               pause: float = 0.05, threads: int | None = None) -> dict[str, Any]:
    """Time ``pt``'s training step in ``lib`` in this process (meant to be a fresh one)."""
    step, batches, _ = build(lib, pt, weights, threads)
    gc.collect()
    build_peak = _maxrss_mb()
    reset = _reset_peak()
    base = _rss_mb() if reset else build_peak
    nb = len(batches)
    t0 = time.perf_counter()
    loss_first = float(step(*batches[0]).item())
    first_s = time.perf_counter() - t0
    warm: list[float] = []
    i = 1
    while len(warm) < min_warmup or (sum(warm) < warmup_s and len(warm) < 20):
        t = time.perf_counter()
        step(*batches[i % nb])
        warm.append(time.perf_counter() - t)
        i += 1
    est = statistics.median(warm[-3:]) if warm else first_s
    warm_peak = _maxrss_mb()      # the first steps' peak: Adam's state, one-off compilations
    if reset:
        _reset_peak()             # the timed steps' own peak from here
    n = int(max(1, min(50, round(block_s / max(est, 1e-6)))))
    times = []
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    loss = None
    cpu = 0.0
    for _ in range(blocks):
        time.sleep(pause)          # BLAS threads of the last block stop spinning
        c = _cpu_s()
        t = time.perf_counter()
        for _ in range(n):
            loss = step(*batches[i % nb])
            i += 1
        times.append((time.perf_counter() - t) / n)
        cpu += _cpu_s() - c
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / max(1, blocks * n)
    peak = _maxrss_mb()
    return {"lib": lib, "point": pt.name, "ms_per_step": statistics.median(times) * 1e3,
            "block_ms": [t * 1e3 for t in times], "steps_per_block": n, "blocks": blocks,
            "warmup_steps": len(warm) + 1, "first_step_ms": first_s * 1e3,
            "cpu_ms_per_step": cpu / (blocks * n) * 1e3,
            "mem_base_mb": base, "mem_peak_mb": peak, "mem_inc_mb": max(0.0, peak - base),
            "mem_warmup_inc_mb": max(0.0, warm_peak - base),
            "mem_build_peak_mb": build_peak, "mem_peak_reset": reset,
            "minor_faults_per_step": faults, "loss_first": loss_first,
            "loss_last": float(loss.item()) if loss is not None else loss_first}


# ------------------------------------------------------------------------ driver
def _spawn(lib: str, pt: Point, weights: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    if args.passive_wait:      # idle OpenMP threads sleep instead of spinning (busy machines)
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if args.no_jit:
        env["GLASSNET_JIT"] = "0"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", lib, "--point", pt.name,
           "--weights", weights, "--threads", str(args.threads), "--blocks", str(args.blocks),
           "--block-s", str(args.block_s)]
    waited = wait_idle(getattr(args, "wait_idle", 0.0))
    others: list[int] = []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        t0 = time.monotonic()
        while proc.poll() is None:
            if time.monotonic() - t0 > args.timeout:
                proc.kill()
                proc.wait()
                raise subprocess.TimeoutExpired(cmd, args.timeout)
            o = others_running(proc.pid)
            if o is not None:
                others.append(o)
            time.sleep(0.25)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} worker for {pt.name} failed:\n{stderr[-3000:]}")
    res: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    # runnable threads of other processes, sampled every 0.25 s while the worker ran
    res["others_running"] = statistics.fmean(others) if others else None
    res["waited_idle_s"] = waited
    return res


def _running_threads(pid: int) -> int:
    n = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/stat", "rb") as f:
                text = f.read()
        except OSError:
            continue
        if text[text.rfind(b")") + 2:][:1] == b"R":
            n += 1
    return n


def others_running(child: int | None = None) -> int | None:
    """Runnable threads now of processes other than this one and ``child`` (None where
    /proc/loadavg is missing)."""
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    own = _running_threads(os.getpid()) + (_running_threads(child) if child else 0)
    return max(0, running - own)


def wait_idle(limit_s: float) -> float:
    """Wait up to ``limit_s`` seconds until no other process is runnable (the least of a few
    samples 50 ms apart is 0); returns the seconds waited."""
    t0 = time.monotonic()
    while limit_s > 0 and time.monotonic() - t0 < limit_s:
        samples = []
        for _ in range(4):
            samples.append(others_running())
            time.sleep(0.05)
        if any(x is None for x in samples) or min(x for x in samples if x is not None) == 0:
            break
        time.sleep(1.0)
    return time.monotonic() - t0


def summarise(pt: Point, runs: list[dict[str, dict[str, Any]]], n_params: int,
              load: list[float], order: list[list[str]] | None = None) -> dict[str, Any]:
    """One point's record from the pairs of worker results."""
    ms = {lib: statistics.median([b for r in runs for b in r[lib]["block_ms"]])
          for lib in ("glassnet", "torch")}
    ratios = [r["torch"]["ms_per_step"] / r["glassnet"]["ms_per_step"] for r in runs]
    mem = {lib: statistics.median([r[lib]["mem_inc_mb"] for r in runs])
           for lib in ("glassnet", "torch")}
    return {
        "family": pt.family, "name": pt.name, "label": pt.label, "params": pt.params,
        "n_parameters": n_params,
        "ms_per_step": ms,
        "ratio": statistics.median(ratios), "ratios": ratios,
        "cpu_ms_per_step": {lib: statistics.median([r[lib]["cpu_ms_per_step"] for r in runs])
                            for lib in ("glassnet", "torch")},
        "cpu_ratio": (statistics.median([r["torch"]["cpu_ms_per_step"] for r in runs])
                      / max(1e-9, statistics.median([r["glassnet"]["cpu_ms_per_step"]
                                                     for r in runs]))),
        "mem_inc_mb": mem,
        "mem_warmup_inc_mb": {lib: statistics.median([r[lib]["mem_warmup_inc_mb"] for r in runs])
                              for lib in ("glassnet", "torch")},
        "mem_base_mb": {lib: statistics.median([r[lib]["mem_base_mb"] for r in runs])
                        for lib in ("glassnet", "torch")},
        # increments under 1 MB are noise of the high-water mark: floored at 1 MB
        "mem_ratio": max(mem["glassnet"], 1.0) / max(mem["torch"], 1.0),
        "loss_first": {lib: runs[0][lib]["loss_first"] for lib in ("glassnet", "torch")},
        "loss_last": {lib: runs[-1][lib]["loss_last"] for lib in ("glassnet", "torch")},
        "minor_faults_per_step": {lib: statistics.median(
            [r[lib]["minor_faults_per_step"] for r in runs]) for lib in ("glassnet", "torch")},
        "steps_per_block": {lib: runs[0][lib]["steps_per_block"] for lib in ("glassnet", "torch")},
        "load_avg": {"start": load[0], "end": load[-1], "mean": statistics.fmean(load)},
        # mean runnable threads of other processes while each worker ran (0: undisturbed)
        "others_running": {lib: [r[lib].get("others_running") for r in runs]
                           for lib in ("glassnet", "torch")},
        "order": order or [],
    }


def measure_point(pt: Point, args: argparse.Namespace, index: int,
                  tmp: str) -> dict[str, Any]:
    weights = os.path.join(tmp, f"{pt.name}.npz")
    n_params = init_weights(pt, weights)
    load = [os.getloadavg()[0]]
    runs, order = [], []
    for p in range(args.pairs):
        libs = ["glassnet", "torch"] if (index + p) % 2 == 0 else ["torch", "glassnet"]
        res = {lib: _spawn(lib, pt, weights, args) for lib in libs}
        load.append(os.getloadavg()[0])
        runs.append(res)
        order.append(libs)
    os.remove(weights)
    return summarise(pt, runs, n_params, load, order)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    info: dict[str, Any] = {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
                            "numpy": np.__version__}
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        pass
    try:
        import glassnet
        info["glassnet"] = glassnet.__version__
    except (ImportError, AttributeError):
        pass
    return info


def write_outputs(records: list[dict[str, Any]], prefix: str | os.PathLike[str],
                  meta: dict[str, Any], plot: bool = True) -> None:
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    doc = {"schema": SCHEMA, **meta, "points": records}
    Path(f"{prefix}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    Path(f"{prefix}.md").write_text(render_md(records, meta, prefix.name + ".png" if plot
                                                   else None), encoding="utf-8")
    if plot and records:
        plot_ratios(records, Path(f"{prefix}.png"))


NOTES = {
    "mlp": "Width at batch 128, then batch at width 256: the GEMMs grow with the width, the "
           "per-step overhead matters at small batches.",
    "cnn": "Batch 64, 1x28x28 inputs unless marked; the two-conv net is the issue's; the "
           "deeper ones pool after every conv; the ResNet has one BasicBlock per stage.",
    "lstm": "Batch 32, input 64, a Linear head on the last output (many-to-one).",
    "gru": "As the LSTM rows, with nn.GRU.",
    "decoder": "Linear(200 -> V) on (35, 20, 200) activations, cross-entropy over V classes: "
               "the softmax and the (700 x V) GEMMs dominate; Adam updates 200*V weights.",
    "embedding": "Embedding(V, 200) + Linear(200 -> V) on (35, 20) token ids, cross-entropy: "
                 "adds the embedding's sparse gradient and a second V x 200 table to Adam.",
    "transformer": "One TransformerEncoderLayer (d/64 heads, feed-forward 4d, no dropout, "
                   "batch_first) + Linear(d -> 1), MSE, batch 8.",
}


def _others(r: dict[str, Any], lib: str) -> str:
    vals = [v for v in r.get("others_running", {}).get(lib, []) if v is not None]
    return f"{max(vals):.1f}" if vals else "?"


def render_md(records: list[dict[str, Any]], meta: dict[str, Any], png: str | None) -> str:
    loads = [r["load_avg"]["mean"] for r in records] or [0.0]
    m = meta.get("machine", {})
    out = ["# Scaling sweep: glassnet against PyTorch CPU across model sizes", "",
           "Issue 21's sweep: each point is one full training step (forward, backward, Adam, "
           "float32, learnable targets from a fixed random teacher, the same initial weights "
           "in both libraries), each library timed in a fresh process of its own with the "
           "same threads. **ratio** = PyTorch ms / glassnet ms (> 1: glassnet is faster; goal "
           ">= 1.0, none below 0.9); **CPU-time ratio** = the same with the processes' CPU "
           "time (user + system, all threads) per step, less moved by other work on the "
           "machine but counting threads that spin. **memory** = the peak resident memory "
           "(VmHWM: the process's own ru_maxrss) during the timed steps minus the resident "
           "memory after the imports, data and model build, in MB (the peak is reset through /proc/self/clear_refs after "
           "the build and again after the warm-up, so neither an import's transient nor a "
           "one-off compilation in the first steps counts; Adam's state, made in the first "
           "step, does; the JSON has the warm-up's peak too as mem_warmup_inc_mb); "
           "**mem ratio** = glassnet / PyTorch (goal <= 1.2; increments under 1 MB count as "
           "1 MB). Code loaded at a first call counts in the baseline, as the libraries loaded "
           "by `import torch` do: before it each worker runs two steps of a tiny model of the "
           "same family and throws it away (glassnet's compiled Numba kernels, about 50 MB of "
           "machine code whatever the model's size, were otherwise counted as step memory; "
           "`--no-jit` runs glassnet without them).",
           "",
           "Made by (from the repository root):", "", "```bash",
           meta.get("command", "python benchmarks/scaling.py"), "```",
           "",
           f"- date: {meta.get('date', '?')}",
           f"- machine: {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs; {meta.get('threads', '?')}"
           f" threads for each library; torch {m.get('torch', '?')}, NumPy {m.get('numpy', '?')}",
           f"- load average (1 min) during the points: {min(loads):.2f} to {max(loads):.2f} "
           f"(median {statistics.median(loads):.2f}); it includes the benchmark's own "
           f"{meta.get('threads', '?')} threads; *others g / t* is the mean number of runnable "
           "threads of other processes while the glassnet / PyTorch worker ran (the larger "
           "over the pairs; 0: undisturbed). One other CPU-bound process on two cores slows "
           "PyTorch's OpenMP threads several-fold and glassnet much less, so a disturbed point "
           "flatters glassnet; re-measure on a quiet machine before drawing fine conclusions.",
           f"- {meta.get('pairs', 1)} process pair(s) per point, {meta.get('blocks', '?')} timing "
           f"blocks of about {meta.get('block_s', '?')} s each per process.", ""]
    if png:
        out += [f"![ratio against the size of the work]({png})", "",
                "The plot puts each point at PyTorch's time per step (a measure of the work); "
                "the dashed lines are the goal (1.0) and the floor (0.9).", ""]
    below = sorted((r for r in records if r["ratio"] < 1.0), key=lambda r: r["ratio"])
    if records:
        out += [f"{len(below)} of {len(records)} points are below 1.0x, "
                f"{sum(r['ratio'] < 0.9 for r in records)} below 0.9x; "
                f"{sum(r['mem_ratio'] > 1.2 for r in records)} use more than 1.2x PyTorch's "
                "memory. A ratio marked *unsteady* had process pairs more than 25% apart: other "
                "work on the machine disturbed one of them (PyTorch's spinning OpenMP threads "
                "suffer most); re-measure it.", ""]
    worst = sorted(records, key=lambda r: r["ratio"])[:10]
    if worst:
        out += ["The ten slowest points against PyTorch:", "",
                "| point | ratio | mem ratio |", "|---|---:|---:|"]
        out += [f"| {r['name']} | {r['ratio']:.2f} | {r['mem_ratio']:.2f} |" for r in worst]
        out.append("")
    for fam in FAMILIES:
        rows = [r for r in records if r["family"] == fam]
        if not rows:
            continue
        out += [f"## {fam}", "", NOTES.get(fam, ""), "",
                "| point | params | glassnet ms | PyTorch ms | ratio | CPU-time ratio | glassnet MB "
                "| PyTorch MB | mem ratio | load (others g / t) |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            ratio = f"{r['ratio']:.2f}"
            if r["ratio"] < 1.0:
                ratio = f"**{ratio}**"
            if len(r["ratios"]) > 1 and max(r["ratios"]) > 1.25 * min(r["ratios"]):
                ratio += " (unsteady: " + "/".join(f"{x:.2f}" for x in r["ratios"]) + ")"
            mr = f"{r['mem_ratio']:.2f}"
            if r["mem_ratio"] > 1.2:
                mr = f"**{mr}**"
            out.append(f"| {r['label']} | {r['n_parameters']:,} | {r['ms_per_step']['glassnet']:.2f}"
                       f" | {r['ms_per_step']['torch']:.2f} | {ratio} | {r['cpu_ratio']:.2f} | "
                       f"{r['mem_inc_mb']['glassnet']:.1f} | {r['mem_inc_mb']['torch']:.1f} | {mr}"
                       f" | {r['load_avg']['mean']:.2f} ({_others(r, 'glassnet')} / "
                       f"{_others(r, 'torch')}) |")
        out.append("")
    errs = meta.get("errors") or {}
    if errs:
        out += ["## Points that failed", ""] + [f"- {k}: {v.splitlines()[-1] if v else ''}"
                                                for k, v in errs.items()] + [""]
    return "\n".join(out)


def plot_ratios(records: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.5))
    ax1, ax2 = fig.subplots(1, 2)
    for fam in FAMILIES:
        rows = sorted((r for r in records if r["family"] == fam),
                      key=lambda r: r["ms_per_step"]["torch"])
        if not rows:
            continue
        xs = [r["ms_per_step"]["torch"] for r in rows]
        ax1.plot(xs, [r["ratio"] for r in rows], "o-", label=fam)
        ax2.plot(xs, [r["mem_ratio"] for r in rows], "o-", label=fam)
    for ax, goal, title in ((ax1, (1.0, 0.9), "speed: PyTorch time / glassnet time"),
                            (ax2, (1.2,), "peak memory: glassnet / PyTorch")):
        for g in goal:
            ax.axhline(g, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("PyTorch ms per training step (size of the work)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    ax1.set_ylabel("ratio (> 1: glassnet faster)")
    ax2.set_ylabel("ratio (< 1: glassnet smaller)")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def profile_point(pt: Point, steps: int = 5, top: int = 20) -> str:
    """cProfile of glassnet's step at ``pt`` (its own initial weights), sorted by tottime."""
    import cProfile
    import io
    import pstats
    step, batches, _ = build("glassnet", pt, None)
    for i in range(3):
        step(*batches[i % len(batches)])
    pr = cProfile.Profile()
    t = time.perf_counter()
    pr.enable()
    for i in range(steps):
        step(*batches[i % len(batches)])
    pr.disable()
    wall = (time.perf_counter() - t) / steps
    s = io.StringIO()
    print(f"glassnet {pt.name}: {wall * 1e3:.1f} ms/step under cProfile ({steps} steps)", file=s)
    pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(top)
    return s.getvalue()


def select(only: str | None, quick: bool) -> list[Point]:
    pts = all_points()
    if quick:
        pts = [p for p in pts if p.name in QUICK]
    if only:
        names = {p.name for p in pts}
        want = [f.strip() for f in only.split(",") if f.strip()]
        bad = [f for f in want if f not in FAMILIES and f not in names]
        if bad:
            raise SystemExit(f"--only: unknown family or point {bad[0]!r}; choose from "
                             f"{', '.join(FAMILIES)} or a name of --list")
        pts = [p for p in pts if p.family in want or p.name in want]
    return pts


def point_by_name(name: str) -> Point:
    for p in all_points() + [tiny_point(f) for f in FAMILIES] + [resnet_tiny()]:
        if p.name == name:
            return p
    raise SystemExit(f"--point: unknown point {name!r} (see --list)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few points, one or two per family")
    ap.add_argument("--only", help=f"comma-separated families ({','.join(FAMILIES)}) "
                    "and/or point names (--list)")
    ap.add_argument("--threads", type=int, default=2, help="threads for each library (2)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "scaling"),
                    help="output prefix: <out>.json, <out>.md, <out>.png")
    ap.add_argument("--pairs", type=int, default=1, help="fresh process pairs per point")
    ap.add_argument("--blocks", type=int, default=5, help="timing blocks per process")
    ap.add_argument("--block-s", type=float, default=0.4, help="seconds per timing block")
    ap.add_argument("--passive-wait", action="store_true",
                    help="OMP_WAIT_POLICY=PASSIVE for both workers: PyTorch's idle OpenMP threads "
                         "sleep instead of spinning (fairer on a machine shared with other work; "
                         "not PyTorch's default)")
    ap.add_argument("--no-jit", action="store_true",
                    help="glassnet without its Numba kernels (GLASSNET_JIT=0)")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each worker, wait up to S seconds until no other process is "
                         "runnable (a machine shared with other work)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other points of an existing <out>.json (re-measure a family)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per worker process")
    ap.add_argument("--list", action="store_true", help="print the points and exit")
    ap.add_argument("--profile", metavar="POINT", help="cProfile glassnet's step at POINT")
    ap.add_argument("--worker", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--point", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import warnings
    # glassnet's ShapeWarning for a stride-2 3x3 conv on an even size (a standard ResNet
    # downsampling, floored as in PyTorch): once per layer, not timed, noise in the log
    warnings.filterwarnings("ignore", message=".*do not tile the input")
    if args.worker:
        res = run_worker(args.worker, point_by_name(args.point), args.weights,
                         blocks=args.blocks, block_s=args.block_s, threads=args.threads)
        print(json.dumps(res))
        return 0
    if args.profile:
        print(profile_point(point_by_name(args.profile)))
        return 0
    pts = select(args.only, args.quick)
    if args.list:
        for p in pts:
            print(f"{p.name:24s} {p.family:12s} {p.label}")
        return 0
    cmd = "python benchmarks/scaling.py" + "".join(f" {a}" for a in (argv if argv is not None
                                                                      else sys.argv[1:]))
    meta: dict[str, Any] = {
        "command": cmd, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "threads": args.threads, "pairs": args.pairs, "blocks": args.blocks,
        "block_s": args.block_s, "passive_wait": args.passive_wait, "no_jit": args.no_jit,
        "machine": machine(),
        "errors": {}}
    old: list[dict[str, Any]] = []
    if args.merge and Path(f"{args.out}.json").exists():
        prev = json.loads(Path(f"{args.out}.json").read_text(encoding="utf-8"))
        measured = {p.name for p in pts}
        old = [r for r in prev.get("points", []) if r["name"] not in measured]
        meta["command"] = prev.get("command", "?") + "\n" + cmd
        meta["date"] = prev.get("date", "?") + ", " + meta["date"]
    order = {p.name: i for i, p in enumerate(all_points())}
    records: list[dict[str, Any]] = []

    def merged() -> list[dict[str, Any]]:
        return sorted(old + records, key=lambda r: order.get(r["name"], len(order)))
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="glassnet-scaling-") as tmp:
        for i, pt in enumerate(pts):
            t = time.perf_counter()
            try:
                rec = measure_point(pt, args, i, tmp)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                meta["errors"][pt.name] = str(e)
                print(f"[{i + 1}/{len(pts)}] {pt.name}: FAILED {str(e)[-500:]}", flush=True)
                continue
            records.append(rec)
            meta["wall_s"] = time.perf_counter() - t_all
            write_outputs(merged(), args.out, meta)
            print(f"[{i + 1}/{len(pts)}] {pt.name:24s} glassnet {rec['ms_per_step']['glassnet']:9.2f}"
                  f" ms  torch {rec['ms_per_step']['torch']:9.2f} ms  ratio {rec['ratio']:.2f}  "
                  f"mem {rec['mem_inc_mb']['glassnet']:.0f}/{rec['mem_inc_mb']['torch']:.0f} MB "
                  f"({rec['mem_ratio']:.2f})  load {rec['load_avg']['mean']:.2f} others "
                  f"{_others(rec, 'glassnet')}/{_others(rec, 'torch')}  "
                  f"[{time.perf_counter() - t:.0f} s]", flush=True)
    meta["wall_s"] = time.perf_counter() - t_all
    write_outputs(merged(), args.out, meta)
    print(f"{len(records)} points in {meta['wall_s']:.0f} s; wrote {args.out}.json/.md/.png")
    return 1 if meta["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
