"""``glassnet train --dataset text`` and ``glassnet sample``: character language models.

    glassnet train --dataset text --model lstm --epochs 5 --out runs/shakespeare
    glassnet train --dataset text --text my.txt --model gru --hidden 128 --limit 200000
    glassnet sample runs/shakespeare/model.safetensors --prime "ROMEO:" --length 300

``run`` writes into the run folder: ``model.safetensors`` (the CharLM with its
vocabulary; ``gn.load`` rebuilds it), ``history.json`` (loss in nats/char and
perplexity per epoch), ``metrics.json``, ``config.json``, ``learning_curve.png``
and ``sample.txt``.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["run", "sample", "load_corpus", "plot_text_curves"]

DEFAULTS = {"epochs": 5, "batch_size": 32, "lr": 2e-3, "hidden": 256, "seq_len": 64}


def load_corpus(args) -> tuple[str, str]:
    """(text, where it came from) for ``--text`` / ``--data-dir`` / Tiny Shakespeare."""
    from .. import data
    if getattr(args, "text", None):
        return data.load_text(args.text), str(args.text)
    if getattr(args, "data_dir", None):
        p = data.find_data_dir("tinyshakespeare", Path(args.data_dir) / "tinyshakespeare"
                               if (Path(args.data_dir) / "tinyshakespeare").exists()
                               else args.data_dir, required=["input.txt"])
        return data.load_text(p / "input.txt"), str(p / "input.txt")
    return data.load_text(), "tinyshakespeare"


def plot_text_curves(history, path):
    """Loss in nats/char per epoch (and at evaluation points inside epochs) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    h = history.history
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = history.params.get("steps") or []
    if steps:
        s = [p["step"] for p in steps]
        ax.plot(s, [p["loss"] for p in steps], ".-", label="train")
        if "val_loss" in steps[0]:
            ax.plot(s, [p["val_loss"] for p in steps], ".-", label="validation")
        ax.set_xlabel("step")
    else:
        ep = np.arange(1, len(h["loss"]) + 1)
        ax.plot(ep, h["loss"], "o-", label="train")
        if "val_loss" in h:
            ax.plot(ep, h["val_loss"], "s-", label="validation")
        ax.set_xlabel("epoch")
    ax.set_ylabel("loss (nats / character)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _progress(total, verbose):
    if verbose != 1:
        return None, None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, None
    bar = tqdm(total=total, unit="step", file=sys.stderr, leave=False)

    def cb(step, loss):
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")
    return bar, cb


def run(args) -> int:
    """Train a CharLM on a text file and write the run folder ``args.out``."""
    from .. import backend, io
    from ..models.charlm import CharLM
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seed = getattr(args, "seed", 0) or 0
    backend.manual_seed(seed)
    text, source = load_corpus(args)
    limit = getattr(args, "limit", None)
    if limit:
        text = text[:int(limit)]
    cell = (getattr(args, "model", None) or "lstm").lower()
    if cell not in ("lstm", "gru", "rnn"):
        raise ValueError(f"--model {cell} is not a recurrent model; use lstm, gru or rnn")
    hidden = getattr(args, "hidden", None)
    if isinstance(hidden, (list, tuple)):
        hidden = hidden[0] if hidden else None
    hidden = int(hidden or DEFAULTS["hidden"])
    epochs = args.epochs if getattr(args, "epochs", None) is not None else DEFAULTS["epochs"]
    bs = getattr(args, "batch_size", None) or DEFAULTS["batch_size"]
    lr = getattr(args, "lr", None) or DEFAULTS["lr"]
    verbose = getattr(args, "verbose", 1)
    seq_len = DEFAULTS["seq_len"]
    model = CharLM("".join(sorted(set(text))), embedding_dim=64, hidden_size=hidden, cell=cell)
    n_train = int(len(text) * 0.9)
    steps_per_epoch = max(1, ((n_train // bs) - 1 + seq_len - 1) // seq_len)
    if verbose:
        print(f"glassnet: {cell} language model on {source}: {len(text)} characters "
              f"({n_train} train, last 10% validation), vocabulary {model.vocab_size}, "
              f"{model.num_parameters()} parameters -> {out}", file=sys.stderr)
        if cell in ("lstm", "gru") and not backend.kernels.available():
            print(f"({cell.upper()} step in NumPy; pip install \"glassnet[jit]\" for compiled step "
                  "kernels, 1.2-1.3x faster training)", file=sys.stderr)
    bar, cb = _progress(steps_per_epoch * epochs, verbose)
    t0 = time.perf_counter()
    try:
        history = model.fit_text(text, epochs=epochs, seq_len=seq_len, batch_size=bs, lr=lr,
                                 validation_fraction=0.1, seed=seed, callback=cb,
                                 verbose=1 if verbose else 0)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    io.save(model, out / "model.safetensors",
            metadata={"task": "charlm", "source": source, "seed": seed, "cell": cell})
    history.to_json(out / "history.json")
    vals = [v for v in history.history.get("val_loss", []) if v is not None]
    metrics = {"train_loss": history["loss"][-1],
               "train_perplexity": math.exp(history["loss"][-1]),
               "val_loss": vals[-1] if vals else None,
               "val_perplexity": math.exp(vals[-1]) if vals else None,
               "best_val_loss": min(vals) if vals else None,
               "epochs": len(history), "train_seconds": round(seconds, 2),
               "tokens_per_s": float(np.median(history["tokens_per_s"])),
               "units": "nats per character"}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "config.json").write_text(json.dumps(
        {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, indent=1))
    text_out = model.sample(text[:1] if not text.startswith("\n") else "\n", 300,
                            temperature=0.8, seed=seed)
    (out / "sample.txt").write_text(text_out)
    try:
        plot_text_curves(history, out / "learning_curve.png")
    except ImportError as e:
        print(f"(no learning curve: {e}; pip install glassnet[plot])", file=sys.stderr)
    print(f"val loss {metrics['val_loss']:.4f} nats/char (perplexity "
          f"{metrics['val_perplexity']:.2f}), {len(history)} epochs, {seconds:.1f} s -> {out}"
          if vals else f"train loss {metrics['train_loss']:.4f} nats/char -> {out}")
    return 0


def sample(args) -> int:
    """Load a CharLM file and print ``--length`` characters after ``--prime``."""
    from .. import io
    from ..models.charlm import CharLM
    model = io.load(args.model)
    if not isinstance(model, CharLM):
        raise ValueError(f"{args.model} holds a {type(model).__name__}, not a character "
                         "language model (train one with glassnet train --dataset text)")
    prime = getattr(args, "prime", "\n")
    prime = prime.encode().decode("unicode_escape") if "\\n" in prime else prime
    text = model.sample(prime, int(getattr(args, "length", 500)),
                        temperature=float(getattr(args, "temperature", 0.8)),
                        seed=getattr(args, "seed", None))
    print(text)
    return 0
