"""``glassnet train --task gan``: train a DCGAN on an image dataset and write the run folder.

    glassnet train --task gan                      # the embedded 8x8 digits
    glassnet train --task gan --dataset mnist --epochs 5   # DCGAN recipe, samples in [-1, 1]

Writes ``model.safetensors`` (the whole GAN), ``generator.safetensors`` and
``discriminator.safetensors``, ``history.json`` (d_loss, g_loss, d_real = mean D(x),
d_fake = mean D(G(z)) per epoch), ``metrics.json``, ``config.json``,
``learning_curve.png`` (the two losses, the two D outputs) and ``samples/`` (a grid of
samples from fixed codes after every epoch) beside ``samples.png`` (the last one).
"""
from __future__ import annotations

import shutil
import time

from typing import Any

from .. import backend, io
from ..models.gan import GAN, DCGANDiscriminator, DCGANGenerator, GANSamples, GANTrainer
from . import runs

__all__ = ["run"]


def _curves(history: Any, path: Any) -> None:
    from ..inspect._common import figure, save
    fig = figure(figsize=(9, 3.5))
    epochs = range(1, len(history["d_loss"]) + 1)
    for i, (keys, ylabel) in enumerate(((("d_loss", "g_loss"), "loss"),
                                        (("d_real", "d_fake"), "mean D output"))):
        ax = fig.add_subplot(1, 2, i + 1)
        for k in keys:
            ax.plot(list(epochs), history[k], marker="o", label=k)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.legend()
    fig.tight_layout()
    save(fig, path)


def run(args: Any) -> int:
    """Train the DCGAN described by ``args`` and fill its run folder; returns 0."""
    out = args.out = runs.run_dir(runs.option(args, "out"))
    seed = runs.option(args, "seed", 0)
    backend.manual_seed(seed)
    dataset = runs.option(args, "dataset", "digits")
    Xtr, _, _, _, shape = runs.load_images(dataset, runs.option(args, "data_dir"))
    limit = runs.option(args, "limit")
    if limit is not None:
        Xtr = Xtr[:limit]
    Xtr = Xtr.reshape((-1,) + tuple(shape)).astype("float32")
    c, side, _ = shape
    small = side < 16
    # 28 x 28 and larger: Radford et al.'s DCGAN recipe (latent 100, widths 128-64 / 64-128,
    # tanh output with pixels scaled to [-1, 1], batch 128), which docs/results/dcgan_mnist
    # measures; the 8 x 8 digits keep a small sigmoid pair that trains in seconds
    latent = 16 if small else 100
    output = "sigmoid" if small else "tanh"
    if output == "tanh":
        Xtr = Xtr * 2 - 1
    gan = GAN(DCGANGenerator(latent, (32, 16) if small else (128, 64), c, side, output=output),
              DCGANDiscriminator((16, 32) if small else (64, 128), c, side), latent)
    epochs = runs.option(args, "epochs", 30 if small else 5)
    verbose = runs.option(args, "verbose", 1)
    if verbose:
        runs.note(f"glassnet: DCGAN on {dataset}: {len(Xtr)} training images, "
                  f"{gan.num_parameters()} parameters -> {out}")
    trainer = GANTrainer(gan, lr=runs.option(args, "lr", 2e-4))
    grids = GANSamples(out / "samples" / "epoch_{epoch:03d}.png", n=64, seed=seed,
                       low=-1.0 if output == "tanh" else 0.0)
    t0 = time.perf_counter()
    batch = runs.option(args, "batch_size", 64 if small else 128)
    history = trainer.fit(Xtr, epochs=epochs, batch_size=batch,
                          verbose=verbose, seed=seed, callbacks=[grids])
    seconds = time.perf_counter() - t0
    result = {"task": "gan", "model": "dcgan", "dataset": dataset, "epochs": len(history),
              "train_seconds": round(seconds, 2), "parameters": gan.num_parameters(),
              "pixel_range": [-1, 1] if output == "tanh" else [0, 1],
              **{f"final_{k}": float(history[k][-1] or 0.0)
                 for k in ("d_loss", "g_loss", "d_real", "d_fake")}}
    runs.write_run(out, args, gan, history, result,
                   {"task": "gan", "dataset": dataset, "image_shape": list(shape),
                    "latent_dim": latent, "output": output,
                    "pixel_range": [-1, 1] if output == "tanh" else [0, 1], "seed": seed})
    io.save(gan.generator, out / "generator.safetensors")
    io.save(gan.discriminator, out / "discriminator.safetensors")
    runs.draw(_curves, history, out / "learning_curve.png")
    if grids.paths:
        shutil.copyfile(grids.paths[-1], out / "samples.png")
    print(f"DCGAN on {dataset}: d_loss {result['final_d_loss']:.4f}, g_loss "
          f"{result['final_g_loss']:.4f}, D(x) {result['final_d_real']:.3f}, D(G(z)) "
          f"{result['final_d_fake']:.3f}  ({len(history)} epochs, {seconds:.1f} s)  -> {out}")
    return 0
