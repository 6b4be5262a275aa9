"""``glassnet train --task autoencoder``: train a (denoising / stacked / convolutional)
autoencoder on an image dataset and write the run folder.

    glassnet train --task autoencoder --dataset fashion-mnist --denoise 0.3
    glassnet train --task autoencoder --dataset mnist --stacked 256,64 --denoise 0.3
    glassnet train --task autoencoder --dataset digits --model cnn

Writes ``model.safetensors`` (glassnet.io), ``history.json``, ``metrics.json`` (test
reconstruction error on clean and on corrupted inputs), ``config.json``,
``reconstructions.png`` (inputs / reconstructions / corrupted inputs / their
reconstructions) and ``learning_curve.png``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["run", "plot_reconstructions", "plot_learning_curves"]

SHOW_NOISE = 0.3   # masking level of the "corrupted" rows when the model is not denoising


def plot_reconstructions(rows, labels, image_shape, path, n: int = 10):
    """A grid of images: one row per array in ``rows`` (each (N, ...)), ``n`` columns."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    h, w = image_shape[-2:]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n, 1.25 * len(rows)), squeeze=False)
    for r, (arr, label) in enumerate(zip(rows, labels)):
        for j in range(n):
            ax = axes[r][j]
            ax.imshow(np.clip(arr[j].reshape(h, w), 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_learning_curves(stages, path):
    """Loss (and validation loss) per epoch for each named History in ``stages``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(stages), figsize=(4.5 * len(stages), 3.4), squeeze=False)
    for ax, (name, hist) in zip(axes[0], stages):
        h = hist.history
        ep = np.arange(1, len(h["loss"]) + 1)
        ax.plot(ep, h["loss"], "o-", label="train (corrupted input)" if "denois" in name
                else "train")
        if "val_loss" in h and any(v is not None for v in h["val_loss"]):
            ax.plot(ep, h["val_loss"], "s-", label="validation (clean)")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("reconstruction loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _build(args, shape):
    from .. import models
    c, h, w = shape
    d = c * h * w
    act = getattr(args, "activation", None) or "relu"
    noise = float(args.denoise or 0.0)
    kind = args.model or "mlp"
    if kind in ("cnn", "lenet", "vgg"):
        if args.stacked:
            raise ValueError("--stacked builds dense autoencoders; leave out --model cnn")
        return models.ConvAutoencoder(c, h, channels=[16, 8], code=args.hidden or 32,
                                      activation=act, noise_level=noise), "conv"
    if kind != "mlp":
        raise ValueError(f"--task autoencoder takes --model mlp or cnn, got {kind!r}")
    if args.stacked:
        return models.StackedAutoencoder([d] + list(args.stacked), activation=act,
                                         denoise=noise), "stacked"
    hidden = args.hidden or (32 if d <= 64 else 128)
    if noise:
        return models.DenoisingAutoencoder(d, hidden, activation=act, noise="mask",
                                           noise_level=noise), "denoising"
    return models.Autoencoder(d, hidden, activation=act), "plain"


def run(args) -> int:
    """Train the autoencoder described by ``args`` and fill ``args.out``; returns 0."""
    from .. import backend, io, models
    from .main import load_images
    backend.manual_seed(args.seed)
    out = Path(args.out)
    Xtr, _, Xte, _, shape = load_images(args.dataset, args.data_dir)
    perm = np.random.default_rng(args.seed).permutation(len(Xtr))
    nv = max(1, len(Xtr) // 10)
    Xva, Xtr = Xtr[perm[:nv]], Xtr[perm[nv:]]
    if args.limit:
        Xtr = Xtr[:args.limit]
        Xva, Xte = Xva[:max(1, args.limit // 4)], Xte[:max(10, args.limit // 2)]
    model, kind = _build(args, shape)
    if kind == "conv":
        Xtr, Xva, Xte = (a.reshape((-1,) + shape) for a in (Xtr, Xva, Xte))
    epochs = args.epochs if args.epochs is not None else (5 if kind == "conv" else 20)
    bs = args.batch_size or 64
    lr = args.lr or 1e-3
    verbose = getattr(args, "verbose", 1)
    if verbose:
        print(f"glassnet: {kind} autoencoder on {args.dataset}: {len(Xtr)} train / {len(Xva)} "
              f"validation / {len(Xte)} test images, {model.num_parameters()} parameters -> "
              f"{out}", file=sys.stderr)
    t0 = time.perf_counter()
    stages = []
    if kind == "stacked":
        hists = model.pretrain(Xtr, epochs=epochs, batch_size=bs, lr=lr, validation=Xva,
                               verbose=verbose, seed=args.seed)
        sizes = model.sizes
        stages += [(f"greedy level {k + 1}: {sizes[k]}-{sizes[k + 1]}" +
                    (" (denoising)" if model.denoise else ""), h) for k, h in enumerate(hists)]
        history = model.fit(Xtr, epochs=epochs, batch_size=bs, validation=Xva, lr=lr,
                            verbose=verbose, seed=args.seed)
        stages.append(("deep fine-tuning " + "-".join(map(str, sizes)), history))
    else:
        history = model.fit(Xtr, epochs=epochs, batch_size=bs, validation=Xva, lr=lr,
                            verbose=verbose, seed=args.seed)
        stages.append((f"{kind} autoencoder" + (f" (denoising, mask {args.denoise})"
                                                 if args.denoise else ""), history))
    seconds = time.perf_counter() - t0

    level = float(args.denoise or SHOW_NOISE)
    Xc = models.autoencoder.corrupt(Xte, "mask", level, seed=args.seed)
    result = {
        "task": "autoencoder", "model": kind, "dataset": args.dataset,
        "test_reconstruction_mse": float(model.reconstruction_error(Xte).mean()),
        f"test_mse_from_mask_{level}": float(model.reconstruction_error(Xc, target=Xte).mean()),
        "epochs": len(history), "train_seconds": round(seconds, 2),
        "parameters": model.num_parameters(),
    }
    meta = {"task": "autoencoder", "dataset": args.dataset, "input_shape": list(shape),
            "flatten": kind != "conv", "seed": args.seed}
    io.save(model, out / "model.safetensors", metadata=meta)
    history.to_json(out / "history.json")
    (out / "metrics.json").write_text(json.dumps(result, indent=1))
    (out / "config.json").write_text(json.dumps(
        {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, indent=1))
    try:
        n = min(10, len(Xte))
        rows = [Xte[:n], model.reconstruct(Xte[:n]), Xc[:n], model.reconstruct(Xc[:n])]
        plot_reconstructions(rows, ["input", "reconstruction", f"masked {level:g}",
                                    "reconstruction"], shape, out / "reconstructions.png", n)
        plot_learning_curves(stages, out / "learning_curve.png")
    except ImportError as e:
        print(f"(no pictures: {e}; pip install matplotlib)", file=sys.stderr)
    print(f"test reconstruction MSE {result['test_reconstruction_mse']:.5f} (clean), "
          f"{result[f'test_mse_from_mask_{level}']:.5f} (from masked {level:g})  "
          f"({len(history)} epochs, {seconds:.1f} s)  -> {out}")
    return 0
