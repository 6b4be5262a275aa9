"""k-fold cross-validation of a model-building function."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..data import KFold, StratifiedKFold
from ..validation import check_int, is_int
from ._runner import Trial, check_xy, run_trials, trial_seed

__all__ = ["cross_validate"]


def cross_validate(build: Callable, X: Any, y: Any, cv: Any = 5, params: dict | None = None,
                   fit_kwargs: dict | None = None, scoring: str = "accuracy",
                   stratify: bool = True, seed: int = 0, n_jobs: int | None = 1,
                   client: Any = None, blas_threads: int = 1, retries: int = 2) -> dict:
    """Score ``build(**params)`` (a function returning a fresh ``Trainer``) by k-fold CV.

    Each fold trains a new model on k-1 parts and evaluates ``scoring`` (a key of
    ``Trainer.evaluate``'s result, e.g. "accuracy" or "loss") on the held-out part.

    Returns a dict: ``scores`` (one per fold), ``mean``, ``std`` and ``folds`` (details).
    Fold ``j`` is seeded from ``(seed, 0, j)``; ``n_jobs``, ``client``, ``blas_threads`` and
    ``retries`` choose where the folds run, as in :class:`GridSearch`.

    >>> def build(hidden=32):
    ...     m = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    ...     return Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), 1e-2))
    >>> cross_validate(build, X, y, cv=3, fit_kwargs={"epochs": 5})["mean"]  # doctest: +SKIP
    """
    X, y = check_xy(X, y, "cross_validate")
    if is_int(cv):
        cv = check_int(cv, "cv (folds)", "cross_validate", min=2)
        splitter = (StratifiedKFold(cv, shuffle=True, seed=seed) if stratify
                    else KFold(cv, shuffle=True, seed=seed))
    else:
        splitter = cv
    params = dict(params or {})
    trials = [Trial((0, j), params, tr, va, trial_seed(seed, 0, j))
              for j, (tr, va) in enumerate(_split(splitter, X, y))]
    folds = run_trials(build, X, y, trials, fit_kwargs=fit_kwargs, scoring=scoring,
                       n_jobs=n_jobs, client=client, blas_threads=blas_threads,
                       retries=retries)
    scores = np.array([f["score"] for f in folds])
    return {"scores": scores, "mean": float(scores.mean()), "std": float(scores.std()),
            "folds": folds}


def _split(splitter: Any, X: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    try:
        return list(splitter.split(X, y))
    except TypeError:
        return list(splitter.split(X))
