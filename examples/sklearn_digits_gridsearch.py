"""A glassnet network inside scikit-learn: Pipeline + GridSearchCV(cv=5) on the digits.

Protocol: the 1797 embedded 8x8 digits (``glassnet.data.load_digits``) are split once,
stratified and seeded, into 80% for the search and 20% held out. ``GridSearchCV`` scores
every candidate of a ``Pipeline([("scale", glassnet StandardScaler), ("net",
NeuralNetClassifier)])`` by 5-fold stratified cross-validation on the 80% alone, refits
the best one on all of it, and the held-out 20% is scored once, at the end: no choice
depends on it.

    python examples/sklearn_digits_gridsearch.py            # the full grid
    python examples/sklearn_digits_gridsearch.py --quick    # a 2-candidate grid

``run(...)`` is the protocol as a function (tests/sklearn calls it with a tiny grid).
"""
from __future__ import annotations

import argparse
import time

from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from glassnet.data import StandardScaler, load_digits
from glassnet.sklearn import NeuralNetClassifier

GRID = {
    "net__hidden_layer_sizes": [(64,), (128,), (128, 64)],
    "net__lr": [1e-3, 3e-3],
    "net__dropout": [0.0, 0.2],
}
QUICK_GRID = {"net__hidden_layer_sizes": [(32,), (64,)]}


def run(grid: dict | None = None, max_epochs: int = 40, cv: int = 5, n_jobs: int = 1,
        random_state: int = 0, verbose: int = 0) -> dict:
    """Search ``grid`` by ``cv``-fold CV on 80% of the digits; score the best on the 20%.

    Returns ``{"best_params", "cv_score", "test_score", "seconds", "search"}``.
    """
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=random_state)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", NeuralNetClassifier(max_epochs=max_epochs, batch_size=32,
                                                 random_state=random_state))])
    search = GridSearchCV(pipe, GRID if grid is None else grid, cv=cv, n_jobs=n_jobs,
                          verbose=verbose)
    t0 = time.perf_counter()
    search.fit(X_train, y_train)
    seconds = time.perf_counter() - t0
    return {"best_params": search.best_params_, "cv_score": float(search.best_score_),
            "test_score": float(search.score(X_test, y_test)), "seconds": seconds,
            "search": search}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a 2-candidate grid")
    p.add_argument("--epochs", type=int, default=40, help="max_epochs of every fit")
    p.add_argument("--cv", type=int, default=5)
    p.add_argument("--n-jobs", type=int, default=1, help="GridSearchCV's n_jobs")
    args = p.parse_args(argv)
    grid = QUICK_GRID if args.quick else GRID
    n = 1
    for values in grid.values():
        n *= len(values)
    print(f"GridSearchCV(cv={args.cv}) over {n} candidates, max_epochs={args.epochs}")
    out = run(grid, max_epochs=args.epochs, cv=args.cv, n_jobs=args.n_jobs)
    print(f"best parameters: {out['best_params']}")
    print(f"best mean CV accuracy: {out['cv_score']:.4f}")
    print(f"held-out test accuracy: {out['test_score']:.4f}")
    print(f"time: {out['seconds']:.1f} s ({n * args.cv + 1} fits)")
    return out


if __name__ == "__main__":
    main()
