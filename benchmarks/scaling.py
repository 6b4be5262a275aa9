"""How glassnet's training step compares with PyTorch CPU as the work grows (issue 21).

One command sweeps the kinds of models glassnet is used for, each over several sizes, and
times one training step (forward, backward, Adam; float32) of the same model in both
libraries:

* ``mlp_width``: MLP 784-w-w-10, batch 128, w = 128 / 512 / 2048;
* ``mlp_batch``: MLP 784-256-256-10, batch 8 / 32 / 512;
* ``cnn``: conv(1->c, k) + ReLU + conv(c->2c, k) + ReLU + 2x2 max pool + linear, batch 64,
  over channels, padding, kernel size, image size, and depth (more conv blocks); and a
  ResNet-style net on 3x32x32 inputs (three stages of residual blocks with BatchNorm);
* ``rnn``: LSTM / GRU (input 64, batch 32, many-to-one head) over hidden size and length;
* ``decoder``: a Linear(200 -> V) decoder with cross-entropy on a (35, 20, 200) input,
  over the vocabulary V;
* ``transformer``: TransformerEncoderLayer (4 heads, feed-forward 4w, batch 16) over the
  width w and the sequence length.

Method (as the other benchmarks here): each library runs a point in a fresh process of its
own with the same threads (OMP / OpenBLAS / MKL and ``torch.set_num_threads``), on
learnable targets (labels of a fixed random teacher), after warm-up steps; a few short
timing blocks; the two processes of a point alternate which goes first from point to point.
The ratio is PyTorch's median step time over glassnet's (> 1: glassnet is faster). Peak
memory is the growth of the process's peak resident set (``ru_maxrss``) from after the
model, optimizer and data are built to after the timed steps, for each library; the
memory ratio is glassnet's over PyTorch's (the goal is at most 1.2).

    python benchmarks/scaling.py                      # the whole sweep (~15-25 min)
    python benchmarks/scaling.py --quick              # one or two points per family
    python benchmarks/scaling.py --only mlp_width,cnn --threads 2

Writes ``docs/results/scaling.json``, ``scaling.md`` (tables) and ``scaling.png`` (ratio
against size, one line per family); ``--out PREFIX`` writes elsewhere.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

if "--worker" in sys.argv and "--threads" in sys.argv:   # before NumPy / torch load
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_v] = _n
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

# ------------------------------------------------------------------ the sweep
POINTS: list[dict[str, Any]] = (
    [{"family": "mlp_width", "w": w, "batch": 128, "size": w} for w in (128, 512, 2048)]
    + [{"family": "mlp_batch", "w": 256, "batch": b, "size": b} for b in (8, 32, 512)]
    + [{"family": "cnn", "c": c, "pad": p, "k": 3, "img": 28, "blocks": 1, "batch": 64,
        "size": c, "label": f"c {c} pad {p}"} for c, p in ((16, 1), (32, 1), (32, 0), (64, 0))]
    + [{"family": "cnn", "c": 32, "pad": 2, "k": 5, "img": 28, "blocks": 1, "batch": 64,
        "size": 32, "label": "c 32 k 5"},
       {"family": "cnn", "c": 16, "pad": 1, "k": 3, "img": 56, "blocks": 1, "batch": 64,
        "size": 16, "label": "c 16 image 56"},
       {"family": "cnn", "c": 16, "pad": 1, "k": 3, "img": 28, "blocks": 2, "batch": 64,
        "size": 16, "label": "c 16, 2 blocks"},
       {"family": "resnet", "c": 16, "batch": 32, "size": 16, "label": "ResNet 3x32x32, 16-32-64"}]
    + [{"family": "rnn", "cell": cell, "hidden": h, "T": 32, "batch": 32, "size": h,
        "label": f"{cell} H {h} T 32"} for cell in ("LSTM", "GRU") for h in (128, 256, 512)]
    + [{"family": "rnn", "cell": cell, "hidden": 256, "T": 128, "batch": 32, "size": 256,
        "label": f"{cell} H 256 T 128"} for cell in ("LSTM", "GRU")]
    + [{"family": "decoder", "V": v, "size": v} for v in (1000, 10000, 33278)]
    + [{"family": "transformer", "w": w, "T": 128, "batch": 16, "size": w,
        "label": f"w {w} T 128"} for w in (128, 256, 512)]
    + [{"family": "transformer", "w": 256, "T": t, "batch": 16, "size": t,
        "label": f"w 256 T {t}"} for t in (64, 256)]
)
QUICK = {("mlp_width", 512), ("cnn", 32), ("resnet", 16), ("rnn", 128), ("decoder", 10000),
         ("transformer", 128), ("mlp_batch", 32)}
FAMILIES = sorted({p["family"] for p in POINTS})


def label(p: dict[str, Any]) -> str:
    if "label" in p:
        return str(p["label"])
    if p["family"] == "mlp_width":
        return f"784-{p['w']}-{p['w']}-10, batch {p['batch']}"
    if p["family"] == "mlp_batch":
        return f"784-256-256-10, batch {p['batch']}"
    return f"Linear(200 -> {p['V']}) on (35, 20, 200)"


# ------------------------------------------------------------------ models, both libraries
def build(lib: str, p: dict[str, Any]) -> tuple[Any, Any, Any, tuple[Any, Any]]:
    """(model, loss, optimizer, (x, y)) for ``lib`` ("glassnet" or "torch")."""
    import numpy as np
    if lib == "torch":
        import torch
        from torch import nn
        torch.manual_seed(0)
        tensor = torch.from_numpy
        optim: Any = torch.optim
    else:
        import glassnet as gn
        from glassnet import nn  # type: ignore[no-redef]
        gn.manual_seed(0)
        tensor = gn.tensor
        optim = gn.optim
    r = np.random.default_rng(0)
    f = p["family"]

    def labels(x: Any, classes: int) -> Any:      # a fixed random linear teacher
        flat = x.reshape(x.shape[0], -1)
        t = r.standard_normal((flat.shape[1], classes)).astype(np.float32)
        return np.argmax((flat - flat.mean()) @ t, axis=1).astype(np.int64)

    if f in ("mlp_width", "mlp_batch"):
        w = p["w"]
        model = nn.Sequential(nn.Linear(784, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                              nn.Linear(w, 10))
        x = r.random((p["batch"], 784), dtype=np.float32)
        y = labels(x, 10)
    elif f == "cnn":
        c, k, pad, img = p["c"], p["k"], p["pad"], p["img"]
        layers: list[Any] = []
        cin, size = 1, img
        for b in range(p["blocks"]):
            cout = c * 2 ** b
            layers += [nn.Conv2d(cin, cout, k, padding=pad), nn.ReLU(),
                       nn.Conv2d(cout, 2 * cout, k, padding=pad), nn.ReLU(), nn.MaxPool2d(2)]
            size = ((size + 2 * pad - k + 1) + 2 * pad - k + 1) // 2
            cin = 2 * cout
        model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * size * size, 10))
        x = r.random((p["batch"], 1, img, img), dtype=np.float32)
        y = labels(x, 10)
    elif f == "resnet":
        model = _resnet(nn, p["c"])
        x = r.random((p["batch"], 3, 32, 32), dtype=np.float32)
        y = labels(x, 10)
    elif f == "rnn":
        model = _Recurrent(nn, p["cell"], p["hidden"])
        x = r.standard_normal((p["batch"], p["T"], 64)).astype(np.float32)
        y = labels(x[:, -1], 10)
    elif f == "decoder":
        model = nn.Linear(200, p["V"])
        x = r.standard_normal((35, 20, 200)).astype(np.float32)
        y = r.integers(0, p["V"], (35, 20)).astype(np.int64)
    elif f == "transformer":
        w = p["w"]
        model = _Encoder(nn, w)
        x = r.standard_normal((p["batch"], p["T"], w)).astype(np.float32)
        y = labels(x.mean(axis=1), 10)
    else:
        raise ValueError(f"unknown family {f!r}")
    opt = optim.Adam(model.parameters(), lr=1e-4)
    return model, nn.CrossEntropyLoss(), opt, (tensor(x), tensor(y))


def _resnet(nn: Any, c: int) -> Any:
    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.short = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                        nn.BatchNorm2d(cout)) if stride != 1 or cin != cout
                          else nn.Identity())

        def forward(self, x: Any) -> Any:
            h = self.relu(self.b1(self.c1(x)))
            return self.relu(self.b2(self.c2(h)) + self.short(x))

    return nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                         Block(c, c, 1), Block(c, 2 * c, 2), Block(2 * c, 4 * c, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * c, 10))


def _Recurrent(nn: Any, cell: str, hidden: int) -> Any:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(nn, cell)(64, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 10)

        def forward(self, x: Any) -> Any:
            out, _ = self.rnn(x)
            return self.head(out[:, -1])
    return Net()


def _Encoder(nn: Any, w: int) -> Any:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.TransformerEncoderLayer(w, 4, 4 * w, dropout=0.0, batch_first=True)
            self.head = nn.Linear(w, 10)

        def forward(self, x: Any) -> Any:
            return self.head(self.enc(x).mean(1))
    return Net()


# ------------------------------------------------------------------ one process, one point
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KB on Linux


def run_point(lib: str, p: dict[str, Any], threads: int, warmup: int = 2, rounds: int = 5,
              budget: float = 3.0) -> dict[str, Any]:
    """Time ``p`` in this process: warm-up steps, then ``rounds`` blocks of as many steps
    as fit about ``budget`` seconds in all. Returns ms per step of each block and memory."""
    if lib == "torch":
        import torch
        torch.set_num_threads(threads)
    model, loss_fn, opt, (x, y) = build(lib, p)
    flat_out = p["family"] == "decoder"

    def step() -> None:
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out.reshape(-1, out.shape[-1]), y.reshape(-1)) if flat_out \
            else loss_fn(out, y)
        loss.backward()
        opt.step()
    if lib == "glassnet":          # load the compiled kernels before the memory baseline
        import numpy as np

        from glassnet.backend import kernels
        for get in (kernels.row_kernels, kernels.lstm_kernels, kernels.gru_kernels,
                    kernels.optim_kernels):
            get(np.float32)
    base = _rss_mb()
    for _ in range(warmup):        # first steps: compilation, allocation, caches
        step()
    t0, n = time.perf_counter(), 0
    while n < 3 or time.perf_counter() - t0 < 0.3:   # the step time once warm
        step()
        n += 1
    one = max((time.perf_counter() - t0) / n, 1e-4)
    steps = max(2, min(50, int(budget / rounds / one)))
    blocks = []
    for _ in range(rounds):
        time.sleep(0.05)
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        blocks.append((time.perf_counter() - t0) / steps * 1e3)
    return {"ms": blocks, "steps_per_block": steps, "rss_base_mb": base,
            "rss_peak_mb": _rss_mb(), "mem_mb": max(_rss_mb() - base, 0.0)}


def measure(p: dict[str, Any], threads: int, first: str, budget: float) -> dict[str, Any]:
    """Both libraries on point ``p``, each in a fresh process, ``first`` going first."""
    res: dict[str, Any] = {}
    for lib in ([first, "torch" if first == "glassnet" else "glassnet"]):
        cmd = [sys.executable, __file__, "--worker", lib, "--threads", str(threads),
               "--point", json.dumps(p), "--budget", str(budget)]
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
                   + os.environ.get("PYTHONPATH", ""))
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if out.returncode != 0:
            raise RuntimeError(f"{lib} on {label(p)} failed:\n{out.stderr[-2000:]}")
        res[lib] = json.loads(out.stdout.strip().splitlines()[-1])
    g, t = statistics.median(res["glassnet"]["ms"]), statistics.median(res["torch"]["ms"])
    mg, mt = res["glassnet"]["mem_mb"], res["torch"]["mem_mb"]
    return {**p, "label": label(p), "glassnet_ms": g, "torch_ms": t, "ratio": t / g,
            "glassnet_mem_mb": mg, "torch_mem_mb": mt,
            "mem_ratio": (mg / mt) if mt > 1.0 else None,
            "load": os.getloadavg()[0], "first": first}


# ------------------------------------------------------------------ reports
def write_reports(rows: list[dict[str, Any]], prefix: Path, meta: dict[str, Any]) -> None:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_suffix(".json").write_text(json.dumps({"meta": meta, "points": rows}, indent=1))
    lines = [f"# Training-step speed and memory against PyTorch, across sizes", "",
             f"`{meta['command']}` on {meta['date']} ({meta['threads']} threads, "
             f"glassnet {meta['glassnet']}, PyTorch {meta['torch']}; machine load "
             f"{meta['load_min']:.2f}-{meta['load_max']:.2f}, the 1-minute load average "
             "during the points). Ratio: PyTorch's step time over glassnet's (> 1: glassnet "
             "faster). Memory: the growth of each process's peak resident set over the "
             "timed steps; memory ratio glassnet / PyTorch (goal <= 1.2).", ""]
    for fam in FAMILIES:
        fr = [r for r in rows if r["family"] == fam]
        if not fr:
            continue
        lines += [f"## {fam}", "", "| point | glassnet ms | PyTorch ms | ratio | glassnet MB "
                  "| PyTorch MB | memory ratio |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in fr:
            mr = "-" if r["mem_ratio"] is None else f"{r['mem_ratio']:.2f}"
            lines.append(f"| {r['label']} | {r['glassnet_ms']:.2f} | {r['torch_ms']:.2f} | "
                         f"{r['ratio']:.2f} | {r['glassnet_mem_mb']:.0f} | "
                         f"{r['torch_mem_mb']:.0f} | {mr} |")
        lines.append("")
    lines += ["![ratio against size](scaling.png)", ""]
    prefix.with_suffix(".md").write_text("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        return
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for fam in FAMILIES:
        fr = [r for r in rows if r["family"] == fam]
        if fr:
            ax.plot(range(len(fr)), [r["ratio"] for r in fr], "o-", label=fam)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xlabel("point within its family (growing size, see the table)")
    ax.set_ylabel("PyTorch time / glassnet time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(prefix.with_suffix(".png"), dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a point or two per family")
    ap.add_argument("--only", default=None, help=f"families, comma-separated: {','.join(FAMILIES)}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds of timed steps per "
                    "library and point")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "scaling"),
                    help="output prefix (.json, .md, .png are added)")
    ap.add_argument("--worker", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--point", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(run_point(args.worker, json.loads(args.point), args.threads,
                                   budget=args.budget)))
        return 0
    points = POINTS
    if args.only:
        want = set(args.only.split(","))
        bad = want - set(FAMILIES)
        if bad:
            ap.error(f"--only: unknown families {sorted(bad)}; choose from {FAMILIES}")
        points = [p for p in points if p["family"] in want]
    if args.quick:
        points = [p for p in points if (p["family"], p["size"]) in QUICK]
    rows = []
    for i, p in enumerate(points):
        row = measure(p, args.threads, "glassnet" if i % 2 == 0 else "torch", args.budget)
        rows.append(row)
        print(f"{row['family']:11s} {row['label']:28s} glassnet {row['glassnet_ms']:8.2f} ms  "
              f"torch {row['torch_ms']:8.2f} ms  ratio {row['ratio']:.2f}  memory "
              f"{row['glassnet_mem_mb']:.0f} / {row['torch_mem_mb']:.0f} MB  "
              f"load {row['load']:.2f}", flush=True)
    import glassnet
    try:
        import torch
        tv = torch.__version__
    except ImportError:  # pragma: no cover
        tv = "-"
    loads = [r["load"] for r in rows] or [0.0]
    meta = {"command": "python benchmarks/scaling.py" + (" " + " ".join(argv or sys.argv[1:])
                                                          if (argv or sys.argv[1:]) else ""),
            "date": time.strftime("%Y-%m-%d"), "threads": args.threads,
            "glassnet": glassnet.__version__, "torch": tv,
            "load_min": min(loads), "load_max": max(loads)}
    write_reports(rows, Path(args.out), meta)
    below = [r for r in rows if r["ratio"] < 1.0]
    print(f"{len(rows)} points; below 1.0x: {len(below)}; "
          f"worst {min(r['ratio'] for r in rows):.2f}x" if rows else "no points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
