"""Learning curves over the training-set size: is more data or a bigger model the cure?"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .cv import _split
from ..data import KFold, StratifiedKFold
from ._runner import Trial, check_xy, run_trials, trial_seed

__all__ = ["learning_curve"]


def learning_curve(build: Callable, X: Any, y: Any,
                   train_sizes: tuple = (0.1, 0.25, 0.5, 0.75, 1.0), cv: Any = 3,
                   params: dict | None = None, fit_kwargs: dict | None = None,
                   scoring: str = "accuracy", stratify: bool = True, seed: int = 0,
                   n_jobs: int | None = 1, client: Any = None, blas_threads: int = 1,
                   retries: int = 2) -> dict:
    """Train and validation scores of ``build(**params)`` trained on growing subsets.

    For each of ``cv`` folds the held-out part is the validation set; from the rest the
    first ``size`` samples (a fraction or a count) train a fresh model, which is scored on
    those same training samples and on the validation part.

    Returns a dict: ``train_sizes`` (counts), ``train_scores`` and ``val_scores`` (arrays of
    shape (n_sizes, cv)). A large, persistent gap between them is over-fitting (more data or
    regularisation helps); two low, close curves are under-fitting (a bigger model helps).
    """
    X, y = check_xy(X, y, "learning_curve")
    splitter = (StratifiedKFold(cv, shuffle=True, seed=seed) if stratify
                else KFold(cv, shuffle=True, seed=seed)) if isinstance(cv, int) else cv
    splits = _split(splitter, X, y)
    n_train = min(len(tr) for tr, _ in splits)
    sizes = []
    for s in train_sizes:
        n = int(round(s * n_train)) if isinstance(s, float) and s <= 1.0 else int(s)
        if not 1 <= n <= n_train:
            raise ValueError(f"learning_curve: train size {s!r} gives {n} samples; expected 1.."
                             f"{n_train}")
        sizes.append(n)
    trials = []
    for i, n in enumerate(sizes):
        for j, (tr, va) in enumerate(splits):
            sub = tr[:n]
            s = trial_seed(seed, i, j)   # the same model scored on validation and on train
            trials.append(Trial((i, j, "val"), dict(params or {}), sub, va, s))
            trials.append(Trial((i, j, "train"), dict(params or {}), sub, sub, s))
    out = run_trials(build, X, y, trials, fit_kwargs=fit_kwargs, scoring=scoring,
                     n_jobs=n_jobs, client=client, blas_threads=blas_threads, retries=retries)
    k = len(splits)
    val = np.array([o["score"] for o in out[0::2]]).reshape(len(sizes), k)
    train = np.array([o["score"] for o in out[1::2]]).reshape(len(sizes), k)
    return {"train_sizes": np.array(sizes), "train_scores": train, "val_scores": val}
