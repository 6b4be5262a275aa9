"""Transfer learning and few-shot learning on Fashion-MNIST: classes 0-4 -> classes 5-9.

A small CNN is pre-trained on the five "clothes" classes (T-shirt, trouser, pullover,
dress, coat). The target task is the other five classes (sandal, shirt, sneaker, bag,
ankle boot) with only 1, 5 or 10 labelled images per class. For each label budget and
seed the same labelled images are given to

* transfer: the pre-trained CNN with its convolutional layers frozen and its head
  replaced by a new Linear(64, 5); the fully connected layer and the new head are
  trained;
* linear probe: the same, with the fully connected layer frozen too (only the new head
  learns);
* scratch: the same architecture from random weights, every layer trained;
* prototypes (pre-trained): a prototypical-network classifier on the frozen pre-trained
  features (class prototype = mean embedding of the labelled images, nearest prototype);
* prototypes (episodic): the same, on an encoder trained episodically on classes 0-4
  (5-way 5-shot tasks, Snell et al. 2017) instead of by plain classification;
* and two references without any training on the few labels: prototypes in the frozen
  convolutional features (400 values, before the fully connected layer) and the nearest
  class mean in raw pixels.

Accuracy is measured on every test image of classes 5-9 (5,000 held-out images).

    OMP_NUM_THREADS=1 python examples/transfer_fewshot.py --out docs/results/transfer.json

Measured table, command and times in docs/results/transfer.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.data import load_fashion_mnist
from glassnet.models import (PrototypicalNetwork, freeze, replace_head,
                             trainable_parameters)
from glassnet.models.autoencoder import run_in_batches
from glassnet.training import Trainer


CONV_LAYERS = 7     # features[:7]: the two conv blocks and the flatten; features[7] is the fc


class SmallCNN(nn.Module):
    """conv 5x5 (8) - pool - conv 5x5 (16) - pool - fc 64 = the features; a Linear head."""

    def __init__(self, n_classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 5 * 5, 64), nn.ReLU())
        self.head = nn.Linear(64, n_classes)

    def forward(self, x: gn.Tensor) -> gn.Tensor:
        return self.head(self.features(x))


def support_indices(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k random indices of every class of y (without replacement)."""
    return np.concatenate([rng.choice(np.flatnonzero(y == c), k, replace=False)
                           for c in np.unique(y)])


def train_on(model: nn.Module, X: np.ndarray, y: np.ndarray, steps: int, lr: float,
             seed: int) -> None:
    """``steps`` full-batch Adam steps on the trainable parameters."""
    opt = optim.Adam(trainable_parameters(model), lr=lr)
    Trainer(model, "cross_entropy", opt).fit(X, y, epochs=steps, batch_size=None, verbose=0,
                                             seed=seed)


