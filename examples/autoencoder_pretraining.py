"""Stacked denoising pre-training with few labels (Vincent et al., JMLR 2010, on Fashion-MNIST).

Greedy layer-wise pre-training of a 784-256-64 stacked denoising autoencoder (masking noise
0.3) on all 60,000 training images without their labels, then fine-tuning of the encoder
with a softmax head on 1,000 labelled images; against the same network from random
initialisation trained on the same 1,000 labels. Several seeds (each seed picks its own
labelled subset and initialisation; both arms share them).

    nice python examples/autoencoder_pretraining.py --seeds 0 1 2 --out docs/results
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import data, nn, training
from glassnet.models import StackedAutoencoder


def finetune(clf, Xl, yl, Xt, yt, epochs, lr, seed):
    tr = training.Trainer(clf, nn.CrossEntropyLoss(), gn.optim.Adam(clf.parameters(), lr=lr),
                          metrics=["accuracy"])
    tr.fit((Xl, yl), epochs=epochs, batch_size=32, verbose=0, seed=seed)
    return tr.evaluate(Xt, yt)["accuracy"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--sizes", type=int, nargs="+", default=[784, 256, 64])
    p.add_argument("--labels", type=int, default=1000)
    p.add_argument("--unlabelled", type=int, default=60000)
    p.add_argument("--pretrain-epochs", type=int, default=5)
    p.add_argument("--finetune-epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--denoise", type=float, default=0.3)
    p.add_argument("--deep", action="store_true", help="also: the stack pre-trained end to "
                   "end as one deep denoising autoencoder (same epochs)")
    p.add_argument("--out", type=Path, default=Path("docs/results"))
    args = p.parse_args(argv)
    Xtr, ytr = data.load_fashion_mnist(split="train", flatten=True)
    Xte, yte = data.load_fashion_mnist(split="test", flatten=True)
    rows = []
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        # a class-balanced labelled subset of the training images
        idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), args.labels // 10,
                                         replace=False) for c in range(10)])
        Xl, yl = Xtr[idx], ytr[idx]
        Xu = Xtr[rng.permutation(len(Xtr))[:args.unlabelled]]
        row = {"seed": seed}
        arms = [("random", None), ("greedy", False)] + ([("deep", True)] if args.deep else [])
        for name, deep in arms:
            gn.manual_seed(seed)
            sae = StackedAutoencoder(args.sizes, denoise=args.denoise, loss="bce")
            t0 = time.perf_counter()
            if deep is not None:
                sae.pretrain(Xu, epochs=args.pretrain_epochs, batch_size=64, lr=1e-3,
                             deep=deep, seed=seed)
                row[f"{name}_pretrain_s"] = round(time.perf_counter() - t0, 1)
            gn.manual_seed(seed + 1000)   # the head: same init in every arm
            clf = sae.to_classifier(10)
            row[name] = finetune(clf, Xl, yl, Xte, yte, args.finetune_epochs, args.lr, seed)
            print(f"seed {seed} {name:7s} test accuracy {row[name]:.4f}", flush=True)
        rows.append(row)
    res = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
           "runs": rows}
    for name in ("random", "greedy", "deep"):
        if name in rows[0]:
            v = [r[name] for r in rows]
            res[f"{name}_mean"], res[f"{name}_std"] = float(np.mean(v)), float(np.std(v))
            print(f"{name:7s} mean {np.mean(v):.4f} +- {np.std(v):.4f}  {np.round(v, 4)}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "autoencoder_pretraining.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
