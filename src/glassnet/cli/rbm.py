"""``glassnet train --task rbm``: train a Bernoulli RBM by CD-k or persistent CD on an image
dataset (pixel intensities in [0, 1] as the visible units' probabilities) and write the
run folder.

    glassnet train --task rbm                                  # embedded digits, 64 hidden
    glassnet train --task rbm --dataset mnist --hidden 500 --epochs 10
    glassnet train --task rbm --persistent --cd-k 5

Writes ``model.safetensors`` (a ``glassnet.models.BernoulliRBM``), ``history.json``
(reconstruction error, pseudo-likelihood and free-energy gap per epoch), ``metrics.json``
(test reconstruction error and pseudo-likelihood), ``config.json``,
``learning_curve.png``, ``gibbs_samples.png`` (Gibbs chains started at test images) and
``filters.png`` (the rows of W as images).
"""
from __future__ import annotations

import time
from argparse import Namespace

import numpy as np

from .. import backend
from .. import inspect as ins
from ..models.rbm import BernoulliRBM, plot_filters, plot_gibbs_chains
from . import runs

__all__ = ["run"]


def run(args: Namespace) -> int:
    """Train the RBM described by ``args`` and fill its run folder; returns 0."""
    if runs.option(args, "model", "mlp") != "mlp":
        raise ValueError(f"--task rbm trains a dense RBM; leave out --model {args.model}")
    out = args.out = runs.run_dir(runs.option(args, "out"))
    seed = runs.option(args, "seed", 0)
    backend.manual_seed(seed)
    dataset = runs.option(args, "dataset", "digits")
    Xtr, ytr, Xte, _, shape = runs.load_images(dataset, runs.option(args, "data_dir"))
    Xtr, Xva, _, _ = runs.split(Xtr, ytr, 0.1, seed=seed)
    limit = runs.option(args, "limit")
    if limit is not None:
        Xtr = Xtr[:limit]
        Xva, Xte = Xva[:max(1, limit // 4)], Xte[:max(10, limit // 2)]
    d = int(np.prod(shape))
    small = d <= 64
    width = runs.one_width(runs.option(args, "hidden"))
    hidden = (64 if small else 500) if width is None else width
    k = runs.option(args, "cd_k", 1)
    persistent = bool(runs.option(args, "persistent", False))
    epochs = runs.option(args, "epochs", 20 if small else 10)
    bs = runs.option(args, "batch_size", 20 if small else 100)
    lr = runs.option(args, "lr", 0.05)
    verbose = runs.option(args, "verbose", 1)
    rbm = BernoulliRBM(d, hidden)
    how = f"{'PCD' if persistent else 'CD'}-{k}"
    if verbose:
        runs.note(f"glassnet: RBM {d}-{hidden} ({how}) on {dataset}: {len(Xtr)} train / "
                  f"{len(Xva)} validation / {len(Xte)} test images -> {out}")
    t0 = time.perf_counter()
    history = rbm.fit(Xtr, epochs=epochs, batch_size=bs, lr=lr, k=k, persistent=persistent,
                      momentum=0.9, weight_decay=2e-4, validation=Xva, verbose=verbose,
                      seed=seed)
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    result = {"task": "rbm", "model": f"BernoulliRBM {d}-{hidden}", "training": how,
              "dataset": dataset,
              "test_reconstruction_mse": float(rbm.reconstruction_error(Xte).mean()),
              "test_pseudo_likelihood": float(rbm.pseudo_likelihood(Xte, rng).mean()),
              "epochs": len(history), "train_seconds": round(seconds, 2),
              "parameters": rbm.num_parameters()}
    runs.write_run(out, args, rbm, history, result,
                   {"task": "rbm", "dataset": dataset, "input_shape": list(shape),
                    "flatten": True, "seed": seed,
                    "preprocessing": runs.preprocessing(dataset, shape, True, Xtr.dtype)})
    curves = {key: history[key] for key in ("recon", "val_recon", "pseudo_likelihood",
                                            "val_pseudo_likelihood", "free_energy_gap")}
    runs.draw(ins.plot_learning_curves, curves, out / "learning_curve.png",
              title=f"RBM {d}-{hidden}, {how}")
    steps = (0, 1, 10, 100, 1000)
    runs.draw(plot_gibbs_chains, rbm, Xte[:10], steps, out / "gibbs_samples.png", seed=seed)
    runs.draw(plot_filters, rbm, out / "filters.png", n=min(hidden, 100),
              title=f"RBM {d}-{hidden}: rows of W")
    print(f"test reconstruction MSE {result['test_reconstruction_mse']:.5f}, "
          f"pseudo-likelihood {result['test_pseudo_likelihood']:.2f}  "
          f"({len(history)} epochs {how}, {seconds:.1f} s)  -> {out}")
    return 0
