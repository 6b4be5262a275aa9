"""One-class anomaly detection with autoencoders, the protocol of Ruff et al.,
"Deep One-Class Classification" (ICML 2018): for each class c, train an autoencoder on
the training images of class c only, score the whole test set by reconstruction error
(class c normal, the other nine anomalous) and report the ROC AUC.

    nice python benchmarks/bench_anomaly.py --dataset fashion-mnist --model dense
    nice python benchmarks/bench_anomaly.py --dataset mnist --model conv --epochs 5

Model selection without the test labels: ``--val-anomalies N`` also scores N training
images of the other nine classes (never trained on) against the detector's held-out normal
training images and reports that validation AUC beside the test AUC.

``--ensemble K`` trains K autoencoders (seeds seed .. seed+K-1) and scores by the mean of
their standardized errors; ``--error standardized`` divides each pixel's squared residual
by its mean on the normal training data, ``--pool 2`` first averages the residual image
over 2x2 blocks (see ``AnomalyDetector``).

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


def val_auc(det, V):
    """AUC of the detector's held-out normal training images vs images V of other classes."""
    h = det.holdout_errors_
    return float(metrics.roc_auc(np.r_[np.zeros(len(h)), np.ones(len(V))].astype(int),
                                 np.r_[h, det.score(V)]))


def one_class(c, Xtr, ytr, Xte, yte, args):
    A, B = Xtr[ytr == c], Xte
    if args.prep == "gcn":
        A, B = gcn_l1(A), gcn_l1(B)
        lo, hi = A.min(), A.max()
        A, B = (A - lo) / (hi - lo), (B - lo) / (hi - lo)
    A, B = A.astype(np.float32), B.astype(np.float32)
    gn.manual_seed(args.seed)
    out_act = "sigmoid" if args.prep == "raw" else "identity"

    def make():
        if args.model == "dense" and args.denoise:
            return DenoisingAutoencoder(784, args.hidden, activation=args.activation,
                                        output_activation=out_act, noise=args.noise,
                                        noise_level=args.denoise, loss=args.loss)
        if args.model == "dense":
            return Autoencoder(784, args.hidden, activation=args.activation,
                               output_activation=out_act, loss=args.loss)
        return ConvAutoencoder(1, 28, channels=args.channels, code=args.code,
                               kernel_size=args.kernel, activation=args.activation,
                               output_activation=out_act, batch_norm=args.batch_norm,
                               noise=args.noise, noise_level=args.denoise, loss=args.loss)

    ae = [make() for _ in range(args.ensemble)] if args.ensemble > 1 else make()
    det = AnomalyDetector(ae, quantile=0.95, holdout=0.05, error=args.error, eps=args.eps,
                          pool=args.pool, image_shape=[28, 28] if args.pool > 1 else None)
    t0 = time.perf_counter()
    det.fit(A, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
            weight_decay=args.weight_decay)
    scores = det.score(B)
    auc = metrics.roc_auc((yte != c).astype(int), scores)
    pred = det.predict(B)
    extra = {}
    V = None
    if args.val_anomalies:
        # validation AUC from training data only: held-out normal vs other-class train images
        other = np.flatnonzero(ytr != c)
        pick = np.random.default_rng(1000 + c).choice(other, args.val_anomalies, replace=False)
        V = Xtr[pick].astype(np.float32)
        if args.prep == "gcn":
            V = ((gcn_l1(V) - lo) / (hi - lo)).astype(np.float32)
        extra["val_auc"] = val_auc(det, V)
    final_val_loss = [float(m.history_["val_loss"][-1]) for m in det.members]
    seconds = round(time.perf_counter() - t0, 1)
    if args.compare_errors:
        # other error measures of the same trained autoencoders: fit(epochs=0) only sets the
        # standardization and threshold (same held-out split, same seed)
        extra["by_error"] = {}
        for spec in args.compare_errors:
            err, pool = spec.split(":")
            d2 = AnomalyDetector(ae, quantile=0.95, holdout=0.05, error=err, eps=args.eps,
                                 pool=int(pool), image_shape=[28, 28] if int(pool) > 1 else None)
            d2.fit(A, epochs=0, seed=args.seed)
            extra["by_error"][spec] = {"auc": float(metrics.roc_auc((yte != c).astype(int),
                                                                      d2.score(B)))}
            if V is not None:
                extra["by_error"][spec]["val_auc"] = val_auc(d2, V)
    return {"class": int(c), "auc": float(auc), "seconds": seconds,
            "threshold": float(det.threshold),
            "normal_flagged": float(pred[yte == c].mean()),
            "anomalies_flagged": float(pred[yte != c].mean()),
            "final_val_loss": final_val_loss,
            **extra}


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
    p.add_argument("--loss", default="mse", choices=["mse", "bce"], help="training loss")
    p.add_argument("--denoise", type=float, default=0.0, help="corruption level while "
                   "training (a denoising autoencoder)")
    p.add_argument("--noise", default="mask", choices=["mask", "gaussian", "salt_pepper"])
    p.add_argument("--prep", default="raw", choices=["raw", "gcn"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ensemble", type=int, default=1, help="number of autoencoders (seeds "
                   "seed, seed+1, ...) whose standardized errors are averaged")
    p.add_argument("--error", default="loss", choices=["loss", "mse", "standardized"])
    p.add_argument("--eps", type=float, default=0.01)
    p.add_argument("--pool", type=int, default=1, help="average the residual image over "
                   "pool x pool blocks before the error (errors mse, standardized)")
    p.add_argument("--compare-errors", nargs="*", default=[], metavar="ERROR:POOL",
                   help="also score with these error measures of the same trained "
                   "autoencoders, e.g. mse:1 mse:4 standardized:2")
    p.add_argument("--val-anomalies", type=int, default=0, help="other-class training "
                   "images for a validation AUC (0: none)")
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
        val = f"  val AUC {r['val_auc']:.4f}" if "val_auc" in r else ""
        print(f"{args.dataset} {args.model} class {c}: AUC {r['auc']:.4f}{val}  "
              f"({r['seconds']} s)", flush=True)
        res = {"config": {k: (str(v) if isinstance(v, Path) else v)
                          for k, v in vars(args).items()},
               "classes": rows, "mean_auc": float(np.mean([r["auc"] for r in rows])),
               "wall_seconds": round(sum(r["seconds"] for r in rows), 1)}
        for spec in args.compare_errors:
            res.setdefault("mean_auc_by_error", {})[spec] = {
                k: float(np.mean([r["by_error"][spec][k] for r in rows]))
                for k in rows[0]["by_error"][spec]}
        if args.val_anomalies:
            res["mean_val_auc"] = float(np.mean([r["val_auc"] for r in rows]))
        (args.out / f"{name}.json").write_text(json.dumps(res, indent=1))
    print(f"{args.dataset} {args.model}: mean AUC {res['mean_auc']:.4f} over "
          f"{len(rows)} classes" + (f", mean validation AUC {res['mean_val_auc']:.4f}"
                                    if args.val_anomalies else ""))


if __name__ == "__main__":
    main()