def nearest_prototype_accuracy(E: np.ndarray, proto: PrototypicalNetwork,
                               y: np.ndarray) -> float:
    """Accuracy of the nearest prototype (squared Euclidean) for embeddings E."""
    C = proto.prototypes_
    d2 = (E * E).sum(1)[:, None] - 2 * E @ C.T + (C * C).sum(1)[None]
    return float(np.mean(proto.classes_[np.argmin(d2, 1)] == y))


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, 1) == y))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, nargs="+", default=[1, 5, 10])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--pretrain-samples", type=int, default=15000,
                    help="images of classes 0-4 used for pre-training")
    ap.add_argument("--pretrain-epochs", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=300,
                    help="episodes of the episodically trained prototypical encoder")
    ap.add_argument("--steps", type=int, default=150, help="full-batch steps on the few labels")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--test-samples", type=int, default=None,
                    help="test images of classes 5-9 (default: all 5,000)")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    times: dict[str, float] = {}

    Xtr, ytr = load_fashion_mnist(split="train")
    Xte, yte = load_fashion_mnist(split="test")
    base_tr, novel_tr = ytr < 5, ytr >= 5
    Xb, yb = Xtr[base_tr][:args.pretrain_samples], ytr[base_tr][:args.pretrain_samples]
    Xn, yn = Xtr[novel_tr], ytr[novel_tr] - 5              # the pool the few labels come from
    Xq, yq = Xte[yte >= 5][:args.test_samples], yte[yte >= 5][:args.test_samples] - 5
    Xbt, ybt = Xte[yte < 5], yte[yte < 5]

    # --- pre-training on classes 0-4
    t = time.perf_counter()
    gn.manual_seed(0)
    pre = SmallCNN(5)
    Trainer(pre, "cross_entropy", "adam", lr=1e-3).fit(
        Xb, yb, epochs=args.pretrain_epochs, batch_size=64, verbose=0, seed=0)
    base_acc = accuracy(run_in_batches(pre, pre, Xbt), ybt)
    times["pretrain_s"] = time.perf_counter() - t
    print(f"pre-trained on {len(Xb)} images of classes 0-4 in {times['pretrain_s']:.0f} s: "
          f"test accuracy on classes 0-4 {base_acc:.3f}")

    # --- an encoder of the same architecture trained episodically on classes 0-4
    t = time.perf_counter()
    gn.manual_seed(0)
    episodic = PrototypicalNetwork(SmallCNN(5).features)
    losses = episodic.train_episodes(Xb, yb, episodes=args.episodes, n_way=5, k_shot=5,
                                     n_query=10, lr=1e-3, seed=0)
    times["episodic_s"] = time.perf_counter() - t
    print(f"episodic encoder: {args.episodes} episodes in {times['episodic_s']:.0f} s, loss "
          f"{np.mean(losses[:20]):.3f} -> {np.mean(losses[-20:]):.3f}")

    # the frozen pre-trained features of the test images, computed once: the output of
    # the convolutional layers (400 values) and of the whole feature stack (64 values)
    conv = nn.Sequential(*list(pre.features)[:CONV_LAYERS])
    Cq = run_in_batches(conv, conv, Xq)
    features = PrototypicalNetwork(copy.deepcopy(pre.features))
    Eq = features.embed_array(Xq)
    Eq_episodic = episodic.embed_array(Xq)

    rows: dict[str, dict[int, list[float]]] = {m: {k: [] for k in args.shots} for m in
                                               ("transfer", "linear_probe", "scratch",
                                                "proto_pretrained", "proto_episodic",
                                                "proto_conv", "mean_pixels")}
    Pq = Xq.reshape(len(Xq), -1)
    t = time.perf_counter()
    for seed in range(args.seeds):
        for k in args.shots:
            rng = np.random.default_rng(1000 * seed + k)
            idx = support_indices(yn, k, rng)
            Xs, ys = Xn[idx], yn[idx]

            for name, trainable in (("transfer", ["features.7", "head"]),
                                    ("linear_probe", ["head"])):
                model = copy.deepcopy(pre)
                gn.manual_seed(seed)
                replace_head(model, nn.Linear(64, 5))
                freeze(model, except_=trainable)
                train_on(model, Xs, ys, args.steps, args.lr, seed)
                # the frozen layers' outputs for the test images are the stored ones
                top = nn.Sequential(*list(model.features)[CONV_LAYERS:], model.head)
                logits = run_in_batches(model, top, Cq)
                if seed == 0 and k == args.shots[0]:
                    full = run_in_batches(model, model, Xq[:256])
                    assert np.allclose(full, logits[:256], atol=1e-4)
                rows[name][k].append(accuracy(logits, yq))

            gn.manual_seed(100 + seed)
            scratch = SmallCNN(5)
            train_on(scratch, Xs, ys, args.steps, args.lr, seed)
            rows["scratch"][k].append(accuracy(run_in_batches(scratch, scratch, Xq), yq))

            # prototypes from the labelled images; the test embeddings are the stored ones
            rows["proto_pretrained"][k].append(
                nearest_prototype_accuracy(Eq, features.fit(Xs, ys), yq))
            rows["proto_episodic"][k].append(
                nearest_prototype_accuracy(Eq_episodic, episodic.fit(Xs, ys), yq))
            conv_protos = PrototypicalNetwork(conv).fit(Xs, ys)
            rows["proto_conv"][k].append(nearest_prototype_accuracy(Cq, conv_protos, yq))
            pixel_protos = PrototypicalNetwork(nn.Flatten()).fit(Xs, ys)
            rows["mean_pixels"][k].append(nearest_prototype_accuracy(Pq, pixel_protos, yq))
            print(f"seed {seed} k={k:2d}: " + "  ".join(
                f"{m} {rows[m][k][-1]:.3f}" for m in rows), flush=True)
    times["few_label_runs_s"] = time.perf_counter() - t
    times["total_s"] = time.perf_counter() - t_start

    print(f"\naccuracy on {len(yq)} test images of classes 5-9, mean +- std over "
          f"{args.seeds} seeds")
    print(f"{'labels/class':>12} " + " ".join(f"{m:>18}" for m in rows))
    for k in args.shots:
        print(f"{k:>12} " + " ".join(
            f"{np.mean(rows[m][k]):>10.3f} +- {np.std(rows[m][k]):.3f}" for m in rows))
    print("times (s): " + ", ".join(f"{n} {v:.0f}" for n, v in times.items()))
    result = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in
                       vars(args).items()},
              "base_test_accuracy": base_acc, "n_test": int(len(yq)),
              "accuracy": {m: {str(k): v for k, v in r.items()} for m, r in rows.items()},
              "times": times}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
