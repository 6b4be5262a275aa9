"""Shared protocol of the image examples (cnn_mnist.py, cnn_fashion_mnist.py).

Protocol: the 60k training images are split (fixed seeded permutation) into a training
set and a validation set of ``--val`` images; training statistics alone standardise the
pixels; ``glassnet.training.Trainer`` trains with Adam and a cosine learning-rate
schedule; early stopping watches the validation accuracy only and restores the weights
of the best validation epoch. The 10k test set is touched once, at the end, for the
reported figure -- no choice depends on it.

``run(...)`` is the protocol as a function (the test suite calls it with a small
``limit``); ``main(dataset)`` is the command line.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import glassnet as gn
from glassnet import data, nn, optim, training
from glassnet.models.cnn import LeNet, SmallVGG

MODELS = ("lenet", "vgg", "vgg2", "mlp")


def keep_freed_memory():
    """Ask glibc to keep freed memory for reuse instead of returning it to the OS.

    By default every large temporary (an activation, a gradient) is a fresh mmap that is
    faulted in page by page and unmapped when freed: ~9,500 minor page faults and 30-40 ms
    of kernel time per SmallVGG step here, a fifth of the step. With these thresholds the
    pages stay in the heap and are reused. Process-wide; no effect off glibc.
    """
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        libc.mallopt(M_MMAP_THRESHOLD, 256 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        pass


def build(name, seed=0):
    """The model for ``name``: LeNet, SmallVGG (one or two convs per stage) or an MLP
    784-512-256-10 with dropout 0.2 (the MLP flattens the images itself)."""
    gn.manual_seed(seed)
    if name == "lenet":
        return LeNet()
    if name == "vgg":
        return SmallVGG()
    if name == "vgg2":
        return SmallVGG(convs_per_stage=2)
    if name == "mlp":
        from glassnet.models import MLP
        return nn.Sequential(nn.Flatten(), MLP([784, 512, 256, 10], dropout=0.2))
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")


def load_split(dataset, val=5000, limit=None, seed=0, data_dir=None):
    """(Xtr, ytr), (Xva, yva), (Xte, yte), standardised with the training mean and std."""
    load = data.load_mnist if dataset == "mnist" else data.load_fashion_mnist
    X, y = load(data_dir, split="train")
    Xte, yte = load(data_dir, split="test")
    perm = np.random.default_rng(seed).permutation(len(X))
    X, y = X[perm], y[perm]
    Xva, yva = X[-val:], y[-val:]
    Xtr, ytr = X[:-val], y[:-val]
    if limit:
        Xtr, ytr = Xtr[:limit], ytr[:limit]
    mu, sd = float(Xtr.mean()), float(Xtr.std())
    Xtr, Xva, Xte = [((a - mu) / sd).astype(np.float32) for a in (Xtr, Xva, Xte)]
    return (Xtr, ytr), (Xva, yva), (Xte, yte)


def run(dataset, model="lenet", epochs=12, batch_size=64, lr=1e-3, val=5000, patience=4,
        limit=None, seed=0, data_dir=None, verbose=2):
    """Train ``model`` on ``dataset`` ("mnist" or "fashion") by the protocol above.

    Returns a dict: ``result`` (test accuracy, best validation accuracy and epoch, wall
    time, ...), ``history`` (per-epoch logs) and ``trainer`` (holding the restored model).
    """
    (Xtr, ytr), (Xva, yva), (Xte, yte) = load_split(dataset, val, limit, seed, data_dir)
    net = build(model, seed)
    opt = optim.Adam(net.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    trainer = training.Trainer(net, nn.CrossEntropyLoss(), opt, metrics=["accuracy"],
                               scheduler=sched)
    stop = training.EarlyStopping("val_accuracy", patience=patience,
                                  restore_best_weights=True)
    t0 = time.time()
    hist = trainer.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs,
                       batch_size=batch_size, callbacks=[stop], verbose=verbose, seed=seed + 1)
    wall = time.time() - t0
    test = trainer.evaluate(Xte, yte)          # the only use of the test set
    h = hist.history
    result = {"dataset": dataset, "model": model, "epochs_run": len(h["loss"]),
              "epochs_max": epochs, "batch_size": batch_size, "lr": lr,
              "train_size": len(Xtr), "val_size": len(Xva),
              "best_val_accuracy": round(float(stop.best), 5),
              "best_epoch": None if stop.best_epoch is None else stop.best_epoch + 1,
              "test_accuracy": round(float(test["accuracy"]), 5),
              "train_wall_s": round(wall, 1),
              "epoch_s": [round(float(t), 1) for t in h.get("time", [])],
              "stop_reason": hist.stop_reason}
    return {"result": result, "trainer": trainer,
            "history": {k: [None if v is None else float(v) for v in vs] for k, vs in h.items()}}


def main(dataset, default_model):
    ap = argparse.ArgumentParser(description=f"Train a classifier on {dataset} "
                                 "(validation split from train, test used once)")
    ap.add_argument("--model", default=default_model, choices=MODELS)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--val", type=int, default=5000, help="validation images taken from train")
    ap.add_argument("--patience", type=int, default=4,
                    help="early stopping on validation accuracy")
    ap.add_argument("--limit", type=int, default=None, help="use only this many training images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--verbose", type=int, default=2, help="0 silent, 1 bars, 2 lines")
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc's allocator thresholds alone (see keep_freed_memory)")
    args = ap.parse_args()
    if not args.default_malloc:
        keep_freed_memory()
    out = run(dataset, args.model, args.epochs, args.batch_size, args.lr, args.val,
              args.patience, args.limit, args.seed, args.data_dir, args.verbose)
    print(json.dumps(out["result"]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"result": out["result"], "history": out["history"]}, f, indent=1)
    return out["result"]
