"""Denoising vs plain autoencoder on Fashion-MNIST (Vincent et al., 2008).

Both are 784-256-784 sigmoid autoencoders trained with cross-entropy on the 60,000
training images for the same epochs; the denoising one sees inputs with masking noise
(a random 30% of the pixels set to 0) and must reconstruct the clean image. On the
10,000 test images, corrupted with the same noise (fixed seed), we measure the mean
squared error between the reconstruction and the *clean* image, and also on clean inputs.

    nice python examples/autoencoder_denoising.py --epochs 10 --out docs/results
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import glassnet as gn
from glassnet import data
from glassnet.inspect import plot_reconstructions
from glassnet.models import Autoencoder, DenoisingAutoencoder
from glassnet.models.autoencoder import corrupt


def mse(model, X, target):
    d = model.reconstruct(X) - target
    return float((d ** 2).mean())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--noise", type=float, default=0.3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="training images (quick runs)")
    p.add_argument("--out", type=Path, default=Path("docs/results"))
    args = p.parse_args(argv)
    Xtr, _ = data.load_fashion_mnist(split="train", flatten=True)
    Xte, _ = data.load_fashion_mnist(split="test", flatten=True)
    if args.limit:
        Xtr = Xtr[:args.limit]
    Xc = corrupt(Xte, "mask", args.noise, seed=1234)
    res = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    models = {}
    for name in ("plain", "denoising"):
        gn.manual_seed(args.seed)
        if name == "plain":
            m = Autoencoder(784, args.hidden, loss="bce")
        else:
            m = DenoisingAutoencoder(784, args.hidden, loss="bce", noise="mask",
                                     noise_level=args.noise)
        t0 = time.perf_counter()
        h = m.fit(Xtr, epochs=args.epochs, batch_size=64, validation=Xte[:2000], lr=1e-3,
                  seed=args.seed)
        res[name] = {"test_mse_from_corrupted": mse(m, Xc, Xte),
                     "test_mse_from_clean": mse(m, Xte, Xte),
                     "train_seconds": round(time.perf_counter() - t0, 1),
                     "loss": h["loss"], "val_loss": h["val_loss"]}
        models[name] = m
        print(f"{name:9s}: test MSE from masked-{args.noise} inputs "
              f"{res[name]['test_mse_from_corrupted']:.5f}, from clean inputs "
              f"{res[name]['test_mse_from_clean']:.5f}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "autoencoder_denoising.json").write_text(json.dumps(res, indent=1))
    rows = [Xte[:10], Xc[:10], models["plain"].reconstruct(Xc[:10]),
            models["denoising"].reconstruct(Xc[:10])]
    plot_reconstructions(rows, ["clean", f"masked {args.noise:g}", "plain AE", "denoising AE"],
                         (1, 28, 28), args.out / "autoencoder_denoising.png")


if __name__ == "__main__":
    main()
