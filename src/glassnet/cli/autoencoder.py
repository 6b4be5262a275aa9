"""``glassnet train --task autoencoder``: train a (denoising / stacked / convolutional)
autoencoder on an image dataset and write the run folder.

    glassnet train --task autoencoder --dataset fashion-mnist --denoise 0.3
    glassnet train --task autoencoder --dataset mnist --stacked 256,64 --denoise 0.3
    glassnet train --task autoencoder --dataset digits --model cnn

Writes ``model.safetensors``, ``history.json``, ``metrics.json`` (test reconstruction
error on clean and on corrupted inputs), ``config.json``, ``reconstructions.png``
(inputs / reconstructions / corrupted inputs / their reconstructions) and
``learning_curve.png`` (one panel per training stage).
"""
from __future__ import annotations

import time

from .. import backend, models
from .. import inspect as ins
from . import runs

__all__ = ["run"]

SHOW_NOISE = 0.3   # masking level of the "corrupted" rows when the model is not denoising


def _build(args, shape):
    """(model, kind) for ``--model`` / ``--hidden`` / ``--stacked`` / ``--denoise``."""
    c, h, w = shape
    d = c * h * w
    act = runs.option(args, "activation", "relu")
    noise = float(runs.option(args, "denoise", 0.0))
    hidden = runs.one_width(runs.option(args, "hidden"))
    kind = runs.option(args, "model", "mlp")
    stacked = runs.option(args, "stacked")
    if kind in ("cnn", "lenet", "vgg"):
        if stacked:
            raise ValueError("--stacked builds dense autoencoders; leave out --model cnn")
        return models.ConvAutoencoder(c, h, channels=[16, 8], code=32 if hidden is None else hidden,
                                      activation=act, noise_level=noise), "conv"
    if kind != "mlp":
        raise ValueError(f"--task autoencoder takes --model mlp or cnn, got {kind!r}")
    if stacked:
        if hidden is not None:
            raise ValueError("--hidden does not apply with --stacked (the widths come from "
                             f"--stacked {','.join(map(str, stacked))})")
        return models.StackedAutoencoder([d] + list(stacked), activation=act,
                                         denoise=noise), "stacked"
    hidden = (32 if d <= 64 else 128) if hidden is None else hidden
    if noise:
        return models.DenoisingAutoencoder(d, hidden, activation=act, noise="mask",
                                           noise_level=noise), "denoising"
    return models.Autoencoder(d, hidden, activation=act), "plain"


def _train(model, kind, noise, Xtr, Xva, epochs, bs, lr, verbose, seed, optimizer="adam"):
    """Train; returns (the final History, [(stage name, History), ...] for the plot)."""
    fit = dict(epochs=epochs, batch_size=bs, lr=lr, validation=Xva, verbose=verbose, seed=seed,
               optimizer=optimizer)
    stages = []
    if kind == "stacked":
        sizes = model.sizes
        hists = model.pretrain(Xtr, **fit)
        stages += [(f"greedy level {k + 1}: {sizes[k]}-{sizes[k + 1]}" +
                    (" (denoising)" if noise else ""), h) for k, h in enumerate(hists)]
        name = "deep fine-tuning " + "-".join(map(str, sizes))
    else:
        name = f"{kind} autoencoder" + (f" (denoising, mask {noise:g})" if noise else "")
    history = model.fit(Xtr, **fit)
    stages.append((name, history))
    return history, stages


def run(args) -> int:
    """Train the autoencoder described by ``args`` and fill its run folder; returns 0."""
    out = args.out = runs.run_dir(runs.option(args, "out"))
    seed = runs.option(args, "seed", 0)
    backend.manual_seed(seed)
    dataset = runs.option(args, "dataset", "digits")
    Xtr, ytr, Xte, _, shape = runs.load_images(dataset, runs.option(args, "data_dir"))
    Xtr, Xva, _, _ = runs.split(Xtr, ytr, 0.1, seed=seed)
    limit = runs.option(args, "limit")
    if limit is not None:
        Xtr = Xtr[:limit]
        Xva, Xte = Xva[:max(1, limit // 4)], Xte[:max(10, limit // 2)]
    model, kind = _build(args, shape)
    if kind == "conv":
        Xtr, Xva, Xte = (a.reshape((-1,) + shape) for a in (Xtr, Xva, Xte))
    epochs = runs.option(args, "epochs", 5 if kind == "conv" else 20)
    verbose = runs.option(args, "verbose", 1)
    if verbose:
        runs.note(f"glassnet: {kind} autoencoder on {dataset}: {len(Xtr)} train / "
                  f"{len(Xva)} validation / {len(Xte)} test images, "
                  f"{model.num_parameters()} parameters -> {out}")
    noise = float(runs.option(args, "denoise", 0.0))
    t0 = time.perf_counter()
    history, stages = _train(model, kind, noise, Xtr, Xva, epochs,
                             runs.option(args, "batch_size", 64), runs.option(args, "lr", 1e-3),
                             verbose, seed, runs.option(args, "optimizer", "adam"))
    seconds = time.perf_counter() - t0

    level = noise or SHOW_NOISE
    Xc = models.autoencoder.corrupt(Xte, "mask", level, seed=seed)
    mse_masked = f"test_mse_from_mask_{level}"
    result = {
        "task": "autoencoder", "model": kind, "dataset": dataset,
        "test_reconstruction_mse": float(model.reconstruction_error(Xte).mean()),
        mse_masked: float(model.reconstruction_error(Xc, target=Xte).mean()),
        "epochs": len(history), "train_seconds": round(seconds, 2),
        "parameters": model.num_parameters(),
    }
    runs.write_run(out, args, model, history, result,
                   {"task": "autoencoder", "dataset": dataset, "input_shape": list(shape),
                    "flatten": kind != "conv", "seed": seed,
                    "preprocessing": runs.preprocessing(dataset, shape, kind != "conv",
                                                        Xtr.dtype)})
    n = min(10, len(Xte))
    rows = [Xte[:n], model.reconstruct(Xte[:n]), Xc[:n], model.reconstruct(Xc[:n])]
    runs.draw(ins.plot_reconstructions, rows,
              ["input", "reconstruction", f"masked {level:g}", "reconstruction"], shape,
              out / "reconstructions.png", n)
    runs.draw(ins.plot_stage_losses, stages, out / "learning_curve.png",
              train_label="train (corrupted input)" if noise else "train",
              val_label="validation (clean)", ylabel="reconstruction loss")
    print(f"test reconstruction MSE {result['test_reconstruction_mse']:.5f} (clean), "
          f"{result[mse_masked]:.5f} (from masked {level:g})  "
          f"({len(history)} epochs, {seconds:.1f} s)  -> {out}")
    return 0
