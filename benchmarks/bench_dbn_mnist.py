"""MNIST: Bernoulli RBMs, a deep belief net 784-500-500 fine-tuned as a classifier, and the
same fine-tuning from stacked-autoencoder pre-training and from random initialisation.

Protocol
--------
Data: the 60,000 MNIST training images (pixel intensities in [0, 1], used as the visible
units' probabilities), the last 5,000 held out for validation, the 10,000 test images for
the reported accuracy.

1. DBN pre-training: RBM 784-500 by CD-1 on the 55,000 training images, then RBM 500-500
   by CD-1 on the first RBM's hidden probabilities; each ``--rbm-epochs`` epochs,
   optim.SGD lr 0.05, momentum 0.9, weight decay 2e-4 on the weights, batch 100. The
   History of each records per epoch the reconstruction error and the stochastic
   pseudo-log-likelihood (on 2,000 training images and on the validation images).
2. Stacked-autoencoder pre-training: ``StackedAutoencoder([784, 500, 500],
   activation="sigmoid")``, greedy, ``--sae-epochs`` per level, Adam lr 1e-3, batch 100.
3. Fine-tuning, the same for all three starts (DBN, SAE, random ``nn.Linear``
   initialisation): ``Linear(784, 500) + Sigmoid + Linear(500, 500) + Sigmoid +
   Linear(500, 10)``, cross-entropy, optim.SGD lr 0.1 momentum 0.9, batch 100,
   ``--epochs`` epochs; the epoch with the best validation accuracy is kept
   (EarlyStopping restore_best_weights) and its test accuracy reported.
4. For the pictures: a 784-500 RBM trained by PCD-1 instead (100 persistent chains,
   lr ``--pcd-lr`` 0.01, momentum 0.5), its monitoring and Gibbs chains beside CD-1's.

    OMP_NUM_THREADS=1 GLASSNET_DATA=/path/to/data python benchmarks/bench_dbn_mnist.py
    python benchmarks/bench_dbn_mnist.py --train-limit 5000 --rbm-epochs 1 --epochs 2  # quick

Writes docs/results/dbn_mnist.json (updated after every stage) and .md, and
docs/results/dbn_mnist_samples.png (Gibbs chains from test images) and
docs/results/dbn_mnist_filters.png (first-layer weights).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import glassnet as gn  # noqa: E402
from glassnet import models, nn, optim, training  # noqa: E402
from glassnet.models.rbm import plot_filters, plot_gibbs_chains  # noqa: E402

SIZES = [784, 500, 500]


def finetune(clf, data, epochs, seed, log):
    Xtr, ytr, Xva, yva, Xte, yte = data
    gn.manual_seed(seed)
    opt = optim.SGD(clf.parameters(), lr=0.1, momentum=0.9)
    tr = training.Trainer(clf, nn.CrossEntropyLoss(), opt, metrics=["accuracy"])
    t0 = time.perf_counter()
    hist = tr.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, batch_size=100, seed=seed,
                  verbose=0, callbacks=[training.EarlyStopping(
                      monitor="val_accuracy", mode="max", patience=epochs,
                      restore_best_weights=True)])
    seconds = time.perf_counter() - t0
    ev = tr.evaluate((Xte, yte))
    best = int(np.nanargmax(np.array(hist["val_accuracy"], dtype=float)))
    out = {"test_accuracy": float(ev["accuracy"]), "best_epoch": best + 1,
           "val_accuracy": hist["val_accuracy"], "loss": hist["loss"],
           "seconds": round(seconds, 1)}
    log(f"  test accuracy {out['test_accuracy']:.4f} (best validation epoch {best + 1}), "
        f"{seconds:.0f} s")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rbm-epochs", type=int, default=10)
    ap.add_argument("--sae-epochs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results")
    ap.add_argument("--pcd-lr", type=float, default=0.01)
    ap.add_argument("--only-pcd", action="store_true",
                    help="only the PCD RBM, added to an existing dbn_mnist.json")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    X, y = gn.data.load_mnist(split="train", flatten=True)
    Xte, yte = gn.data.load_mnist(split="test", flatten=True)
    X, Xte = X.astype(np.float32), Xte.astype(np.float32)
    Xtr, ytr, Xva, yva = X[:55000], y[:55000], X[55000:], y[55000:]
    if a.train_limit:
        Xtr, ytr = Xtr[:a.train_limit], ytr[:a.train_limit]
    data = (Xtr, ytr, Xva, yva, Xte, yte)
    res = {"protocol": __doc__.split("Protocol\n--------\n")[1].split("\n    OMP")[0],
           "command": ("OMP_NUM_THREADS=1 GLASSNET_DATA=/path/to/data python "
                       "benchmarks/bench_dbn_mnist.py " + " ".join(sys.argv[1:])).strip(),
           "train": len(Xtr), "validation": len(Xva), "test": len(Xte), "sizes": SIZES}
    path = a.out / "dbn_mnist.json"

    def save():
        path.write_text(json.dumps(res, indent=1) + "\n")

    def log(msg):
        print(msg, flush=True)

    if a.only_pcd:
        res = json.loads(path.read_text())
        res["protocol"] = __doc__.split("Protocol\n--------\n")[1].split("\n    OMP")[0]
        pcd(res, Xtr, Xva, Xte, a, log)
        save_res(res, path)
        write_md(res, a.out / "dbn_mnist.md")
        return
    log(f"DBN {SIZES}: pre-training ({a.rbm_epochs} epochs per RBM, CD-1)")
    gn.manual_seed(a.seed)
    dbn = models.DeepBeliefNet(SIZES)
    t0 = time.perf_counter()
    hists = dbn.pretrain(Xtr, epochs=a.rbm_epochs, batch_size=100, lr=0.05, momentum=0.9,
                         weight_decay=2e-4, validation=Xva, seed=a.seed, verbose=2)
    res["rbm"] = [{"level": f"{r.n_visible}-{r.n_hidden}", **{k: h[k] for k in (
        "recon", "pseudo_likelihood", "val_recon", "val_pseudo_likelihood",
        "free_energy_gap")}} for r, h in zip(dbn.rbms, hists)]
    res["pretrain_seconds"] = {"dbn": round(time.perf_counter() - t0, 1)}
    save()
    rbm = dbn.rbms[0]
    plot_filters(rbm, a.out / "dbn_mnist_filters.png", n=100,
                 title="RBM 784-500: the first 100 filters (rows of W)")
    plot_gibbs_chains(rbm, Xte[:10], steps=(0, 1, 10, 100, 1000),
                      path=a.out / "dbn_mnist_samples.png", seed=a.seed)

    log("fine-tuning from the DBN")
    res["dbn"] = finetune(dbn.to_classifier(10), data, a.epochs, a.seed, log)
    save()

    log(f"stacked autoencoder {SIZES}: pre-training ({a.sae_epochs} epochs per level)")
    gn.manual_seed(a.seed)
    sae = models.StackedAutoencoder(SIZES, activation="sigmoid")
    t0 = time.perf_counter()
    sh = sae.pretrain(Xtr, epochs=a.sae_epochs, batch_size=100, lr=1e-3, validation=Xva,
                      seed=a.seed)
    res["pretrain_seconds"]["sae"] = round(time.perf_counter() - t0, 1)
    res["sae_pretrain"] = [{"loss": h["loss"], "val_loss": h["val_loss"]} for h in sh]
    log("fine-tuning from the stacked autoencoder")
    res["sae"] = finetune(sae.to_classifier(10), data, a.epochs, a.seed, log)
    save()

    log("fine-tuning from random initialisation")
    gn.manual_seed(a.seed)
    rand = nn.Sequential(nn.Linear(784, 500), nn.Sigmoid(), nn.Linear(500, 500), nn.Sigmoid(),
                         nn.Linear(500, 10))
    res["random"] = finetune(rand, data, a.epochs, a.seed, log)
    save()
    pcd(res, Xtr, Xva, Xte, a, log)
    save()
    write_md(res, a.out / "dbn_mnist.md")


def save_res(res, path):
    path.write_text(json.dumps(res, indent=1) + "\n")


def pcd(res, Xtr, Xva, Xte, a, log):
    """A 784-500 RBM trained by PCD-1 instead (its own picture of Gibbs chains)."""
    log(f"RBM 784-500 by PCD-1, lr {a.pcd_lr}")
    gn.manual_seed(a.seed)
    rbm = models.BernoulliRBM(784, 500)
    t0 = time.perf_counter()
    h = rbm.fit(Xtr, epochs=a.rbm_epochs, batch_size=100, lr=a.pcd_lr, momentum=0.5,
                weight_decay=2e-4, persistent=True, validation=Xva, seed=a.seed, verbose=2)
    res["rbm_pcd"] = {"level": "784-500 (PCD-1)", "lr": a.pcd_lr, "momentum": 0.5,
                      "seconds": round(time.perf_counter() - t0, 1),
                      **{k: h[k] for k in ("recon", "pseudo_likelihood", "val_recon",
                                           "val_pseudo_likelihood", "free_energy_gap")}}
    plot_gibbs_chains(rbm, Xte[:10], steps=(0, 1, 10, 100, 1000),
                      path=a.out / "dbn_mnist_samples_pcd.png", seed=a.seed,
                      title="PCD-1 RBM: Gibbs chains, steps 0, 1, 10, 100, 1000")


def write_md(res, path):
    lines = ["# MNIST: RBMs and a deep belief net", "",
             "Written by `benchmarks/bench_dbn_mnist.py`; the numbers are in "
             "`dbn_mnist.json`.", "", "Command:", "", "```", res["command"], "```", "",
             "## Protocol", "", res["protocol"], "",
             "## Test accuracy after the same fine-tuning", "",
             "| start | test accuracy | best validation epoch | fine-tuning seconds |",
             "|---|---|---|---|"]
    for key, name in (("dbn", "DBN (greedy RBM stack)"), ("sae", "stacked autoencoder"),
                      ("random", "random initialisation")):
        if key in res:
            r = res[key]
            lines.append(f"| {name} | {100 * r['test_accuracy']:.2f}% | {r['best_epoch']} | "
                         f"{r['seconds']} |")
    lines += ["", f"Pre-training seconds: {res.get('pretrain_seconds')}.", "",
              "## RBM monitoring per epoch", ""]
    for r in res["rbm"] + ([res["rbm_pcd"]] if "rbm_pcd" in res else []):
        lines += [f"RBM {r['level']}:", "",
                  "| epoch | reconstruction error | pseudo-likelihood | validation "
                  "reconstruction | validation pseudo-likelihood | free-energy gap |",
                  "|---|---|---|---|---|---|"]
        for e in range(len(r["recon"])):
            lines.append(f"| {e + 1} | {r['recon'][e]:.5f} | {r['pseudo_likelihood'][e]:.2f} | "
                         f"{r['val_recon'][e]:.5f} | {r['val_pseudo_likelihood'][e]:.2f} | "
                         f"{r['free_energy_gap'][e]:.2f} |")
        lines.append("")
    lines += ["Gibbs chains started at test images (columns: steps 0, 1, 10, 100, 1000; "
              "p(v | h) of the last step). After one step the chains reconstruct the "
              "digit; run longer, many fall into the blank image or a fat 0, modes that "
              "CD-1 (whose negative phase never leaves the data) leaves with too much "
              "probability. The PCD-1 RBM below still draws digits after 1,000 steps, "
              "and its chains move from one class to another.", "", "![Gibbs samples](dbn_mnist_samples.png)", "",
              ] + (["The same 784-500 RBM trained by PCD-1 (100 persistent chains, lr "
                    f"{res['rbm_pcd']['lr']:g}, momentum 0.5, {res['rbm_pcd']['seconds']} s):", "",
                    "![Gibbs samples, PCD](dbn_mnist_samples_pcd.png)", ""]
                   if "rbm_pcd" in res else []) + [
              "First-layer filters (CD-1):", "", "![filters](dbn_mnist_filters.png)", ""]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--md-only"]:     # rewrite the .md from the .json
        out = REPO / "docs" / "results"
        write_md(json.loads((out / "dbn_mnist.json").read_text()), out / "dbn_mnist.md")
    else:
        main()
