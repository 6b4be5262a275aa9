"""A character-level LSTM on Tiny Shakespeare: 1 layer, 256 hidden units, the last 10% held out.

    python examples/charlm_shakespeare.py                      # until val loss <= 1.60 nats/char
    python examples/charlm_shakespeare.py --epochs 2 --out runs/charlm

Writes into --out: model.safetensors (load with gn.load), history.json, learning_curve.png
and sample.txt. Figures measured with this script are in docs/results/charlm.md.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.data import load_text
from glassnet.inspect import plot_text_curves
from glassnet.models import CharLM


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", default=None, help="text file (default: Tiny Shakespeare)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-decay", type=float, default=0.95)
    ap.add_argument("--target", type=float, default=1.60, help="stop at this val loss")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("runs/charlm_shakespeare"))
    args = ap.parse_args(argv)

    text = load_text(args.text)
    gn.manual_seed(args.seed)
    model = CharLM("".join(sorted(set(text))), embedding_dim=64, hidden_size=args.hidden,
                   num_layers=args.layers, cell=args.cell)
    print(f"{len(text)} characters, vocabulary {model.vocab_size}, "
          f"{model.num_parameters()} parameters", flush=True)
    t0 = time.perf_counter()
    history = model.fit_text(text, epochs=args.epochs, seq_len=args.seq_len,
                             batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay,
                             validation_fraction=0.1, eval_every=args.eval_every,
                             target_val_loss=args.target, seed=args.seed)
    seconds = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    gn.save(model, args.out / "model.safetensors", metadata={"task": "charlm"})
    history.to_json(args.out / "history.json")
    try:
        plot_text_curves(history, args.out / "learning_curve.png")
    except ImportError:
        pass
    sample = model.sample("ROMEO:", 400, temperature=0.8, seed=args.seed)
    (args.out / "sample.txt").write_text(sample)
    best = min(v for v in history["val_loss"] if v is not None)
    summary = {"best_val_loss": best, "best_val_perplexity": math.exp(best),
               "epochs": len(history), "seconds": round(seconds, 1),
               "tokens_per_s": float(np.median(history["tokens_per_s"])),
               "stop_reason": history.stop_reason}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    print(sample)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
