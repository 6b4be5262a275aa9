"""A character Transformer on Tiny Shakespeare, glassnet against PyTorch CPU: the same
model, the same initial weights, the same batches, the same optimizer, the same steps.

Model: ``glassnet.models.CharTransformer`` (token + learned position embeddings, pre-norm
``TransformerEncoderLayer`` blocks with GELU and a causal mask, a final LayerNorm and a
Linear head) and its mirror built from ``torch.nn`` with the same submodule names, so the
initial state dict written by glassnet loads into PyTorch unchanged. AdamW (betas 0.9,
0.99), gradient clipping at 1.0, batches of random windows drawn from
``np.random.default_rng(seed)`` in both. The last 10% of the text is the validation set,
scored in nats per character over non-overlapping windows.

Each library trains in a process of its own (two in one process fight over the cores),
one after the other, with ``--threads`` BLAS / OpenMP threads. The result (both curves,
times, the final validation losses and their difference) goes to ``--out`` as JSON, and a
table and a plot beside it.

    python benchmarks/bench_char_transformer.py --steps 3000 --eval-every 250
    python benchmarks/bench_char_transformer.py --steps 3000 --threads 1 --parallel  # both at once
    python benchmarks/bench_char_transformer.py --steps 20 --eval-every 10 --small  # smoke
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if "--threads" in sys.argv:   # before NumPy / torch are imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = _n
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def config(args: argparse.Namespace) -> dict:
    if args.small:
        return dict(d_model=32, nhead=2, num_layers=1, context=32, batch_size=8)
    return dict(d_model=args.width, nhead=args.heads, num_layers=args.layers,
                context=args.context, batch_size=args.batch_size)


def load_text(path: str | None) -> str:
    if path:
        return Path(path).read_text(encoding="utf-8")
    sys.path.insert(0, str(ROOT / "src"))
    from glassnet.data import load_text as lt  # noqa: E402
    return lt()


def windows_eval(ids: np.ndarray, T: int) -> np.ndarray:
    n = (len(ids) - 1) // T
    return ids[(np.arange(n) * T)[:, None] + np.arange(T + 1)]


def run_glassnet(args: argparse.Namespace, cfg: dict, ids: np.ndarray, vocab: list[str],
                 init_path: str) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    import glassnet as gn  # noqa: E402
    from glassnet import nn, optim  # noqa: E402
    from glassnet.models import CharTransformer  # noqa: E402

    gn.manual_seed(args.seed)
    lm = CharTransformer(vocab, cfg["d_model"], cfg["nhead"], cfg["num_layers"], cfg["context"],
                         dropout=0.0)
    np.savez(init_path, **{k: v.numpy() for k, v in lm.state_dict().items()})
    opt = optim.AdamW(lm.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=args.wd)

    def step(w: np.ndarray) -> float:
        opt.zero_grad()
        loss = lm.loss(w[:, :-1], w[:, 1:])
        loss.backward()
        nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        return float(loss.item())

    def evaluate(val: np.ndarray) -> float:
        lm.eval()
        tot = 0.0
        with gn.no_grad():
            for i in range(0, len(val), 64):
                w = val[i:i + 64]
                tot += float(lm.loss(w[:, :-1], w[:, 1:]).item()) * len(w)
        lm.train()
        return tot / len(val)

    out = train_loop(args, cfg, ids, step, evaluate)
    out["sample"] = lm.sample("ROMEO:", 300, temperature=0.8, seed=0)
    return out


def run_torch(args: argparse.Namespace, cfg: dict, ids: np.ndarray, vocab: list[str],
              init_path: str) -> dict:
    import torch  # noqa: E402
    from torch import nn  # noqa: E402

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    V, d, T = len(vocab), cfg["d_model"], cfg["context"]

    class TorchCharTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(V, d)
            self.pos = nn.Embedding(T, d)
            self.drop = nn.Dropout(0.0)
            layer = nn.TransformerEncoderLayer(d, cfg["nhead"], 4 * d, dropout=0.0,
                                               activation="gelu", batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, cfg["num_layers"],
                                                enable_nested_tensor=False)
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, V)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            t = x.shape[1]
            mask = nn.Transformer.generate_square_subsequent_mask(t)
            h = self.tok(x) + self.pos(torch.arange(t))
            return self.head(self.ln_f(self.blocks(self.drop(h), mask=mask, is_causal=True)))

    lm = TorchCharTransformer()
    state = np.load(init_path)
    lm.load_state_dict({k: torch.from_numpy(state[k]) for k in state.files})
    opt = torch.optim.AdamW(lm.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=args.wd)
    lossf = nn.CrossEntropyLoss()

    def step(w: np.ndarray) -> float:
        x, y = torch.from_numpy(w[:, :-1]), torch.from_numpy(w[:, 1:])
        opt.zero_grad()
        loss = lossf(lm(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        return float(loss.item())

    def evaluate(val: np.ndarray) -> float:
        lm.eval()
        tot = 0.0
        with torch.no_grad():
            for i in range(0, len(val), 64):
                w = torch.from_numpy(val[i:i + 64])
                tot += float(lossf(lm(w[:, :-1]).reshape(-1, V), w[:, 1:].reshape(-1))) * len(w)
        lm.train()
        return tot / len(val)

    return train_loop(args, cfg, ids, step, evaluate)


def train_loop(args: argparse.Namespace, cfg: dict, ids: np.ndarray, step, evaluate) -> dict:
    T, B = cfg["context"], cfg["batch_size"]
    n_val = len(ids) // 10
    train, val = ids[:-n_val], windows_eval(ids[-n_val:], T)
    if args.val_windows:
        val = val[:args.val_windows]
    rng = np.random.default_rng(args.seed)
    curve: dict[str, list] = {"step": [], "loss": [], "val_loss": [], "train_seconds": []}
    train_s, losses = 0.0, []
    for s in range(1, args.steps + 1):
        starts = rng.integers(0, len(train) - T - 1, B)
        w = train[starts[:, None] + np.arange(T + 1)]
        t0 = time.perf_counter()
        losses.append(step(w))
        train_s += time.perf_counter() - t0
        if s % args.eval_every == 0 or s == args.steps:
            curve["step"].append(s)
            curve["loss"].append(float(np.mean(losses[-args.eval_every:])))
            curve["val_loss"].append(evaluate(val))
            curve["train_seconds"].append(train_s)
            print(f"  {args.worker or ''} step {s}: train {curve['loss'][-1]:.4f} val {curve['val_loss'][-1]:.4f} "
                  f"({train_s:.1f} s training)", flush=True)
            if args.worker:        # the curve so far survives an interrupted run
                Path(str(args.out) + f".{args.worker}.partial").write_text(
                    json.dumps(curve), encoding="utf-8")
    curve["seconds_per_step"] = train_s / args.steps
    return curve


def write_report(res: dict, out: Path) -> None:
    g, t = res["glassnet"], res["torch"]
    lines = ["| step | glassnet train | glassnet val | PyTorch train | PyTorch val |",
             "|---:|---:|---:|---:|---:|"]
    for i, s in enumerate(g["step"]):
        lines.append(f"| {s} | {g['loss'][i]:.4f} | {g['val_loss'][i]:.4f} | "
                     f"{t['loss'][i]:.4f} | {t['val_loss'][i]:.4f} |")
    out.with_suffix(".table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, r, c in (("glassnet", g, "C0"), ("PyTorch", t, "C1")):
        ax.plot(r["step"], r["val_loss"], c, label=f"{name} validation")
        ax.plot(r["step"], r["loss"], c + "--", alpha=0.6, label=f"{name} training")
    ax.set_xlabel("step")
    ax.set_ylabel("nats / character")
    ax.set_title("Character Transformer, Tiny Shakespeare")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--val-windows", type=int, default=0, help="score only the first N windows")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--small", action="store_true", help="a tiny model (smoke test)")
    ap.add_argument("--text", default=None, help="a text file (default: Tiny Shakespeare)")
    ap.add_argument("--out", default="docs/results/char_transformer.json")
    ap.add_argument("--parallel", action="store_true",
                    help="train both libraries at once, each with --threads threads")
    ap.add_argument("--worker", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--init", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    text = load_text(args.text)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
    cfg = config(args)
    out = Path(args.out)
    if args.worker:
        fn = run_glassnet if args.worker == "glassnet" else run_torch
        res = fn(args, cfg, ids, vocab, args.init)
        Path(str(out) + f".{args.worker}").write_text(json.dumps(res), encoding="utf-8")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    init = str(out) + ".init.npz"
    res = {"config": cfg | {"steps": args.steps, "lr": args.lr, "wd": args.wd,
                            "threads": args.threads, "optimizer": "AdamW(0.9, 0.99)"}}
    passthrough = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--parallel"]
    res["config"]["parallel"] = args.parallel
    if args.parallel:   # glassnet writes the initial weights; torch starts once they exist
        procs = [subprocess.Popen([sys.executable, __file__, *passthrough, "--worker", "glassnet",
                                   "--init", init])]
        while not os.path.exists(init) and procs[0].poll() is None:
            time.sleep(1)
        time.sleep(2)
        procs.append(subprocess.Popen([sys.executable, __file__, *passthrough, "--worker",
                                       "torch", "--init", init]))
        if any(p.wait() for p in procs):
            raise SystemExit("a worker failed")
    else:
        for lib in ("glassnet", "torch"):      # glassnet first: it writes the initial weights
            print(f"{lib}:", flush=True)
            subprocess.run([sys.executable, __file__, *passthrough, "--worker", lib, "--init",
                            init], check=True)
    for lib in ("glassnet", "torch"):
        res[lib] = json.loads(Path(str(out) + f".{lib}").read_text(encoding="utf-8"))
        os.remove(str(out) + f".{lib}")
        if os.path.exists(str(out) + f".{lib}.partial"):
            os.remove(str(out) + f".{lib}.partial")
    os.remove(init)
    g, t = res["glassnet"], res["torch"]
    res["final_val"] = {"glassnet": g["val_loss"][-1], "torch": t["val_loss"][-1],
                        "difference": g["val_loss"][-1] - t["val_loss"][-1]}
    res["speed_ratio"] = t["seconds_per_step"] / g["seconds_per_step"]
    out.write_text(json.dumps(res, indent=1), encoding="utf-8")
    write_report(res, out)
    print(f"final validation loss: glassnet {g['val_loss'][-1]:.4f}, PyTorch "
          f"{t['val_loss'][-1]:.4f} (difference {res['final_val']['difference']:+.4f} nats/char)")
    print(f"seconds per step: glassnet {g['seconds_per_step']:.3f}, PyTorch "
          f"{t['seconds_per_step']:.3f} (PyTorch time / glassnet time = {res['speed_ratio']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
