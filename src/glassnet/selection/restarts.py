"""Random restarts: train the same architecture from several seeds and keep the best."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..validation import check_int

__all__ = ["best_of_restarts"]


def best_of_restarts(build, train, validation, n_restarts=5, fit_kwargs=None,
                     scoring="loss", greater_is_better=None, seed=0):
    """Fit ``build()`` from ``n_restarts`` seeds; return ``(best_trainer, results)``.

    Useful where training may stall in a poor local minimum (e.g. XOR with 2 hidden units).
    ``results`` lists each restart's seed and validation score.
    """
    check_int(n_restarts, "n_restarts", "best_of_restarts")
    gib = (not scoring.endswith("loss")) if greater_is_better is None else greater_is_better
    best, best_score, results = None, None, []
    for i in range(n_restarts):
        backend.manual_seed(seed + i)
        trainer = build()
        kw = dict(fit_kwargs or {})
        kw.setdefault("verbose", 0)
        trainer.fit(train, **kw)
        score = float(trainer.evaluate(validation)[scoring])
        results.append({"seed": seed + i, "score": score})
        if best is None or (score > best_score if gib else score < best_score):
            best, best_score = trainer, score
    order = np.argsort([r["score"] for r in results])
    for rank, j in enumerate(order[::-1] if gib else order, 1):
        results[j]["rank"] = rank
    return best, results
