"""``glassnet train --task vae``: train a variational autoencoder (dense, or convolutional
with ``--model cnn``) on an image dataset and write the run folder.

    glassnet train --task vae                              # embedded digits, 2-d latent
    glassnet train --task vae --dataset mnist --hidden 20 --epochs 10
    glassnet train --task vae --dataset mnist --hidden 2   # with the decoded 2-D manifold

``--hidden`` is the latent size (default 2 on the digits, 20 on 28x28 images); the hidden
layer is 400 units (64 on the digits). Writes ``model.safetensors`` (a
``glassnet.models.VAE`` / ``ConvVAE``), ``history.json`` (negative ELBO ``loss`` and its
terms ``recon`` and ``kl`` per epoch, training and validation), ``metrics.json`` (test
negative ELBO in nats per image and its two terms), ``config.json``,
``learning_curve.png``, ``samples.png`` (decoded draws from the prior),
``interpolation.png`` (decoded codes on the line between the posterior means of test
images) and, for a 2-d latent, ``manifold.png``.
"""
from __future__ import annotations

import time
from argparse import Namespace

import numpy as np

from .. import backend
from .. import inspect as ins
from ..models.vae import VAE, ConvVAE, plot_latent_manifold, plot_samples
from . import runs

__all__ = ["run"]


def run(args: Namespace) -> int:
    """Train the VAE described by ``args`` and fill its run folder; returns 0."""
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
    c, h, w = shape
    d = c * h * w
    small = d <= 64
    width = runs.one_width(runs.option(args, "hidden"))
    latent = (2 if small else 20) if width is None else width
    act = runs.option(args, "activation", "relu")
    kind = runs.option(args, "model", "mlp")
    vae: VAE
    if kind in ("cnn", "lenet", "vgg"):
        vae = ConvVAE(c, h, latent=latent, activation=act)
        Xtr, Xva, Xte = (a.reshape((-1,) + shape) for a in (Xtr, Xva, Xte))
    elif kind == "mlp":
        vae = VAE(d, [64 if small else 400], latent, activation=act)
    else:
        raise ValueError(f"--task vae takes --model mlp or cnn, got {kind!r}")
    epochs = runs.option(args, "epochs", 100 if small else 10)
    verbose = runs.option(args, "verbose", 1)
    if verbose:
        runs.note(f"glassnet: {type(vae).__name__} (latent {latent}) on {dataset}: "
                  f"{len(Xtr)} train / {len(Xva)} validation / {len(Xte)} test images, "
                  f"{vae.num_parameters()} parameters -> {out}")
    t0 = time.perf_counter()
    bs = runs.option(args, "batch_size", 32 if small else 128)
    history = vae.fit(Xtr, epochs=epochs, batch_size=bs,
                      validation=Xva, lr=runs.option(args, "lr", 1e-3),
                      optimizer=runs.option(args, "optimizer", "adam"), verbose=verbose,
                      seed=seed)
    seconds = time.perf_counter() - t0
    test = vae.negative_elbo(Xte)
    result = {"task": "vae", "model": type(vae).__name__, "latent": latent,
              "dataset": dataset, "test_negative_elbo": test["loss"],
              "test_reconstruction": test["recon"], "test_kl": test["kl"],
              "units": "nats per image (Bernoulli likelihood on pixel intensities)",
              "epochs": len(history), "train_seconds": round(seconds, 2),
              "parameters": vae.num_parameters()}
    runs.write_run(out, args, vae, history, result,
                   {"task": "vae", "dataset": dataset, "input_shape": list(shape),
                    "flatten": kind == "mlp", "seed": seed,
                    "preprocessing": runs.preprocessing(dataset, shape, kind == "mlp",
                                                        Xtr.dtype)})
    curves = {key: history[key] for key in ("loss", "val_loss", "recon", "val_recon", "kl",
                                            "val_kl")}
    runs.draw(ins.plot_learning_curves, curves, out / "learning_curve.png",
              title=f"{type(vae).__name__}: negative ELBO = reconstruction + KL (nats)")
    runs.draw(plot_samples, vae.sample(64).reshape((64,) + shape), out / "samples.png",
              ncols=8, title="decoded draws z ~ N(0, I)")
    n = min(5, len(Xte) // 2)
    rows = [vae.interpolate(Xte[2 * i], Xte[2 * i + 1], steps=10).reshape((10,) + shape)
            for i in range(n)]
    runs.draw(plot_samples, np.concatenate(rows), out / "interpolation.png", ncols=10,
              title="latent interpolation between pairs of test images")
    if latent == 2:
        runs.draw(plot_latent_manifold, vae, 15, out / "manifold.png")
    print(f"test negative ELBO {test['loss']:.2f} nats per image (reconstruction "
          f"{test['recon']:.2f} + KL {test['kl']:.2f})  ({len(history)} epochs, "
          f"{seconds:.1f} s)  -> {out}")
    return 0
