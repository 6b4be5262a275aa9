"""``glassnet train --dataset text`` and ``glassnet sample``: character language models.

    glassnet train --dataset text --model lstm --epochs 5 --out runs/shakespeare
    glassnet train --dataset text --text my.txt --model gru --hidden 128 --limit 200000
    glassnet train --dataset text --model transformer --epochs 3 --out runs/gpt
    glassnet sample runs/shakespeare/model.safetensors --prime "ROMEO:" --length 300

``--model transformer`` is a :class:`~glassnet.models.CharTransformer` (4 pre-norm blocks,
4 heads, width ``--hidden`` (default 128), context 128, AdamW); the recurrent ones a
:class:`~glassnet.models.CharLM`. ``run`` writes into the run folder: ``model.safetensors``
(the model with its vocabulary; ``gn.load`` rebuilds it), ``history.json`` (loss in nats/char and
perplexity per epoch), ``metrics.json``, ``config.json``, ``learning_curve.png``
and ``sample.txt``.
"""
from __future__ import annotations

import math
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import backend, data, io, models
from .. import inspect as ins
from . import runs

if TYPE_CHECKING:  # annotations only
    from tqdm import tqdm

__all__ = ["run", "sample", "load_corpus"]

DEFAULTS: dict[str, Any] = {"epochs": 5, "batch_size": 32, "lr": 2e-3, "hidden": 256, "seq_len": 64}
TRANSFORMER: dict[str, Any] = {"hidden": 128, "lr": 1e-3, "heads": 4, "layers": 4, "context": 128}
CELLS = ("lstm", "gru", "rnn")
MODELS = CELLS + ("transformer",)


def load_corpus(args: Namespace) -> tuple[str, str]:
    """(text, where it came from) for ``--text`` (a file), ``--data-dir`` (a folder holding
    ``input.txt`` or ``tinyshakespeare/input.txt``) or else Tiny Shakespeare."""
    text = runs.option(args, "text")
    if text is not None:
        return data.load_text(text), str(text)
    data_dir = runs.option(args, "data_dir")
    if data_dir is not None:
        folder = Path(data_dir)
        if (folder / "tinyshakespeare").is_dir():
            folder = folder / "tinyshakespeare"
        return data.load_text(folder), str(folder / "input.txt")
    return data.load_text(), "tinyshakespeare"


def _progress(total: int, verbose: int
              ) -> tuple[tqdm[Any], Callable[[int, float], None]] | tuple[None, None]:
    """(bar, callback(step, loss)) for a step bar on stderr at ``verbose=1``, else (None, None)."""
    if verbose != 1:
        return None, None
    from tqdm.auto import tqdm
    bar = tqdm(total=total, unit="step", file=sys.stderr, leave=False)

    def callback(step: int, loss: float) -> None:
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")
    return bar, callback


