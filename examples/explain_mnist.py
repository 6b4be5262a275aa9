"""Explaining a CNN's predictions on MNIST: saliency, SmoothGrad, integrated gradients,
occlusion and Grad-CAM, with Adebayo et al.'s sanity check.

Trains a small CNN on 12,000 MNIST training images (2 epochs), explains its predictions
on test images with every method of ``glassnet.inspect.attribution``, draws them over the
images (docs/images/explain_mnist.png) and compares each method's maps with those of the
same architecture with random weights (Spearman rank correlation per image, mean over 100
test images; near 0: the map depends on what the model learned).

    OMP_NUM_THREADS=1 python examples/explain_mnist.py docs/images/explain_mnist.png
"""
from __future__ import annotations

import sys
import time

import numpy as np

import glassnet as gn
from glassnet import nn
from glassnet.data import load_mnist
from glassnet.inspect.attribution import (grad_cam, integrated_gradients, occlusion,
                                          plot_attributions, randomized_copy,
                                          rank_correlation, saliency, smoothgrad)
from glassnet.training import Trainer


def make_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),      # 8 x 14 x 14
        nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 7 x 7
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


METHODS = {
    "saliency": lambda m, x, t: saliency(m, x, t),
    "SmoothGrad": lambda m, x, t: smoothgrad(m, x, t, n_samples=16, noise_level=0.15),
    "integrated gradients": lambda m, x, t: integrated_gradients(m, x, t, steps=32),
    "occlusion 4x4": lambda m, x, t: occlusion(m, x, t, patch=4, stride=2),
    "Grad-CAM": lambda m, x, t: grad_cam(m, x, "4", t),     # the second conv's ReLU
}


def main(path: str | None = None) -> dict:
    t0 = time.perf_counter()
    Xtr, ytr = load_mnist(split="train")
    Xte, yte = load_mnist(split="test")
    gn.manual_seed(0)
    model = make_cnn()
    trainer = Trainer(model, "cross_entropy", "adam", lr=1e-3)
    trainer.fit(Xtr[:12000], ytr[:12000], epochs=2, batch_size=64, verbose=0, seed=0)
    acc = float(np.mean(trainer.predict(Xte[:2000]).argmax(1) == yte[:2000]))
    print(f"trained in {time.perf_counter() - t0:.0f} s, test accuracy (2000 images) {acc:.3f}")

    # the pictures: six test images, each explained for its true class
    xs, ts = Xte[:6], yte[:6]
    logits = trainer.predict(xs)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    maps = {name: f(model, xs, ts) for name, f in METHODS.items()}
    labels = [f"{t} (p={p[i, t]:.2f})" for i, t in enumerate(ts)]
    plot_attributions(xs, maps, path, labels=labels,
                      title="Why the CNN says what it says (red: raises the class score, "
                            "blue: lowers it)")

    _, gap = integrated_gradients(model, Xte[:100], yte[:100], steps=32, return_delta=True)
    span = trainer.predict(Xte[:100])[np.arange(100), yte[:100]] - \
        trainer.predict(np.zeros_like(Xte[:1]))[0, yte[:100]]
    print(f"integrated gradients, 32 steps: |sum - (S(x) - S(0))| mean {np.abs(gap).mean():.4f}"
          f" for S(x) - S(0) of mean {np.abs(span).mean():.2f}")

    # the sanity check: the same architecture with random weights
    random_model = randomized_copy(model, seed=1)
    x100, t100 = Xte[:100], yte[:100]
    result = {"test_accuracy": acc, "ig_gap_mean": float(np.abs(gap).mean())}
    print(f"\n{'method':>22} {'rank corr |map|':>16} {'rank corr map':>14}   "
          f"(trained vs random weights, mean over 100 images)")
    for name, f in METHODS.items():
        a, b = f(model, x100, t100), f(random_model, x100, t100)
        r_abs = float(rank_correlation(a, b).mean())
        r_sig = float(rank_correlation(a, b, absolute=False).mean())
        result[name] = {"abs": r_abs, "signed": r_sig}
        print(f"{name:>22} {r_abs:>16.3f} {r_sig:>14.3f}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
