"""Variational autoencoders on MNIST: a dense VAE (20-d latent) and a 2-D one whose
decoded manifold can be drawn, plus a convolutional VAE (ConvTranspose2d decoder).

Each model is trained on the 60,000 training images with the 10,000 test images as
validation; the History holds the negative ELBO and its two terms (reconstruction, KL)
per epoch for both. Written to ``--out``: ``vae_history.json`` (every epoch's terms),
``vae_samples.png`` (64 draws from the prior, 20-d model), ``vae_interpolation.png``
(the decoded line between two test digits' codes), ``vae_manifold.png`` (the 2-D
model's decoded grid over the Gaussian's quantiles) and, with ``--conv``,
``conv_vae_samples.png``.

    GLASSNET_DATA=/path/to/data python examples/vae_mnist.py --epochs 10 --out runs/vae
    python examples/vae_mnist.py --epochs 1 --limit 5000 --out runs/vae_quick
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import data
from glassnet.inspect import plot_reconstructions
from glassnet.models import VAE, ConvVAE
from glassnet.models.vae import plot_latent_manifold, plot_samples


def report(name, hist):
    h = hist.history
    for e in range(len(hist)):
        print(f"{name} epoch {e + 1}: -ELBO {h['loss'][e]:.2f} (recon {h['recon'][e]:.2f} + "
              f"KL {h['kl'][e]:.2f}); test {h['val_loss'][e]:.2f} (recon "
              f"{h['val_recon'][e]:.2f} + KL {h['val_kl'][e]:.2f}) nats/image")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--limit", type=int, default=None, help="training images (quick runs)")
    p.add_argument("--conv", action="store_true", help="also train the convolutional VAE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/vae"))
    args = p.parse_args(argv)
    X, _ = data.load_mnist(split="train", flatten=True)
    Xt, _ = data.load_mnist(split="test", flatten=True)
    if args.limit:
        X = X[:args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    logs = {}

    gn.manual_seed(args.seed)
    vae = VAE(784, [400], args.latent)
    hist = vae.fit(X, epochs=args.epochs, batch_size=128, validation=Xt, seed=args.seed)
    report(f"VAE(784-400-{args.latent})", hist)
    logs["dense"] = hist.to_dict()
    gen = gn.Generator().manual_seed(args.seed)
    plot_samples(vae.sample(64, generator=gen), args.out / "vae_samples.png",
                 title=f"VAE, {args.latent}-d latent: 64 draws from the prior")
    path = vae.interpolate(Xt[0], Xt[1], steps=10)
    plot_reconstructions([path], ["z(a) -> z(b)"], (28, 28), args.out / "vae_interpolation.png",
                         n=10)

    gn.manual_seed(args.seed)
    vae2 = VAE(784, [400], 2)
    hist2 = vae2.fit(X, epochs=args.epochs, batch_size=128, validation=Xt, seed=args.seed)
    report("VAE(784-400-2)", hist2)
    logs["dense_2d"] = hist2.to_dict()
    plot_latent_manifold(vae2, 20, args.out / "vae_manifold.png")

    if args.conv:
        gn.manual_seed(args.seed)
        cvae = ConvVAE(1, 28, channels=(32, 64), hidden=256, latent=args.latent)
        hist3 = cvae.fit(X.reshape(-1, 1, 28, 28), epochs=args.epochs, batch_size=128,
                         validation=Xt.reshape(-1, 1, 28, 28), seed=args.seed)
        report("ConvVAE", hist3)
        logs["conv"] = hist3.to_dict()
        plot_samples(cvae.sample(64, generator=gn.Generator().manual_seed(args.seed)),
                     args.out / "conv_vae_samples.png", title="ConvVAE: 64 draws from the prior")

    (args.out / "vae_history.json").write_text(json.dumps(logs, indent=1))
    ev = vae.negative_elbo(Xt, generator=gn.Generator().manual_seed(args.seed))
    print(f"test -ELBO, 20-d dense VAE: {ev['loss']:.2f} nats/image "
          f"(reconstruction {ev['recon']:.2f}, KL {ev['kl']:.2f}); pictures in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