def run(args: Namespace) -> int:
    """Train a CharLM on a text file and fill the run folder ``args.out``; returns 0."""
    out = args.out = runs.run_dir(runs.option(args, "out"))
    seed = runs.option(args, "seed", 0)
    backend.manual_seed(seed)
    text, source = load_corpus(args)
    limit = runs.option(args, "limit")
    if limit is not None:
        text = text[:int(limit)]
    cell = runs.option(args, "model", "lstm").lower()
    if cell not in MODELS:
        raise ValueError(f"--model {cell} is not a language model; use lstm, gru, rnn or "
                         "transformer")
    transformer = cell == "transformer"
    hidden = runs.one_width(runs.option(args, "hidden"))
    if hidden is None:
        hidden = TRANSFORMER["hidden"] if transformer else DEFAULTS["hidden"]
    epochs = runs.option(args, "epochs", DEFAULTS["epochs"])
    bs = runs.option(args, "batch_size", DEFAULTS["batch_size"])
    lr = runs.option(args, "lr", TRANSFORMER["lr"] if transformer else DEFAULTS["lr"])
    verbose = runs.option(args, "verbose", 1)
    seq_len = DEFAULTS["seq_len"]
    vocab = "".join(sorted(set(text)))
    n_train = int(len(text) * 0.9)
    model: models.CharLM | models.CharTransformer
    if transformer:
        if hidden % TRANSFORMER["heads"]:
            raise ValueError(f"--hidden {hidden} must be a multiple of the {TRANSFORMER['heads']} "
                             "attention heads for --model transformer")
        model = models.CharTransformer(vocab, d_model=hidden, nhead=TRANSFORMER["heads"],
                                       num_layers=TRANSFORMER["layers"],
                                       context=TRANSFORMER["context"])
        steps_per_epoch = max(1, n_train // (bs * TRANSFORMER["context"]))
    else:
        model = models.CharLM(vocab, embedding_dim=64, hidden_size=hidden, cell=cell)
        steps_per_epoch = max(1, ((n_train // bs) - 1 + seq_len - 1) // seq_len)
    if verbose:
        runs.note(f"glassnet: {cell} language model on {source}: {len(text)} characters "
                  f"({n_train} train, last 10% validation), vocabulary {model.vocab_size}, "
                  f"{model.num_parameters()} parameters -> {out}")
        if cell in ("lstm", "gru") and not backend.kernels.available():
            runs.note(f"({cell.upper()} step in NumPy; pip install \"glassnet[jit]\" for "
                      "compiled step kernels, 1.2-1.3x faster training)")
    bar, callback = _progress(steps_per_epoch * epochs, verbose)
    t0 = time.perf_counter()
    try:
        if transformer:
            history = model.fit_text(text, epochs=epochs, batch_size=bs, lr=lr,
                                     validation_fraction=0.1, seed=seed, callback=callback,
                                     verbose=1 if verbose else 0)
        else:
            assert isinstance(model, models.CharLM)
            history = model.fit_text(text, epochs=epochs, seq_len=seq_len, batch_size=bs, lr=lr,
                                     optimizer=runs.option(args, "optimizer", "adam"),
                                     validation_fraction=0.1, seed=seed, callback=callback,
                                     verbose=1 if verbose else 0)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    vals = [v for v in history.history.get("val_loss", []) if v is not None]
    train_loss = history["loss"][-1]
    assert train_loss is not None  # every epoch records its training loss
    metrics = {"train_loss": train_loss,
               "train_perplexity": math.exp(train_loss),
               "val_loss": vals[-1] if vals else None,
               "val_perplexity": math.exp(vals[-1]) if vals else None,
               "best_val_loss": min(vals) if vals else None,
               "epochs": len(history), "train_seconds": round(seconds, 2),
               "tokens_per_s": float(np.median(cast("list[float]", history["tokens_per_s"]))),
               "units": "nats per character"}
    runs.write_run(out, args, model, history, metrics,
                   {"task": "charlm", "source": source, "seed": seed, "cell": cell})
    (out / "sample.txt").write_text(model.sample(text[:1] or "\n", 300, temperature=0.8,
                                                 seed=seed))
    runs.draw(ins.plot_text_curves, history, out / "learning_curve.png")
    print(f"val loss {metrics['val_loss']:.4f} nats/char (perplexity "
          f"{metrics['val_perplexity']:.2f}), {len(history)} epochs, {seconds:.1f} s -> {out}"
          if vals else f"train loss {metrics['train_loss']:.4f} nats/char -> {out}")
    return 0


def sample(args: Namespace) -> int:
    """Load a CharLM file and print ``--length`` characters after ``--prime`` (in which
    a typed ``\\n`` stands for a newline)."""
    model = io.load(args.model)
    if not isinstance(model, (models.CharLM, models.CharTransformer)):
        raise ValueError(f"{args.model} holds a {type(model).__name__}, not a character "
                         "language model (train one with glassnet train --dataset text)")
    prime = runs.option(args, "prime", "\n").replace("\\n", "\n")
    print(model.sample(prime, int(runs.option(args, "length", 500)),
                       temperature=float(runs.option(args, "temperature", 0.8)),
                       seed=runs.option(args, "seed")))
    return 0
