"""Run one (params, fold) fit: shared by cross-validation, searches and restarts."""
from __future__ import annotations

import concurrent.futures as cf
import os

import numpy as np

from .. import backend


def fit_and_score(build, params, X, y, train_idx, val_idx, fit_kwargs, scoring, seed):
    """Build a Trainer from ``params``, fit on the train indices, evaluate on the validation ones."""
    backend.manual_seed(int(seed))
    trainer = build(**params)
    kw = dict(fit_kwargs or {})
    kw.setdefault("verbose", 0)
    history = trainer.fit((X[train_idx], y[train_idx]), **kw)
    scores = trainer.evaluate((X[val_idx], y[val_idx]))
    if scoring not in scores:
        raise KeyError(f"scoring={scoring!r} is not among the evaluated metrics {sorted(scores)}; "
                       "add it to the Trainer's metrics")
    epochs = len(history.epoch) if hasattr(history, "epoch") else None
    return {"params": params, "score": float(scores[scoring]), "scores": scores, "epochs": epochs}


def _call(task):
    return fit_and_score(*task)


def run_tasks(tasks, n_jobs=1, client=None):
    """Run ``fit_and_score`` tasks serially, in local processes, or on a Dask client."""
    if client is not None:
        futures = client.map(_call, tasks, pure=False)
        return client.gather(futures)
    if n_jobs is None or n_jobs == 1 or len(tasks) <= 1:
        return [_call(t) for t in tasks]
    n = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
    if n < 1:
        raise ValueError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    with cf.ProcessPoolExecutor(max_workers=n) as ex:
        return list(ex.map(_call, tasks))


def check_xy(X, y, who):
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"{who}: X has {len(X)} samples but y has {len(y)}")
    return X, y
