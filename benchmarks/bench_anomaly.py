"""One-class anomaly detection with autoencoders, the protocol of Ruff et al.,
"Deep One-Class Classification" (ICML 2018): for each class c, train an autoencoder on
the training images of class c only, score the whole test set by reconstruction error
(class c normal, the other nine anomalous) and report the ROC AUC.

    nice python benchmarks/bench_anomaly.py --dataset fashion-mnist --model dense
    nice python benchmarks/bench_anomaly.py --dataset mnist --model conv --epochs 5

Preprocessing ``--prep gcn`` follows the paper: global contrast normalisation (L1), then
min-max scaling with the minimum and maximum of the normal class's training images.
Results go to ``--out`` as JSON (one file per dataset and model).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import data, metrics
from glassnet.models import AnomalyDetector, Autoencoder, ConvAutoencoder, DenoisingAutoencoder


def gcn_l1(X):
    X = X - X.mean(axis=1, keepdims=True)
    return X / np.abs(X).mean(axis=1, keepdims=True)


def one_class(c, Xtr, ytr, Xte, yte, args):
    A, B = Xtr[ytr == c], Xte
    if args.prep == "gcn":
        A, B = gcn_l1(A), gcn_l1(B)
        lo, hi = A.min(), A.max()
        A, B = (A - lo) / (hi - lo), (B - lo) / (hi - lo)
    A, B = A.astype(np.float32), B.astype(np.float32)
    gn.manual_seed(args.seed)
    out_act = "sigmoid" if args.prep == "raw" else "identity"
    if args.model == "dense" and args.denoise:
        ae = DenoisingAutoencoder(784, args.hidden, activation=args.activation,
                                  output_activation=out_act, noise=args.noise,
                                  noise_level=args.denoise)
    elif args.model == "dense":
        ae = Autoencoder(784, args.hidden, activation=args.activation, output_activation=out_act)
    else:
        ae = ConvAutoencoder(1, 28, channels=args.channels, code=args.code,
                             kernel_size=args.kernel, activation=args.activation,
                             output_activation=out_act, batch_norm=args.batch_norm,
                             noise=args.noise, noise_level=args.denoise)
    det = AnomalyDetector(ae, quantile=0.95, holdout=0.05)
    t0 = time.perf_counter()
    det.fit(A, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
            weight_decay=args.weight_decay)
    scores = det.score(B)
    auc = metrics.roc_auc((yte != c).astype(int), scores)
    pred = det.predict(B)
    return {"class": int(c), "auc": float(auc), "seconds": round(time.perf_counter() - t0, 1),
            "threshold": float(det.threshold),
            "normal_flagged": float(pred[yte == c].mean()),
            "anomalies_flagged": float(pred[yte != c].mean()),
            "final_val_loss": float(ae.history_["val_loss"][-1])}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    p.add_argument("--model", default="dense", choices=["dense", "conv"])
    p.add_argument("--classes", type=int, nargs="+", default=list(range(10)))
    p.add_argument("--hidden", type=int, nargs="+", default=[128, 32])
    p.add_argument("--channels", type=int, nargs=2, default=[8, 4])
    p.add_argument("--code", type=int, default=32)
    p.add_argument("--kernel", type=int, default=5)
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--activation", default="relu")
    p.add_argument("--denoise", type=float, default=0.0, help="corruption level while "
                   "training (a denoising autoencoder)")
    p.add_argument("--noise", default="mask", choices=["mask", "gaussian", "salt_pepper"])
    p.add_argument("--prep", default="raw", choices=["raw", "gcn"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("docs/results"))
    p.add_argument("--tag", default="")
    args = p.parse_args(argv)
    loader = data.load_mnist if args.dataset == "mnist" else data.load_fashion_mnist
    Xtr, ytr = loader(split="train", flatten=True)
    Xte, yte = loader(split="test", flatten=True)
    rows = []
    name = f"anomaly_{args.dataset}_{args.model}{args.tag}"
    args.out.mkdir(parents=True, exist_ok=True)
    for c in args.classes:
        r = one_class(c, Xtr, ytr, Xte, yte, args)
        rows.append(r)
        print(f"{args.dataset} {args.model} class {c}: AUC {r['auc']:.4f}  "
              f"({r['seconds']} s)", flush=True)
        res = {"config": {k: (str(v) if isinstance(v, Path) else v)
                          for k, v in vars(args).items()},
               "classes": rows, "mean_auc": float(np.mean([r["auc"] for r in rows]))}
        (args.out / f"{name}.json").write_text(json.dumps(res, indent=1))
    print(f"{args.dataset} {args.model}: mean AUC {res['mean_auc']:.4f} over "
          f"{len(rows)} classes")


if __name__ == "__main__":
    main()
