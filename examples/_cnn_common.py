"""Shared training loop for the CNN examples (cnn_mnist.py, cnn_fashion_mnist.py).

Protocol: the 60k training images are split into train and a validation set (the last
``--val`` images of a fixed permutation); the epoch with the best validation accuracy is
kept; the 10k test set is touched once, at the end, for the reported figure.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import glassnet as gn
from glassnet import data, nn, optim
from glassnet.models.cnn import LeNet, SmallVGG


def accuracy(model, X, y, batch_size=500):
    model.eval()
    correct = 0
    with gn.no_grad():
        for i in range(0, len(X), batch_size):
            out = model(X[i:i + batch_size]).data
            correct += int((out.argmax(1) == y[i:i + batch_size]).sum())
    model.train()
    return correct / len(X)


def main(dataset, default_model):
    ap = argparse.ArgumentParser(description=f"Train a CNN on {dataset}")
    ap.add_argument("--model", default=default_model, choices=["lenet", "vgg"])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--val", type=int, default=5000)
    ap.add_argument("--limit", type=int, default=None, help="use only this many training images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    args = ap.parse_args()

    gn.manual_seed(args.seed)
    load = data.load_mnist if dataset == "mnist" else data.load_fashion_mnist
    X, y = load(args.data_dir, split="train")
    Xte, yte = load(args.data_dir, split="test")
    perm = np.random.default_rng(args.seed).permutation(len(X))
    X, y = X[perm], y[perm]
    Xva, yva = X[-args.val:], y[-args.val:]
    Xtr, ytr = X[:-args.val], y[:-args.val]
    if args.limit:
        Xtr, ytr = Xtr[:args.limit], ytr[:args.limit]
    # standardise with training statistics only
    mu, sd = float(Xtr.mean()), float(Xtr.std())
    Xtr, Xva, Xte = [((a - mu) / sd).astype(np.float32) for a in (Xtr, Xva, Xte)]

    model = LeNet() if args.model == "lenet" else SmallVGG()
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(args.seed + 1)
    best, best_state, log = -1.0, None, []
    t0 = time.time()
    for epoch in range(args.epochs):
        te = time.time()
        idx = rng.permutation(len(Xtr))
        total = 0.0
        for i in range(0, len(idx) - args.batch_size + 1, args.batch_size):
            b = idx[i:i + args.batch_size]
            loss = loss_fn(model(Xtr[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.data) * len(b)
        sched.step()
        va = accuracy(model, Xva, yva)
        rec = {"epoch": epoch + 1, "loss": total / len(idx), "val_accuracy": va,
               "epoch_s": round(time.time() - te, 1)}
        log.append(rec)
        print(json.dumps(rec), flush=True)
        if va > best:
            best, best_state = va, model.state_dict()
    model.load_state_dict(best_state)
    wall = time.time() - t0
    test = accuracy(model, Xte, yte)
    result = {"dataset": dataset, "model": args.model, "epochs": args.epochs,
              "batch_size": args.batch_size, "lr": args.lr, "train_size": len(Xtr),
              "val_size": len(Xva), "best_val_accuracy": best,
              "best_epoch": max(log, key=lambda r: r["val_accuracy"])["epoch"],
              "test_accuracy": test, "train_wall_s": round(wall, 1)}
    print(json.dumps(result), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"result": result, "log": log}, f, indent=1)
    return result
