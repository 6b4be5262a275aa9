"""Random restarts: train the same architecture from several seeds and keep the best."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend
from ..validation import check_int

if TYPE_CHECKING:  # annotations only
    from glassnet.training.trainer import Trainer

__all__ = ["best_of_restarts"]


def best_of_restarts(build: Callable[[], Trainer], train: Any, validation: Any,
                     n_restarts: int = 5, fit_kwargs: dict[str, Any] | None = None,
                     scoring: str = "loss", greater_is_better: bool | None = None,
                     seed: int = 0) -> tuple[Trainer, list[dict[str, Any]]]:
    """Fit ``build()`` from ``n_restarts`` seeds; return ``(best_trainer, results)``.

    Useful where training may stall in a poor local minimum (e.g. XOR with 2 hidden units).
    ``results`` lists each restart's seed and validation score.
    """
    check_int(n_restarts, "n_restarts", "best_of_restarts")
    gib = (not scoring.endswith("loss")) if greater_is_better is None else greater_is_better
    best: Trainer | None = None
    best_score = 0.0
    results: list[dict[str, Any]] = []
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
    assert best is not None  # n_restarts >= 1
    return best, results
